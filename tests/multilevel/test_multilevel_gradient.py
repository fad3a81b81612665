"""The analytic gradient of the profiled deviance and the gradient-based optimizer (issue 20).

* The gradient (``DevianceEvaluator.deviance_gradient``) equals central finite differences of
  the deviance on every path: nested (egsingle, three levels with slopes), crossed with a
  dense Schur complement (Penicillin; slopes in a later term through the general path),
  multiple membership, prior weights, known residual variances, REML and ML, and at a
  singular relative covariance factor (a diagonal element on its bound).
* The default optimizer (L-BFGS-B with that gradient) reaches a deviance no worse than
  BOBYQA's (lme4's optimizer, kept as ``optimizer="bobyqa"``) by more than 1e-6 on every
  lme4 reference model and on the multiple-membership reference, and leaves a variance
  parameter's bound when moving off it lowers the deviance (restart_edge).
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pdstats.data.datasets import load_rdataset
from pdstats.multilevel.deviance import (
    DevianceEvaluator,
    theta_lower_bounds,
    theta_moment_start,
    theta_start,
)
from pdstats.multilevel.model import LMM
from pdstats.multilevel.optimize import minimize_theta
from pdstats.multilevel.simulate import simulate_growth

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_multilevel_lme4_reference import MODELS, data  # noqa: E402
from test_multilevel_membership import MM, mm_small  # noqa: E402


def central_differences(ev: DevianceEvaluator, theta: np.ndarray, reml: bool,
                        h: float = 1e-5) -> np.ndarray:
    out = np.empty(theta.size)
    for j in range(theta.size):
        e = np.zeros(theta.size)
        e[j] = h
        out[j] = (ev.deviance(theta + e, reml) - ev.deviance(theta - e, reml)) / (2 * h)
    return out


def check_gradient(ev: DevianceEvaluator, theta: np.ndarray, reml: bool) -> None:
    dev, g = ev.deviance_gradient(theta, reml)
    assert dev == pytest.approx(ev.deviance(theta, reml), rel=1e-12)
    fd = central_differences(ev, theta, reml)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-4 * max(1.0, np.abs(fd).max()) * 1e-2)


def some_theta(ev: DevianceEvaluator, seed: int) -> np.ndarray:
    """A random interior theta: diagonal elements in (0.2, 1.2), others in (-0.5, 0.5)."""
    rng = np.random.default_rng(seed)
    lower = theta_lower_bounds(ev.terms)
    return np.where(np.isfinite(lower), rng.uniform(0.2, 1.2, lower.size),
                    rng.uniform(-0.5, 0.5, lower.size))


def egsingle_sub(n_schools: int = 15) -> pd.DataFrame:
    eg = load_rdataset("mlmRev", "egsingle")
    keep = eg["schoolid"].isin(eg["schoolid"].drop_duplicates().iloc[:n_schools])
    return eg[keep].reset_index(drop=True)


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_nested_three_levels_with_slopes(reml: bool) -> None:
    ev = LMM("math ~ year + (year | childid) + (year | schoolid)", egsingle_sub()).evaluator
    assert ev.nested and ev.has_gradient
    check_gradient(ev, some_theta(ev, 1), reml)


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_crossed_dense(reml: bool) -> None:
    ev = LMM("diameter ~ 1 + (1 | plate) + (1 | sample)",
             load_rdataset("lme4", "Penicillin")).evaluator
    assert not ev.nested and ev.crossed.backend == "dense"
    check_gradient(ev, some_theta(ev, 2), reml)


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_general_path_with_slopes_in_every_term(reml: bool) -> None:
    # nested data forced through the crossed code: slopes in the first and the later term
    model = LMM("math ~ year + (year | childid) + (year | schoolid)", egsingle_sub(8))
    d = model.design
    y = d.y - d.X @ model._offset
    ev = DevianceEvaluator(dataclasses.replace(d, y=y))
    ev.nested = False
    ev._setup_general(d.prior_weights, np.column_stack([d.X, y]))
    assert not ev.crossed.scalar_rest
    theta = some_theta(ev, 3)
    check_gradient(ev, theta, reml)
    np.testing.assert_allclose(ev.deviance_gradient(theta, reml)[1],
                               model.evaluator.deviance_gradient(theta, reml)[1], rtol=1e-8)


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_multiple_membership(reml: bool) -> None:
    ev = LMM(MM, mm_small()).evaluator
    check_gradient(ev, some_theta(ev, 4), reml)


def test_gradient_multiple_membership_only_term() -> None:
    ev = LMM("y ~ x + (1 | mm(t1 + t2, w1 + w2))", mm_small()).evaluator
    assert ev.crossed.first is None
    check_gradient(ev, np.array([0.7]), True)


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_with_prior_weights(reml: bool) -> None:
    s = data("sleep")
    ev = LMM("Reaction ~ Days + (Days | Subject)", s, weights="w").evaluator
    check_gradient(ev, np.array([0.9, 0.1, 0.3]), reml)


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_with_known_variances(reml: bool) -> None:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(25), 4)
    v = rng.uniform(0.5, 2.0, g.size)
    df = pd.DataFrame({"g": g, "x": rng.normal(size=g.size), "v": v})
    df["y"] = df.x + rng.normal(size=25)[g] + rng.normal(size=g.size) * np.sqrt(v)
    ev = LMM("y ~ x + (1 | g)", df, known_variance="v").evaluator
    assert ev.design.sigma_known
    check_gradient(ev, np.array([0.8]), reml)


@pytest.mark.parametrize("zero", [0, 2, 3])
def test_gradient_at_a_singular_factor(zero: int) -> None:
    # a diagonal element of a factor at 0 (T singular): the first (0) or last (2) of the
    # child factor, the first of the school factor (3); central differences across 0 are
    # defined (the deviance depends on T T' only)
    ev = LMM("math ~ year + (year | childid) + (year | schoolid)", egsingle_sub()).evaluator
    theta = some_theta(ev, 6)
    theta[zero] = 0.0
    dev, g = ev.deviance_gradient(theta, True)
    assert dev == pytest.approx(ev.deviance(theta, True), rel=1e-14)
    fd = central_differences(ev, theta, True, h=1e-5)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * np.abs(fd).max())
    if zero == 2:  # the deviance is even in the last diagonal element
        assert abs(g[2]) < 1e-6 * np.abs(fd).max()


def test_optimizer_falls_back_to_bobyqa_when_line_search_fails() -> None:
    def f(t: np.ndarray) -> float:
        return float((t[0] - 2.0) ** 2 + (t[1] + 1.0) ** 2)

    def wrong(t: np.ndarray) -> tuple[float, np.ndarray]:  # a gradient of the wrong sign
        return f(t), -np.array([2 * (t[0] - 2.0), 2 * (t[1] + 1.0)])

    r = minimize_theta(f, np.array([1.0, 0.0]), np.array([0.0, -np.inf]), grad=wrong)
    assert "BOBYQA" in r.message and r.converged
    np.testing.assert_allclose(r.theta, [2.0, -1.0], atol=1e-5)


def fit_both(formula: str, df: pd.DataFrame, reml: bool, **kw: object):
    model = LMM(formula, df, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(reml=reml, optimizer="bobyqa"), model.fit(reml=reml)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_gradient_optimizer_at_least_as_good_as_bobyqa(name: str) -> None:
    dname, formula, reml, kw = MODELS[name]
    bob, grad = fit_both(formula, data(dname), reml, **kw)
    assert grad.optimization.message.startswith("L-BFGS-B")
    assert grad.optimization.deviance <= bob.optimization.deviance + 1e-6
    assert grad.converged == bob.converged and grad.singular == bob.singular


@pytest.mark.parametrize("reml", [True, False])
def test_gradient_optimizer_multiple_membership(reml: bool) -> None:
    bob, grad = fit_both(MM, mm_small(), reml)
    assert grad.optimization.deviance <= bob.optimization.deviance + 1e-6
    np.testing.assert_allclose(grad.theta, bob.theta, rtol=1e-4)


def test_restart_off_the_bound() -> None:
    # a variance parameter on its bound is a stationary point (the deviance is even in it);
    # the gradient method stops there at once, the probe off the bound finds the minimum
    def f(t: np.ndarray) -> float:
        return float((t[0] ** 2 - 1.0) ** 2 + (t[1] - 0.5) ** 2)

    def fg(t: np.ndarray) -> tuple[float, np.ndarray]:
        return f(t), np.array([4 * t[0] * (t[0] ** 2 - 1.0), 2 * (t[1] - 0.5)])

    r = minimize_theta(f, np.array([0.0, 0.0]), np.array([0.0, -np.inf]), grad=fg)
    assert "restarted off the bound 1 time" in r.message
    np.testing.assert_allclose(r.theta, [1.0, 0.5], atol=1e-6)


def test_growth_fit_leaves_the_bound() -> None:
    # BOBYQA's optimum has the child slope's diagonal element at 0.125; an early version of
    # the gradient path stopped with it at 0 (a stationary point on the bound)
    growth = simulate_growth(12, 6, 4, random_state=3)
    bob, grad = fit_both("y ~ year * x + (year | student) + (year | school)", growth, True)
    assert not grad.singular and grad.converged
    assert grad.optimization.deviance <= bob.optimization.deviance + 1e-6
    np.testing.assert_allclose(grad.theta, bob.theta, rtol=1e-4, atol=1e-5)


def test_default_optimizer_choice() -> None:
    small = LMM("diameter ~ 1 + (1 | plate) + (1 | sample)", load_rdataset("lme4", "Penicillin"))
    assert small.fit().optimization.message.startswith("L-BFGS-B")
    start = theta_start(small.evaluator.terms)
    assert small.fit(start=start, optimizer="bobyqa").optimization.message.startswith("NLopt")


def test_moment_start_only_for_intercepts_of_crossed_designs() -> None:
    pen = LMM("diameter ~ 1 + (1 | plate) + (1 | sample)", load_rdataset("lme4", "Penicillin"))
    ev = pen.evaluator
    start = theta_moment_start(ev.terms, ev.design.y, ev.nested)
    assert np.all((start >= 0.1) & (start <= 3.0)) and not np.allclose(start, 1.0)
    # samples differ far more than plates (lme4: theta 1.54 and 3.51 at the optimum)
    assert start[1] > start[0]
    nested = LMM("math ~ year + (1 | schoolid/childid)", egsingle_sub()).evaluator
    np.testing.assert_array_equal(
        theta_moment_start(nested.terms, nested.design.y, nested.nested),
        theta_start(nested.terms))
