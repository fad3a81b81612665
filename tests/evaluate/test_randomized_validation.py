"""Known truth for pds.evaluate.randomized through the validation runner (pds.simulate.run).

Fast: one simulated world's teacher bonus (a large effect, found by every method) and the
design-based difference in means as the estimator of pds.power.simulate_power on a
two-level cluster design, against the analytic power. Slow: 200 worlds of the simulated
teacher bonus for coverage (bonus_effect = 2) and size (bonus_effect = 0), as
benchmarks/randomized_validation.py.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.evaluate.design_based import difference_in_means
from pdstats.evaluate.trial_validation import bonus_estimates, bonus_trial

METHODS = ("difference in means", "regression", "multilevel", "randomization")


def test_one_world_recovers_a_large_bonus():
    d = bonus_trial(np.random.default_rng(7), bonus_effect=15.0, class_size=8)
    assert d["teacher_id"].nunique() >= 10 and set(d["bonus"]) == {0, 1}
    est = bonus_estimates(d, np.random.default_rng(0), methods=("regression", "multilevel"),
                          n_perm=99).set_index("term")
    for term in ("ITT: regression", "ITT: multilevel"):
        assert est.loc[term, "ci_lower"] > 0  # the SE is about 2.5 points here
        assert est.loc[term, "ci_lower"] < 15.0 < est.loc[term, "ci_upper"]


def _dim(data, rng):
    # the engine of randomized()'s "difference in means" row (CR2, Bell-McCaffrey df),
    # called directly to keep the 250 worlds fast
    r = difference_in_means(data["y"].to_numpy(), data["treated"].to_numpy(),
                            cluster=data["cluster"].to_numpy())
    return pd.DataFrame({"term": ["treatment"], "estimate": [r.estimate],
                         "std_error": [r.std_error], "df": [r.df]})


def test_simulated_power_of_the_design_based_estimator_matches_analytic_power():
    design = {"levels": 2, "n_clusters": 20, "cluster_size": 10, "icc": 0.15}
    effect = 0.45
    analytic = pds.power.power(effect, **design).power
    sim = pds.power.simulate_power(effect, **design, n_worlds=250, estimator=_dim,
                                   random_state=3, progress=False)
    row = sim.estimates.set_index(["term", "quantity"]).loc[("treatment", "rejection")]
    assert 0.3 < analytic < 0.9
    assert abs(row["estimate"] - analytic) < 3 * row["std_error"], (row["estimate"], analytic)


def _bonus_run(effect: float, seed: int):
    return pds.simulate.run(bonus_estimates, partial(bonus_trial, bonus_effect=effect, class_size=8),
                            n_worlds=200, random_state=seed, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("effect, seed, quantity, low, high", [
    (2.0, 2026, "coverage", 0.92, 0.98),  # 95% intervals cover the true bonus
    (0.0, 77, "rejection", 0.02, 0.08),   # no bonus: the tests reject about 5%
])
def test_teacher_bonus_over_200_worlds(effect, seed, quantity, low, high):
    res = _bonus_run(effect, seed)
    got = res.estimates.query("quantity == @quantity").set_index("term")["estimate"]
    for m in METHODS:
        assert low <= got[f"ITT: {m}"] <= high, got
