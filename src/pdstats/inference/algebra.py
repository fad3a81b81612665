"""Per-cluster matrices of the form ``a I + U Psi U'`` without forming them.

Every n_g x n_g matrix the CR2 adjustment needs (the target variance, its square root,
the weight matrix, ``I - H_gg``, the adjustment ``A_g``) is, for OLS, WLS and for GLS
with a scalar residual variance inside the cluster, a multiple of the identity plus a
matrix of rank at most ``m`` acting in the span of a fixed ``n_g x m`` basis ``U``
(``U = X_g`` for OLS, ``[X_g, W_g X_g]`` for WLS, ``[Z_g, X_g]`` for a mixed model whose
random effects inside the cluster have design ``Z_g``). Products and symmetric matrix
functions stay in that family and need only the m x m Gram matrix ``E = U'U``, so a
cluster of 10,000 rows costs ``O(n_g m^2 + m^3)`` instead of ``O(n_g^3)``.

When no such basis exists (e.g. GLS with unequal residual variances inside a cluster)
the same code runs with ``U = I`` ("dense"), where ``E = I`` and ``Psi`` is the matrix
itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Basis", "Op"]


@dataclass
class Op:
    """The matrix ``scale * I + U psi U'`` in a :class:`Basis`."""

    scale: float
    psi: np.ndarray


@dataclass
class Basis:
    """The Gram matrix ``E = U'U`` of a cluster's basis and the algebra on it.

    Parameters
    ----------
    gram : numpy.ndarray
        ``U'U`` (m x m).
    n : int
        Rows of the cluster.
    full : bool
        ``True`` when ``U`` spans all ``n`` rows (then the identity part is irrelevant).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> U = rng.normal(size=(6, 2))
    >>> b = Basis(U.T @ U, 6)
    >>> A = Op(2.0, np.array([[1.0, 0.2], [0.2, 0.5]]))
    >>> dense = 2.0 * np.eye(6) + U @ A.psi @ U.T
    >>> R = b.func(A, np.sqrt)
    >>> bool(np.allclose((R.scale * np.eye(6) + U @ R.psi @ U.T) @
    ...                  (R.scale * np.eye(6) + U @ R.psi @ U.T), dense))
    True
    """

    gram: np.ndarray
    n: int
    full: bool = False
    _eig: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def m(self) -> int:
        """Columns of the basis."""
        return self.gram.shape[0]

    def identity(self, scale: float = 1.0) -> Op:
        """``scale * I``."""
        return Op(scale, np.zeros((self.m, self.m)))

    def mul(self, a: Op, b: Op) -> Op:
        """The product ``a b``."""
        psi = a.scale * b.psi + b.scale * a.psi + a.psi @ self.gram @ b.psi
        return Op(a.scale * b.scale, psi)

    def _range(self) -> tuple[np.ndarray, np.ndarray]:
        if self._eig is None:
            lam, vec = np.linalg.eigh((self.gram + self.gram.T) / 2)
            keep = lam > 1e-11 * max(float(lam.max(initial=0.0)), 1e-300)
            self._eig = (lam[keep], vec[:, keep])
        return self._eig

    def func(self, a: Op, f: Callable[[np.ndarray], np.ndarray]) -> Op:
        """``f(a)`` for symmetric ``a`` (``f`` acts on eigenvalues, elementwise)."""
        return self.funcs(a, [f])[0]

    def funcs(self, a: Op, fs: list[Callable[[np.ndarray], np.ndarray]]) -> list[Op]:
        """``[f(a) for f in fs]`` from one eigen-decomposition of ``a``."""
        lam, vec = self._range()
        half = vec * np.sqrt(lam)  # U vec / sqrt(lam) is orthonormal
        psi = (a.psi + a.psi.T) / 2
        K = half.T @ psi @ half
        w, Q = np.linalg.eigh(a.scale * np.eye(len(lam)) + (K + K.T) / 2)
        full = self.full or len(lam) >= self.n
        back = vec / np.sqrt(lam)
        out = []
        for f in fs:
            fa = 0.0 if full else float(f(np.array([a.scale]))[0])
            inner = (Q * f(w)) @ Q.T - fa * np.eye(len(lam))
            out.append(Op(fa, back @ inner @ back.T))
        return out

    def form(self, left: np.ndarray, op: Op, right: np.ndarray) -> np.ndarray:
        """``L' op R`` for ``L = U left`` and ``R = U right`` (coordinates in the basis)."""
        EL = self.gram @ left
        return op.scale * (left.T @ self.gram @ right) + EL.T @ op.psi @ (self.gram @ right)

    def form_vec(self, left: np.ndarray, op: Op, u_v: np.ndarray) -> np.ndarray:
        """``L' op v`` for ``L = U left`` and any vector(s) ``v`` given as ``U'v``."""
        return op.scale * (left.T @ u_v) + (self.gram @ left).T @ op.psi @ u_v


def inv_sqrt_pinv(w: np.ndarray) -> np.ndarray:
    """``w^(-1/2)`` with eigenvalues below ``1e-12`` (relative) set to zero, as clubSandwich."""
    tol = 1e-12 * max(float(np.max(np.abs(w), initial=0.0)), 1.0e-300)
    out = np.zeros_like(w)
    ok = w > tol
    out[ok] = 1.0 / np.sqrt(w[ok])
    return out


def sqrt_psd(w: np.ndarray) -> np.ndarray:
    """``w^(1/2)`` with negative rounding error clipped."""
    return np.sqrt(np.maximum(w, 0.0))


def inverse(w: np.ndarray) -> np.ndarray:
    """``1 / w``."""
    return 1.0 / w
