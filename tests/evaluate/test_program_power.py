"""Power for programs: PowerUp!'s published MDES and minimum required sample sizes for
individual, blocked, cluster and three-level designs (pds.power), and simulated power of a
staggered rollout (pds.evaluate.rollout_power) against the analytic power of its 2x2 case.

Reference: tests/reference/evaluate/power (PowerUpR 0.2.3 cross-checks vignette).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pdstats as pds

REF = pd.read_csv(Path(__file__).parents[1] / "reference" / "evaluate" / "power"
                  / "powerup_mrss_published.csv")


def _design(r: pd.Series) -> dict:
    levels, a = int(r["levels"]), int(r["assigned_at"])
    omega = [0.0 if np.isnan(r[f"omega{lv}"]) else r[f"omega{lv}"] for lv in range(a + 1, levels + 1)]
    kw = {"levels": levels, "assigned_at": a, "cluster_size": r["cluster_size"],
          "icc": r["icc2"] if levels == 2 else (r["icc2"], r["icc3"]),
          "block_effects": r["block_effects"], "effect_heterogeneity": omega}
    if levels == 3:
        kw["subclusters"] = r["subclusters"]
    return kw


@pytest.mark.parametrize("example", REF["example"])
def test_mdes_and_sample_size_equal_powerup(example):
    r = REF.set_index("example").loc[example]
    kw = _design(r)
    res = pds.power.mdes(n_clusters=r["n_clusters"], **kw)
    assert round(res.mdes, 3) == pytest.approx(r["mdes"], abs=1e-12)
    assert round(res.se, 3) == pytest.approx(r["se"], abs=1e-12)
    assert res.df == r["df"]
    n = pds.power.sample_size(res.mdes, solve_for="n_clusters", n_clusters=None, **kw)
    assert n.sample_size == r["published_size"]


def test_rollout_power_matches_the_analytic_power_of_its_two_by_two_case():
    # 2 periods, half the units adopt in period 2: the DiD has variance
    # 2 (1 - icc) (1/n1 + 1/n0) in outcome SD units and a normal test
    n_units, icc, effect = 60, 0.5, 0.45
    se = np.sqrt(2 * (1 - icc) * (2 / 30))
    z = effect / se
    analytic = stats.norm.sf(1.96 - z) + stats.norm.cdf(-1.96 - z)
    res = pds.evaluate.rollout_power(effect, n_units=n_units, n_periods=2, adoption=(2,),
                                     never_treated_share=0.5, icc=icc,
                                     estimators=("CS simple ATT",), n_worlds=120,
                                     random_state=11, progress=False)
    row = res.estimates.set_index("quantity").loc["rejection"]
    assert 0.3 < analytic < 0.7
    assert abs(row["estimate"] - analytic) < 3 * row["std_error"], (row["estimate"], analytic)


def test_rollout_power_refuses_impossible_designs():
    with pytest.raises(pds.ModelSpecificationError, match="adoption"):
        pds.evaluate.rollout_power(0.2, n_units=20, n_periods=4, adoption=(1, 3), progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="estimators"):
        pds.evaluate.rollout_power(0.2, n_units=20, n_periods=4, adoption=(3,),
                                   estimators=("OLS",), progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="icc"):
        pds.evaluate.rollout_power(0.2, n_units=20, n_periods=4, adoption=(3,), icc=1.0,
                                   progress=False)
