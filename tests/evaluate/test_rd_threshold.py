"""Known truth for the RD: a threshold-assigned teacher bonus on simulated worlds.

Fast: the bonus world adds exactly the effect to paid teachers; a few worlds through the
validation runner; simulated power is monotone in the effect. Slow: 200 worlds for coverage
of the robust interval (effect 2) and size (effect 0), as benchmarks/rd_validation.py.
"""

import warnings
from functools import partial

import numpy as np
import pytest

import pdstats as pds
from pdstats.evaluate.threshold import rd_estimates, rd_power, rd_world, threshold_bonus


@pytest.fixture(scope="module")
def sim():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pds.simulate.study(random_state=5, n_states=1, n_districts=10, years=(2005, 2006),
                                  progress=False, bonus_effect=0.0, p4p_effect=0.0)


def test_bonus_adds_exactly_the_effect_above_the_cut(sim):
    a = threshold_bonus(sim, effect=2.5, cut=0.3, random_state=1)
    b = threshold_bonus(sim, effect=0.0, cut=0.3, random_state=1)
    assert (a["bonus"] == (a["prior_va"] >= 0.3)).all()
    assert np.allclose(a["growth"] - b["growth"], 2.5 * a["bonus"])
    assert a["prior_va"].mean() == pytest.approx(0, abs=1e-12)
    assert a.attrs["truth"] == 2.5 and len(a) > 80
    # prior value-added predicts next year's growth (a persistent teacher effect): RD slope
    assert np.corrcoef(b["prior_va"], b["growth"])[0, 1] > 0.2


def test_incomplete_takeup_is_a_fuzzy_design(sim):
    d = threshold_bonus(sim, effect=2.0, cut=0.0, takeup=0.6, random_state=2)
    assert not d.loc[~d["eligible"], "bonus"].any()
    assert 0.4 < d.loc[d["eligible"], "bonus"].mean() < 0.8
    with pytest.raises(pds.ModelSpecificationError, match="takeup"):
        threshold_bonus(sim, takeup=0.0)


def test_a_few_worlds_through_the_runner():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)  # rates at 0/1 in 3 worlds
        res = pds.simulate.run(rd_estimates, partial(rd_world, effect=2.0, n_districts=10),
                               n_worlds=3, random_state=3, progress=False)
    t = res.estimates[res.estimates["term"] == "robust"].set_index("quantity")
    assert set(res.draws["term"]) == {"conventional", "bias-corrected", "robust"}
    assert abs(t.loc["bias", "estimate"]) < 4 * t.loc["bias", "std_error"] + 0.5
    assert (res.draws["std_error"] > 0).all()


def _run(effect, seed):
    # the worlds of benchmarks/rd_validation.py --seed <seed> (the run reported in the README)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(200)]
    return pds.simulate.run(rd_estimates, partial(rd_world, effect=effect), seeds=seeds,
                            progress=False)


def _value(res, quantity):
    e = res.estimates
    return e[(e["term"] == "robust") & (e["quantity"] == quantity)]["estimate"].iloc[0]


@pytest.mark.slow
def test_robust_coverage_200_worlds():
    assert 0.92 <= _value(_run(2.0, 2026), "coverage") <= 0.98


@pytest.mark.slow
def test_robust_size_200_worlds():
    assert 0.02 <= _value(_run(0.0, 77), "rejection") <= 0.08


@pytest.mark.slow
def test_simulated_power_grows_with_the_effect():
    p = rd_power([0.0, 4.0], n_worlds=60)
    assert p["power"].iloc[1] > p["power"].iloc[0] + 3 * np.hypot(*p["mc_se"])
