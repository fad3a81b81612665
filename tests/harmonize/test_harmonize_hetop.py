"""pds.harmonize.hetop: tidy output, sample log, sparse-group rules, errors, known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.harmonize.recovery import recovery_metrics, simulate_counts

CELL = {"state": "CA", "year": 2005, "grade": 4, "subject": "math"}


def _cell(counts: pd.DataFrame, **extra) -> pd.DataFrame:
    return counts.assign(**{**CELL, **extra})


@pytest.fixture(scope="module")
def sim():
    counts, truth = simulate_counts(200, (100, 400), random_state=3)
    return _cell(counts), truth


def test_estimates_are_tidy_and_named_after_group(sim):
    counts, _ = sim
    fit = pds.harmonize.hetop(counts.rename(columns={"unit_id": "district"}), group="district",
                              progress=False)
    est = fit.groups
    for col in ["district", "state", "year", "grade", "subject", "subgroup", "n", "mean", "se_mean",
                "sd", "se_sd", "mean_lower", "mean_upper", "scale"]:
        assert col in est.columns, col
    assert (est["scale"] == "star").all() and (est["subgroup"] == "all").all()
    assert len(est) == 200 and fit.cells["converged"].all()
    assert fit.cells["iterations"].iloc[0] <= 12
    assert "HETOP" in fit.summary() and "<h4>" in fit._repr_html_()
    assert fit.plot().get_xlabel().startswith("estimate")
    assert len(fit.cuts) == 3 and fit.cuts["se"].gt(0).all()


@pytest.mark.parametrize("bias_correct", [False, True])
def test_star_scale_constraints(sim, bias_correct):
    counts, _ = sim
    est = pds.harmonize.hetop(counts, progress=False, bias_correct=bias_correct).groups
    p = est["n"] / est["n"].sum()
    assert float(p @ est["mean"]) == pytest.approx(0.0, abs=1e-10)
    total = float(p @ (est["mean"] ** 2 + est["sd"] ** 2))
    if bias_correct:
        assert total > 1.0  # the corrected total variance is smaller than the plain one
    else:
        assert total == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("model", ["hetop", "phop", "homop"])
def test_models_recover_known_means(sim, model):
    counts, truth = sim
    fit = pds.harmonize.hetop(counts, model=model, progress=False)
    m = recovery_metrics(fit.groups, truth, ["unit_id"]).set_index("quantity")
    assert m.loc["mean", "correlation"] > 0.97
    assert abs(m.loc["mean", "bias"]) < 0.02
    if model != "homop":
        assert m.loc["sd", "correlation"] > 0.5
        assert abs(m.loc["sd", "bias"]) < 0.03
    else:
        assert (fit.groups["sd_status"] == "common").all()
        assert fit.groups["sd"].nunique() == 1


def test_known_cuts_fix_the_scale(sim):
    counts, _ = sim
    fit = pds.harmonize.hetop(counts, cuts=[-0.9, 0.0, 0.9], progress=False)
    assert fit.cuts["known"].all()
    np.testing.assert_allclose(fit.cuts["fit_scale"], [-0.9, 0.0, 0.9])
    # same likelihood optimum as free cuts only up to the two extra constraints: means agree closely
    free = pds.harmonize.hetop(counts, progress=False).groups["mean"]
    assert np.corrcoef(fit.groups["mean"], free)[0, 1] > 0.995


def test_sparse_groups_follow_the_documented_rule():
    counts, _ = simulate_counts(30, (80, 200), random_state=5)
    counts.loc[0, ["level_1", "level_2", "level_3", "level_4"]] = [40, 0, 0, 0]
    counts.loc[1, ["level_1", "level_2", "level_3", "level_4"]] = [0, 0, 0, 40]
    counts.loc[2, ["level_1", "level_2", "level_3", "level_4"]] = [0, 20, 20, 0]
    fit = pds.harmonize.hetop(_cell(counts), progress=False)
    est = fit.groups.set_index("unit_id")
    assert est.loc["u0000", "mean_status"] == "min" and np.isnan(est.loc["u0000", "se_mean"])
    assert est.loc["u0001", "mean_status"] == "max" and np.isnan(est.loc["u0001", "se_mean"])
    others = est.drop(["u0000", "u0001"])
    assert est.loc["u0000", "mean"] == pytest.approx(others["mean"].min())
    assert est.loc["u0001", "mean"] == pytest.approx(others["mean"].max())
    assert (est.loc[["u0000", "u0001", "u0002"], "sd_status"] == "pooled").all()
    informative = est[est["sd_status"] == "est"]
    pooled = np.exp(np.mean(np.log(informative["sd"])))
    assert est.loc["u0002", "sd"] == pytest.approx(pooled, rel=1e-6)
    assert np.isfinite(est.loc["u0002", "se_mean"])
    assert fit.cells["n_mean_bound"].iloc[0] == 2
    summary = fit.sample_summary.set_index("reason")["n"]
    assert summary["mean at a bound (all students in one extreme level)"] == 2
    assert summary["SD pooled (students in fewer than 3 levels)"] == 3
    assert "mean at a bound" in fit.summary()


def test_sample_log_counts_every_drop():
    counts, _ = simulate_counts(20, (50, 100), random_state=2)
    counts = _cell(counts)
    counts["suppressed"] = False
    counts.loc[0, "suppressed"] = True
    counts.loc[1, ["level_1", "level_2", "level_3", "level_4"]] = [1, 2, 1, 1]
    counts.loc[2, ["level_1", "level_2", "level_3", "level_4"]] = np.nan
    lonely = counts.iloc[[3]].assign(state="MA")  # a one-group cell cannot be fitted
    fit = pds.harmonize.hetop(pd.concat([counts, lonely]), progress=False)
    log = fit.sample_log
    assert log.n_in == 21
    assert log.dropped["suppressed by the state"] == 1
    assert log.dropped["no level counts"] == 1
    assert log.dropped["too small (fewer than 10 students)"] == 1
    assert any(r.startswith("cell not estimable") for r in log.dropped)
    assert log.n_used == len(fit.groups) == 17


def test_bad_input_raises_named_errors(sim):
    counts, _ = sim
    with pytest.raises(pds.ModelSpecificationError, match="model"):
        pds.harmonize.hetop(counts, model="probit", progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="lacks column"):
        pds.harmonize.hetop(counts.drop(columns="grade"), progress=False)
    bad = counts.copy()
    bad.loc[0, "level_2"] = -1
    with pytest.raises(pds.DataValidationError, match="level_2.*range"):
        pds.harmonize.hetop(bad, progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="one row per unit_id"):
        pds.harmonize.hetop(pd.concat([counts, counts.head(2)]), progress=False)
    two = counts[["unit_id", "state", "year", "grade", "subject", "level_1", "level_2"]]
    fit = pds.harmonize.hetop(two, progress=False)  # HETOP needs 3 levels: the cell is logged
    assert len(fit.groups) == 0 and "3 proficiency levels" in next(iter(fit.sample_log.dropped))
    assert len(pds.harmonize.hetop(two, model="homop", progress=False).groups) == 200


def test_non_convergence_flags_or_raises(sim):
    counts, _ = sim
    with pytest.warns(pds.EstimationWarning, match="no convergence"):
        fit = pds.harmonize.hetop(counts, max_iter=1, progress=False)
    assert not fit.groups["converged"].any()
    with pytest.raises(pds.ConvergenceError):
        pds.harmonize.hetop(counts, max_iter=1, on_fail="raise", progress=False)


def test_phop_lowers_sd_rmse_for_small_groups():
    rmse = {"hetop": [], "phop": []}
    for seed in range(6):
        counts, truth = simulate_counts(80, (15, 40), random_state=seed)
        for model in rmse:
            est = pds.harmonize.hetop(_cell(counts), model=model, progress=False).groups
            m = recovery_metrics(est, truth, ["unit_id"]).set_index("quantity")
            rmse[model].append(m.loc["sd", "rmse"])
    assert np.mean(rmse["phop"]) < 0.8 * np.mean(rmse["hetop"])
    fit = pds.harmonize.hetop(_cell(counts), model="phop", progress=False)
    assert fit.cells["tau"].iloc[0] > 0  # estimated by moments


def test_known_cuts_table_applies_per_cell(sim):
    counts, _ = sim
    two = pd.concat([counts, counts.assign(grade=5)], ignore_index=True)
    cuts = pd.DataFrame({**CELL, "cut_1": [-0.9], "cut_2": [0.0], "cut_3": [0.9]})
    fit = pds.harmonize.hetop(two, cuts=cuts, progress=False)
    known = fit.cuts.groupby("grade")["known"].all()
    assert known[4] and not known[5]


def test_levels_nobody_reached_are_merged_not_fatal():
    counts, _ = simulate_counts(20, (50, 100), cuts=(-0.9, 0.0, 0.9, 1.2), random_state=4)
    counts["level_4"] = 0  # an empty middle level: its two cuts coincide
    fit = pds.harmonize.hetop(_cell(counts), progress=False)
    assert fit.cells["converged"].all() and len(fit.groups) == 20
    assert "empty levels merged: ['level_4']" in fit.cells["message"].iloc[0]
    assert fit.cuts["between"].tolist() == ["level_1|level_2", "level_2|level_3", "level_3|level_5"]
    with pytest.raises(pds.ModelSpecificationError, match="no students in any group"):
        pds.harmonize.cell.fit_cell(counts.filter(like="level_").to_numpy())
