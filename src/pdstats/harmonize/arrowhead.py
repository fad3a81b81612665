"""Linear algebra of "arrowhead" matrices: many small diagonal blocks plus a shared border.

The information matrix of a HETOP cell has one ``2 x 2`` block per group (its mean and
log-SD), a few border parameters shared by all groups (free cut scores, a pooled log-SD)
and coupling between each group and the border, but no coupling between groups:

``H = [[B, C], [C', E]]`` with ``B = blockdiag(B_1..B_G)``.

Eliminating the groups gives the Schur complement ``S = E - sum_g C_g' B_g^-1 C_g`` of
border size, so a Newton step or a covariance entry costs ``O(G)`` instead of
``O(G^3)``: ``H^-1 = [[B^-1 + B^-1 C S^-1 C' B^-1, -B^-1 C S^-1], [., S^-1]]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Arrowhead"]


@dataclass
class Arrowhead:
    """A symmetric positive-definite arrowhead matrix, factorized on construction.

    Parameters
    ----------
    b : numpy.ndarray
        ``G x q x q`` diagonal blocks.
    c : numpy.ndarray
        ``G x q x m`` coupling of each group to the ``m`` border parameters.
    e : numpy.ndarray
        ``m x m`` border block.

    Raises
    ------
    numpy.linalg.LinAlgError
        When the matrix is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> h = Arrowhead(np.array([[[2.0]], [[4.0]]]), np.array([[[1.0]], [[1.0]]]), np.array([[3.0]]))
    >>> dense = np.array([[2.0, 0, 1], [0, 4, 1], [1, 1, 3]])
    >>> x = h.solve(np.array([[1.0], [2.0]]), np.array([3.0]))
    >>> np.allclose(np.concatenate([x[0].ravel(), x[1]]), np.linalg.solve(dense, [1.0, 2, 3]))
    True
    """

    b: np.ndarray
    c: np.ndarray
    e: np.ndarray

    def __post_init__(self) -> None:
        np.linalg.cholesky(self.b)  # raises LinAlgError when a block is not PD
        self.binv = np.linalg.inv(self.b)
        self.binv_c = self.binv @ self.c
        schur = self.e - np.einsum("gqm,gqn->mn", self.c, self.binv_c)
        m = schur.shape[0]
        if m:
            np.linalg.cholesky(schur)
            self.schur_inv = np.linalg.inv(schur)
        else:
            self.schur_inv = np.zeros((0, 0))

    def solve(self, r_groups: np.ndarray, r_border: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Solve ``H x = r`` for group (``G x q``) and border (``m``) right-hand sides."""
        binv_r = np.einsum("gqp,gp->gq", self.binv, r_groups)
        rb = r_border - np.einsum("gqm,gq->m", self.c, binv_r)
        x_b = self.schur_inv @ rb
        x_g = binv_r - np.einsum("gqm,m->gq", self.binv_c, x_b)
        return x_g, x_b

    def group_cov(self) -> np.ndarray:
        """The ``G x q x q`` diagonal blocks of ``H^-1``."""
        extra = np.einsum("gqm,mn,gpn->gqp", self.binv_c, self.schur_inv, self.binv_c)
        return self.binv + extra

    def border_cov(self) -> np.ndarray:
        """The ``m x m`` border block of ``H^-1``."""
        return self.schur_inv
