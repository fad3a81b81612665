"""Small-sample inference for fixed effects: Satterthwaite and Kenward-Roger df, LR tests.

Satterthwaite degrees of freedom follow lmerTest (Kuznetsova, Brockhoff & Christensen
2017, JSS 82(13)): with ``phi = (theta, sigma)`` the variance parameters, ``A = 2 H^{-1}``
the asymptotic covariance of ``phi`` from the Hessian ``H`` of the (REML or ML) deviance,
and ``g`` the gradient of ``Var(c' beta)`` with respect to ``phi``,
``df = 2 Var(c' beta)^2 / (g' A g)``.  Derivatives are central differences improved by
Richardson extrapolation (as R's numDeriv does).

Kenward-Roger (Kenward & Roger 1997, Biometrics 53) uses the linear parametrization of
the marginal covariance ``V = sum_r s_r G_r`` in the variance and covariance components
``s`` (and the residual variance); it adjusts the covariance of the fixed effects and
approximates the df of the Wald F statistic.  This implementation forms ``V`` per
top-level cluster (blocks of a nested design), so its cost grows with the size of the
largest cluster rather than with ``n^2``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.errors import ModelSpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from pdstats.multilevel.results import LMMResult

__all__ = [
    "richardson_jacobian",
    "richardson_hessian",
    "satterthwaite_df",
    "kenward_roger",
    "lrtest",
]


def _steps(x: np.ndarray, d: float, eps: float) -> np.ndarray:
    return np.where(np.abs(x) > 1e-5, d * np.abs(x), eps)


def richardson_jacobian(
    fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, d: float = 0.01,
    eps: float = 1e-4, r: int = 4,
) -> np.ndarray:
    """Jacobian of a vector function by Richardson-extrapolated central differences.

    Examples
    --------
    >>> J = richardson_jacobian(lambda x: np.array([x[0] ** 2, x[0] * x[1]]), np.array([1.0, 2.0]))
    >>> np.round(J, 8).tolist()
    [[2.0, 0.0], [2.0, 1.0]]
    """
    x = np.asarray(x, dtype=float)
    h0 = _steps(x, d, eps)
    cols = []
    for i in range(len(x)):
        est = []
        for k in range(r):
            h = h0[i] / 2**k
            e = np.zeros_like(x)
            e[i] = h
            est.append((np.asarray(fun(x + e)) - np.asarray(fun(x - e))) / (2 * h))
        cols.append(_extrapolate(est))
    return np.column_stack(cols)


def _extrapolate(est: list[np.ndarray]) -> np.ndarray:
    table = [np.asarray(e, dtype=float) for e in est]
    for m in range(1, len(table)):
        f = 4.0**m
        table = [(f * table[k + 1] - table[k]) / (f - 1) for k in range(len(table) - 1)]
    return table[0]


def richardson_hessian(
    fun: Callable[[np.ndarray], float], x: np.ndarray, d: float = 0.01,
    eps: float = 1e-4, r: int = 4,
) -> np.ndarray:
    """Hessian of a scalar function by Richardson-extrapolated central differences.

    Examples
    --------
    >>> H = richardson_hessian(lambda x: x[0] ** 2 * x[1] + x[1] ** 3, np.array([1.0, 2.0]))
    >>> np.round(H, 6).tolist()
    [[4.0, 2.0], [2.0, 12.0]]
    """
    x = np.asarray(x, dtype=float)
    m = len(x)
    h0 = _steps(x, d, eps)
    f0 = fun(x)
    H = np.zeros((m, m))
    for i in range(m):
        est = []
        for k in range(r):
            h = h0[i] / 2**k
            e = np.zeros(m)
            e[i] = h
            est.append(np.array((fun(x + e) - 2 * f0 + fun(x - e)) / h**2))
        H[i, i] = float(_extrapolate(est))
        for j in range(i):
            est = []
            for k in range(r):
                hi, hj = h0[i] / 2**k, h0[j] / 2**k
                ei, ej = np.zeros(m), np.zeros(m)
                ei[i], ej[j] = hi, hj
                val = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej))
                est.append(np.array(val / (4 * hi * hj)))
            H[i, j] = H[j, i] = float(_extrapolate(est))
    return H


def _varpar_functions(res: LMMResult) -> tuple[np.ndarray, Callable, Callable]:
    ev, reml = res._evaluator, res.reml
    if res._design.sigma_known:
        x0 = res.theta.copy()

        def dev(v: np.ndarray) -> float:
            return ev.deviance(v, reml)

        def vcov(v: np.ndarray) -> np.ndarray:
            R = ev.solve(v).RXinv
            return R @ R.T
    else:
        x0 = np.append(res.theta, res.sigma)

        def dev(v: np.ndarray) -> float:
            return ev.deviance_varpar(v[:-1], v[-1], reml)

        def vcov(v: np.ndarray) -> np.ndarray:
            R = ev.solve(v[:-1]).RXinv
            return v[-1] ** 2 * (R @ R.T)
    return x0, dev, vcov


def satterthwaite_df(res: LMMResult, contrasts: np.ndarray | None = None) -> np.ndarray:
    """Satterthwaite denominator df for single-df contrasts ``c' beta``.

    Parameters
    ----------
    res : LMMResult
        A fitted model.
    contrasts : numpy.ndarray, optional
        (m, p) matrix of contrasts; default the identity (one df per coefficient).

    Returns
    -------
    numpy.ndarray
        One df per contrast.
    """
    p = len(res.params)
    C = np.eye(p) if contrasts is None else np.atleast_2d(np.asarray(contrasts, dtype=float))
    x0, dev, vcov = _varpar_functions(res)
    H = richardson_hessian(dev, x0)
    A = 2.0 * _safe_inverse(H)
    J = richardson_jacobian(lambda v: vcov(v).ravel(), x0)  # (p*p, m)
    V = vcov(x0)
    out = np.empty(len(C))
    for i, c in enumerate(C):
        var = float(c @ V @ c)
        g = np.einsum("a,abm,b->m", c, J.reshape(p, p, -1), c)
        denom = float(g @ A @ g)
        out[i] = 2.0 * var**2 / denom if denom > 0 else np.inf
    return out


def _safe_inverse(H: np.ndarray) -> np.ndarray:
    w, Q = np.linalg.eigh((H + H.T) / 2)
    keep = w > 1e-8 * max(1.0, float(np.max(np.abs(w))))
    return (Q[:, keep] / w[keep]) @ Q[:, keep].T


# ---------------------------------------------------------------- Kenward-Roger
def _cluster_blocks(res: LMMResult) -> list[np.ndarray]:
    """Row indices of independent blocks (levels of the coarsest grouping factor)."""
    ev = res._evaluator
    terms = res._design.terms
    if ev.nested:
        codes = terms[-1].codes
    else:
        return [np.arange(res._design.n)]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


def _component_matrices(res: LMMResult, idx: np.ndarray) -> tuple[list[np.ndarray], list[str]]:
    """G_r restricted to rows ``idx``: V_block = sum_r s_r G_r (variances/covariances, residual)."""
    d = res._design
    mats: list[np.ndarray] = []
    names: list[str] = []
    for t in d.terms:
        codes = t.codes[idx]
        same = (codes[:, None] == codes[None, :]).astype(float)
        Xr = t.Xr[idx]
        for a in range(t.k):
            for b in range(a, t.k):
                if a == b:
                    G = np.outer(Xr[:, a], Xr[:, a]) * same
                else:
                    G = (np.outer(Xr[:, a], Xr[:, b]) + np.outer(Xr[:, b], Xr[:, a])) * same
                mats.append(G)
                names.append(f"{t.group}:{a}:{b}")
    if not d.sigma_known:
        w = d.prior_weights[idx]
        mats.append(np.diag(1.0 / w))
        names.append("Residual")
    return mats, names


def _component_values(res: LMMResult) -> np.ndarray:
    vals = []
    for t, T in zip(res._design.terms, res._sol.factors, strict=True):
        S = res.sigma**2 * (T @ T.T)
        for a in range(t.k):
            for b in range(a, t.k):
                vals.append(S[a, b])
    if not res._design.sigma_known:
        vals.append(res.sigma**2)
    return np.array(vals)


def kenward_roger(res: LMMResult, max_block: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Kenward-Roger adjusted covariance of beta and per-coefficient df.

    Parameters
    ----------
    res : LMMResult
        A REML fit (Kenward-Roger is defined for REML).
    max_block : int
        Largest independent block of rows (top-level cluster) to form densely.

    Returns
    -------
    (vcov_kr, df) : tuple of numpy.ndarray
        Adjusted (p, p) covariance and the df of each coefficient's t statistic.
    """
    if not res.reml:
        raise ModelSpecificationError("Kenward-Roger df are defined for REML fits; refit with reml=True")
    d = res._design
    blocks = _cluster_blocks(res)
    if max(len(b) for b in blocks) > max_block:
        raise ModelSpecificationError(
            f"Kenward-Roger needs dense covariance blocks; the largest independent block has "
            f"{max(len(b) for b in blocks)} rows > max_block={max_block}"
        )
    s = _component_values(res)
    X, p = d.X, d.p
    nr = len(s)
    # accumulate P_r = X'V^-1 G_r V^-1 X, Q_rs = X'V^-1 G_r V^-1 G_s V^-1 X, traces for info
    Phi_inv = np.zeros((p, p))
    P = np.zeros((nr, p, p))
    Q = np.zeros((nr, nr, p, p))
    trVV = np.zeros((nr, nr))
    blocks_data = []
    for idx in blocks:
        G, _ = _component_matrices(res, idx)
        V = sum(si * Gi for si, Gi in zip(s, G, strict=True))
        Vi = np.linalg.inv(V)
        Xb = X[idx]
        ViX = Vi @ Xb
        Phi_inv += Xb.T @ ViX
        ViG = [Vi @ Gi for Gi in G]
        for r in range(nr):
            P[r] += ViX.T @ G[r] @ ViX
            for q in range(r, nr):
                Q[r, q] += ViX.T @ G[r] @ ViG[q] @ ViX
                trVV[r, q] += np.sum(ViG[r] * ViG[q].T)
        blocks_data.append((idx, ViX, ViG))
    for r in range(nr):
        for q in range(r):
            Q[r, q] = Q[q, r].T
            trVV[r, q] = trVV[q, r]
    Phi = np.linalg.inv(Phi_inv)
    # REML expected information of s (Kenward & Roger 1997, eq. for I_E)
    info = np.zeros((nr, nr))
    for r in range(nr):
        for q in range(r, nr):
            val = 0.5 * trVV[r, q] - np.trace(Phi @ Q[r, q]) + 0.5 * np.trace(Phi @ P[r] @ Phi @ P[q])
            info[r, q] = info[q, r] = val
    W = np.linalg.inv(info)
    # adjusted covariance (R_rs = 0 for a linear covariance structure)
    U = np.zeros((p, p))
    for r in range(nr):
        for q in range(nr):
            U += W[r, q] * (Q[r, q] - P[r] @ Phi @ P[q])
    vcov_kr = Phi + 2.0 * Phi @ U @ Phi
    df = np.empty(p)
    for i in range(p):
        L = np.zeros((p, 1))
        L[i, 0] = 1.0
        df[i] = _kr_df_single(L, Phi, vcov_kr, P, W)
    return vcov_kr, df


def _kr_df_single(L: np.ndarray, Phi: np.ndarray, vcov_kr: np.ndarray, P: np.ndarray,
                  W: np.ndarray) -> float:
    """Kenward-Roger df for an l-row contrast (here l = 1), following pbkrtest's formulas."""
    ell = L.shape[1]
    Theta = L @ np.linalg.inv(L.T @ Phi @ L) @ L.T
    nr = P.shape[0]
    A1 = 0.0
    A2 = 0.0
    TPh = [Theta @ Phi @ P[r] @ Phi for r in range(nr)]
    for r in range(nr):
        for q in range(nr):
            A1 += W[r, q] * np.trace(TPh[r]) * np.trace(TPh[q])
            A2 += W[r, q] * np.trace(TPh[r] @ TPh[q])
    B = (A1 + 6.0 * A2) / (2.0 * ell)
    g = ((ell + 1.0) * A1 - (ell + 4.0) * A2) / ((ell + 2.0) * A2)
    c1 = g / (3.0 * ell + 2.0 * (1.0 - g))
    c2 = (ell - g) / (3.0 * ell + 2.0 * (1.0 - g))
    c3 = (ell + 2.0 - g) / (3.0 * ell + 2.0 * (1.0 - g))
    Estar = 1.0 / (1.0 - A2 / ell)
    Vstar = (2.0 / ell) * (1.0 + c1 * B) / ((1.0 - c2 * B) ** 2 * (1.0 - c3 * B))
    rho = Vstar / (2.0 * Estar**2)
    return float(4.0 + (ell + 2.0) / (ell * rho - 1.0))


# ---------------------------------------------------------------- LR test
def lrtest(restricted: LMMResult, full: LMMResult) -> pd.DataFrame:
    """Likelihood-ratio test between two nested fits.

    When the fixed effects differ and the fits are REML, both are refitted by ML first
    (REML likelihoods of different fixed-effect designs are not comparable), as lme4's
    ``anova()`` does.

    Parameters
    ----------
    restricted, full : LMMResult
        The smaller and the larger model, fitted to the same rows.

    Returns
    -------
    pandas.DataFrame
        One row per model with n_params, loglike, aic, bic and, on the full model's row,
        chisq, df and p.

    Examples
    --------
    >>> import pdstats as pds
    >>> from pdstats.data.datasets import load_rdataset
    >>> ss = load_rdataset("lme4", "sleepstudy")  # doctest: +SKIP
    >>> m0 = pds.lmm("Reaction ~ 1 + (Days | Subject)", ss)  # doctest: +SKIP
    >>> m1 = pds.lmm("Reaction ~ Days + (Days | Subject)", ss)  # doctest: +SKIP
    >>> lrtest(m0, m1)["p"].iloc[1] < 0.001  # doctest: +SKIP
    True
    """
    if restricted._design.n != full._design.n:
        raise ModelSpecificationError(
            f"the two fits use different rows ({restricted._design.n} vs {full._design.n}); "
            "a likelihood-ratio test needs the same data"
        )
    m0, m1 = restricted, full
    if (m0.reml or m1.reml) and m0.fixed_names != m1.fixed_names:
        m0 = m0.refit_ml() if m0.reml else m0
        m1 = m1.refit_ml() if m1.reml else m1
    k0, k1 = m0.n_params, m1.n_params
    if k0 >= k1:
        raise ModelSpecificationError(
            f"the restricted model has {k0} parameters, not fewer than the full model's {k1}"
        )
    chisq = max(0.0, 2.0 * (m1.loglike - m0.loglike))
    df = k1 - k0
    p = float(stats.chi2.sf(chisq, df))
    return pd.DataFrame(
        {
            "model": [m0.formula, m1.formula],
            "n_params": [k0, k1],
            "loglike": [m0.loglike, m1.loglike],
            "aic": [m0.aic, m1.aic],
            "bic": [m0.bic, m1.bic],
            "chisq": [np.nan, chisq],
            "df": [np.nan, df],
            "p": [np.nan, p],
        },
        index=pd.Index(["restricted", "full"], name="fit"),
    )
