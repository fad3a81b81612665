"""Simulation-based power of a staggered rollout, through the validation runner.

There is no closed form for the power of heterogeneity-robust difference-in-differences
estimators, so :func:`rollout_power` simulates it: :func:`rollout_panel` draws a panel of
``n_units`` units (districts or schools) over ``n_periods`` periods in which cohorts of
units adopt at the given periods and stay treated (the rest never adopt); the outcome,
in SD units, is

    y_it = a_i + g_t + effect x D_it + e_it,  a_i ~ N(0, icc),  e_it ~ N(0, 1 - icc),

with ``e`` an AR(1) series within unit (``autocorrelation``). Each world is analysed with
the family's estimators (:func:`pdstats.evaluate.validation.did_estimates`: Callaway &
Sant'Anna simple ATT, imputation, Sun & Abraham, TWFE) and the runner's ``rejection`` row
of each term is its simulated power (with Monte Carlo SE); with ``effect = 0`` it is the
test's size. Coverage and bias come with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError
from pdstats.evaluate.validation import TERMS, did_estimates
from pdstats.simulate.runner import ValidationResult, run

__all__ = ["rollout_panel", "rollout_power"]


def _check(n_units: int, n_periods: int, adoption: Sequence[int], never_share: float,
           icc: float, autocorrelation: float) -> list[int]:
    for name, v, lo in (("n_units", n_units, 4), ("n_periods", n_periods, 2)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
            raise ModelSpecificationError(f"argument {name!r} must be an integer >= {lo}, got {v!r}")
    periods = [int(a) for a in adoption]
    if not periods or any(a < 2 or a > n_periods for a in periods):
        raise ModelSpecificationError(
            f"adoption periods must lie in 2..{n_periods} (period 1 is everyone's baseline), "
            f"got {list(adoption)!r}")
    for name, v, hi in (("never_treated_share", never_share, 1.0), ("icc", icc, 1.0),
                        ("autocorrelation", autocorrelation, 1.0)):
        if not np.isfinite(v) or not 0 <= v < hi:
            raise ModelSpecificationError(f"argument {name!r} must be in [0, {hi}), got {v!r}")
    return periods


def rollout_panel(rng: np.random.Generator, effect: float = 0.2, n_units: int = 40,
                  n_periods: int = 6, adoption: Sequence[int] = (3, 4, 5),
                  never_treated_share: float = 0.25, icc: float = 0.5,
                  autocorrelation: float = 0.0) -> pd.DataFrame:
    """One simulated staggered rollout (see the module docstring).

    Units are split into the never-treated share and equal cohorts, one per adoption
    period (assignment of units to cohorts is random).

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``year`` (1..n_periods), ``first_treated_year`` (NaN: never),
        ``outcome``; ``attrs["truth"]`` is ``effect``.

    Examples
    --------
    >>> d = rollout_panel(np.random.default_rng(0), n_units=8, n_periods=4, adoption=(3,))
    >>> d.shape, int(d["first_treated_year"].notna().sum())
    ((32, 4), 24)
    """
    periods = _check(n_units, n_periods, adoption, never_treated_share, icc, autocorrelation)
    n_never = int(round(never_treated_share * n_units))
    cohort = np.full(n_units, np.nan)
    treated = rng.permutation(n_units)[n_never:]
    for k, idx in enumerate(np.array_split(treated, len(periods))):
        cohort[idx] = periods[k]
    t = np.arange(1, n_periods + 1)
    rho = autocorrelation
    e = np.empty((n_units, n_periods))
    e[:, 0] = rng.standard_normal(n_units)
    for j in range(1, n_periods):
        e[:, j] = rho * e[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n_units)
    a = np.sqrt(icc) * rng.standard_normal(n_units)
    g = 0.1 * t
    d = (np.nan_to_num(cohort, nan=np.inf)[:, None] <= t[None, :]).astype(float)
    y = a[:, None] + g[None, :] + effect * d + np.sqrt(1 - icc) * e
    out = pd.DataFrame({"unit_id": np.repeat(np.arange(n_units), n_periods),
                        "year": np.tile(t, n_units),
                        "first_treated_year": np.repeat(cohort, n_periods),
                        "outcome": y.ravel()})
    out.attrs["truth"] = float(effect)
    return out


def rollout_power(effect: float, *, n_units: int, n_periods: int, adoption: Sequence[int],
                  never_treated_share: float = 0.25, icc: float = 0.5,
                  autocorrelation: float = 0.0, estimators: Sequence[str] = ("imputation ATT",),
                  alpha: float = 0.05, n_worlds: int = 200, backend: str = "local",
                  client: Any = None, random_state: int | None = 0,
                  progress: bool = True) -> ValidationResult:
    """Power of a staggered rollout by simulation (the runner's rejection rate per estimator).

    Parameters
    ----------
    effect : float
        True effect in outcome SDs (constant across units and periods).
    n_units, n_periods : int
        Units (districts or schools) and periods of the panel.
    adoption : sequence of int
        Adoption periods of the cohorts (2..n_periods); units split equally among them.
    never_treated_share : float
        Share of units that never adopt.
    icc : float
        Share of the outcome's variance between units.
    autocorrelation : float
        AR(1) coefficient of the within-unit errors.
    estimators : sequence of str
        Any of ``"CS simple ATT"``, ``"imputation ATT"``, ``"Sun-Abraham ATT"``, ``"TWFE"``.
    alpha : float
        Significance level (a world rejects when its p-value is below it).
    n_worlds, backend, client, random_state, progress
        Passed to :func:`pdstats.simulate.run`.

    Returns
    -------
    ValidationResult
        ``rejection`` per estimator is the simulated power (Monte Carlo SE in ``std_error``).

    Examples
    --------
    >>> import pdstats as pds
    >>> res = pds.evaluate.rollout_power(0.8, n_units=24, n_periods=4, adoption=(3,),
    ...                                  n_worlds=20, progress=False)
    >>> float(res.estimates.query("quantity == 'rejection'")["estimate"].iloc[0]) > 0.5
    True
    """
    terms = tuple(estimators)
    if not terms or any(t not in TERMS for t in terms):
        raise ModelSpecificationError(f"estimators must be some of {list(TERMS)}, got {estimators!r}")
    if not np.isfinite(alpha) or not 0 < alpha < 1:
        raise ModelSpecificationError(f"alpha must be in (0, 1), got {alpha!r}")
    world = partial(rollout_panel, effect=float(effect), n_units=n_units, n_periods=n_periods,
                    adoption=tuple(adoption), never_treated_share=never_treated_share, icc=icc,
                    autocorrelation=autocorrelation)
    world(np.random.default_rng(0))  # check the design before starting the workers
    return run(partial(did_estimates, terms=terms), world, n_worlds=n_worlds,
               truth={t: float(effect) for t in terms}, backend=backend, client=client,
               random_state=random_state, level=1 - alpha, progress=progress)
