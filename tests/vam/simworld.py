"""Value-added analysis files and their truth from pds.simulate worlds (issue 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import pdstats as pds


def simulate_world(random_state: int, **knobs):
    """Analysis file, true teacher-year effects on its scale, and the true prior slope.

    The estimable effect of a teacher on her students' standardized growth is her own
    effect plus her school's and district's (all in NAEP points per year), divided by the
    SD of the observed state scores (true SD and measurement error).
    """
    sim = pds.simulate.study(random_state=random_state, progress=False, **knobs)
    af = pds.vam.analysis_file(sim.tables["enrollments"], sim.tables["student_scores"])
    af["level"] = np.where(af["grade"] >= 6, "middle", "elementary")
    st = sim.truth.state_tests
    st = st.assign(scale=np.sqrt(st["naep_sd"] ** 2
                                 + st["ref_sd"] ** 2 * (1 - st["reliability"]) / st["reliability"]))
    eff = sim.truth.effects
    keys = ["year", "subject"]
    info = (af.groupby(["teacher_id", *keys])
            .agg(grade=("grade", "first"), school_id=("school_id", "first"),
                 district_id=("district_id", "first"), state=("state", "first")).reset_index())

    def part(level, col, name):
        return eff[eff["level"] == level][["unit_id", *keys, "effect"]].rename(
            columns={"unit_id": col, "effect": name})

    truth = (info.merge(part("teacher", "teacher_id", "teacher"), on=["teacher_id", *keys])
             .merge(part("school", "school_id", "school"), on=["school_id", *keys])
             .merge(part("district", "district_id", "district"), on=["district_id", *keys])
             .merge(st[["state", "year", "grade", "subject", "scale"]],
                    on=["state", "year", "grade", "subject"]))
    truth["effect"] = (truth["teacher"] + truth["school"] + truth["district"]) / truth["scale"]
    # true slope on the standardized observed prior (growth persistence 1): sd_x / sd_y
    prev = st.assign(year=st["year"] + 1, grade=st["grade"] + 1)[
        ["state", "year", "grade", "subject", "scale"]].rename(columns={"scale": "scale_prior"})
    rows = af.dropna(subset=["score", "prior_same", "prior_other"]).merge(
        st[["state", "year", "grade", "subject", "scale"]], on=["state", "year", "grade", "subject"]
    ).merge(prev, on=["state", "year", "grade", "subject"])
    slope = float(np.mean(rows["scale_prior"] / rows["scale"]))
    return af, truth[["teacher_id", "year", "subject", "state", "grade", "effect"]], slope


#: The cells within which ``analysis_file`` standardizes scores.
CELL = ["state", "year", "grade", "subject"]


def compare(effects: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Estimates joined to truth, truth centred at its student-weighted mean per cell.

    Scores are standardized within state x year x grade x subject, which removes the
    cell's mean growth: what the data identify is a teacher's effect relative to the
    (student-weighted) mean effect of her cell, so the truth is centred there.
    """
    e = effects.merge(truth, left_on=["subject", "unit", "year"],
                      right_on=["subject", "teacher_id", "year"]).dropna(subset=["estimate"])
    wsum = (e["effect"] * e["n_students"]).groupby([e[c] for c in CELL]).transform("sum")
    e["truth"] = e["effect"] - wsum / e.groupby(CELL)["n_students"].transform("sum")
    e["covered"] = (e["ci_lower"] <= e["truth"]) & (e["truth"] <= e["ci_upper"])
    return e
