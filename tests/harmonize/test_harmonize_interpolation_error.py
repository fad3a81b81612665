"""estimate_interpolation_error and the interpolation term of link_to_naep: known truth, formulas, errors.

The model (``X_sgy = a_s + c_gy + u_sg + v_sgy + e_sgy``, see
pdstats.harmonize.interpolation_error) is simulated here with known ``omega_u`` and
``omega_v``; the 200-world coverage check on pds.simulate worlds is
benchmarks/harmonize_validation.py (a 2-world version is in test_harmonize_simulated_worlds.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pdstats as pds
from pdstats.errors import ModelSpecificationError
from pdstats.harmonize.interpolation_error import interpolation_factors

GRADES, YEARS = range(3, 9), range(2005, 2010)
NAEP_YEARS = (2005, 2007, 2009)


def _states(rng, n_states, omega_u, omega_v, se=0.0, subjects=("math", "reading"), naep_years=NAEP_YEARS):
    """Every grade 3-8 and year: the truth; the NAEP-tested cells with sampling error: the table."""
    truth, naep = [], []
    for subject in subjects:
        common = {(g, y): 200 + 10 * g + 0.5 * (y - 2005) + rng.normal(0, 3) for g in GRADES for y in YEARS}
        for s in range(n_states):
            level = rng.normal(0, 8)
            u = {g: rng.normal(0, omega_u) for g in GRADES}
            for g in GRADES:
                for y in YEARS:
                    x = level + common[g, y] + u[g] + rng.normal(0, omega_v)
                    sd = 30 + 0.5 * u[g] + rng.normal(0, 0.5 * omega_v)
                    truth.append({"state": f"S{s:02d}", "year": y, "grade": g, "subject": subject, "mean": x,
                                  "sd": sd})
                    if g in (4, 8) and y in naep_years:
                        naep.append({"state": f"S{s:02d}", "year": y, "grade": g, "subject": subject,
                                     "mean": x + rng.normal(0, se), "sd": sd + rng.normal(0, se / 2),
                                     "mean_se": se, "sd_se": se / 2})
    return pd.DataFrame(truth), pd.DataFrame(naep)


def test_moment_estimates_are_unbiased_and_intervals_cover():
    rng = np.random.default_rng(20261201)
    omega_u, omega_v = 2.0, 1.0
    est, cover_v = [], []
    for _ in range(150):
        _, naep = _states(rng, 40, omega_u, omega_v, se=1.0, naep_years=(2005, 2007))
        ie = pds.harmonize.estimate_interpolation_error(naep)
        e = ie.estimates.set_index(["quantity", "component"])
        est.append((e.loc[("mean", "persistent"), "estimate"] ** 2, e.loc[("mean", "transient"), "estimate"] ** 2))
        lo, hi = e.loc[("mean", "transient"), ["ci_lower", "ci_upper"]]
        cover_v.append(lo <= omega_v <= hi)
    est = np.array(est)
    # omega^2 estimates (NAEP sampling variance 1 subtracted) are unbiased for 4 and 1
    assert est[:, 0].mean() == pytest.approx(omega_u**2, rel=0.08)
    assert est[:, 1].mean() == pytest.approx(omega_v**2, rel=0.08)
    assert 0.9 <= np.mean(cover_v) <= 0.99


def test_interpolated_cells_err_by_the_documented_variance():
    """Empirical variance of (interpolated - true) state means matches omega_u^2 f_u + omega_v^2 f_v."""
    rng = np.random.default_rng(7)
    omega_u, omega_v = 2.0, 1.0
    truth, naep = _states(rng, 600, omega_u, omega_v, subjects=("math",))
    t = truth.set_index(["state", "year", "grade"])["mean"]
    by_state = dict(tuple(naep.groupby("state")))
    for year, grade in [(2005, 6), (2006, 5), (2006, 4), (2009, 3), (2008, 7), (2007, 8)]:
        err, factors = [], set()
        for s, rows in by_state.items():
            v = pds.harmonize.interpolate_naep(rows, s, year, grade, "math")
            err.append(v["mean"] - t[s, year, grade])
            factors.add((v["f_u"], v["f_v"]))
        (f_u, f_v), = factors
        expected = omega_u**2 * f_u + omega_v**2 * f_v
        if expected == 0:
            assert np.allclose(err, 0)
            continue
        # chi-square interval for the variance of 600 normal errors
        lo, hi = [expected * stats.chi2.ppf(q, len(err)) / len(err) for q in (0.0005, 0.9995)]
        assert lo <= np.var(err) <= hi, (year, grade, np.var(err), expected)


def test_variance_factors_by_hand():
    assert interpolation_factors(6, {4: {2005: 1.0}, 8: {2005: 1.0}}, tested=False) == (1.5, 1.5)
    # grade 5 in a year between two NAEP years: four source cells
    f_u, f_v = interpolation_factors(5, {4: {2005: 0.5, 2007: 0.5}, 8: {2005: 0.5, 2007: 0.5}}, tested=False)
    assert f_u == pytest.approx(1 + 0.75**2 + 0.25**2)
    assert f_v == pytest.approx(1 + 2 * (0.375**2 + 0.125**2))
    assert interpolation_factors(3, {4: {2005: 1.0}, 8: {2005: 1.0}}, tested=False)[0] == pytest.approx(2.625)
    assert interpolation_factors(8, {8: {2005: 1.0}}, tested=True) == (0.0, 0.0)


def test_link_to_naep_adds_the_term_only_where_values_are_interpolated():
    rng = np.random.default_rng(3)
    _, naep = _states(rng, 6, 2.0, 1.0, se=1.0, subjects=("math",))
    ie = pds.harmonize.estimate_interpolation_error(naep)
    est = pd.DataFrame({"unit_id": ["a", "b", "c", "d"], "state": "S00", "year": [2005, 2005, 2006, 2005],
                        "grade": [4, 6, 4, 3], "subject": "math", "n": 100, "mean": [0.3, -0.4, 0.1, 0.5],
                        "se_mean": 0.05, "sd": 0.9, "se_sd": 0.04})
    r = 0.9
    out = pds.harmonize.link_to_naep(est, naep, reliability=r, interpolation_error=ie).scale("naep")
    plain = pds.harmonize.link_to_naep(est, naep, reliability=r).scale("naep")
    out, plain = (d.sort_values("unit_id").reset_index(drop=True) for d in (out, plain))
    assert out.loc[0, "se_interpolation"] == 0 and not out.loc[0, "naep_interpolated"]
    assert (out.loc[1:, "se_interpolation"] > 0).all()
    assert (plain["se_interpolation"] == 0).all()
    np.testing.assert_allclose(out["mean"], plain["mean"])  # the term changes SEs only
    parts = out[["se_estimation", "se_naep", "se_linking", "se_interpolation"]].to_numpy()
    np.testing.assert_allclose(out["se_mean"], np.sqrt((parts**2).sum(axis=1)))
    v = pds.harmonize.interpolate_naep(naep[naep.state == "S00"], "S00", 2005, 6, "math")
    expected = np.sqrt(ie.variance("mean", v["f_u"], v["f_v"]) + 0.4**2 / r * ie.variance("sd", v["f_u"], v["f_v"]))
    assert out.loc[1, "se_interpolation"] == pytest.approx(expected)
    assert "se_interpolation" in pds.harmonize.link_to_naep(est, naep, interpolation_error=ie).summary()


def test_clear_errors():
    one = pd.DataFrame({"state": "CA", "year": 2005, "grade": [4, 8], "subject": "math", "mean": [230.0, 270.0],
                        "sd": [30.0, 37.0]})
    with pytest.raises(ModelSpecificationError, match="fewer than 2 states"):
        pds.harmonize.estimate_interpolation_error(one)
    with pytest.raises(ModelSpecificationError, match="column"):
        pds.harmonize.estimate_interpolation_error(one.drop(columns="sd"))
    two = pd.concat([one, one.assign(state="MA")], ignore_index=True)
    with pytest.raises(pds.DataValidationError) as err:
        pds.harmonize.estimate_interpolation_error(pd.concat([two, two.iloc[[3]]], ignore_index=True))
    assert err.value.failures["row"].tolist() == [3, 4]
    assert err.value.failures["key"].iloc[0] == "MA/2005/8/math"
    est = pd.DataFrame({"unit_id": ["a"], "state": "CA", "year": 2005, "grade": 4, "subject": "math",
                        "mean": [0.1], "se_mean": 0.05, "sd": 0.9, "se_sd": 0.04})
    with pytest.raises(ModelSpecificationError, match="interpolation_error"):
        pds.harmonize.link_to_naep(est, one, interpolation_error=0.5)


def test_published_naep_state_means():
    """On the shipped published means: three states have grades 4 and 8; every row is accounted for."""
    naep = pds.harmonize.naep_state_means(fill_sd=pds.harmonize.NATIONAL_SD_2003)
    ie = pds.harmonize.estimate_interpolation_error(naep)
    assert ie.n_states == 3
    assert (ie.estimates["n_state_subjects"] == 3).all()  # math only
    assert ie.sample_log.n_in == len(naep)
    assert ie.sample_log.n_used == int(naep["state"].isin(["CA", "MA", "MI"]).sum())
    e = ie.estimates.set_index(["quantity", "component"])
    assert e.loc[("sd", "persistent"), "estimate"] == 0  # national SDs substituted: no differences between states
    assert (e.loc["mean", "ci_lower"] <= e.loc["mean", "estimate"]).all()
    assert (e.loc["mean", "estimate"] <= e.loc["mean", "ci_upper"]).all()
