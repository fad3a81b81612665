"""HOMOP (homoskedastic ordered probit, free cuts) equals R's MASS::polr(method="probit").

Reference values: tests/reference/harmonize/polr_homop.R (R 4.2.2, MASS 7.3.58.2) on the STAR
grade-3 math school-level counts committed next to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pdstats.harmonize.cell import fit_cell

REF = Path(__file__).resolve().parents[1] / "reference" / "harmonize"


@pytest.fixture(scope="module")
def polr_and_fit():
    counts = pd.read_csv(REF / "star_g3_math_counts.csv")
    ref = pd.read_csv(REF / "polr_homop_star_g3_math.csv")
    fit = fit_cell(counts.filter(like="level_").to_numpy(), "homop")
    return counts, ref, fit


def _polr_parameters(fit):
    """Map the HOMOP fit to polr's parameters, with a dense delta-method covariance."""
    lay, h = fit.layout, fit.hessian
    g, m = len(fit.mu), lay.m
    sigma = float(np.exp(lay.gamma))
    beta = (fit.mu[1:] - fit.mu[0]) / sigma
    zeta = (fit.cuts - fit.mu[0]) / sigma
    # dense covariance of (mu_1..mu_G, free cuts, gamma)
    p = g + m
    cov = np.zeros((p, p))
    for j in range(p):
        r_loc, r_b = np.zeros((g, 2)), np.zeros(m)
        if j < g:
            r_loc[j, 0] = 1.0
        else:
            r_b[j - g] = 1.0
        x_loc, x_b = h.solve(r_loc, r_b)
        cov[:, j] = np.concatenate([x_loc[:, 0], x_b])
    jac = np.zeros((g - 1 + len(zeta), p))
    for i in range(g - 1):
        jac[i, i + 1], jac[i, 0], jac[i, p - 1] = 1 / sigma, -1 / sigma, -beta[i]
    for k in range(len(zeta)):
        row = g - 1 + k
        jac[row, 0], jac[row, p - 1] = -1 / sigma, -zeta[k]
        free = list(lay.free_cuts)
        if k in free:
            jac[row, g + free.index(k)] = 1 / sigma
    se = np.sqrt(np.diag(jac @ cov @ jac.T))
    return np.concatenate([beta, zeta]), se


def test_homop_loglik_equals_polr(polr_and_fit):
    _, _, fit = polr_and_fit
    text = (REF / "polr_homop_versions.txt").read_text()
    r_ll = float(text.split("loglik ")[1].split()[0])
    assert fit.converged
    assert fit.loglik == pytest.approx(r_ll, abs=1e-6)


def test_homop_estimates_and_ses_equal_polr(polr_and_fit):
    _, ref, fit = polr_and_fit
    est, se = _polr_parameters(fit)
    np.testing.assert_allclose(est, ref["estimate"].to_numpy(), atol=2e-5)
    np.testing.assert_allclose(se, ref["se"].to_numpy(), rtol=2e-3)
