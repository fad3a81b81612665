"""Simulated three-level growth data with known truth, and interval-coverage studies.

Occasions are nested in students, students in schools (or districts).  Each school and
each student has a correlated random intercept and growth slope; a school-level
covariate ``x`` shifts the intercept and the slope (a cross-level interaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["GrowthTruth", "simulate_growth", "coverage_study"]


@dataclass(frozen=True)
class GrowthTruth:
    """True parameters of :func:`simulate_growth` (fixed effects by term name)."""

    fixed: dict[str, float] = field(
        default_factory=lambda: {"Intercept": 0.0, "year": 0.5, "x": 0.3, "year:x": 0.1}
    )
    school_sd: tuple[float, float] = (0.4, 0.1)
    school_corr: float = 0.3
    student_sd: tuple[float, float] = (0.8, 0.15)
    student_corr: float = 0.4
    sigma: float = 0.5


def _cov(sd: tuple[float, float], corr: float) -> np.ndarray:
    return np.array([[sd[0] ** 2, corr * sd[0] * sd[1]], [corr * sd[0] * sd[1], sd[1] ** 2]])


def simulate_growth(
    n_schools: int = 28,
    students_per_school: int = 20,
    n_occasions: int = 4,
    truth: GrowthTruth | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate a balanced three-level growth data set.

    Parameters
    ----------
    n_schools, students_per_school, n_occasions : int
        Design sizes; ``year`` runs from ``-(T-1)/2`` to ``(T-1)/2``.
    truth : GrowthTruth, optional
        True parameters (defaults shown in :class:`GrowthTruth`).
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        Columns school, student, year, x (school covariate, standard normal), y.

    Examples
    --------
    >>> df = simulate_growth(5, 3, 4, random_state=1)
    >>> df.shape
    (60, 5)
    """
    truth = truth or GrowthTruth()
    rng = np.random.default_rng(random_state)
    n_students = n_schools * students_per_school
    school = np.repeat(np.arange(n_schools), students_per_school * n_occasions)
    student = np.repeat(np.arange(n_students), n_occasions)
    year = np.tile(np.arange(n_occasions) - (n_occasions - 1) / 2, n_students)
    x_school = rng.standard_normal(n_schools)
    u_school = rng.multivariate_normal(np.zeros(2), _cov(truth.school_sd, truth.school_corr),
                                       n_schools)
    u_student = rng.multivariate_normal(np.zeros(2), _cov(truth.student_sd, truth.student_corr),
                                        n_students)
    x = x_school[school]
    f = truth.fixed
    y = (
        f["Intercept"] + f["year"] * year + f["x"] * x + f["year:x"] * year * x
        + u_school[school, 0] + u_school[school, 1] * year
        + u_student[student, 0] + u_student[student, 1] * year
        + rng.standard_normal(len(year)) * truth.sigma
    )
    return pd.DataFrame({"school": school, "student": student, "year": year, "x": x, "y": y})


def _fit_growth(df: pd.DataFrame, rng: np.random.Generator, ddfs: tuple[str, ...],
                level: float) -> pd.DataFrame:
    """Runner estimator: REML growth model, fixed effects under each ddf ("ddf: term" rows)."""
    import warnings

    from pdstats.errors import EstimationWarning
    from pdstats.multilevel.model import lmm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        fit = lmm("y ~ year * x + (year | student) + (year | school)", df)
        parts = [fit.fixed_effects(ddf=ddf, level=level).rename_axis("name").reset_index().assign(ddf=ddf)
                 for ddf in ddfs]
    out = pd.concat(parts, ignore_index=True)
    return out.assign(term=out["ddf"] + ": " + out["name"].astype(str))


def coverage_study(
    n_reps: int = 500,
    n_schools: int = 28,
    students_per_school: int = 10,
    n_occasions: int = 4,
    ddfs: tuple[str, ...] = ("satterthwaite", "z"),
    level: float = 0.95,
    truth: GrowthTruth | None = None,
    random_state: int | None = None,
    progress: bool = True,
    backend: str = "local",
) -> pd.DataFrame:
    """Coverage, bias and RMSE of fixed-effect intervals over simulated replications.

    Fits ``y ~ year * x + (year | student) + (year | school)`` by REML to each replicate,
    through the validation runner :func:`pdstats.simulate.run` (each replicate its own
    stream spawned from ``random_state``; ``backend="dask"`` spreads them over a cluster).

    Returns
    -------
    pandas.DataFrame
        One row per (ddf, term): coverage with its Monte Carlo SE (``coverage_mcse``), mean
        estimate, bias with its Monte Carlo SE (``bias_mcse``), rmse, mean interval width,
        mean df and n_reps.

    Examples
    --------
    >>> tab = coverage_study(n_reps=3, n_schools=10, students_per_school=4,
    ...                      random_state=1, progress=False)
    >>> sorted(tab.columns.tolist())[:3]
    ['bias', 'bias_mcse', 'coverage']
    """
    from functools import partial

    from pdstats.simulate.runner import run

    truth = truth or GrowthTruth()
    res = run(partial(_fit_growth, ddfs=tuple(ddfs), level=level),
              partial(simulate_growth, n_schools, students_per_school, n_occasions, truth),
              n_worlds=n_reps, truth={f"{d}: {t}": v for d in ddfs for t, v in truth.fixed.items()},
              random_state=random_state, progress=progress, backend=backend)
    d = res.draws.assign(width=res.draws["ci_upper"] - res.draws["ci_lower"])
    out = d.groupby(["ddf", "name"], sort=False).agg(mean_estimate=("estimate", "mean"),
                                                     mean_width=("width", "mean"), mean_df=("df", "mean"),
                                                     n_reps=("world", "nunique"))
    est = res.estimates.set_index(["term", "quantity"])
    keys = [f"{a}: {b}" for a, b in out.index]
    for q in ("coverage", "bias", "rmse"):
        out[q] = est.loc[[(k, q) for k in keys], "estimate"].to_numpy()
    out["coverage_mcse"] = est.loc[[(k, "coverage") for k in keys], "std_error"].to_numpy()
    out["bias_mcse"] = est.loc[[(k, "bias") for k in keys], "std_error"].to_numpy()
    out = out.reset_index().rename(columns={"name": "term"})
    return out[["ddf", "term", "coverage", "coverage_mcse", "mean_estimate", "bias", "bias_mcse", "rmse",
                "mean_width", "mean_df", "n_reps"]]
