"""Cluster-robust covariance (CR0, CR1, CR2) with Bell-McCaffrey / Satterthwaite df.

A linear estimator ``beta = M sum_g X_g' W_g y_g`` with bread ``M = (X'WX)^{-1}`` and
independent clusters ``g`` is described by a :class:`LinearFit`: per cluster, a
:class:`~pdstats.inference.algebra.Basis` and the coordinates of ``X_g`` (and of
``W_g X_g``) in it, the weight matrix ``W_g`` and the working ("target") covariance
``Phi_g`` as :class:`~pdstats.inference.algebra.Op`. The CR2 adjustment of Pustejovsky
and Tipton (2018, JBES 36(4)), as in R's clubSandwich, is

    A_g = D_g' G_g^{-1/2} D_g,  G_g = D_g [(I - H) Phi (I - H)']_gg D_g',  Phi_g = D_g'D_g,

    V^CR2 = M [ sum_g X_g' W_g A_g e_g e_g' A_g W_g X_g ] M,

(``A_g`` does not depend on which square root ``D_g`` is taken, so the symmetric one is
used). Two working models are supported, as in clubSandwich: *inverse variance*
(``Phi = W^{-1}``: GLS and mixed-model fixed effects) and *identity target*
(``Phi = I``: OLS, and WLS with analytic weights). The df of a contrast ``c'beta`` (and
the Hotelling-T^2 df of several) come from the Satterthwaite approximation under the
working model; the G x G cluster-by-cluster matrices it needs are "diagonal plus low
rank" and are never formed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pdstats.errors import ModelSpecificationError
from pdstats.inference.algebra import Basis, Op, inv_sqrt_pinv, sqrt_psd

__all__ = ["ClusterBlock", "LinearFit", "RobustCovariance", "VCOV_TYPES", "identity_target_blocks",
           "robust_covariance", "split_clusters"]

#: Covariance types: cluster-robust CR0/CR1/CR2 and their one-row-per-cluster HC forms.
VCOV_TYPES = ("CR2", "CR1", "CR0", "HC2", "HC1", "HC0")


@dataclass
class ClusterBlock:
    """One cluster of a :class:`LinearFit`.

    Attributes
    ----------
    basis : Basis
        Gram matrix ``U'U`` of the cluster's basis.
    cx : numpy.ndarray
        Coordinates (m x p) of ``X_g`` in the basis (``X_g = U cx``).
    cwx : numpy.ndarray
        Coordinates of ``W_g X_g`` (identity-target fits; equal to ``cx`` unweighted).
    uy : numpy.ndarray
        ``U'y_g`` (and more columns for several responses).
    weight, target : Op or None
        ``W_g`` and ``Phi_g`` (GLS only; identity-target fits carry ``W_g`` in ``cwx``).
    n : int
        Rows of the cluster.
    root : Op or None
        ``Phi_g^{1/2}`` when computed with ``weight`` (GLS).
    """

    basis: Basis
    cx: np.ndarray
    cwx: np.ndarray
    uy: np.ndarray
    weight: Op | None
    target: Op | None
    n: int
    root: Op | None = None
    cache: dict[str, Op] = field(default_factory=dict, repr=False)


@dataclass
class LinearFit:
    """A linear estimator with independent clusters (OLS, WLS or GLS).

    Attributes
    ----------
    beta : numpy.ndarray
        Estimates.
    bread : numpy.ndarray
        ``M = (X'WX)^{-1}``.
    blocks : list of ClusterBlock
        One per cluster.
    inverse_var : bool
        Working covariance ``W^{-1}`` (GLS) rather than the identity (OLS/WLS).
    wsq : numpy.ndarray or None
        ``X'W^2X`` (identity-target fits).
    n, names
        Rows and coefficient names.
    rows : dict, optional
        ``X``, ``y`` and weights ``w`` when every cluster is one row (identity target):
        the covariance is then computed for all rows at once.
    """

    beta: np.ndarray
    bread: np.ndarray
    blocks: list[ClusterBlock]
    inverse_var: bool
    wsq: np.ndarray | None
    n: int
    names: list[str]
    rows: dict[str, np.ndarray] | None = None

    @property
    def p(self) -> int:
        """Number of coefficients."""
        return len(self.beta)

    @property
    def n_clusters(self) -> int:
        """Number of clusters."""
        return len(self.blocks)

    def adjustment(self, block: ClusterBlock, kind: str) -> Op:
        """The residual adjustment ``A_g`` of CR0/CR1 (identity) or CR2."""
        b = block.basis
        if kind != "CR2":
            return b.identity()
        if "CR2" in block.cache:
            return block.cache["CR2"]
        M = self.bread
        if self.inverse_var:
            root = block.root if block.root is not None else b.func(block.target, sqrt_psd)
            resid_cov = Op(block.target.scale, block.target.psi - block.cx @ M @ block.cx.T)
            G = b.mul(b.mul(root, resid_cov), root)
            A = b.mul(b.mul(root, b.func(G, inv_sqrt_pinv)), root)
        else:
            cx, cwx = block.cx, block.cwx
            psi = cx @ (M @ self.wsq @ M) @ cx.T - cx @ M @ cwx.T - cwx @ M @ cx.T
            A = b.func(Op(1.0, psi), inv_sqrt_pinv)
        block.cache["CR2"] = A
        return A


@dataclass
class RobustCovariance:
    """Cluster-robust covariance of a :class:`LinearFit` with its df machinery.

    Attributes
    ----------
    vcov : numpy.ndarray
        (p, p) covariance.
    kind : str
        CR0, CR1 or CR2.
    df : numpy.ndarray
        One df per coefficient: Bell-McCaffrey (Satterthwaite) for CR2, ``G - 1`` else.
    """

    fit: LinearFit
    kind: str
    vcov: np.ndarray
    pieces: dict[str, np.ndarray]

    @property
    def df(self) -> np.ndarray:
        """Per-coefficient df (Satterthwaite under the working model for CR2)."""
        if self.kind != "CR2":
            return np.full(self.fit.p, float(self.fit.n_clusters - 1))
        out = np.empty(self.fit.p)
        for k in range(self.fit.p):
            c = np.zeros((1, self.fit.p))
            c[0, k] = 1.0
            g = self.gram(c)
            tr = g.trace(0, 0)
            ss = g.frob(0, 0, 0, 0)
            out[k] = tr**2 / ss if ss > 0 else np.inf
        return out

    def gram(self, contrasts: np.ndarray) -> _ClusterGram:
        """The cluster-by-cluster matrices ``P_st`` of the contrasts (rows of ``contrasts``)."""
        f = self.fit
        M = f.bread
        cm = M @ np.asarray(contrasts, dtype=float).T  # (p, q): M c_s
        Z = np.einsum("gij,js->sgi", self.pieces["F"], cm)
        d = np.einsum("is,gij,jt->stg", cm, self.pieces["D"], cm)
        if f.inverse_var:
            left, right = Z, -(Z @ M)
        else:
            Y = np.einsum("gij,js->sgi", self.pieces["Y"], cm)
            left = np.concatenate([Y, Z], axis=2)
            right = np.concatenate([-(Z @ M), -(Y @ M) + Z @ (M @ f.wsq @ M)], axis=2)
        return _ClusterGram(d, left, right)


@dataclass
class _ClusterGram:
    """``P_st = diag(d_st) + L_s R_t'`` (G x G), the covariances of the CR2 meat terms."""

    d: np.ndarray
    left: np.ndarray
    right: np.ndarray

    def trace(self, s: int, t: int) -> float:
        return float(self.d[s, t].sum() + np.sum(self.left[s] * self.right[t]))

    def frob(self, a: int, b: int, c: int, e: int) -> float:
        """Frobenius inner product of ``P_ab`` and ``P_ce``."""
        d1, L1, R1 = self.d[a, b], self.left[a], self.right[b]
        d2, L2, R2 = self.d[c, e], self.left[c], self.right[e]
        diag1 = np.sum(L1 * R1, axis=1)
        diag2 = np.sum(L2 * R2, axis=1)
        return float(d1 @ d2 + d1 @ diag2 + d2 @ diag1 + np.sum((L1.T @ L2) * (R1.T @ R2)))


def robust_covariance(fit: LinearFit, kind: str = "CR2") -> RobustCovariance:
    """CR0, CR1 (Stata's ``G/(G-1) (n-1)/(n-p)``) or CR2 covariance of ``fit``.

    Parameters
    ----------
    fit : LinearFit
        The estimator and its clusters.
    kind : {"CR2", "CR1", "CR0"}
        Adjustment.

    Returns
    -------
    RobustCovariance

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.inference.ols import ols_fit
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(8), 5), "x": rng.normal(size=40)})
    >>> d["y"] = d.x + rng.normal(size=8)[d.g] + rng.normal(size=40)
    >>> rc = robust_covariance(ols_fit("y ~ x", d, cluster="g")[0], "CR2")
    >>> rc.vcov.shape, bool(rc.df[1] < 7)
    ((2, 2), True)
    """
    if kind not in ("CR2", "CR1", "CR0"):
        raise ModelSpecificationError(f"vcov={kind!r}; choose one of {list(VCOV_TYPES)}")
    beta = fit.beta
    p, G = fit.p, fit.n_clusters
    if fit.rows is not None:
        return _one_row_clusters(fit, kind)
    meat = np.zeros((p, p))
    F = np.empty((G, p, p))
    D = np.empty((G, p, p))
    Y = np.empty((G, p, p)) if not fit.inverse_var else None
    for g, blk in enumerate(fit.blocks):
        b = blk.basis
        A = fit.adjustment(blk, kind)
        resid = blk.uy - b.gram @ (blk.cx @ beta)  # U'e
        if fit.inverse_var:
            WA = b.mul(blk.weight, A)
            score = b.form_vec(blk.cx, WA, resid)
            F[g] = b.form(blk.cx, b.mul(A, blk.weight), blk.cx)
            D[g] = b.form(blk.cx, b.mul(b.mul(WA, blk.target), b.mul(A, blk.weight)), blk.cx)
        else:
            score = b.form_vec(blk.cwx, A, resid)
            F[g] = b.form(blk.cx, A, blk.cwx)
            Y[g] = b.form(blk.cwx, A, blk.cwx)
            D[g] = b.form(blk.cwx, b.mul(A, A), blk.cwx)
        meat += np.outer(score, score)
    pieces = {"F": F, "D": D}
    if Y is not None:
        pieces["Y"] = Y
    return _finish(fit, kind, meat, pieces)


def _finish(fit: LinearFit, kind: str, meat: np.ndarray, pieces: dict[str, np.ndarray]
            ) -> RobustCovariance:
    M, G = fit.bread, fit.n_clusters
    vc = M @ meat @ M
    if kind == "CR1":
        vc = vc * (G / (G - 1) * (fit.n - 1) / (fit.n - fit.p)) if G > 1 else vc * np.nan
    return RobustCovariance(fit, kind, (vc + vc.T) / 2, pieces)


def _one_row_clusters(fit: LinearFit, kind: str) -> RobustCovariance:
    """The identity-target pieces when every cluster is one row (HC types), vectorized.

    For row ``i`` with weight ``w_i``: ``G_i = 1 - 2 w_i x_i'Mx_i + x_i'M S M x_i`` and
    ``A_i = G_i^{-1/2}``; the per-cluster p x p pieces are rank-one in ``x_i``.
    """
    X, y, w = fit.rows["X"], fit.rows["y"], fit.rows["w"]
    M = fit.bread
    XM = X @ M
    if kind == "CR2":
        g = 1.0 - 2.0 * w * np.sum(XM * X, axis=1) + np.sum((XM @ fit.wsq) * XM, axis=1)
        a = inv_sqrt_pinv(g)
    else:
        a = np.ones(len(y))
    e = y - X @ fit.beta
    scores = X * (w * a * e)[:, None]
    outer = np.einsum("gi,gj->gij", X, X)
    pieces = {"F": outer * (a * w)[:, None, None], "Y": outer * (a * w * w)[:, None, None],
              "D": outer * (a * a * w * w)[:, None, None]}
    return _finish(fit, kind, scores.T @ scores, pieces)


def identity_target_blocks(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None,
                           clusters: list[np.ndarray]) -> list[ClusterBlock]:
    """Cluster blocks of OLS (``weights=None``) or WLS with the identity working model."""
    blocks = []
    p = X.shape[1]
    for idx in clusters:
        Xg = X[idx]
        if weights is None:
            U, cx, cwx = Xg, np.eye(p), np.eye(p)
        else:
            wg = weights[idx]
            U = np.hstack([Xg, wg[:, None] * Xg])
            cx = np.vstack([np.eye(p), np.zeros((p, p))])
            cwx = np.vstack([np.zeros((p, p)), np.eye(p)])
        basis = Basis(U.T @ U, len(idx))
        blocks.append(ClusterBlock(basis, cx, cwx, U.T @ y[idx], None, None, len(idx)))
    return blocks


def split_clusters(codes: np.ndarray) -> list[np.ndarray]:
    """Row positions of each cluster, clusters in code order."""
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)

