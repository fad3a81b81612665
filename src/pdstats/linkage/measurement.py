"""Errors in the practice scores: conditional reliability and the corrected slope.

A practice score ``x = xi + u`` is the error-free score ``xi`` plus an error with a known
variance (its squared standard error). Regressing growth on ``x`` and other covariates
``Z`` attenuates the slope on ``x`` by the reliability of ``x`` *conditional on Z*: the
share of the variance of ``x`` left after partialling out ``Z`` that is not error, in the
metric of the outcome model's own (GLS) fit. With ``V`` the outcome model's covariance of
the rows (residual or known sampling variances plus its random intercepts, e.g. district
and district-year, or school) and the residual maker
``M = V^-1 - V^-1 Z (Z' V^-1 Z)^-1 Z' V^-1``::

    lambda = 1 - E[u' M u] / x' M x,     E[u' M u] = sum_b se_b^2 1' M_bb 1,

where ``b`` runs over the blocks of rows that share one error (the grades of one
district-year share that district-year's score). A random intercept of a unit observed
in several years makes the GLS slope lean on the unit's changes over time, which are
mostly error; an equal-weight (or diagonal-weight) reliability misses that and
under-corrects (in the simulated worlds the student model's school intercept took the
attenuation from 0.95 to about 0.85). The corrected slope is the naive slope
divided by ``lambda`` (regression calibration; exact in expectation for a linear model
with normal scores). Its standard error adds the uncertainty of ``lambda``, estimated by
the delete-one-cluster (district) jackknife::

    Var(b / lambda) = Var(b) / lambda^2 + b^2 Var_jk(1 / lambda).

Effects are reported per SD of the error-free score among year-1 districts,
``sqrt(var(x_1) - mean(se_1^2))``, with its jackknife variance over those districts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pdstats.errors import EstimationWarning

__all__ = ["Reliability", "conditional_reliability", "true_score_sd"]


@dataclass
class Reliability:
    """Conditional reliability of a score with its delete-one-cluster jackknife."""

    value: float
    inverse_variance: float  # jackknife variance of 1 / lambda
    marginal: float
    jackknife: np.ndarray


def _lambda(A: np.ndarray, b: np.ndarray, s: float, G: np.ndarray, wsum: np.ndarray,
            se2: np.ndarray) -> float:
    Ainv = np.linalg.pinv(A)
    signal = s - b @ Ainv @ b
    noise = float(se2 @ (wsum - np.einsum("ij,jk,ik->i", G, Ainv, G)))
    return 1.0 - noise / signal if signal > 0 else np.nan


def _cluster_stats(x: np.ndarray, Z: np.ndarray, w: np.ndarray, binv: np.ndarray, nb: int,
                   random: list[tuple[np.ndarray, float]]) -> tuple[np.ndarray, np.ndarray, float, np.ndarray,
                                                                  np.ndarray, np.ndarray]:
    """One cluster's ``Z'V^-1 Z``, ``Z'V^-1 x``, ``x'V^-1 x`` and, per block ``b`` in it,
    ``1_b'V^-1 1_b`` and ``Z'V^-1 1_b``, with ``V = D + U T U'`` (Woodbury)."""
    from scipy import sparse

    n = len(x)
    wZ, wx = w[:, None] * Z, w * x
    A, b, s = Z.T @ wZ, Z.T @ wx, float(x @ wx)
    blocks, local = np.unique(binv, return_inverse=True)
    B = sparse.csr_matrix((np.ones(n), (np.arange(n), local)), shape=(n, len(blocks)))
    wsum = np.asarray(B.T @ w).ravel()
    G = np.asarray(B.T @ wZ)
    cols, tinv = [], []
    for codes, tau in random:
        if not tau > 0:
            continue
        _, lc = np.unique(codes, return_inverse=True)
        cols.append(sparse.csr_matrix((np.ones(n), (np.arange(n), lc)), shape=(n, lc.max() + 1)))
        tinv.append(np.full(lc.max() + 1, 1.0 / tau))
    if cols:
        U = sparse.hstack(cols).tocsr()
        UW = U.T.multiply(w).tocsr()
        K = np.linalg.inv(np.diag(np.concatenate(tinv)) + (UW @ U).toarray())
        P, px, M = np.asarray(UW @ Z), UW @ x, (UW @ B).toarray()
        A = A - P.T @ K @ P
        b = b - P.T @ K @ px
        s = s - float(px @ K @ px)
        wsum = wsum - np.einsum("ib,ij,jb->b", M, K, M)
        G = G - M.T @ K @ P
    out_w, out_g = np.zeros(nb), np.zeros((nb, Z.shape[1]))
    out_w[blocks], out_g[blocks] = wsum, G
    return A, b, s, blocks, out_w, out_g


def conditional_reliability(x: np.ndarray, se: np.ndarray, Z: np.ndarray, block: np.ndarray,
                            cluster: np.ndarray, weights: np.ndarray | None = None,
                            random: Sequence[tuple[np.ndarray, float]] = ()) -> Reliability:
    """Reliability of ``x`` conditional on ``Z`` in the outcome model's GLS metric.

    The slope of a GLS fit with covariance ``V`` is attenuated by ``1 - E[u'Mu] / x'Mx``
    with ``M = V^-1 - V^-1 Z (Z'V^-1 Z)^-1 Z'V^-1``: a model with random intercepts
    partly compares a unit with itself over time, where a score's variation is mostly
    error, so its attenuation is stronger than the equal-weight reliability says.

    Parameters
    ----------
    x, se : numpy.ndarray
        Score and its standard error, one value per row (constant within a block).
    Z : numpy.ndarray
        The outcome model's other columns (fixed effects, covariates; with an intercept).
    block, cluster : numpy.ndarray
        Block (e.g. district-year) and cluster (district) codes of each row; a block lies
        inside one cluster.
    weights : numpy.ndarray, optional
        Inverse residual (or known sampling) variance of each row (default equal).
    random : sequence of (codes, variance)
        The outcome model's random intercepts (e.g. ``(school codes, school variance)``),
        each nested within ``cluster``; ``V = diag(1 / weights) + sum variance * J_group``.

    Returns
    -------
    Reliability
        ``value`` (lambda), ``inverse_variance`` (jackknife variance of 1/lambda),
        ``marginal`` (1 - mean se^2 / var x over blocks), ``jackknife`` (leave-one-out lambdas).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xi = rng.normal(size=400); x = xi + rng.normal(0, 0.5, 400)
    >>> r = conditional_reliability(x, np.full(400, 0.5), np.ones((400, 1)), np.arange(400),
    ...                             np.arange(400) % 40)
    >>> round(r.value, 1)
    0.8
    """
    x = np.asarray(x, float)
    se = np.asarray(se, float)
    Z = np.asarray(Z, float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, float)
    random = [(np.asarray(c), float(t)) for c, t in random]
    bcode, binv = np.unique(np.asarray(block), return_inverse=True)
    nb = len(bcode)
    se2 = np.zeros(nb)
    se2[binv] = se**2
    ccode, cinv = np.unique(np.asarray(cluster), return_inverse=True)
    k, p = len(ccode), Z.shape[1]
    A_c, b_c, s_c = np.zeros((k, p, p)), np.zeros((k, p)), np.zeros(k)
    wsum, G = np.zeros(nb), np.zeros((nb, p))
    block_cluster = np.zeros(nb, dtype=int)
    for c in range(k):
        r = np.flatnonzero(cinv == c)
        A_c[c], b_c[c], s_c[c], blocks, wb, gb = _cluster_stats(
            x[r], Z[r], w[r], binv[r], nb, [(codes[r], tau) for codes, tau in random])
        wsum[blocks], G[blocks] = wb[blocks], gb[blocks]
        block_cluster[blocks] = c
    A, b, s = A_c.sum(0), b_c.sum(0), float(s_c.sum())
    lam = _lambda(A, b, s, G, wsum, se2)
    jk = np.empty(k)
    for c in range(k):
        keep = block_cluster != c
        jk[c] = _lambda(A - A_c[c], b - b_c[c], s - s_c[c], G[keep], wsum[keep], se2[keep])
    inv = 1.0 / jk
    inv_var = float((k - 1) / k * np.nansum((inv - np.nanmean(inv)) ** 2))
    xb = np.zeros(nb)
    xb[binv] = x
    marginal = 1.0 - float(np.mean(se2)) / float(np.var(xb, ddof=1)) if nb > 1 else np.nan
    if not np.isfinite(lam) or lam <= 0.05:
        import warnings

        warnings.warn(f"conditional reliability of the practice score is {lam:.3f}: the score's variation "
                      "beyond the other covariates is (almost) all measurement error; the corrected "
                      "estimate is not determined", EstimationWarning, stacklevel=3)
    return Reliability(float(lam), inv_var, marginal, jk)


def true_score_sd(value: pd.Series, se: pd.Series, cluster: pd.Series) -> tuple[float, float]:
    """SD of the error-free score, ``sqrt(var(x) - mean(se^2))``, and its jackknife variance.

    One value per unit (e.g. the year-1 districts); the jackknife deletes one unit at a time.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = pd.Series(rng.normal(0, 1, 2000) + rng.normal(0, 0.6, 2000))
    >>> sd, var = true_score_sd(x, pd.Series(np.full(2000, 0.6)), pd.Series(range(2000)))
    >>> round(sd, 1)
    1.0
    """
    x = np.asarray(value, float)
    s2 = np.asarray(se, float) ** 2
    n = len(x)

    def sd(xx: np.ndarray, ss: np.ndarray) -> float:
        v = np.var(xx, ddof=1) - np.mean(ss)
        return float(np.sqrt(v)) if v > 0 else np.nan

    full = sd(x, s2)
    jk = np.array([sd(np.delete(x, i), np.delete(s2, i)) for i in range(n)])
    return full, float((n - 1) / n * np.nansum((jk - np.nanmean(jk)) ** 2))
