"""The crossed-design engine (pdstats.multilevel.crossed): its dense and sparse
factorizations agree, and with random slopes after the first term it reproduces the
nested fast path (which the lme4 reference tests check) on nested data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.multilevel.deviance import DevianceEvaluator
from pdstats.multilevel.simulate import simulate_growth


def crossed_data(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 1500
    df = pd.DataFrame({"a": rng.integers(0, 300, n), "b": rng.integers(0, 60, n),
                       "c": rng.integers(0, 25, n), "x": rng.normal(size=n),
                       "t1": rng.integers(0, 40, n), "t2": rng.integers(0, 40, n),
                       "w1": rng.uniform(0.3, 1.0, n)})
    df["w2"] = 1 - df["w1"]
    df["y"] = (df.x + rng.normal(size=300)[df.a] + rng.normal(size=60)[df.b]
               + (1 + df.x) * rng.normal(size=25)[df.c] + rng.normal(size=n))
    return df


def test_dense_and_sparse_factorizations_agree() -> None:
    formula = ("y ~ x + (1 | a) + (1 | b) + (1 + x | c) "
               "+ (1 | mm(t1 + t2, w1 + w2))")
    model = pds.multilevel.LMM(formula, crossed_data())
    ev = model.evaluator
    assert not ev.nested
    cs = ev.crossed
    theta = np.array([0.8, 0.6, 0.9, 0.2, 0.5, 0.4])
    out = {}
    for backend in ("dense", "sparse"):
        cs.backend = backend
        sol = ev.solve(theta)
        out[backend] = (ev.deviance(theta, True), sol, ev.conditional_u_cov(sol))
    (d1, s1, c1), (d2, s2, c2) = out["dense"], out["sparse"]
    assert d1 == pytest.approx(d2, rel=1e-11)
    np.testing.assert_allclose(s1.beta, s2.beta, rtol=1e-9)
    for u, v in zip(s1.u, s2.u, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-7, atol=1e-10)
    for u, v in zip(c1, c2, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-7, atol=1e-12)


def test_general_path_with_slopes_in_every_term_matches_nested_path() -> None:
    growth = simulate_growth(12, 6, 4, random_state=5)
    fit = pds.multilevel.LMM("y ~ year + (year | student) + (year | school)", growth)
    assert fit.evaluator.nested
    # the model's evaluator works on the response net of its least-squares offset
    centred = dataclasses.replace(fit.design, y=fit.design.y - fit.design.X @ fit._offset)
    general = DevianceEvaluator(centred)
    general.nested = False
    general._setup_general(centred.prior_weights, np.column_stack([centred.X, centred.y]))
    theta = np.array([0.9, 0.1, 0.3, 0.6, -0.2, 0.4])
    for reml in (True, False):
        assert general.deviance(theta, reml) == pytest.approx(
            fit.evaluator.deviance(theta, reml), rel=1e-10)
    a, b = fit.evaluator.solve(theta), general.solve(theta)
    np.testing.assert_allclose(a.beta + fit._offset, b.beta + fit._offset, rtol=1e-9)
    for x, y in zip(a.u, b.u, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-7, atol=1e-10)
    for x, y in zip(fit.evaluator.conditional_u_cov(a), general.conditional_u_cov(b),
                    strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-12)


def test_membership_term_with_most_levels_is_not_the_first_block() -> None:
    # the block-diagonal first block must be single-membership: here it is the smaller
    # factor g, while the same model written with an ordinary term eliminates t1 first
    rng = np.random.default_rng(4)
    n = 3000
    df = pd.DataFrame({"t1": rng.integers(0, 300, n), "g": rng.integers(0, 12, n),
                       "x": rng.normal(size=n), "w1": 1.0, "t2": np.nan, "w2": np.nan})
    df["y"] = df.x + rng.normal(size=300)[df.t1] + rng.normal(size=12)[df.g] + rng.normal(size=n)
    a = pds.lmm("y ~ x + (1 | mm(t1 + t2, w1 + w2)) + (1 | g)", df)
    b = pds.lmm("y ~ x + (1 | t1) + (1 | g)", df)
    assert (a._evaluator.crossed.first, b._evaluator.crossed.first) == (1, 0)
    assert a.loglike == pytest.approx(b.loglike, rel=1e-10)
    ra, rb = a.ranef(), b.ranef()
    np.testing.assert_allclose(ra["mode"], rb["mode"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ra["sd"], rb["sd"], rtol=1e-6)
