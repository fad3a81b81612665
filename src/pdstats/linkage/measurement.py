"""Errors in the practice scores: conditional reliability and the corrected slope.

A practice score ``x = xi + u`` is the error-free score ``xi`` plus an error with a known
variance (its squared standard error). Regressing growth on ``x`` and other covariates
``Z`` attenuates the slope on ``x`` by the reliability of ``x`` *conditional on Z*: the
share of the variance of ``x`` left after partialling out ``Z`` that is not error. With
weights ``W`` (the inverse of each row's variance in the outcome model) and the residual
maker ``M = W - W Z (Z' W Z)^-1 Z' W``::

    lambda = 1 - E[u' M u] / x' M x,     E[u' M u] = sum_b se_b^2 1' M_bb 1,

where ``b`` runs over the blocks of rows that share one error (the grades of one
district-year share that district-year's score). The corrected slope is the naive slope
divided by ``lambda`` (regression calibration; exact in expectation for a linear model
with normal scores). Its standard error adds the uncertainty of ``lambda``, estimated by
the delete-one-cluster (district) jackknife::

    Var(b / lambda) = Var(b) / lambda^2 + b^2 Var_jk(1 / lambda).

Effects are reported per SD of the error-free score among year-1 districts,
``sqrt(var(x_1) - mean(se_1^2))``, with its jackknife variance over those districts.
"""

from __future__ import annotations

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


def conditional_reliability(x: np.ndarray, se: np.ndarray, Z: np.ndarray, block: np.ndarray,
                            cluster: np.ndarray, weights: np.ndarray | None = None) -> Reliability:
    """Reliability of ``x`` conditional on ``Z`` (rows sharing an error form a ``block``).

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
        Row weights of the outcome model (default equal).

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
    bcode, binv = np.unique(np.asarray(block), return_inverse=True)
    nb = len(bcode)
    # per-block sums
    wsum = np.bincount(binv, weights=w, minlength=nb)
    G = np.zeros((nb, Z.shape[1]))
    np.add.at(G, binv, w[:, None] * Z)
    se2 = np.zeros(nb)
    se2[binv] = se**2
    ccode, cinv = np.unique(np.asarray(cluster), return_inverse=True)
    block_cluster = np.zeros(nb, dtype=int)
    block_cluster[binv] = cinv
    k = len(ccode)
    # per-cluster sufficient statistics
    A_c = np.zeros((k, Z.shape[1], Z.shape[1]))
    np.add.at(A_c, cinv, (w[:, None] * Z)[:, :, None] * Z[:, None, :])
    b_c = np.zeros((k, Z.shape[1]))
    np.add.at(b_c, cinv, (w * x)[:, None] * Z)
    s_c = np.bincount(cinv, weights=w * x * x, minlength=k)
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
