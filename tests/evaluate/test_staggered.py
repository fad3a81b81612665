"""staggered_did against R did's documented output and csdid (references independent of
moderndid, which pdstats wraps); bad input."""

import json
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest
from contract.checks import assert_contract

import pdstats as pds

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"StaggeredDiDResult", "AggregateResult"}

REF = json.loads((pathlib.Path(__file__).parents[1] / "reference" / "evaluate"
                  / "mpdta_reference.json").read_text())


@pytest.fixture(scope="module")
def mpdta():
    import moderndid

    return moderndid.load_mpdta().to_pandas()


@pytest.fixture(scope="module")
def res(mpdta):
    return pds.evaluate.staggered_did(mpdta, "lemp", "countyreal", "year", "first.treat",
                                      n_boot=999, random_state=7, inference="analytic")


def test_att_gt_matches_r_documentation(res):
    doc = pd.DataFrame(REF["r_did_documented"]["att_gt"])
    got = res.att_gt.merge(doc, on=["group", "time"], suffixes=("", "_r"))
    assert len(got) == 12
    np.testing.assert_array_equal(got["estimate"].round(4), got["estimate_r"])
    # R's printed SEs are multiplier-bootstrap SEs (1000 draws): analytic within 12%
    np.testing.assert_allclose(got["std_error"], got["boot_se"], rtol=0.12)
    assert round(res.pretest["p_value"].iloc[0], 5) == REF["r_did_documented"]["pretest_p"]
    assert_contract(res)


@pytest.mark.parametrize("kind,key", [("event", "event_time"), ("group", "group")])
def test_aggregations_match_r_documentation(res, kind, key):
    doc = REF["r_did_documented"][kind]
    agg = res.aggregate(kind)
    assert round(agg.overall["estimate"].iloc[0], 4) == pytest.approx(doc["overall"], abs=1e-12)
    np.testing.assert_array_equal(agg.estimates[key], doc[key])
    np.testing.assert_array_equal(agg.estimates["estimate"].round(4), doc["estimate"])
    np.testing.assert_allclose(agg.estimates["std_error"], doc["boot_se"], rtol=0.15)
    assert_contract(agg)


def test_balanced_event_study_matches_r_documentation(res):
    doc = REF["r_did_documented"]["event_balanced_1"]
    agg = res.aggregate("event", balance_e=1)
    assert round(agg.overall["estimate"].iloc[0], 4) == doc["overall"]
    np.testing.assert_array_equal(agg.estimates["estimate"].round(4), doc["estimate"])


def test_matches_csdid_port(res):
    ref = REF["csdid"]
    gt = pd.DataFrame(ref["att_gt"])
    got = res.att_gt.merge(gt, left_on=["group", "time"], right_on=["group", "time"],
                           suffixes=("", "_c"))
    np.testing.assert_allclose(got["estimate"], got["estimate_c"], atol=1e-6)
    np.testing.assert_allclose(got["std_error"], got["se"], rtol=0.02)
    for kind, key in (("simple", None), ("event", "event_time"), ("group", "group"),
                      ("calendar", "time")):
        agg = res.aggregate(kind)
        assert agg.overall["estimate"].iloc[0] == pytest.approx(ref[kind]["overall"], abs=1e-6)
        assert agg.overall["std_error"].iloc[0] == pytest.approx(ref[kind]["overall_se"], rel=0.02)
        if key:
            np.testing.assert_array_equal(agg.estimates[key], ref[kind]["key"])
            np.testing.assert_allclose(agg.estimates["estimate"], ref[kind]["estimate"], atol=1e-6)
            np.testing.assert_allclose(agg.estimates["std_error"], ref[kind]["se"], rtol=0.02)


def test_uniform_band_wider_than_pointwise_and_reproducible(mpdta, res):
    est = res.aggregate("event").estimates
    assert (est["cband_upper"] - est["cband_lower"] > est["ci_upper"] - est["ci_lower"]).all()
    again = pds.evaluate.staggered_did(mpdta, "lemp", "countyreal", "year", "first.treat",
                                       n_boot=999, random_state=7, inference="analytic")
    assert again.critical_value == res.critical_value
    assert 2.3 < res.critical_value < 3.3


def test_never_treated_coded_missing_or_zero(mpdta):
    d = mpdta.copy()
    d["g"] = d["first.treat"].where(d["first.treat"] > 0)  # NaN for never treated
    a = pds.evaluate.staggered_did(d, "lemp", "countyreal", "year", "g", n_boot=0)
    b = pds.evaluate.staggered_did(mpdta, "lemp", "countyreal", "year", "first.treat", n_boot=0)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)


def test_sd_units_names_the_sd(res):
    out = res.aggregate("simple").in_sd_units(0.5, "county SD of log employment")
    assert out["estimate"].iloc[0] == pytest.approx(res.aggregate("simple").overall["estimate"].iloc[0] / 0.5)
    assert out["scale"].iloc[0] == "county SD of log employment = 0.5"


# ----------------------------------------------------------------------------- bad input
def _toy(n=40, seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat([0, 3, 4, 5], n // 4)
    d = pd.DataFrame({"id": np.repeat(np.arange(n), 6), "t": np.tile(np.arange(1, 7), n)})
    d["g"] = np.repeat(g, 6)
    d["y"] = rng.normal(size=len(d)) + ((d.g > 0) & (d.t >= d.g))
    return d


def test_unit_treated_before_panel_is_dropped_and_logged():
    d = _toy()
    d.loc[d.id == 39, "g"] = 1  # treated in the first period: no pre-period
    with pytest.warns(pds.DroppedRowsWarning, match="before the first period|at or before"):
        r = pds.evaluate.staggered_did(d, "y", "id", "t", "g", n_boot=0)
    assert r.sample_log.dropped["treated before the panel starts"] == 6


def test_treatment_switching_off_is_refused():
    d = _toy()
    d.loc[(d.id == 12) & (d.t == 6), "g"] = 0  # the unit's start changes: switches off
    with pytest.raises(pds.DataValidationError, match="constant within unit"):
        pds.evaluate.staggered_did(d, "y", "id", "t", "g", n_boot=0)
    d = _toy()
    d["d"] = ((d.g > 0) & (d.t >= d.g)).astype(int)
    d.loc[(d.id == 12) & (d.t == 6), "d"] = 0
    with pytest.raises(pds.DataValidationError, match="switches off"):
        pds.evaluate.twfe(d, "y", "d", "id", "t")


def test_no_comparison_units_is_refused():
    d = _toy()
    d = d[d.g > 0]
    with pytest.raises(pds.ModelSpecificationError, match="no never-treated"):
        pds.evaluate.staggered_did(d, "y", "id", "t", "g", n_boot=0)
    d = d[d.g == 3]
    with pytest.raises(pds.ModelSpecificationError, match="not-yet-treated"):
        pds.evaluate.staggered_did(d, "y", "id", "t", "g", control="notyet", n_boot=0)


def test_outcome_missing_for_a_whole_cohort_is_logged():
    d = _toy()
    d.loc[d.g == 4, "y"] = np.nan
    with pytest.warns(pds.DroppedRowsWarning, match="missing 'y'"):
        r = pds.evaluate.staggered_did(d, "y", "id", "t", "g", n_boot=0)
    assert r.sample_log.dropped["missing 'y'"] == 60
    assert sorted(r.att_gt["group"].unique()) == [3, 5]


def test_bad_arguments():
    d = _toy()
    with pytest.raises(pds.ModelSpecificationError):
        pds.evaluate.staggered_did(d, "y", "id", "t", "g", method="ols")
    with pytest.raises(pds.ModelSpecificationError):
        pds.evaluate.staggered_did(d, "nope", "id", "t", "g")
    d.loc[3, "y"] = np.inf
    with pytest.raises(pds.DataValidationError):
        pds.evaluate.staggered_did(d, "y", "id", "t", "g")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pds.evaluate.staggered_did(_toy(), "y", "id", "t", "g", n_boot=0)


@pytest.mark.parametrize("estimator", ["sun_abraham", "imputation"])
def test_bad_input_list_for_the_event_studies(estimator):
    fit = getattr(pds.evaluate, estimator)
    d = _toy()
    d.loc[d.id == 39, "g"] = 1  # treated before the panel starts: dropped, logged
    with pytest.warns(pds.DroppedRowsWarning, match="at or before"):
        r = fit(d, "y", "id", "t", "g")
    assert r.sample_log.dropped["treated before the panel starts"] == 6
    d = _toy()
    d.loc[(d.id == 12) & (d.t == 6), "g"] = 0  # switches off
    with pytest.raises(pds.DataValidationError, match="constant within unit"):
        fit(d, "y", "id", "t", "g")
    d = _toy()
    d = d[d.g == 3]  # no never-treated and no not-yet-treated unit
    with pytest.raises(pds.ModelSpecificationError, match="never-treated|not-yet-treated"):
        fit(d, "y", "id", "t", "g")
    d = _toy()
    d.loc[d.g == 4, "y"] = np.nan  # outcome missing for a whole cohort: dropped, logged
    with pytest.warns(pds.DroppedRowsWarning, match="missing 'y'"):
        r = fit(d, "y", "id", "t", "g")
    assert r.sample_log.dropped["missing 'y'"] == 60
    with pytest.raises(pds.ModelSpecificationError, match="inference"):
        fit(_toy(), "y", "id", "t", "g", inference="wild")


def test_inference_argument_is_checked():
    with pytest.raises(pds.ModelSpecificationError, match="inference"):
        pds.evaluate.staggered_did(_toy(), "y", "id", "t", "g", inference="normal")
