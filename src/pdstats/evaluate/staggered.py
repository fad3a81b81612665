"""Callaway & Sant'Anna (2021) staggered difference-in-differences: ``staggered_did``.

The group-time effects, their influence functions, analytic standard errors, the
pre-trend Wald test and the aggregations come from ``moderndid`` (a port of R ``did``
checked against R's documented output, see ``pdstats/evaluate/README.md``); pdstats adds
the checked panel, the result contract, multiplier-bootstrap uniform bands with
``random_state``, cluster-level inference and effects in student-SD units.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.evaluate._data import prepare_panel
from pdstats.evaluate.results import StaggeredDiDResult
from pdstats.results import check_level

__all__ = ["staggered_did"]

_METHODS = ("reg", "ipw", "dr")


def staggered_did(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control: str = "never",
    method: str = "reg",
    covariates: Sequence[str] | None = None,
    cluster: str | None = None,
    anticipation: int = 0,
    base_period: str = "varying",
    n_boot: int = 999,
    inference: str = "small_sample",
    level: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> StaggeredDiDResult:
    """Group-time average treatment effects under staggered adoption (Callaway & Sant'Anna).

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period.
    outcome, unit, time : str
        Columns of the outcome, the unit and the (integer) period.
    first_treated : str
        First treated period of each unit; missing or 0 means never treated (R ``did``'s
        coding). Must be constant within a unit.
    control : {"never", "notyet"}
        Comparison units: never treated, or never and not yet treated.
    method : {"reg", "ipw", "dr"}
        Outcome regression, inverse probability weighting, doubly robust.
    covariates : sequence of str, optional
        Time-invariant (first-period) covariates for conditional parallel trends.
    cluster : str, optional
        Column of a cluster above the unit (e.g. state for districts); the analytic SEs
        and bootstrap draws are then clustered.
    anticipation : int
        Periods of anticipation.
    base_period : {"varying", "universal"}
        As R ``did``.
    n_boot : int
        Multiplier-bootstrap draws for the uniform confidence bands (0: pointwise only).
    inference : {"small_sample", "analytic"}
        Pointwise standard errors, intervals and p-values. ``"small_sample"`` (default):
        the influence-function variance with each adoption cohort's leverage correction
        and Student t with Welch-Satterthwaite df over cohorts (``G - 1`` df with
        ``cluster``), see :mod:`pdstats.evaluate.smallsample` - with a few units per
        cohort or a few comparison units the analytic intervals are too short.
        ``"analytic"``: R ``did``'s analytic SEs and normal critical values (``bstrap =
        FALSE``), equal in large cohorts.
    level : float
        Confidence level.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    StaggeredDiDResult
        ``.att_gt``, ``.aggregate("simple"|"event"|"group"|"calendar")``, ``.pretest``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat([0, 0, 3, 4], 25)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(100), 5), "t": np.tile(np.arange(1, 6), 100)})
    >>> d["g"] = np.repeat(g, 5)
    >>> d["y"] = rng.normal(size=500) + 2.0 * ((d.g > 0) & (d.t >= d.g))
    >>> res = pds.evaluate.staggered_did(d, "y", "id", "t", "g", random_state=1)
    >>> res.att_gt[["group", "time"]].shape
    (8, 2)
    >>> round(float(res.aggregate("simple").overall["estimate"].iloc[0]), 1)
    2.0
    """
    from moderndid import att_gt

    level = check_level(level)
    if method not in _METHODS:
        raise ModelSpecificationError(f"method={method!r}; choose one of {list(_METHODS)}")
    if base_period not in ("varying", "universal"):
        raise ModelSpecificationError(f"base_period={base_period!r}; 'varying' or 'universal'")
    if inference not in ("small_sample", "analytic"):
        raise ModelSpecificationError(
            f"inference={inference!r}; choose 'small_sample' or 'analytic'")
    if int(n_boot) < 0 or (0 < int(n_boot) < 99):
        raise ModelSpecificationError("n_boot must be 0 or at least 99")
    covariates = list(covariates or [])
    extra = tuple(covariates + ([cluster] if cluster else []))
    panel = prepare_panel(data, outcome, unit, time, first_treated, control=control, extra=extra)
    work = panel.data.copy()
    work["unit_code"] = pd.factorize(work["unit"], sort=True)[0] + 1
    if work.groupby("g")["y"].size().loc[lambda s: s.index > 0].empty:
        raise ModelSpecificationError("no treated cohort has outcome data")
    cols = ["unit_code", "time", "y", "g", *extra]
    clustervars = None
    cluster_codes = None
    if cluster:
        work["cluster_code"] = pd.factorize(work[cluster], sort=True)[0]
        cols.append("cluster_code")
        clustervars = ["cluster_code"]
        cluster_codes = work.drop_duplicates("unit_code")["cluster_code"].to_numpy()
    xformla = "~ " + " + ".join(covariates) if covariates else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mp = att_gt(data=work[cols], yname="y", tname="time", idname="unit_code", gname="g",
                        xformla=xformla, control_group="nevertreated" if control == "never"
                        else "notyettreated", est_method=method, anticipation=int(anticipation),
                        base_period=base_period, boot=False, cband=False,
                        clustervars=clustervars, alp=1 - level)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ModelSpecificationError(f"staggered_did could not estimate: {exc}") from exc
    for w in caught:
        warnings.warn(f"staggered_did: {w.message}", EstimationWarning, stacklevel=2)
    settings: dict[str, object] = {
        "Comparison": "never treated" if control == "never" else "not yet treated",
        "Method": {"reg": "outcome regression", "ipw": "inverse probability weighting",
                   "dr": "doubly robust"}[method],
        "Units": int(mp.n_units), "Cohorts": len(panel.cohorts),
        "Periods": f"{panel.periods[0]}-{panel.periods[-1]}",
        "Bootstrap draws": int(n_boot), "_clustervars": clustervars,
        "Inference": "analytic (normal)" if inference == "analytic" else
        "small-sample (cohort leverage, t with Welch-Satterthwaite df)",
        "_base_period": base_period, "_anticipation": int(anticipation),
    }
    if cluster:
        settings["Clusters"] = f"{cluster} ({len(np.unique(cluster_codes))})"
        cluster_codes = _in_influence_order(work, np.asarray(mp.G, dtype=float), cluster_codes)
    return StaggeredDiDResult(mp, panel, settings, level, int(n_boot), cluster_codes,
                              random_state)


def _in_influence_order(work: pd.DataFrame, g_rows: np.ndarray, values: np.ndarray
                        ) -> np.ndarray:
    """Per-unit ``values`` (unit-code order) in the row order of moderndid's influence
    functions: units sorted by cohort (never treated last), stably."""
    g = work.drop_duplicates("unit_code")["g"].to_numpy(dtype=float)
    g = np.where(g > 0, g, np.inf)
    order = np.argsort(g, kind="stable")
    if not np.array_equal(g[order], g_rows):
        raise ModelSpecificationError("staggered_did: unexpected unit order in moderndid's "
                                      "influence functions")
    return np.asarray(values)[order]
