"""pds.linkage on the default simulated world: panel joins, models, contract, bad input."""
import warnings

import numpy as np
import pandas as pd
import pytest
from contract.checks import assert_contract

import pdstats as pds
from pdstats.linkage.measurement import conditional_reliability

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"PanelResult", "LinkageResult", "DoseResult"}


def _tables(world):
    return {k: v.copy() for k, v in world.tables.items()}


def test_panel_reports_comparison_districts_by_id(panel, world):
    d = world.tables["districts"]
    comparison = sorted(d.loc[~d["studied"].astype(bool), "district_id"].astype(str))
    assert panel.n_districts == 28
    listed = panel.mismatches.query("missing_from == 'practice scores'")["district_id"].tolist()
    assert sorted(listed) == comparison
    assert panel.sample_log.n_used == len(panel.data)
    assert any(all(c in r for c in comparison[:2]) for r in panel.sample_log.dropped)
    assert_contract(panel)


def test_district_model_contract_and_truth_sign(panel):
    fit = pds.linkage.practice_growth(panel, model="district", progress=False)
    assert_contract(fit)
    e = fit.effect()
    assert e["ci_lower"] < 2.0 < e["ci_upper"]  # the world's practice_effect
    att = fit.attenuation.set_index("term").loc["practice_index"]
    # corrected = naive / conditional reliability (in the same per-SD units)
    assert att["corrected"] == pytest.approx(att["naive"] / att["conditional_reliability"], rel=1e-10)
    assert 0.5 < att["conditional_reliability"] < 1


def test_all_scores_have_holm_and_bh(panel):
    fit = pds.linkage.practice_growth(panel, model="district", scores="all", progress=False)
    prac = fit.estimates[fit.estimates["kind"] == "practice"]
    assert len(prac) == 12 and len(fit.estimates.query("kind == 'group'")) == 5
    ok = prac["p_value"].notna()
    assert (prac.loc[ok, "p_holm"] >= prac.loc[ok, "p_bh"] - 1e-12).all()
    assert (prac.loc[ok, "p_bh"] >= prac.loc[ok, "p_value"] - 1e-12).all()


def test_within_model_is_flagged_descriptive(panel):
    fit = pds.linkage.practice_growth(panel, model="within", progress=False)
    e = fit.effect()
    rel = fit.attenuation.set_index("term").loc["practice_index", "conditional_reliability"]
    assert rel < 0.5 and e["flag"].startswith("descriptive")


def test_conditional_reliability_is_below_marginal_when_covariates_explain_the_score():
    rng = np.random.default_rng(3)
    n = 600
    z = rng.normal(size=n)
    x = 0.9 * z + 0.45 * rng.normal(size=n) + rng.normal(0, 0.4, n)
    Z = np.column_stack([np.ones(n), z])
    r = conditional_reliability(x, np.full(n, 0.4), Z, np.arange(n), np.arange(n) % 60)
    # conditional: (0.45^2) / (0.45^2 + 0.4^2) = 0.56; marginal much higher
    assert r.value == pytest.approx(0.56, abs=0.08)
    assert r.marginal > r.value + 0.2


def test_naive_is_attenuated_by_the_conditional_reliability():
    """Known truth at the level of the correction: 200 draws of a V-known regression."""
    rng = np.random.default_rng(11)
    naive, corrected, lam = [], [], []
    for _ in range(200):
        n = 120
        xi = rng.normal(size=n)
        x = xi + rng.normal(0, 0.7, n)
        y = 2.0 * xi + rng.normal(size=n)
        Z = np.ones((n, 1))
        b = np.polyfit(x, y, 1)[0]
        r = conditional_reliability(x, np.full(n, 0.7), Z, np.arange(n), np.arange(n) % 30)
        naive.append(b)
        corrected.append(b / r.value)
        lam.append(r.value)
    assert np.mean(naive) == pytest.approx(2.0 * np.mean(lam), rel=0.03)
    assert np.mean(corrected) == pytest.approx(2.0, rel=0.03)


# ---------------------------------------------------------------- bad input
def test_district_with_scores_but_no_achievement_is_reported(world):
    t = _tables(world)
    gone = t["practice_ratings"]["district_id"].astype(str).iloc[0]
    agg = t["state_assessment_aggregates"]
    t["state_assessment_aggregates"] = agg[agg["unit_id"].astype(str) != gone]
    with pytest.warns(pds.DroppedRowsWarning, match=gone):
        p = pds.linkage.analysis_panel(t)
    assert gone in p.mismatches.query("missing_from == 'achievement'")["district_id"].tolist()
    assert gone not in set(p.data["district_id"])


def test_district_with_achievement_but_no_scores_is_dropped_and_logged(world):
    t = _tables(world)
    gone = t["practice_ratings"]["district_id"].astype(str).iloc[0]
    r = t["practice_ratings"]
    t["practice_ratings"] = r[r["district_id"].astype(str) != gone]
    with pytest.warns(pds.DroppedRowsWarning, match=gone):
        p = pds.linkage.analysis_panel(t)
    assert any(gone in reason for reason in p.sample_log.dropped)
    assert p.sample_log.n_used == len(p.data)


def test_year_missing_for_practice_scores_is_logged(world):
    t = _tables(world)
    r = t["practice_ratings"]
    t["practice_ratings"] = r[r["year"] != 2007]
    with pytest.warns(pds.DroppedRowsWarning, match="2007"):
        p = pds.linkage.analysis_panel(t)
    assert set(p.data["year"]) == {2006}
    assert p.mismatches.query("year == 2007").shape[0] == 28


def test_score_without_standard_error(panel, world):
    s = panel.scores.copy()
    s.loc[s.index[s["kind"] == "index"][:3], "se"] = np.nan  # index rows: their growth rows are lost
    with pytest.warns(pds.DroppedRowsWarning, match="standard error"):
        p = pds.linkage.analysis_panel(world, scores=s)
    assert any("standard error" in r for r in p.sample_log.dropped)
    assert p.sample_log.n_used == len(p.data)  # growth rows, not score rows, are counted
    with pytest.raises(pds.ModelSpecificationError, match="se"):
        pds.linkage.analysis_panel(world, scores=s.drop(columns="se"))


def test_fewer_than_ten_districts_warns(panel):
    keep = sorted(panel.data["district_id"].unique())[:3] + sorted(panel.data["district_id"].unique())[-5:]
    small = pds.linkage.PanelResult(panel.data[panel.data["district_id"].isin(keep)], panel.scores,
                                    panel.mismatches, panel.sample_log, panel.subject, panel.tables,
                                    panel.means, panel.source)
    with pytest.warns(pds.EstimationWarning, match="few-cluster"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pds.DroppedRowsWarning)
            pds.linkage.practice_growth(small, model="district", progress=False)


def test_bad_arguments_are_refused(panel):
    with pytest.raises(pds.ModelSpecificationError, match="model"):
        pds.linkage.practice_growth(panel, model="school")
    with pytest.raises(pds.ModelSpecificationError, match="inference"):
        pds.linkage.practice_growth(panel, inference="bootstrap")
    with pytest.raises(pds.ModelSpecificationError, match="covariates"):
        pds.linkage.practice_growth(panel, covariates=("nope",))
    with pytest.raises(pds.StoreError, match="no table"):
        pds.linkage.analysis_panel({"districts": pd.DataFrame()})


def test_stage_transitions_contract(panel):
    dose = pds.linkage.stage_transitions(panel)
    assert_contract(dose)
    assert dose.sample_log.n_used > 0


def test_table_level_problems_are_pdstats_errors_naming_the_table(world):
    # no district rows for the subject: a ModelSpecificationError naming the table (was a raw TypeError)
    t = _tables(world)
    agg = t["state_assessment_aggregates"]
    t["state_assessment_aggregates"] = agg[agg["subject"] != "math"]
    with pytest.raises(pds.ModelSpecificationError, match="state_assessment_aggregates"):
        pds.linkage.analysis_panel(t, subject="math")



def test_conditional_reliability_in_the_gls_metric_matches_a_dense_computation():
    """lambda = 1 - E[u'Mu] / x'Mx with M = V^-1 - V^-1 Z (Z'V^-1 Z)^-1 Z'V^-1, V built densely."""
    rng = np.random.default_rng(8)
    n_d, years, per = 12, 2, 5  # districts, years, rows per district-year (e.g. schools x grades)
    district = np.repeat(np.arange(n_d), years * per)
    year = np.tile(np.repeat(np.arange(years), per), n_d)
    school = district * 10 + np.tile(np.arange(per) % 3, n_d * years)
    block = district * years + year
    n = len(district)
    se_dy = rng.uniform(0.2, 0.5, n_d * years)
    se = np.repeat(se_dy, per)
    xi = np.repeat(rng.normal(size=n_d), years) + rng.normal(0, 0.15, n_d * years)  # stable over years
    x = np.repeat(xi + se_dy * rng.normal(size=n_d * years), per)
    Z = np.column_stack([np.ones(n), year, rng.normal(size=n)])
    w = rng.uniform(0.5, 2.0, n)
    tau_s, tau_d = 0.7, 2.0
    V = (np.diag(1 / w) + tau_s * (school[:, None] == school[None, :])
         + tau_d * (district[:, None] == district[None, :]))
    Vi = np.linalg.inv(V)
    M = Vi - Vi @ Z @ np.linalg.solve(Z.T @ Vi @ Z, Z.T @ Vi)
    B = (block[:, None] == np.unique(block)[None, :]).astype(float)
    se_b = np.array([se[block == b][0] for b in np.unique(block)])
    expected = 1 - float(np.sum(se_b**2 * np.einsum("ib,ij,jb->b", B, M, B))) / float(x @ M @ x)
    r = conditional_reliability(x, se, Z, block, district, w, [(school, tau_s), (district, tau_d)])
    assert r.value == pytest.approx(expected, rel=1e-10)
    # the random intercepts make the fit lean on changes over years, mostly error: the diagonal
    # metric (ignoring them) overstates the reliability
    assert conditional_reliability(x, se, Z, block, district, w).value > r.value + 0.01


def test_wild_inference_is_refused_pointing_at_cr2(panel):
    with pytest.raises(pds.ModelSpecificationError, match="cr2"):
        pds.linkage.practice_growth(panel, inference="wild")


def test_matched_growth_with_student_tables_and_flagged_cohort_growth_without(panel, world):
    assert panel.growth_kind == "matched"
    assert (panel.data["growth"] != panel.data["cohort_growth"]).any()
    assert np.all(panel.data["var_growth"] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aggregate_only = {k: v for k, v in _tables(world).items() if k not in ("student_scores", "enrollments")}
        cohort = pds.linkage.analysis_panel(aggregate_only)  # growth="auto" falls back to cohort growth
        fit = pds.linkage.practice_growth(cohort, model="district", progress=False)
    assert cohort.growth_kind == "cohort"
    assert "composition-diluted" in fit.effect()["flag"]
    assert any("composition-diluted" in n for n in fit.notes)
    assert "composition-diluted" not in pds.linkage.practice_growth(panel, model="district",
                                                                    progress=False).effect()["flag"]
