"""``harmonize_aggregates()``: from what states publish to NAEP-linked unit estimates.

The composition of the steps for a ``state_assessment_aggregates`` table: cells whose
units carry proficiency-level counts go through :func:`~pdstats.harmonize.hetop`; cells
that publish unit means and SDs on the state scale (and no level counts) through
:func:`~pdstats.harmonize.standardize` with the student SD from those means and SDs;
both are then linked by :func:`~pdstats.harmonize.link_to_naep` with the tests'
reliabilities from ``cut_scores``. Which route each cell took is in the ``source`` column.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pdstats._inputs import as_bool, as_numeric, require_columns, require_frame
from pdstats.harmonize._hetop import hetop
from pdstats.harmonize._standardize import standardize
from pdstats.harmonize.linking import KEYS, link_to_naep
from pdstats.harmonize.results import InterpolationErrorResult, LinkingErrorResult, LinkResult
from pdstats.results import SampleLog

__all__ = ["harmonize_aggregates", "star_estimates"]


def star_estimates(
    aggregates: pd.DataFrame,
    unit_type: str = "district",
    subgroup: str = "all",
    model: str = "hetop",
    min_n: int = 10,
    progress: bool = True,
    backend: str = "local",
    client: Any = None,
) -> tuple[pd.DataFrame, SampleLog]:
    """Star-scale unit estimates from published aggregates (the first half of the pipeline).

    Returns the tidy estimates (with a ``source`` column, "hetop" or "means_sds") and
    the sample log of the aggregates' rows. See :func:`harmonize_aggregates`.

    Examples
    --------
    >>> import pandas as pd
    >>> ca = pd.DataFrame({"state": "CA", "unit_id": ["0600001", "0600002"], "n_tested": [80, 90],
    ...                    "mean_scale": [340.0, 355.0], "sd_scale": [50.0, 52.0], "year": 2005,
    ...                    "grade": 4, "subject": "math", "unit_type": "district",
    ...                    "subgroup": "all", "suppressed": False})
    >>> est, log = star_estimates(ca, progress=False)
    >>> est["source"].tolist(), log.n_used
    (['means_sds', 'means_sds'], 2)
    """
    require_frame(aggregates, "aggregates")
    require_columns(aggregates, [*KEYS, "unit_type", "unit_id", "subgroup", "suppressed"],
                    "aggregates", "aggregates")
    log = SampleLog(n_in=len(aggregates), unit="aggregate rows")
    rows = aggregates[(aggregates["unit_type"] == unit_type) & (aggregates["subgroup"] == subgroup)]
    log.drop(f"not unit_type {unit_type!r} / subgroup {subgroup!r}", len(aggregates) - len(rows))
    levels = sorted((c for c in rows.columns if str(c).startswith("level_")), key=lambda c: int(c.split("_")[1]))
    has_levels = rows[levels].notna().any(axis=1) if levels else pd.Series(False, index=rows.index)
    cell_levels = has_levels.groupby([rows[k] for k in KEYS]).transform("any")
    parts = []
    by_levels = rows[cell_levels]
    if len(by_levels):
        fit = hetop(by_levels.drop(columns=["subgroup"]), group="unit_id", levels=levels, by=KEYS,
                    model=model, min_n=min_n, progress=progress, backend=backend, client=client)
        parts.append(fit.groups.assign(source="hetop"))
        for reason, n in fit.sample_log.dropped.items():
            log.drop(f"hetop route: {reason}", n)
    by_means = rows[~cell_levels]
    if len(by_means):
        supp = as_bool(by_means, "suppressed", "aggregates").fillna(False).to_numpy(dtype=bool)
        n_tested = as_numeric(by_means, "n_tested", "aggregates", lower=0)
        keep = ~supp & (n_tested.fillna(0) >= min_n).to_numpy()
        log.drop("means/SDs route: suppressed or too small", int((~keep).sum()))
        st = standardize(by_means[keep], "mean_scale", by=KEYS, weight="n_tested",
                         within_sd="sd_scale", n="n_tested")
        for reason, n in st.attrs["sample_log"].dropped.items():
            log.drop(f"means/SDs route: {reason}", n)
        st = st.rename(columns={"n_tested": "n"})
        parts.append(st[["unit_id", *KEYS, "n", "mean", "se_mean", "sd", "se_sd"]].assign(source="means_sds"))
    cols = ["unit_id", *KEYS, "n", "mean", "se_mean", "sd", "se_sd", "source"]
    est = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    est["subgroup"] = subgroup
    return est, log


def harmonize_aggregates(
    aggregates: pd.DataFrame,
    naep: pd.DataFrame,
    cut_scores: pd.DataFrame | None = None,
    unit_type: str = "district",
    subgroup: str = "all",
    model: str = "hetop",
    linking_error: float | LinkingErrorResult = 0.0,
    interpolation_error: InterpolationErrorResult | None = None,
    min_n: int = 10,
    progress: bool = True,
    estimand: str = "population",
    backend: str = "local",
    client: Any = None,
) -> LinkResult:
    """Link published unit results (level counts or means/SDs) to the NAEP scale.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        ``state_assessment_aggregates``-shaped table.
    naep : pandas.DataFrame
        ``naep_state``-shaped table.
    cut_scores : pandas.DataFrame, optional
        ``cut_scores``-shaped table; its ``reliability`` column drives the reliability
        adjustment (no adjustment when omitted).
    unit_type, subgroup : str
        Rows used (other rows are counted in the sample log as not selected).
    model : {"hetop", "homop", "phop"}
        Model for level counts.
    linking_error : float or LinkingErrorResult
        Passed to :func:`~pdstats.harmonize.link_to_naep` (e.g. the result of
        :func:`~pdstats.harmonize.estimate_linking_error`).
    interpolation_error : InterpolationErrorResult, optional
        Passed to :func:`~pdstats.harmonize.link_to_naep` (the result of
        :func:`~pdstats.harmonize.estimate_interpolation_error`).
    min_n : int
        Smallest unit kept.
    progress : bool
        Progress bar over HETOP cells.
    estimand : {"population", "students"}
        Passed to :func:`~pdstats.harmonize.link_to_naep`.
    backend : {"local", "dask"}, optional
        Where the HETOP cells are fitted (see :func:`~pdstats.harmonize.hetop`); the
        means/SDs route and the linking are table operations run here.
    client : distributed.Client, optional
        The dask client for ``backend="dask"``.

    Returns
    -------
    LinkResult
        With a ``source`` column ("hetop" or "means_sds") and the combined sample log.

    Examples
    --------
    >>> import pandas as pd
    >>> import pdstats as pds
    >>> cell = {"year": 2005, "grade": 4, "subject": "math", "unit_type": "district",
    ...         "subgroup": "all", "suppressed": False}
    >>> ma = pd.DataFrame({"state": "MA", "unit_id": ["2500001", "2500002", "2500003"],
    ...                    "n_tested": 60, "level_1": [10, 20, 5], "level_2": [20, 20, 15],
    ...                    "level_3": [20, 15, 25], "level_4": [10, 5, 15], **cell})
    >>> ca = pd.DataFrame({"state": "CA", "unit_id": ["0600001", "0600002"], "n_tested": [80, 90],
    ...                    "mean_scale": [340.0, 355.0], "sd_scale": [50.0, 52.0], **cell})
    >>> naep = pd.DataFrame({"state": ["MA", "MA", "CA", "CA"], "year": 2005, "grade": [4, 8, 4, 8],
    ...                      "subject": "math", "mean": [247.0, 292.0, 230.0, 269.0],
    ...                      "sd": [28.0, 36.0, 31.0, 38.0]})
    >>> out = pds.harmonize.harmonize_aggregates(pd.concat([ma, ca]), naep, progress=False)
    >>> out.scale("naep")[["unit_id", "source"]].shape
    (5, 2)
    """
    est, log = star_estimates(aggregates, unit_type, subgroup, model, min_n, progress, backend, client)
    reliability = None if cut_scores is None else cut_scores[[*KEYS, "reliability"]]
    out = link_to_naep(est, naep, reliability=reliability, linking_error=linking_error,
                       interpolation_error=interpolation_error, group="unit_id", estimand=estimand)
    for reason, n in out.sample_log.dropped.items():
        log.drop(f"linking: {reason}", n)
    out.sample_log = log
    return out
