"""Design-based difference in means for individual, cluster and blocked randomization.

The estimators are those of R's ``estimatr::difference_in_means`` (Blair, Cooper, Coppock,
Humphreys & Sonnet; formulas in its "Mathematical notes" vignette), written here from
their formulas:

* **standard** (individual randomization, no blocks): ``mean(y | d=1) - mean(y | d=0)``
  with the Neyman variance ``s1^2 / n1 + s0^2 / n0`` and Welch-Satterthwaite df;
* **clustered** (whole clusters assigned): the least-squares slope of ``y`` on ``d``
  with the CR2 variance and its Bell-McCaffrey df (Pustejovsky & Tipton 2018), as
  ``lm_robust(se_type = "CR2")``;
* **blocked**: the block estimates weighted by the block's share of the rows,
  ``sum_b (N_b / N) tau_b``, with variance ``sum_b (N_b / N)^2 V_b`` and ``N - 2B`` df
  (``J - 2B`` with ``J`` clusters);
* **matched pairs** (every block has two units or clusters, one per arm): the same
  point estimate with the pair variance ``1 / (B (B - 1)) sum_b (tau_b - tau)^2`` (clustered:
  ``B / ((B - 1) N^2) sum_b (N_b tau_b - N tau / B)^2``) and ``B - 1`` df.

Blocks mixing pairs with larger blocks use the pair variance, with an
:class:`~pdstats.errors.EstimationWarning` (estimatr does the same and warns).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pdstats.errors import EstimationWarning
from pdstats.inference.covariance import robust_covariance
from pdstats.inference.ols import ols_fit

__all__ = ["DesignEstimate", "difference_in_means"]


@dataclass(frozen=True)
class DesignEstimate:
    """A design-based estimate: ``estimate``, ``std_error``, ``df`` and the design's name."""

    estimate: float
    std_error: float
    df: float
    design: str


def _within(y: np.ndarray, d: np.ndarray, cluster: np.ndarray | None,
            pair: bool) -> tuple[float, float, float]:
    """(estimate, SE, df) of one block or of an unblocked sample."""
    y1, y0 = y[d == 1], y[d == 0]
    diff = float(y1.mean() - y0.mean())
    if pair:
        return diff, np.nan, np.nan
    if cluster is None:
        v1, v0 = y1.var(ddof=1) / len(y1), y0.var(ddof=1) / len(y0)
        se = float(np.sqrt(v1 + v0))
        df = se**4 / (v1**2 / (len(y1) - 1) + v0**2 / (len(y0) - 1))
        return diff, se, float(df)
    fit, _ = ols_fit("y ~ d", pd.DataFrame({"y": y, "d": d}), cluster=cluster)
    rc = robust_covariance(fit, "CR2")
    return float(fit.beta[1]), float(np.sqrt(rc.vcov[1, 1])), float(rc.df[1])


def difference_in_means(y: np.ndarray, d: np.ndarray, block: np.ndarray | None = None,
                        cluster: np.ndarray | None = None) -> DesignEstimate:
    """Design-based difference in means (estimatr's estimators; see the module docstring).

    Parameters
    ----------
    y, d : numpy.ndarray
        Outcome and 0/1 assignment, one value per row.
    block, cluster : numpy.ndarray, optional
        Block and cluster codes, one per row (clusters nested in blocks; the assignment
        constant within clusters). The caller checks the design.

    Returns
    -------
    DesignEstimate

    Examples
    --------
    >>> y = np.array([1.0, 2, 3, 4, 6, 8])
    >>> d = np.array([0, 0, 0, 1, 1, 1])
    >>> r = difference_in_means(y, d)
    >>> round(r.estimate, 3), round(r.std_error, 3), r.design
    (4.0, 1.291, 'standard')
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(d, dtype=float)
    if block is None:
        est, se, df = _within(y, d, cluster, pair=False)
        return DesignEstimate(est, se, df, "clustered" if cluster is not None else "standard")
    codes, _ = pd.factorize(pd.Series(block), sort=True)
    units = pd.Series(cluster if cluster is not None else np.arange(len(y))).to_numpy()
    per_block = pd.Series(units).groupby(codes).nunique().to_numpy()
    pair = bool((per_block == 2).any())
    if pair and not (per_block == 2).all():
        warnings.warn(f"{int((per_block == 2).sum())} of {len(per_block)} blocks have two units "
                      "(or clusters) and the others more: the matched-pair variance is used for "
                      "all (no within-block variance exists in a pair)", EstimationWarning,
                      stacklevel=3)
    n_blocks = len(per_block)
    est_b, se_b, n_b = np.empty(n_blocks), np.empty(n_blocks), np.empty(n_blocks)
    for b in range(n_blocks):
        m = codes == b
        est_b[b], se_b[b], _ = _within(y[m], d[m], None if cluster is None else cluster[m], pair)
        n_b[b] = m.sum()
    n = n_b.sum()
    est = float(np.sum(est_b * n_b / n))
    if pair:
        if cluster is None:
            var = np.sum((est_b - est) ** 2) / (n_blocks * (n_blocks - 1))
        else:
            var = n_blocks / ((n_blocks - 1) * n**2) * np.sum((n_b * est_b - n * est / n_blocks) ** 2)
        design = "matched pairs" + (" (clustered)" if cluster is not None else "")
        return DesignEstimate(est, float(np.sqrt(var)), float(n_blocks - 1), design)
    se = float(np.sqrt(np.sum(se_b**2 * (n_b / n) ** 2)))
    n_units = len(y) if cluster is None else int(per_block.sum())
    design = "blocked" + (" (clustered)" if cluster is not None else "")
    return DesignEstimate(est, se, float(n_units - 2 * n_blocks), design)
