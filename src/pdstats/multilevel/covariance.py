"""Covariance estimators beyond the model-based one: CR2 cluster-robust, reliabilities.

CR2 follows Pustejovsky & Tipton (2018, JBES 36(4)) as implemented in R's clubSandwich
for ``lmer`` fits: working covariance ``Phi = V`` (the fitted marginal covariance),
weights ``W = V^{-1}``, ``M = (X'WX)^{-1}``, and for cluster ``j``

    A_j = D_j' B_j^{-1/2} D_j,  B_j = D_j (V_j - X_j M X_j') D_j',  V_j = D_j'D_j,

    V^CR2 = M [ sum_j X_j' W_j A_j e_j e_j' A_j' W_j X_j ] M,

with marginal residuals ``e = y - X beta``.  The df of ``c' beta`` is the Satterthwaite
approximation under the working model: with ``p_j = A_j' W_j X_j M c`` and
``Omega = V - X M X'`` (the covariance of ``e``), ``df = 2 E^2 / Var`` where
``E = sum_j p_j' Omega_jj p_j`` and ``Var = 2 sum_ij (p_i' Omega_ij p_j)^2``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from pdstats.multilevel.results import LMMResult

__all__ = ["cr2_vcov", "marginal_cov_block", "reliability_table"]


def marginal_cov_block(res: LMMResult, idx: np.ndarray, exclude: int | None = None) -> np.ndarray:
    """Marginal covariance ``V`` of the rows ``idx`` (optionally without term ``exclude``)."""
    d = res._design
    s2 = res.sigma**2
    V = np.diag(s2 / d.prior_weights[idx])
    for i, (t, T) in enumerate(zip(d.terms, res._sol.factors, strict=True)):
        if i == exclude:
            continue
        S = s2 * (T @ T.T)
        Xr = t.Xr[idx]
        codes = t.codes[idx]
        same = codes[:, None] == codes[None, :]
        V += (Xr @ S @ Xr.T) * same
    return V


def _clusters(res: LMMResult, cluster: str | None) -> list[np.ndarray]:
    d = res._design
    if cluster is None:
        if not res._evaluator.nested:
            raise ModelSpecificationError(
                "crossed random effects: give cluster= (a variable every grouping factor is "
                "nested in)"
            )
        codes = d.terms[-1].codes
        name = d.terms[-1].group
    else:
        if cluster not in d.data.columns:
            raise ModelSpecificationError(f"cluster={cluster!r} is not a column of the model data")
        codes, _ = pd.factorize(d.data[cluster], sort=True)
        name = cluster
    for t in d.terms:
        first = np.full(t.nlev, -1, dtype=np.int64)
        first[t.codes] = codes
        if not np.array_equal(first[t.codes], codes):
            raise ModelSpecificationError(
                f"grouping factor {t.group!r} is not nested in cluster {name!r}: CR2 needs "
                "clusters that are independent under the model"
            )
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)


def _inv_sqrt_psd(B: np.ndarray) -> np.ndarray:
    w, Q = np.linalg.eigh((B + B.T) / 2)
    keep = w > 1e-12 * max(1.0, float(w.max()))
    return (Q[:, keep] / np.sqrt(w[keep])) @ Q[:, keep].T


def cr2_vcov(res: LMMResult, cluster: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CR2 cluster-robust covariance of the fixed effects and Satterthwaite df.

    Parameters
    ----------
    res : LMMResult
        A fitted model.
    cluster : str, optional
        Column defining clusters; default the coarsest grouping factor.

    Returns
    -------
    (vcov, df) : tuple of numpy.ndarray
        (p, p) CR2 covariance and one df per coefficient.
    """
    d = res._design
    X, y, beta = d.X, d.y, res._sol.beta
    M = res.vcov.to_numpy()
    e = y - X @ beta
    p = d.p
    meat = np.zeros((p, p))
    P_list, V_list, X_list = [], [], []
    for idx in _clusters(res, cluster):
        V = marginal_cov_block(res, idx)
        Xj = X[idx]
        D = np.linalg.cholesky(V).T  # upper: V = D'D
        B = D @ (V - Xj @ M @ Xj.T) @ D.T
        A = D.T @ _inv_sqrt_psd(B) @ D
        Vinv = np.linalg.inv(V)
        WX = Vinv @ Xj
        u = WX.T @ (A @ e[idx])  # X_j' W_j A_j e_j  (A symmetric)
        meat += np.outer(u, u)
        P_list.append(A.T @ WX @ M)  # columns: p_j for each unit contrast
        V_list.append(V)
        X_list.append(Xj)
    vc = M @ meat @ M
    df = np.empty(p)
    for c in range(p):
        s = np.array([P[:, c] @ V @ P[:, c] for P, V in zip(P_list, V_list, strict=True)])
        z = np.array([Xj.T @ P[:, c] for P, Xj in zip(P_list, X_list, strict=True)])
        K = z @ M @ z.T
        E = float(np.sum(s - np.diag(K)))
        var_half = float(np.sum(K**2) - 2 * np.sum(s * np.diag(K)) + np.sum(s**2))
        df[c] = E**2 / var_half if var_half > 0 else np.inf
    return vc, df


def reliability_table(res: LMMResult) -> pd.DataFrame:
    """HLM-style reliabilities, per grouping factor and random coefficient (see LMMResult)."""
    d = res._design
    rows = []
    s2 = res.sigma**2
    for i, (t, T) in enumerate(zip(d.terms, res._sol.factors, strict=True)):
        tau = s2 * np.diag(T @ T.T)
        order = np.argsort(t.codes, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(t.codes[order])) + 1)
        rel = []
        for idx in groups:
            Xj = t.Xr[idx]
            if Xj.shape[0] < t.k:
                continue
            V = _within_cov(res, idx, i)
            info = Xj.T @ np.linalg.solve(V, Xj)
            if np.linalg.cond(info) > 1e10:
                continue
            v = np.diag(np.linalg.inv(info))
            rel.append(tau / (tau + v))
        rel_arr = np.array(rel)
        for a in range(t.k):
            rows.append((t.group, t.names[a],
                         float(rel_arr[:, a].mean()) if len(rel_arr) else np.nan, len(rel_arr)))
    return pd.DataFrame(rows, columns=["group", "term", "reliability", "n_groups"])


def _within_cov(res: LMMResult, idx: np.ndarray, term: int) -> np.ndarray:
    """Covariance of a group's rows from the residual and from finer, nested terms only."""
    d = res._design
    s2 = res.sigma**2
    V = np.diag(s2 / d.prior_weights[idx])
    for h in range(term):
        t, T = d.terms[h], res._sol.factors[h]
        # only terms nested in this one contribute within-group variance
        codes = t.codes[idx]
        S = s2 * (T @ T.T)
        Xr = t.Xr[idx]
        V += (Xr @ S @ Xr.T) * (codes[:, None] == codes[None, :])
    return V
