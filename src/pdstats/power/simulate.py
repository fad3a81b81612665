"""Simulation-based power of a cluster-randomized design, through the validation runner.

:func:`simulate_power` draws worlds of a two- or three-level cluster design (treatment
assigned to a share of the top-level units by complete random assignment), analyses each
with ``estimator`` (by default the t test of the top-level means, which is exact for a
balanced design) and returns the runner's :class:`~pdstats.simulate.ValidationResult`:
its ``rejection`` row is the simulated power with its Monte Carlo SE, to set beside the
analytic :func:`pdstats.power.power`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.power.design import Design, _number
from pdstats.results import add_ci
from pdstats.simulate.runner import ValidationResult, run

__all__ = ["cluster_trial", "cluster_means_test", "simulate_power"]


def cluster_trial(rng: np.random.Generator, design: Design, effect: float) -> pd.DataFrame:
    """One simulated cluster-randomized trial of ``design`` with a true ``effect``.

    Level ``l`` contributes ``sqrt(s_l r2_l) x_l + sqrt(s_l (1 - r2_l)) z_l`` to the outcome
    (``s_l`` its variance share, ``x_l`` a standard-normal covariate of level ``l``, ``z_l``
    a standard-normal error); ``round(P K)`` of the ``K`` top-level units are treated.

    Returns
    -------
    pandas.DataFrame
        One row per level-1 unit: ``cluster`` (top level), ``subcluster`` (three levels),
        ``treated``, ``y`` and, where ``r2`` is positive, the covariates ``x1``, ``x2``
        (three levels) and ``x_top``.

    Examples
    --------
    >>> d = Design(levels=2, assigned_at=2, n_clusters=4, cluster_size=3, icc=0.2)
    >>> cluster_trial(np.random.default_rng(0), d, 0.5).shape
    (12, 3)
    """
    k, n = int(design.n_clusters), int(design.cluster_size)
    j = int(design.subclusters) if design.levels == 3 else 1
    top = np.repeat(np.arange(k), j * n)
    mid = np.repeat(np.arange(k * j), n)
    treated = np.zeros(k)
    treated[rng.permutation(k)[: int(round(design.treated_share * k))]] = 1.0
    index = [None, mid, top] if design.levels == 3 else [None, top]
    size = [k * j * n, k * j, k] if design.levels == 3 else [k * n, k]
    y = effect * treated[top]
    cols: dict[str, np.ndarray] = {"cluster": top}
    if design.levels == 3:
        cols["subcluster"] = mid
    for l, (share, r2) in enumerate(zip(design.shares, design.r2, strict=True)):
        x = rng.standard_normal(size[l])
        z = rng.standard_normal(size[l])
        part = np.sqrt(share * r2) * x + np.sqrt(share * (1 - r2)) * z
        y = y + (part if index[l] is None else part[index[l]])
        if r2 > 0:  # the covariate exists only where it explains something
            name = "x_top" if l == design.levels - 1 else f"x{l + 1}"
            cols[name] = x if index[l] is None else x[index[l]]
    return pd.DataFrame({**cols, "treated": treated[top], "y": y})


def cluster_means_test(data: pd.DataFrame, rng: np.random.Generator | None = None,
                       adjust_lower: bool = True, adjust_top: bool = True,
                       two_sided: bool = True) -> pd.DataFrame:
    """t test of the treatment on top-level means, after the lower-level covariates.

    The lower-level covariates (``x1``, ``x2``) are removed with their pooled slopes within
    top-level units; the top-level means are then regressed on ``treated`` (and ``x_top``),
    with ``K - 2 - g`` degrees of freedom.

    Returns
    -------
    pandas.DataFrame
        One row, ``term = "treatment"``: estimate, std_error, df, p_value, ci_lower, ci_upper.

    Examples
    --------
    >>> d = Design(levels=2, assigned_at=2, n_clusters=10, cluster_size=5, icc=0.2)
    >>> cluster_means_test(cluster_trial(np.random.default_rng(1), d, 0.5))["df"].item()
    8.0
    """
    cluster = pd.factorize(data["cluster"])[0]
    count = np.bincount(cluster).astype(float)

    def means(v: np.ndarray) -> np.ndarray:
        return np.bincount(cluster, weights=v) / count

    y = data["y"].to_numpy(float)
    lower = [data[c].to_numpy(float) for c in ("x1", "x2") if c in data] if adjust_lower else []
    if lower:
        xl = np.column_stack(lower)
        xw = xl - np.column_stack([means(x)[cluster] for x in lower])
        slope = np.linalg.lstsq(xw, y - means(y)[cluster], rcond=None)[0]
        y = y - xl @ slope
    top = [means(data["x_top"].to_numpy(float))] if adjust_top and "x_top" in data else []
    x = np.column_stack([np.ones(len(count)), means(data["treated"].to_numpy(float)), *top])
    ybar = means(y)
    beta, *_ = np.linalg.lstsq(x, ybar, rcond=None)
    resid = ybar - x @ beta
    df = float(len(ybar) - x.shape[1])
    cov = (resid @ resid / df) * np.linalg.inv(x.T @ x)
    se = float(np.sqrt(cov[1, 1]))
    t = beta[1] / se
    p = 2 * stats.t.sf(abs(t), df) if two_sided else stats.t.sf(t, df)
    out = pd.DataFrame({"term": ["treatment"], "estimate": [beta[1]], "std_error": [se], "df": [df],
                        "p_value": [p]})
    return add_ci(out, 0.95)


def simulate_power(effect: float, *, levels: int = 2, n_clusters: int, cluster_size: int,
                   subclusters: int | None = None, icc: Any = 0.0, r2: Any = None, treated_share: float = 0.5,
                   alpha: float = 0.05, two_sided: bool = True, n_worlds: int = 500,
                   estimator: Callable[[pd.DataFrame, np.random.Generator], Any] | None = None,
                   backend: str = "local", client: Any = None, random_state: int | None = 0,
                   progress: bool = True) -> ValidationResult:
    """Power of a cluster-randomized design by simulation (the runner's rejection rate).

    Parameters
    ----------
    effect : float
        True treatment effect (outcome SDs).
    levels, n_clusters, cluster_size, subclusters, icc, r2, treated_share
        The design, as in :func:`pdstats.power.mdes` with the treatment at the top level;
        sizes are whole numbers (a balanced design).
    alpha : float
        Significance level; a world rejects when its p-value is below it.
    two_sided : bool
        Two-sided test (default).
    n_worlds : int
        Simulated trials.
    estimator : callable, optional
        ``estimator(data, rng)`` returning a runner table with a ``treatment`` term and a
        ``p_value`` (e.g. a mixed model or CR2 regression); default
        :func:`cluster_means_test`.
    backend, client, random_state, progress
        Passed to :func:`pdstats.simulate.run`.

    Returns
    -------
    ValidationResult
        Its ``rejection`` row for ``treatment`` is the simulated power (with Monte Carlo SE).

    Examples
    --------
    >>> import pdstats as pds
    >>> res = pds.power.simulate_power(0.5, n_clusters=20, cluster_size=10, icc=0.1,
    ...                                n_worlds=50, progress=False)
    >>> float(res.estimates.query("quantity == 'rejection'")["estimate"].iloc[0]) > 0.5
    True
    """
    alpha = _number("alpha", alpha, 0, 1, True, True)
    effect = _number("effect", effect)
    design = Design(levels=levels, assigned_at=levels, n_clusters=n_clusters, cluster_size=cluster_size,
                    subclusters=subclusters, icc=icc, r2=r2, treated_share=treated_share)
    design = replace(design, n_covariates=int(design.r2[-1] > 0))  # the top-level covariate
    for name in ("n_clusters", "cluster_size", "subclusters"):
        value = getattr(design, name)
        if value is not None:
            _number(name, value, 1, integer=True)
    fit = estimator or partial(cluster_means_test, two_sided=two_sided)
    return run(fit, partial(cluster_trial, design=design, effect=effect), n_worlds=n_worlds,
               truth={"treatment": effect}, backend=backend, client=client, random_state=random_state,
               level=1 - alpha, progress=progress)
