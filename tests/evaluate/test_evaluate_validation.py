"""Known truth through the validation runner (pds.simulate.run).

Fast: a small exposure-growing panel (TWFE biased, CS not), one small simulated
pay-for-performance world through ``pds.evaluate.panel``, and the size of the
small-sample tests on 300 panels with the worlds' adoption design and normal errors.
Slow: 200 six-year simulated
worlds for coverage (effect 3) and size (effect 0), as benchmarks/evaluate_validation.py.
"""

import warnings

import numpy as np
import pytest

import pdstats as pds
from pdstats.evaluate.validation import (
    TERMS,
    did_estimates,
    exposure_world,
    normal_world,
    p4p_world,
)

ROBUST = ("CS simple ATT", "imputation ATT", "Sun-Abraham ATT")  # default inference


def _truth(d):
    return {"CS simple ATT": d.attrs["truth"], "TWFE": d.attrs["truth"]}


def test_twfe_biased_when_effect_grows_with_exposure_cs_not():
    res = pds.simulate.run(lambda d, rng: did_estimates(d, rng, terms=("CS simple ATT", "TWFE")),
                           lambda rng: exposure_world(rng, n_units=40), n_worlds=12,
                           truth=_truth, random_state=4, progress=False)
    tab = res.estimates.pivot(index="term", columns="quantity", values="estimate")
    mc = res.estimates.pivot(index="term", columns="quantity", values="std_error")
    assert tab.loc["TWFE", "bias"] < -0.8  # truth 2.83; TWFE about 1.6
    assert abs(tab.loc["CS simple ATT", "bias"]) < 3 * mc.loc["CS simple ATT", "bias"] + 0.05


def test_one_simulated_world_recovers_the_p4p_effect():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = p4p_world(np.random.default_rng(11), years=6, n_districts=16)
    assert d["year"].min() == 2006 and d["year"].nunique() == 5  # growth needs a prior year
    est = did_estimates(d, terms=("CS simple ATT",)).iloc[0]
    assert abs(est["estimate"] - 3.0) < 4 * est["std_error"]


def test_small_sample_tests_hold_their_size_with_the_worlds_design():
    # 4, 4, 3, 3 adopting districts and 8 never-treated ones, no effect: each robust
    # estimator's default test rejects 2-8% of 300 panels at 5% (MC SE about 1.3%)
    res = pds.simulate.run(lambda d, rng: did_estimates(d, rng, terms=ROBUST), normal_world,
                           n_worlds=300, truth=dict.fromkeys(ROBUST, 0.0), random_state=15,
                           progress=False)
    for term in ROBUST:
        rej, _ = _value(res, term, "rejection")
        assert 0.02 <= rej <= 0.08, (term, rej)


def _p4p_run(effect, seed):
    from functools import partial

    truth = dict.fromkeys(TERMS, effect)
    return pds.simulate.run(lambda d, rng: did_estimates(d, rng),
                            partial(p4p_world, years=6, p4p_effect=effect), n_worlds=200,
                            truth=truth, random_state=seed, progress=False)


def _value(res, term, quantity):
    e = res.estimates
    row = e[(e["term"] == term) & (e["quantity"] == quantity)].iloc[0]
    return row["estimate"], row["std_error"]


@pytest.mark.slow
@pytest.mark.parametrize("term", ROBUST)
def test_coverage_200_worlds(p4p_effect3, term):
    cov, _ = _value(p4p_effect3, term, "coverage")
    assert 0.92 <= cov <= 0.98


@pytest.mark.slow
@pytest.mark.parametrize("term", ROBUST)
def test_size_200_worlds(p4p_effect0, term):
    rej, _ = _value(p4p_effect0, term, "rejection")
    assert 0.02 <= rej <= 0.08


@pytest.fixture(scope="module")
def p4p_effect3():
    return _p4p_run(3.0, 2026)


@pytest.fixture(scope="module")
def p4p_effect0():
    return _p4p_run(0.0, 77)
