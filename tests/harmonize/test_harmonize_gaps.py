"""Gap statistics: V from level counts (binormal and trapezoid) and standardized mean differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds

CUTS = [-0.5, 0.3, 1.0]


def _counts(rng, mean, sd, n):
    return np.bincount(np.searchsorted(CUTS, rng.normal(mean, sd, n)), minlength=4)


def test_binormal_v_recovers_the_gap_and_trapezoid_is_attenuated():
    rng = np.random.default_rng(0)
    ca, cb = _counts(rng, 0.5, 1.0, 200_000), _counts(rng, 0.0, 1.2, 200_000)
    truth = 0.5 / np.sqrt((1 + 1.44) / 2)
    v, se = pds.harmonize.v_statistic(ca, cb)
    assert v == pytest.approx(truth, abs=4 * se)
    vt, _ = pds.harmonize.v_statistic(ca, cb, method="trapezoid")
    assert vt < v  # ties in coarse levels pull the nonparametric area toward 1/2


@pytest.mark.parametrize("method", ["binormal", "trapezoid"])
def test_v_standard_error_matches_monte_carlo(method):
    rng = np.random.default_rng(1)
    draws, ses = [], []
    for _ in range(150):
        v, se = pds.harmonize.v_statistic(_counts(rng, 0.4, 1.0, 300), _counts(rng, 0.0, 1.0, 300), method)
        draws.append(v)
        ses.append(se)
    assert np.mean(ses) == pytest.approx(np.std(draws), rel=0.2)


def test_gaps_and_smd_tables():
    c = pd.DataFrame({"unit_id": ["d1", "d1", "d2", "d2", "d3"], "state": "CA", "year": 2005,
                      "grade": 4, "subject": "math",
                      "subgroup": ["white", "black", "white", "black", "white"],
                      "level_1": [10, 30, 12, 25, 5], "level_2": [30, 40, 30, 35, 20],
                      "level_3": [40, 20, 38, 25, 40], "level_4": [20, 10, 20, 15, 35]})
    g = pds.harmonize.gaps(c, "white", "black")
    assert len(g.estimates) == 2 and (g.estimates["estimate"] > 0).all()
    assert g.sample_log.dropped == {"unit lacks the other subgroup": 1}
    assert {"ci_lower", "ci_upper"} <= set(g.estimates.columns)
    e = pd.DataFrame({"unit_id": ["d1", "d1"], "state": "CA", "year": 2005, "grade": 4, "subject": "math",
                      "subgroup": ["white", "black"], "n": [100, 80], "mean": [0.3, -0.4],
                      "se_mean": [0.1, 0.12], "sd": [1.0, 0.8], "se_sd": [0.07, 0.08]})
    s = pds.harmonize.smd(e, "white", "black").estimates.iloc[0]
    sp2 = (1.0 + 0.64) / 2
    d = 0.7 / np.sqrt(sp2)
    assert s["estimate"] == pytest.approx(d)
    var = (0.01 + 0.0144) / sp2 + d**2 * (1.0 * 0.0049 + 0.64 * 0.0064) / (4 * sp2**2)
    assert s["std_error"] == pytest.approx(np.sqrt(var))
    with pytest.raises(pds.ModelSpecificationError):
        pds.harmonize.v_statistic([1, 2], [1, 2, 3])
