"""The generator does what its documentation says: growth, variance components, programs, practices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pdstats as pds
from pdstats.simulate import scales
from pdstats.simulate.practices import practice_tables


def _effect_lookup(eff: pd.DataFrame, level: str, ids: pd.Series, years: pd.Series, subj: pd.Series,
                   column: str = "effect") -> np.ndarray:  # fmt: skip
    e = eff[eff["level"] == level].set_index(["unit_id", "year", "subject"])[column]
    return e.loc[list(zip(ids, years, subj, strict=True))].to_numpy()


def _growth_residuals(sim) -> pd.Series:
    """theta_t - theta_{t-1} - mean growth - dosage-weighted unit effects (should be N(0, sd_student^2))."""
    enr, eff, ach = sim.tables["enrollments"], sim.truth.effects, sim.truth.achievement
    contrib = enr["dosage"].to_numpy() * (
        _effect_lookup(eff, "teacher", enr["teacher_id"], enr["year"], enr["subject"])
        + _effect_lookup(eff, "school", enr["school_id"], enr["year"], enr["subject"])
        + _effect_lookup(eff, "district", enr["district_id"], enr["year"], enr["subject"])
    )
    c = pd.Series(contrib).groupby([enr["student_id"], enr["year"], enr["subject"]]).sum().rename("c")
    now = ach.set_index(["student_id", "year", "subject"])
    prev = ach.assign(year=ach["year"] + 1).set_index(["student_id", "year", "subject"])["theta"].rename("prev")
    j = now.join(prev, how="inner").join(c)
    gam = np.array([scales.growth(g, s) for g, s in zip(j["grade"], j.index.get_level_values("subject"), strict=True)])
    return j["theta"] - j["prev"] - gam - j["c"]


def _var_ci(v: float, n: int, level: float = 0.999) -> tuple[float, float]:
    """Interval for a population variance given the sample variance ``v`` of ``n`` normal draws."""
    a = (1 - level) / 2
    return (n - 1) * v / stats.chi2.ppf(1 - a, n - 1), (n - 1) * v / stats.chi2.ppf(a, n - 1)


def test_growth_is_mean_growth_plus_unit_effects_plus_student_noise(sim) -> None:
    r = _growth_residuals(sim)
    sd = sim.truth.params["sd_student"]
    assert len(r) > 20_000
    assert abs(r.mean()) < 4 * sd / np.sqrt(len(r))
    lo, hi = _var_ci(r.var(), len(r))
    assert lo < sd**2 < hi


def test_variance_components_match_the_knobs(sim) -> None:
    p, eff = sim.truth.params, sim.truth.effects
    first = eff[eff["year"] == p["years"][0]]
    for level, knob in (("teacher", "sd_teacher"), ("school", "sd_school"), ("district", "sd_district")):
        base = first.loc[first["level"] == level, "base"]
        lo, hi = _var_ci(float(np.mean(base**2)) * len(base) / (len(base) - 1), len(base))
        assert lo < p[knob] ** 2 < hi, level
    # variance shares of the four growth components
    knobs = np.array([p["sd_teacher"], p["sd_school"], p["sd_district"], p["sd_student"]]) ** 2
    r = _growth_residuals(sim)
    emp = np.array([np.mean(first.loc[first["level"] == lv, "base"] ** 2) for lv in ("teacher", "school", "district")]
                   + [r.var()])  # fmt: skip
    assert np.allclose(emp / emp.sum(), knobs / knobs.sum(), atol=0.05)


def test_teacher_variance_is_recoverable_from_the_data(sim) -> None:
    """Between-teacher variance of class-mean gains (method of moments) estimates sd_teacher^2."""
    p = sim.truth.params
    enr = sim.tables["enrollments"]
    single = enr.groupby(["student_id", "year", "subject"])["dosage"].transform("size") == 1
    e = enr[single]
    ach = sim.truth.achievement.set_index(["student_id", "year", "subject"])["theta"]
    prev = ach.copy()
    prev.index = prev.index.set_levels(prev.index.levels[1] + 1, level=1)
    keys = list(zip(e["student_id"], e["year"], e["subject"], strict=True))
    ok = pd.Index(keys).isin(prev.index)
    e, keys = e[ok], [k for k, o in zip(keys, ok, strict=True) if o]
    gain = ach.loc[keys].to_numpy() - prev.loc[keys].to_numpy()
    gain -= np.array([scales.growth(g, s) for g, s in zip(e["grade"], e["subject"], strict=True)])
    eff = sim.truth.effects
    gain -= _effect_lookup(eff, "school", e["school_id"], e["year"], e["subject"])
    gain -= _effect_lookup(eff, "district", e["district_id"], e["year"], e["subject"])
    gain -= _effect_lookup(eff, "teacher", e["teacher_id"], e["year"], e["subject"], column="program")
    g = pd.DataFrame({"t": e["teacher_id"].to_numpy(), "y": e["year"].to_numpy(), "s": e["subject"].to_numpy(), "gain": gain})
    m = g.groupby(["t", "y", "s"])["gain"].agg(["mean", "size"])
    m = m[m["size"] >= 5]
    est = m["mean"].var() - np.mean(p["sd_student"] ** 2 / m["size"])
    assert est == pytest.approx(p["sd_teacher"] ** 2, rel=0.25)


def test_teacher_effects_drift_ar1(sim) -> None:
    p = sim.truth.params
    t = sim.truth.effects.query("level == 'teacher'").pivot_table(index=["unit_id", "subject"], columns="year", values="base")
    pairs = pd.concat([t[[a, b]].dropna().set_axis(["a", "b"], axis=1)
                       for a, b in zip(p["years"], p["years"][1:], strict=False)])  # fmt: skip
    r = np.corrcoef(pairs["a"], pairs["b"])[0, 1]
    se = (1 - r**2) / np.sqrt(len(pairs))
    assert abs(r - p["teacher_ar"]) < 4 * se + 0.02
    assert r < 0.95  # effects do drift


def test_program_and_practice_components_follow_adoption_and_index(sim) -> None:
    p, eff = sim.truth.params, sim.truth.effects
    adopt = sim.tables["program_adoption"]
    dist = eff[eff["level"] == "district"].merge(
        adopt.query("program == 'pay_for_performance'")[["unit_id", "first_treated_year"]], on="unit_id")
    treated = dist["first_treated_year"].notna() & (dist["year"] >= dist["first_treated_year"].fillna(9999))
    assert np.allclose(dist["program"], p["p4p_effect"] * treated.astype(float))
    assert treated.any() and (~treated).any()
    first = adopt.query("program == 'pay_for_performance'")["first_treated_year"].dropna()
    assert first.nunique() == 2 and first.min() > p["years"][0]  # staggered, with a pre-period
    sch_adopt = adopt.query("program == 'pay_for_performance' and unit_type == 'school'")
    sch = eff[eff["level"] == "school"].merge(sch_adopt[["unit_id", "first_treated_year"]], on="unit_id", how="left")
    on = sch["first_treated_year"].notna() & (sch["year"] >= sch["first_treated_year"].fillna(9999))
    assert np.allclose(sch["program"], p["p4p_effect"] * on.astype(float)) and on.any()
    adopting = set(dist.loc[dist["first_treated_year"].notna(), "unit_id"])
    assert not set(sch_adopt["unit_id"].str[:7]) & adopting  # schools adopt only where districts do not
    pi = sim.truth.practice_index.rename(columns={"district_id": "unit_id"})
    d = dist.merge(pi, on=["unit_id", "year"])
    assert np.allclose(d["practice"], p["practice_effect"] * d["index"])
    bonus = adopt.query("program == 'teacher_bonus'")
    assert bonus["design"].eq("randomized").all() and bonus["arm"].notna().all()
    assert abs((bonus["arm"] == "treatment").mean() - 0.5) < 0.05
    teach = eff[eff["level"] == "teacher"].merge(bonus[["unit_id", "arm"]], on="unit_id")
    on = (teach["arm"] == "treatment") & (teach["year"] >= p["years"][1])
    assert np.allclose(teach["program"], p["bonus_effect"] * on.astype(float))
    exp_d = sim.tables["enrollments"].loc[lambda e: e["teacher_id"].isin(bonus["unit_id"]), "district_id"]
    assert exp_d.value_counts().index[0] == p["experiment_district"]


def test_knobs_change_the_world() -> None:
    kw = dict(n_states=1, n_districts=4, n_comparison=0, years=(2005, 2006), progress=False)
    a = pds.simulate.study(random_state=3, practice_effect=0.0, p4p_effect=0.0, **kw)
    eff = a.truth.effects
    assert (eff["practice"] == 0).all()
    assert (eff.loc[eff["level"] == "district", "program"] == 0).all()
    b = pds.simulate.study(random_state=3, sd_teacher=0.0, **kw)
    assert (b.truth.effects.query("level == 'teacher'")["base"] == 0).all()


def _table61():
    sm = pds.practices.stage_matrix()
    return sm.set_index(["practice", "stage"])["n_districts"]


def test_year1_prevalence_is_table_6_1_on_average_over_seeds() -> None:
    """Fast version: the practice generator alone, 40 seeds."""
    from pdstats.simulate.params import DEFAULTS

    districts = pd.DataFrame({"district_id": [f"06{i:05d}" for i in range(28)], "studied": True})
    counts = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        index = rng.standard_normal((28, 1))
        ratings, _ = practice_tables(rng, districts, index, (2005,), DEFAULTS)
        cons = ratings[ratings["informant_role"] == "consensus"]
        counts.append(cons.groupby(["practice", "stage"])["evidence"].sum())
    mean = pd.concat(counts, axis=1).mean(axis=1)
    pub = _table61()
    diff = (mean.loc[pub.index] - pub).abs()
    assert diff.max() < 2.0
    assert diff.mean() < 0.8


@pytest.mark.slow
def test_year1_prevalence_over_seeds_full_world() -> None:
    """Slow version: full worlds (practices driven by the world's own practice index)."""
    counts = []
    for seed in range(12):
        sim = pds.simulate.study(random_state=seed, n_comparison=0, years=(2005,), progress=False)
        r = sim.tables["practice_ratings"]
        cons = r[(r["informant_role"] == "consensus") & (r["year"] == 2005)]
        counts.append(cons.groupby(["practice", "stage"])["evidence"].sum())
    mean = pd.concat(counts, axis=1).mean(axis=1)
    mean.index = mean.index.set_levels(mean.index.levels[0].astype(str), level=0)
    pub = _table61()
    pub.index = pub.index.set_levels(pub.index.levels[0].astype(str), level=0)
    assert (mean.loc[pub.index] - pub).abs().max() < 3.0


def test_practices_evolve_and_informants_support_consensus(sim) -> None:
    r = sim.tables["practice_ratings"]
    cons = r[r["informant_role"] == "consensus"].groupby("year")["evidence"].mean()
    assert cons.is_monotonic_increasing and cons.iloc[-1] > cons.iloc[0]  # default drift > 0
    wide = r.pivot_table(index=["district_id", "year", "practice", "stage"], columns="informant_role",
                         values="evidence", observed=True)  # fmt: skip
    anyone = wide.drop(columns="consensus").max(axis=1)
    assert (anyone == wide["consensus"]).all()
    assert set(r.loc[r["informant_role"] != "consensus", "informant_role"]) == set(pds.practices.ROLES)
    # the practice index of studied districts correlates with their consensus counts
    n = r[r["informant_role"] == "consensus"].groupby(["district_id", "year"])["evidence"].sum()
    pi = sim.truth.practice_index.set_index(["district_id", "year"])["index"].loc[n.index]
    assert np.corrcoef(n, pi)[0, 1] > 0.5
