"""Stacks of tiny ``k x k`` matrices stored as ``(a, b, L)`` arrays ("structure of arrays").

Every operation is a vector operation over the ``L`` levels of a grouping factor, which
is how the blocked Cholesky factorizations of :mod:`pdstats.multilevel.deviance` and
:mod:`pdstats.multilevel.crossed` treat one ``k x k`` block per level without a Python
loop over levels (``k`` is 1-3 in practice).

Examples
--------
>>> import numpy as np
>>> D = np.array([[[4.0, 9.0]]])  # two 1 x 1 blocks
>>> C, logdet = soa_cholesky(D)
>>> C.ravel().tolist(), bool(np.isclose(logdet, np.log(36.0)))
([2.0, 3.0], True)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["soa_mul_t", "soa_t_mul", "soa_const_right", "soa_const_left", "soa_sandwich", "soa_cholesky",
           "soa_tri_inv", "soa_group", "aos"]

def soa_mul_t(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """out[a, c, l] = sum_b A[a, b, l] * B[c, b, l]  (A @ B' per level)."""
    na, nb, L = A.shape
    nc = B.shape[0]
    out = np.empty((na, nc, L))
    for a in range(na):
        for c in range(nc):
            acc = A[a, 0] * B[c, 0]
            for b in range(1, nb):
                acc += A[a, b] * B[c, b]
            out[a, c] = acc
    return out


def soa_t_mul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """out[b, c, l] = sum_a A[a, b, l] * B[a, c, l]  (A' @ B per level)."""
    out = A[0][:, None, :] * B[0][None, :, :]
    for a in range(1, A.shape[0]):
        out += A[a][:, None, :] * B[a][None, :, :]
    return out


def soa_const_right(A: np.ndarray, M: np.ndarray) -> np.ndarray:
    """out[a, c, l] = sum_b A[a, b, l] * M[b, c]  (A @ M per level, M constant)."""
    na, nb, L = A.shape
    nc = M.shape[1]
    out = np.zeros((na, nc, L))
    for c in range(nc):
        for b in range(nb):
            if M[b, c] != 0.0:
                out[:, c] += A[:, b] * M[b, c]
    return out


def soa_const_left(M: np.ndarray, A: np.ndarray) -> np.ndarray:
    """out[a, c, l] = sum_b M[a, b] * A[b, c, l]  (M @ A per level, M constant)."""
    nb, nc, L = A.shape
    na = M.shape[0]
    out = np.zeros((na, nc, L))
    for a in range(na):
        for b in range(nb):
            if M[a, b] != 0.0:
                out[a] += M[a, b] * A[b]
    return out


def soa_sandwich(T: np.ndarray, A: np.ndarray) -> np.ndarray:
    """T' A T per level for a constant T."""
    return soa_const_right(soa_const_left(T.T, A), T)


def soa_cholesky(D: np.ndarray) -> tuple[np.ndarray, float]:
    """Lower Cholesky factor per level and the sum of log-determinants (2 sum log diag)."""
    k, _, L = D.shape
    C = np.zeros_like(D)
    logdet = 0.0
    for j in range(k):
        s = D[j, j].copy()
        for m in range(j):
            s -= C[j, m] ** 2
        if np.any(s <= 0):
            raise np.linalg.LinAlgError("matrix not positive definite")
        C[j, j] = np.sqrt(s)
        logdet += 2.0 * float(np.sum(np.log(C[j, j])))
        for i in range(j + 1, k):
            s = D[i, j].copy()
            for m in range(j):
                s -= C[i, m] * C[j, m]
            C[i, j] = s / C[j, j]
    return C, logdet


def soa_tri_inv(C: np.ndarray) -> np.ndarray:
    """Inverse of lower-triangular matrices per level."""
    k = C.shape[0]
    Inv = np.zeros_like(C)
    for j in range(k):
        Inv[j, j] = 1.0 / C[j, j]
        for i in range(j + 1, k):
            s = np.zeros(C.shape[2])
            for m in range(j, i):
                s -= C[i, m] * Inv[m, j]
            Inv[i, j] = s / C[i, i]
    return Inv


def soa_group(ind: sp.csr_matrix, A: np.ndarray) -> np.ndarray:
    """Sum the last axis of A (levels of a finer term) into the levels of a coarser term."""
    flat = A.reshape(-1, A.shape[-1])
    return np.asarray(ind @ flat.T).T.reshape((*A.shape[:-1], ind.shape[0]))


def aos(A: np.ndarray) -> np.ndarray:
    """Back to an "array of structures": (a, b, L) -> contiguous (L, a, b)."""
    return np.ascontiguousarray(np.moveaxis(A, -1, 0))
