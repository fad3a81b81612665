"""Validation on pds.simulate worlds: teacher effects with AR(1) drift inside schools and
districts, measured by state tests with error (truth: ``sim.truth.effects``).

Teacher VA is estimated separately by subject and by school level (elementary teachers
teach one class a year, middle-school teachers two sections, so their variance
structures differ).  The estimand is the teacher's whole contribution to her students'
standardized growth (teacher + school + district effect), centred.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from simworld import compare, simulate_world

import pdstats as pds

PRIORS = ["prior_same", "prior_other"]


def _va(af, method, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        return pds.vam.value_added(af, "score", prior=PRIORS, unit="teacher_id", year="year",
                                   classroom="class_id", dosage="dosage", method=method,
                                   by=["subject", "level"], progress=False, **kw)


def _cfr_stats(seed):
    af, truth, _ = simulate_world(seed)
    res = _va(af, "cfr", degree=3)
    e = compare(res.effects, truth)
    fb = pds.vam.forecast_bias(res)
    return {"corr": np.corrcoef(e["estimate"], e["truth"])[0, 1],
            "bias": float((e["estimate"] - e["truth"]).mean()),
            "rmse": float(np.sqrt(((e["estimate"] - e["truth"]) ** 2).mean())),
            "coverage": float(e["covered"].mean()), "slope": float(fb["coefficient"].iloc[0])}


@pytest.fixture(scope="module")
def world():
    return simulate_world(1)


def test_cfr_on_a_simulated_world(world):
    af, truth, _ = world
    res = _va(af, "cfr", degree=3)
    e = compare(res.effects, truth)
    assert len(e) > 1000
    assert np.corrcoef(e["estimate"], e["truth"])[0, 1] > 0.65
    assert abs((e["estimate"] - e["truth"]).mean()) < 0.01
    assert e["covered"].mean() > 0.85
    fb = pds.vam.forecast_bias(res)
    assert 0.9 < fb["coefficient"].iloc[0] < 1.1
    # the estimated drift: a lag-1 autocorrelation below 1 in every cell
    assert (res.autocovariance["correlation"] < 1.05).all()


def test_eb_and_re_beat_ols_on_a_simulated_world(world):
    af, truth, _ = world
    rmse = {}
    for m in ("ols", "eb", "re"):
        e = compare(_va(af, m, degree=1, by_year=True).effects, truth)
        rmse[m] = float(np.sqrt(((e["estimate"] - e["truth"]) ** 2).mean()))
    assert rmse["eb"] < rmse["ols"]
    assert rmse["re"] < rmse["ols"]


def test_csem_correction_removes_attenuation(world):
    """With the CSEMs the prior slope reaches its true value sd(prior) / sd(score)."""
    af, _, slope = world
    naive = _va(af, "eb", degree=1).coefficients
    fixed = _va(af, "eb", degree=1,
                csem={"prior_same": "csem_same", "prior_other": "csem_other"}).coefficients
    b0 = naive.loc["prior_same", "estimate"].mean()
    b1 = fixed.loc["prior_same", "estimate"].mean()
    assert b0 < b1
    assert abs(b1 - slope) < abs(b0 - slope) / 2
    assert b1 == pytest.approx(slope, abs=0.02)


@pytest.mark.slow
def test_cfr_coverage_and_forecast_over_200_simulated_worlds():
    """Measured (seeds 100-299): corr 0.725, bias -0.0006, forecast coefficient 0.985,
    coverage 0.916 (0.914 before the autocovariances' estimation error entered the SEs).
    Coverage falls short of the nominal 0.95 (the vamsim worlds of
    test_vam_known_truth reach 0.93-0.97): in these three-year worlds only two years carry
    a prior score, so the drift is estimated from one lag and its persistence comes out
    too high (0.95 against a true 0.90), a bias that the sampling error of the
    autocovariances (now in the SEs) does not cover.  The bound below documents that gap
    instead of hiding it."""
    stats = pd.DataFrame([_cfr_stats(100 + i) for i in range(200)])
    print(stats.describe())
    assert stats["corr"].mean() > 0.65
    assert abs(stats["bias"].mean()) < 0.005
    assert 0.95 <= stats["slope"].mean() <= 1.05
    assert 0.90 <= stats["coverage"].mean() <= 0.97
