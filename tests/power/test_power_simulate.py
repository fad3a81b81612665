"""Simulated power through the runner agrees with the analytic power (two-level cluster design)."""

from __future__ import annotations

import pytest

import pdstats as pds

DESIGN = {"levels": 2, "n_clusters": 24, "cluster_size": 12, "icc": 0.15}


@pytest.mark.parametrize("r2, n_cov", [(None, 0), ((0.3, 0.5), 1)])
def test_simulated_power_matches_analytic_within_monte_carlo_error(r2, n_cov):
    effect = 0.35
    analytic = pds.power.power(effect, **DESIGN, r2=r2, n_covariates=n_cov).power
    sim = pds.power.simulate_power(effect, **DESIGN, r2=r2, n_worlds=800, random_state=5, progress=False)
    row = sim.estimates.set_index(["term", "quantity"]).loc[("treatment", "rejection")]
    assert 0.3 < analytic < 0.9  # a power where the comparison has teeth
    assert abs(row["estimate"] - analytic) < 3 * row["std_error"], (row["estimate"], analytic, row["std_error"])
    # the effect estimate is unbiased and its interval covers
    s = sim.estimates.set_index(["term", "quantity"])["estimate"]
    assert abs(s[("treatment", "bias")]) < 0.02
    assert 0.92 < s[("treatment", "coverage")] < 0.98


def test_size_under_the_null_and_three_levels():
    null = pds.power.simulate_power(0.0, levels=3, n_clusters=16, subclusters=3, cluster_size=5,
                                    icc=(0.1, 0.1), n_worlds=600, random_state=2, progress=False)
    row = null.estimates.set_index(["term", "quantity"]).loc[("treatment", "rejection")]
    assert abs(row["estimate"] - 0.05) < 3 * 0.0089  # binomial MC SE at 5% over 600 worlds


def test_whole_sizes_are_required():
    with pytest.raises(pds.ModelSpecificationError, match="cluster_size"):
        pds.power.simulate_power(0.3, **{**DESIGN, "cluster_size": 12.5}, n_worlds=2, progress=False)
