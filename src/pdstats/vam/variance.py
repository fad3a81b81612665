"""Variance pieces shared by the Kane-Staiger and CFR estimators, with clustered SEs.

Each piece is a :class:`Moment`: the estimate and its influence contributions summed
by cluster (the unit), so ``Moment.std_error`` is a cluster-robust (sandwich) standard
error and differences of pieces (``total - individual - same_year``) carry theirs.

The formulas follow Stepner's ``vam``:

* total variance of the residual, ``sum w (r - rbar)^2 / sum w * N / (N - p - 1)``
  (``p`` control slopes, Stata's ``e(df_m)``);
* individual (within-class) variance, ``sum w (r - rbar_c)^2 / sum w * N / (N - C - p)``
  (``C`` classes absorbed);
* a covariance of paired means, Stata's ``corr x y [aw = w], covariance``:
  ``n / (n - 1) * sum w (x - xbar)(y - ybar) / sum w`` over ``n`` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Moment", "total_variance", "individual_variance", "weighted_cov", "consecutive_pairs"]


@dataclass
class Moment:
    """An estimated moment with cluster-summed influence values.

    Examples
    --------
    >>> import numpy as np
    >>> a = Moment(2.0, np.array([0.3, 0.4]), 10)
    >>> b = Moment(0.5, np.array([0.1, 0.0]), 10)
    >>> d = a - b
    >>> d.estimate, round(d.std_error, 3)
    (1.5, 0.447)
    """

    estimate: float
    psi: np.ndarray
    n: int

    def __post_init__(self) -> None:
        self.estimate = float(self.estimate)
        self.n = int(self.n)

    @property
    def std_error(self) -> float:
        """Cluster-robust standard error ``sqrt(sum_g psi_g^2)``."""
        return float(np.sqrt(np.sum(self.psi**2)))

    def __sub__(self, other: Moment) -> Moment:
        return Moment(self.estimate - other.estimate, self.psi - other.psi, min(self.n, other.n))


def _cluster_sum(values: np.ndarray, clusters: np.ndarray, n_clusters: int) -> np.ndarray:
    return np.bincount(clusters, weights=values, minlength=n_clusters)


def total_variance(r: np.ndarray, w: np.ndarray, clusters: np.ndarray, n_params: int,
                   n_clusters: int) -> Moment:
    """Total residual variance with the ``N / (N - p - 1)`` degrees-of-freedom factor.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([1.0, -1.0, 2.0, -2.0])
    >>> round(total_variance(r, np.ones(4), np.array([0, 0, 1, 1]), 0, 2).estimate, 4)
    3.3333
    """
    N = len(r)
    W = w.sum()
    d2 = (r - (w @ r) / W) ** 2
    s = (w @ d2) / W
    factor = N / (N - n_params - 1)
    psi = factor * w * (d2 - s) / W
    return Moment(factor * s, _cluster_sum(psi, clusters, n_clusters), N)


def individual_variance(r: np.ndarray, w: np.ndarray, class_codes: np.ndarray,
                        clusters: np.ndarray, n_params: int, n_clusters: int) -> Moment:
    """Within-class residual variance with the ``N / (N - C - p)`` factor.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([1.0, 3.0, -1.0, -3.0])
    >>> c = np.array([0, 0, 1, 1])
    >>> individual_variance(r, np.ones(4), c, c, 0, 2).estimate   # 4 / (4 - 2) * 1
    2.0
    """
    N = len(r)
    C = int(class_codes.max()) + 1
    W = w.sum()
    means = np.bincount(class_codes, weights=w * r, minlength=C) / np.bincount(
        class_codes, weights=w, minlength=C)
    e2 = (r - means[class_codes]) ** 2
    s = (w @ e2) / W
    factor = N / (N - C - n_params)
    psi = factor * w * (e2 - s) / W
    return Moment(factor * s, _cluster_sum(psi, clusters, n_clusters), N)


def weighted_cov(x: np.ndarray, y: np.ndarray, w: np.ndarray, clusters: np.ndarray,
                 n_clusters: int) -> Moment:
    """Stata-style analytic-weight covariance of paired values, clustered influence.

    Returns a missing estimate (NaN) for fewer than two pairs.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0]); y = np.array([1.0, 3.0, 2.0])
    >>> round(weighted_cov(x, y, np.ones(3), np.arange(3), 3).estimate, 3)   # np.cov
    0.5
    """
    n = len(x)
    if n < 2:
        return Moment(float("nan"), np.zeros(n_clusters), n)
    W = w.sum()
    dx = x - (w @ x) / W
    dy = y - (w @ y) / W
    s = (w @ (dx * dy)) / W
    factor = n / (n - 1)
    psi = factor * w * (dx * dy - s) / W
    return Moment(factor * s, _cluster_sum(psi, clusters, n_clusters), n)


def consecutive_pairs(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, i + 1)`` of consecutive members of the same group.

    ``group`` must be sorted (members of a group adjacent, in the pairing order).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = consecutive_pairs(np.array([0, 0, 0, 1, 2, 2]))
    >>> a.tolist(), b.tolist()
    ([0, 1, 4], [1, 2, 5])
    """
    same = np.flatnonzero(group[1:] == group[:-1])
    return same, same + 1
