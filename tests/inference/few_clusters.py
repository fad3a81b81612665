"""A few-cluster world with known truth (slope 0) for the size of cluster-robust tests.

``G`` clusters of 5-59 rows; the regressor has a skewed cluster-level part
(lognormal, sd 0.6 on the log scale) plus within-cluster noise; the outcome has a
cluster random effect (ICC 0.5) and no effect of ``x``. Each world is one row per
method: CR2 with Bell-McCaffrey df, CR1 with normal critical values, and the restricted
wild cluster bootstrap (Rademacher; Webb below 12 clusters).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.inference.covariance import robust_covariance
from pdstats.inference.ols import ols_fit
from pdstats.inference.wild import wild_bootstrap

METHODS = ("CR2-BM", "CR1-normal", "wild-WCR")


def make_world(n_clusters: int) -> Callable[[np.random.Generator], pd.DataFrame]:
    def world(rng: np.random.Generator) -> pd.DataFrame:
        sizes = rng.integers(5, 60, size=n_clusters)
        g = np.repeat(np.arange(n_clusters), sizes)
        x = rng.lognormal(0.0, 0.6, size=n_clusters)[g] + 0.5 * rng.normal(size=len(g))
        y = rng.normal(size=n_clusters)[g] + rng.normal(size=len(g))
        return pd.DataFrame({"g": g, "x": x, "y": y})

    return world


def make_estimator(n_boot: int = 399) -> Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]:
    def estimator(d: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        fit, _ = ols_fit("y ~ x", d, cluster="g")
        b = fit.beta[1]
        cr2, cr1 = robust_covariance(fit, "CR2"), robust_covariance(fit, "CR1")
        se2, se1 = np.sqrt(cr2.vcov[1, 1]), np.sqrt(cr1.vcov[1, 1])
        wb = wild_bootstrap(fit, "x", n_boot=n_boot, random_state=rng, progress=False,
                            weights="webb" if fit.n_clusters < 12 else "rademacher")
        return pd.DataFrame({
            "term": list(METHODS), "estimate": b,
            "std_error": [se2, se1, se1],
            "p_value": [2 * stats.t.sf(abs(b / se2), cr2.df[1]), 2 * stats.norm.sf(abs(b / se1)),
                        wb.p_value]})

    return estimator
