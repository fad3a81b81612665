"""Issue 12, harmonize: each bad-input case ends in a dropped-and-logged row, a flag, or a named error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.harmonize.recovery import simulate_counts

CELL = {"state": "CA", "year": 2005, "grade": 4, "subject": "math"}
NAEP = pd.DataFrame({"state": ["CA", "CA", "national", "national"], "year": 2005, "grade": [4, 8, 4, 8],
                     "subject": "math", "mean": [230.0, 269.0, 237.0, 278.0], "sd": [29.0, 37.0, 29.0, 36.0]})


@pytest.fixture(scope="module")
def counts():
    c, _ = simulate_counts(30, (80, 200), random_state=5)
    return c.assign(**CELL)


def _fit(df, **kw):
    kw.setdefault("progress", False)
    return pds.harmonize.hetop(df, **kw)


@pytest.mark.parametrize("missing", [np.nan, "*", "", None])
def test_missing_count_drops_the_row_not_read_as_zero(counts, missing):
    bad = counts.astype({"level_2": object})
    bad.loc[3, "level_2"] = missing
    with pytest.warns(pds.DroppedRowsWarning, match="missing level count"):
        fit = _fit(bad)
    assert counts.loc[3, "unit_id"] not in set(fit.groups["unit_id"])
    assert fit.sample_log.dropped == {"a missing level count": 1}
    assert fit.sample_log.n_used == len(counts) - 1
    # the other groups are estimated exactly as without the row
    ref = _fit(counts.drop(index=3))
    np.testing.assert_allclose(fit.groups["mean"], ref.groups["mean"])


def test_level_a_state_does_not_report_is_left_out_not_dropped(counts):
    five = counts.assign(level_5=np.nan)
    fit = _fit(five)
    assert fit.sample_log.n_dropped == 0 and len(fit.groups) == len(counts)


@pytest.mark.parametrize("text,kept", [("False", True), ("false", True), ("0", True), ("True", False),
                                       ("yes", False)])
def test_suppressed_text_is_parsed(counts, text, kept):
    d = counts.assign(suppressed="False").astype({"suppressed": object})
    d.loc[0, "suppressed"] = text
    fit = _fit(d)
    assert fit.sample_log.dropped.get("suppressed by the state", 0) == (0 if kept else 1)
    assert len(fit.groups) == len(counts) - (0 if kept else 1)


def test_suppressed_text_that_is_not_a_flag_is_refused(counts):
    with pytest.raises(pds.DataValidationError, match="suppressed"):
        _fit(counts.assign(suppressed="maybe"))


def test_by_empty_fits_one_set_of_counts(counts):
    single = counts.drop(columns=list(CELL))
    fit = _fit(single, by=[])
    ref = _fit(counts)
    np.testing.assert_allclose(fit.groups["mean"], ref.groups["mean"])
    assert len(fit.cells) == 1


@pytest.mark.parametrize("value,rule", [(-1, "range"), (2.5, "integer"), (np.inf, "finite"), ("ten", "numeric")])
def test_bad_counts_are_refused_naming_column_and_row(counts, value, rule):
    bad = counts.astype({"level_3": object})
    bad.loc[4, "level_3"] = value
    with pytest.raises(pds.DataValidationError, match=rule) as err:
        _fit(bad)
    f = err.value.failures
    assert f["column"].tolist() == ["level_3"] and f["row"].tolist() == [4]


def test_bound_means_are_flagged_with_nan_se_and_warned():
    c = pd.DataFrame({**CELL, "unit_id": ["a", "b", "c", "d", "e"], "level_1": [30, 0, 10, 5, 8],
                      "level_2": [0, 0, 20, 10, 12], "level_3": [0, 0, 15, 20, 10], "level_4": [0, 25, 5, 8, 9]})
    with pytest.warns(pds.EstimationWarning, match="mean at a bound"):
        fit = _fit(c, min_n=1)
    est = fit.estimates.set_index(["unit_id", "quantity"])
    assert bool(est.loc[("a", "mean"), "flag"]) and np.isnan(est.loc[("a", "mean"), "std_error"])
    assert (fit.estimates.loc[~fit.estimates["flag"], "std_error"] > 0).all()


def test_not_a_frame_and_bad_arguments_are_named(counts):
    with pytest.raises(pds.ModelSpecificationError, match="DataFrame"):
        _fit(counts.to_dict())
    with pytest.raises(pds.ModelSpecificationError, match="min_n"):
        _fit(counts, min_n=-1)
    with pytest.raises(pds.ModelSpecificationError, match="cuts"):
        _fit(counts, cuts=[0.0, np.inf, 1.0])


def test_link_to_naep_refuses_inf_and_drops_missing_means():
    est = pd.DataFrame({"unit_id": ["a", "b", "c"], **CELL, "n": 100, "mean": [0.2, np.nan, 0.1],
                        "se_mean": 0.05, "sd": 0.9, "se_sd": 0.04})
    with pytest.warns(pds.DroppedRowsWarning, match="'mean'"):
        out = pds.harmonize.link_to_naep(est, NAEP)
    assert out.sample_log.dropped == {"missing 'mean'": 1} and len(out.scale("naep")) == 2
    with pytest.raises(pds.DataValidationError, match="finite"):
        pds.harmonize.link_to_naep(est.assign(mean=[0.2, np.inf, 0.1]), NAEP)
    with pytest.raises(pds.DataValidationError, match="sd"):
        pds.harmonize.link_to_naep(est.fillna(0.0), NAEP.assign(sd=[29.0, -1.0, 29.0, 36.0]))
    with pytest.raises(pds.ModelSpecificationError, match="linking_error"):
        pds.harmonize.link_to_naep(est.fillna(0.0), NAEP, linking_error="abc")
    with pytest.raises(pds.DataValidationError, match="reliability"):
        rel = pd.DataFrame({**CELL, "reliability": [1.5]}, index=[0])
        pds.harmonize.link_to_naep(est.fillna(0.0), NAEP, reliability=rel)


def test_zero_standard_errors_are_not_reported_as_zero():
    e = pd.DataFrame({"unit_id": ["d1", "d1"], **CELL, "subgroup": ["a", "b"], "n": [100, 80],
                      "mean": [0.3, -0.4], "se_mean": [0.0, 0.0], "sd": [1.0, 1.0], "se_sd": [0.0, 0.0]})
    with pytest.warns(pds.EstimationWarning, match="flagged"):
        g = pds.harmonize.smd(e, "a", "b")
    row = g.estimates.iloc[0]
    assert np.isnan(row["std_error"]) and bool(row["flag"])
    est = pd.DataFrame({"unit_id": ["a", "b"], **CELL, "n": 100, "mean": [0.2, 0.1], "se_mean": 0.0,
                        "sd": 0.9, "se_sd": 0.0})
    out = pds.harmonize.link_to_naep(est, NAEP.assign(mean_se=0.0, sd_se=0.0))
    assert not (out.estimates["std_error"] == 0).any() and out.estimates["flag"].all()


def test_v_statistic_refuses_bad_counts_and_flags_no_se():
    with pytest.raises(pds.DataValidationError, match="counts_a"):
        pds.harmonize.v_statistic([1, -2, 3], [1, 2, 3])
    with pytest.raises(pds.ModelSpecificationError, match="numbers"):
        pds.harmonize.v_statistic(["a", "b"], [1, 2])
    with pytest.warns(pds.EstimationWarning, match="not estimable"):
        v, se = pds.harmonize.v_statistic([10, 0], [5, 0])
    assert np.isnan(v) and np.isnan(se)


def test_standardize_without_spread_is_flagged_not_infinite():
    d = pd.DataFrame({**CELL, "district": ["a", "b", "c"], "score": [700.0, 700.0, 700.0]})
    with pytest.warns(pds.EstimationWarning, match="without spread"):
        out = pds.harmonize.standardize(d, "score")
    assert out["mean"].isna().all()
    with pytest.raises(pds.DataValidationError, match="finite"):
        pds.harmonize.standardize(d.assign(score=[700.0, np.inf, 710.0]), "score")
    with pytest.warns(pds.DroppedRowsWarning, match="'score'"):
        out = pds.harmonize.standardize(d.assign(score=[700.0, "*", 710.0]), "score")
    assert out["mean"].notna().sum() == 2 and out.attrs["sample_log"].n_dropped == 1


def test_pipeline_parses_suppressed_text_in_the_means_route():
    ca = pd.DataFrame({"state": "CA", "unit_id": ["0600001", "0600002", "0600003"], "n_tested": [80, 90, 70],
                       "mean_scale": [340.0, 355.0, 350.0], "sd_scale": [50.0, 52.0, 51.0], "year": 2005,
                       "grade": 4, "subject": "math", "unit_type": "district", "subgroup": "all",
                       "suppressed": ["False", "False", "True"]})
    from pdstats.harmonize.pipeline import star_estimates

    est, log = star_estimates(ca, progress=False)
    assert est["unit_id"].tolist() == ["0600001", "0600002"] and log.n_dropped == 1


def test_interpolation_and_linking_error_refuse_bad_input():
    naep = pd.DataFrame({"state": ["A", "A", "B", "B"], "year": 2005, "grade": [4, 8, 4, 8], "subject": "math",
                         "mean": [240.0, np.inf, 238.0, 280.0], "sd": 30.0})
    with pytest.raises(pds.DataValidationError, match="finite"):
        pds.harmonize.estimate_interpolation_error(naep)
    with pytest.raises(pds.ModelSpecificationError, match="level"):
        pds.harmonize.estimate_interpolation_error(naep.assign(mean=240.0), level=95)
    with pytest.raises(pds.ModelSpecificationError, match="level"):
        pds.harmonize.estimate_linking_error(pd.DataFrame(), pd.DataFrame(), level=1.0)
