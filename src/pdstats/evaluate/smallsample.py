"""Small-sample inference for an estimator given by its per-unit influence function.

The heterogeneity-robust estimators of this family (Callaway & Sant'Anna, Sun & Abraham,
imputation) are, for a given adoption schedule, averages over adoption cohorts of means
of unit-level quantities: the overall ATT is ``sum_g c_g mean_{i in g} z_i``, and its
influence function (IF) ``psi_i`` is the unit's deviation from its cohort mean, scaled,
plus a term that is constant within the cohort (the estimation of the cohort shares).
The textbook analytic variance ``sum_i psi_i^2 / n^2`` then estimates each cohort's
sampling variance by ``SS_g / n_g^2`` instead of the unbiased ``SS_g / (n_g (n_g - 1))``
and uses normal critical values: with the two or three districts per adoption year and
the handful of clean comparison districts typical of a state program, intervals are
too short (a third of the variance is missing with three units per cohort).

:func:`cohort_t` is the small-sample correction of that variance:

* within each cohort ``g`` (never-treated units one more cohort) the centred IF gets the
  leverage factor ``n_g / (n_g - 1)`` - the HC2 / CR2 adjustment of a regression on cohort
  dummies, which makes each cohort's variance component unbiased;
* the variance is conditional on the adoption schedule (the cohort sizes are the
  design, as in a state's rollout): the within-cohort constant part of the IF, which
  accounts for sampling the cohort shares, is left out (R ``did``'s analytic variance
  keeps it; ``inference="analytic"``);
* the reference distribution is Student t with Welch's (1947) df
  ``V^2 / sum_g (V_g^2 / (n_g + 1)) - 2`` of the cohort components ``V_g`` (the
  Satterthwaite df corrected for the noise of components estimated from two or three
  units, which otherwise makes the df, and the intervals, far too conservative);
* with ``cluster`` (clusters above the unit, e.g. states) the IF is summed by cluster,
  scaled by ``G / (G - 1)`` and referred to t with ``G - 1`` df (the usual few-cluster
  rule).

For Callaway & Sant'Anna with outcome regression, never-treated comparisons and no
covariates the within-cohort part is exact: the estimate is then a fixed linear
combination of independent cohort means, and the variance the unbiased (HC2 = CR2)
variance of it - the case Welch's test was made for. Measured on simulated
pay-for-performance worlds in ``pdstats/evaluate/README.md``.
"""

from __future__ import annotations

import warnings

import numpy as np

from pdstats.errors import EstimationWarning

__all__ = ["cohort_t"]


def cohort_t(psi: np.ndarray, cohort: np.ndarray, cluster: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors and t df of estimates from their per-unit influence functions.

    Parameters
    ----------
    psi : numpy.ndarray
        (n,) or (n, k) influence functions, one row per unit, scaled as R ``did``'s (the
        analytic SE is ``sqrt(sum psi^2) / n``).
    cohort : numpy.ndarray
        (n,) adoption cohort of each unit (never-treated units one cohort).
    cluster : numpy.ndarray, optional
        (n,) cluster of each unit, clusters above the unit.

    Returns
    -------
    (std_error, df) : tuple of numpy.ndarray
        (k,) each (scalars' arrays of shape () for a 1-d ``psi``).

    Examples
    --------
    Two cohorts of three units: each cohort's component gets ``3 / 2``.

    >>> psi = np.array([1.0, -1.0, 0.0, 2.0, 0.0, -2.0])
    >>> se, df = cohort_t(psi, np.array([0, 0, 0, 1, 1, 1]))
    >>> round(float(se), 4), round(float(np.sqrt(np.sum(psi**2)) / 6), 4), round(float(df), 2)
    (0.6455, 0.527, 3.88)
    """
    psi = np.asarray(psi, dtype=float)
    one = psi.ndim == 1
    if one:
        psi = psi[:, None]
    n = psi.shape[0]
    if cluster is not None:
        codes = np.unique(np.asarray(cluster), return_inverse=True)[1]
        G = int(codes.max()) + 1
        sums = np.zeros((G, psi.shape[1]))
        np.add.at(sums, codes, psi)
        var = (G / (G - 1) if G > 1 else np.nan) * np.sum(sums**2, axis=0) / n**2
        df = np.full(psi.shape[1], float(G - 1) if G > 1 else np.nan)
    else:
        codes = np.unique(np.asarray(cohort), return_inverse=True)[1]
        var = np.zeros(psi.shape[1])
        denom = np.zeros(psi.shape[1])
        for g in range(int(codes.max()) + 1):
            block = psi[codes == g]
            m = len(block)
            if m < 2:
                # a lone unit's deviation from its cohort is 0, which would claim its cohort
                # mean is known exactly: keep its uncentred contribution (the analytic one)
                within = np.sum(block**2, axis=0) / n**2
                if np.any(within > 0):
                    warnings.warn("a cohort with one unit: its sampling variance cannot be estimated "
                                  "from within the cohort; its analytic (uncentred) influence-function "
                                  "term is used", EstimationWarning, stacklevel=3)
                var += within
                denom += within**2 / (m + 1)
                continue
            within = m / (m - 1) * np.sum((block - block.mean(axis=0)) ** 2, axis=0) / n**2
            var += within
            denom += within**2 / (m + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            df = np.where(denom > 0, np.maximum(var**2 / denom - 2.0, 1.0), np.inf)
    se = np.sqrt(var)
    return (se[0], df[0]) if one else (se, df)
