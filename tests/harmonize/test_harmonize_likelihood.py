"""Analytic gradient and Hessians of the ordered-probit likelihood against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from pdstats.harmonize.likelihood import cell_probabilities, derivatives, loglik

RNG = np.random.default_rng(11)
COUNTS = RNG.integers(0, 40, size=(5, 4)).astype(float)
MU = RNG.normal(0, 0.5, 5)
S = RNG.normal(0, 0.2, 5)
CUTS = np.array([-0.9, 0.1, 0.8])


def _num_grad(f, x, eps=1e-6):
    out = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return out


def test_probabilities_sum_to_one_and_use_the_far_tail():
    p = cell_probabilities(np.array([0.0, 9.0]), np.zeros(2), CUTS)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[1, 0] > 0  # far tail kept positive, not rounded to zero


def test_gradient_matches_finite_differences():
    d = derivatives(COUNTS, MU, S, CUTS)
    np.testing.assert_allclose(d.g_mu, _num_grad(lambda m: loglik(COUNTS, m, S, CUTS), MU), rtol=1e-5)
    np.testing.assert_allclose(d.g_s, _num_grad(lambda s: loglik(COUNTS, MU, s, CUTS), S), rtol=1e-5)
    np.testing.assert_allclose(d.g_c.sum(axis=0), _num_grad(lambda c: loglik(COUNTS, MU, S, c), CUTS),
                               rtol=1e-5)


@pytest.mark.parametrize("block", ["mumu", "mus", "ss", "muc", "sc", "cc"])
def test_observed_hessian_matches_finite_differences(block):
    d = derivatives(COUNTS, MU, S, CUTS, observed=True)
    eps = 1e-6
    if block in ("mumu", "mus", "muc"):
        up = derivatives(COUNTS, MU + eps, S, CUTS)  # each group's own mean (no cross-group terms)
        num = {"mumu": (up.g_mu - d.g_mu), "mus": (up.g_s - d.g_s), "muc": (up.g_c - d.g_c)}[block] / eps
        want = {"mumu": d.h_mumu, "mus": d.h_mus, "muc": d.h_muc}[block]
    elif block in ("ss", "sc"):
        up = derivatives(COUNTS, MU, S + eps, CUTS)
        num = {"ss": up.g_s - d.g_s, "sc": up.g_c - d.g_c}[block] / eps
        want = {"ss": d.h_ss, "sc": d.h_sc}[block]
    else:
        num = np.column_stack([
            (derivatives(COUNTS, MU, S, CUTS + eps * np.eye(3)[j]).g_c.sum(axis=0) - d.g_c.sum(axis=0)) / eps
            for j in range(3)
        ])
        want = d.h_cc
    np.testing.assert_allclose(-num, want, rtol=1e-3, atol=1e-3)


def test_expected_information_is_the_mean_of_the_observed_one():
    # E over multinomial samples of the observed information equals the expected one
    n = np.full(5, 200.0)
    p = cell_probabilities(MU, S, CUTS)
    d_exp = derivatives(p * n[:, None], MU, S, CUTS, observed=False)
    d_obs = derivatives(p * n[:, None], MU, S, CUTS, observed=True)  # counts at their expectation
    np.testing.assert_allclose(d_obs.h_mumu, d_exp.h_mumu, rtol=1e-8)
    np.testing.assert_allclose(d_obs.h_cc, d_exp.h_cc, rtol=1e-8)
    np.testing.assert_allclose(d_obs.h_sc, d_exp.h_sc, rtol=1e-8, atol=1e-8)
