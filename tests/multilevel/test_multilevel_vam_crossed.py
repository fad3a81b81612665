"""Value-added as a crossed multiple-membership mixed model (issue 20), on a simulated world.

Students' yearly math scores (standardized, prior-year scores as controls) with random
intercepts for students, teacher-years (multiple membership: mid-year movers split their
year between two teachers by dosage) and schools (also multiple membership).  The
teacher-year conditional modes are compared with the world's true teacher effects and
with ``pds.vam``'s Kane-Staiger EB estimates.  A one-state, 12-district world keeps the
fast test fast; the slow test uses the whole small world.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds


def vam_comparison(**world: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    sim = pds.simulate.study(progress=False, **world)
    af = pds.vam.analysis_file(sim.tables["enrollments"], sim.tables["student_scores"])
    af = af[af.subject == "math"]
    af = af.dropna(subset=["score", "prior_same", "prior_other"])
    af = af.assign(unit=af.teacher_id + "-" + af.year.astype(str))
    keys = ["student_id", "year"]
    teachers, t_term = pds.multilevel.wide_membership(af, keys, "unit", "dosage")
    schools = pds.multilevel.wide_membership(
        af.rename(columns={"dosage": "sdosage"}), keys, "school_id", "sdosage")[0]
    rows = af.sort_values("dosage").drop_duplicates(keys, keep="last")
    data = (rows[[*keys, "score", "prior_same", "prior_other"]]
            .merge(teachers, on=keys).merge(schools, on=keys))
    data["year"] = data["year"].astype(str)
    s_term = "mm(school_id1 + school_id2, sdosage1 + sdosage2)"
    formula = (f"score ~ prior_same + prior_other + year + (1 | student_id) "
               f"+ (1 | {t_term}) + (1 | {s_term})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the student variance is ~0 given the priors
        fit = pds.lmm(formula, data)
        va = pds.vam.value_added(af, outcome="score", prior=["prior_same", "prior_other"],
                                 unit="teacher_id", year="year", method="eb", by_year=True,
                                 dosage="dosage", progress=False).effects
    modes = fit.ranef(condvar=False)
    modes = modes[modes.group == f"mm({t_term[3:t_term.index(',')].replace(' ', '')})"]
    va["key"] = va["unit"] + "-" + va["year"].astype(int).astype(str)
    truth = sim.truth.effects
    truth = truth[(truth.level == "teacher") & (truth.subject == "math")]
    truth = truth.assign(key=truth.unit_id + "-" + truth.year.astype(str))
    tab = (modes.set_index("level")["mode"].rename("lmm_mm").to_frame()
           .join(va.set_index("key")["estimate"].rename("vam_eb"))
           .join(truth.set_index("key")["effect"].rename("truth")))
    return tab, fit.varcomp


def test_crossed_membership_value_added_tracks_truth_and_vam() -> None:
    tab, vc = vam_comparison(random_state=0, n_states=1, n_districts=12)
    assert tab["truth"].notna().all() and tab["vam_eb"].notna().all()
    assert len(tab) > 150
    r = tab.corr()
    # the mixed model separates schools from teachers, so it tracks the true teacher
    # effects at least as well as the EB estimates (which include the school's effect)
    assert r.loc["lmm_mm", "truth"] > 0.55, r
    assert r.loc["lmm_mm", "truth"] >= r.loc["vam_eb", "truth"] - 0.02, r
    assert r.loc["lmm_mm", "vam_eb"] > 0.6, r
    # teacher-year SD in score SDs: truth is 4.2 NAEP points, about 0.12 score SDs
    sd_teacher = float(np.sqrt(vc.loc[vc.group.str.startswith("mm(unit"), "estimate"].iloc[0]))
    assert 0.06 < sd_teacher < 0.2, vc


@pytest.mark.slow
def test_crossed_membership_value_added_whole_small_world() -> None:
    tab, _ = vam_comparison(random_state=0)
    r = tab.corr()
    assert r.loc["lmm_mm", "truth"] >= r.loc["vam_eb", "truth"] - 0.02, r
