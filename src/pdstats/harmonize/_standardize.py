"""``standardize()``: within state-year-grade-subject z-scores of reported unit means.

The classic baseline for comparing districts: express each unit's mean score relative to
its own state's distribution. It throws away the level differences between states
(every state's average becomes 0), which is what NAEP linking restores.

Where the SD comes from (``sd_source`` column of the output)
------------------------------------------------------------
1. ``within_sd`` given (states that publish unit means and SDs): the SD of the state's
   students, ``S^2 = sum_g w_g (sd_g^2 + (m_g - M)^2) / sum_g w_g`` with weights ``w``
   (students); the output is on the star scale and can go to
   :func:`pdstats.harmonize.link_to_naep`.
2. ``icc`` given (only unit means published): an assumed share of the student variance
   that lies between units, ``S = SD_between / sqrt(icc)``; also star scale, resting on
   the stated assumption.
3. Neither: the (weighted) SD of the unit means themselves, ``scale = "z_between"``: a
   ranking scale, not a student-SD scale.

Standard errors of the standardized mean: ``se / S`` when an ``se`` column is given,
``within_sd / sqrt(n) / S`` when SDs and counts are, otherwise missing; the sampling
error of ``M`` and ``S`` themselves is ignored (many units per state).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, drop_missing, require_columns
from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.results import SampleLog

__all__ = ["standardize"]


def standardize(
    df: pd.DataFrame,
    value: str,
    by: Sequence[str] = ("state", "year", "grade", "subject"),
    weight: str | None = None,
    within_sd: str | None = None,
    n: str | None = None,
    se: str | None = None,
    icc: float | None = None,
) -> pd.DataFrame:
    """Within-cell z-scores of unit means, with the SD source documented.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per unit and cell.
    value : str
        Column of unit mean scores (state scale).
    by : sequence of str
        Cell columns.
    weight : str, optional
        Column of weights (students) for the state mean and SD; equal weights if omitted.
    within_sd : str, optional
        Column of within-unit student SDs (source 1 in the module notes).
    n : str, optional
        Column of students tested (for standard errors from ``within_sd``).
    se : str, optional
        Column of standard errors of the unit means.
    icc : float, optional
        Assumed between-unit share of the student variance (source 2).

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``mean``, ``se_mean``, ``sd``, ``se_sd`` (standardized),
        ``scale`` ("star" or "z_between") and ``sd_source``. Rows with a missing value
        (NaN, empty or ``'*'``) are kept with missing results and left out of their
        cell's mean and SD (a :class:`~pdstats.DroppedRowsWarning` counts them; the
        :class:`~pdstats.results.SampleLog` is in ``attrs["sample_log"]``); ``+-inf``,
        negative weights, SDs, counts or standard errors are refused.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"state": "MA", "year": 1998, "grade": 4, "subject": "math",
    ...                   "district": ["a", "b", "c"], "score": [700.0, 710.0, 720.0]})
    >>> standardize(d, "score")["mean"].round(3).tolist()
    [-1.225, 0.0, 1.225]
    >>> standardize(d, "score", icc=0.25)["mean"].round(3).tolist()
    [-0.612, 0.0, 0.612]
    """
    by = list(by)
    cols = [value, *by] + [c for c in (weight, within_sd, n, se) if c]
    require_columns(df, cols, "df", "value/by/weight/within_sd/n/se")
    if icc is not None and (isinstance(icc, bool) or not isinstance(icc, (int, float, np.number))
                            or not np.isfinite(icc) or not 0 < icc <= 1):
        raise ModelSpecificationError(f"argument 'icc' must be in (0, 1], got {icc!r}")
    out = df.copy()
    out[value] = as_numeric(df, value, "df")
    for c in (weight, within_sd, n, se):
        if c:
            out[c] = as_numeric(df, c, "df", lower=0)
    log = SampleLog(n_in=len(out), unit="unit rows")
    used, log = drop_missing(out, [*by, value, *[c for c in (weight, within_sd) if c]], "df", log)
    no_spread = 0
    out["mean"] = np.nan
    out["se_mean"] = np.nan
    out["sd"] = np.nan
    out["se_sd"] = np.nan
    if within_sd:
        source, scale = f"student SD from unit means and SDs ('{within_sd}')", "star"
    elif icc is not None:
        source, scale = f"student SD assumed: SD of unit means / sqrt(icc = {icc:g})", "star"
    else:
        source, scale = "SD of unit means (between-unit z-score)", "z_between"
    cells = [used] if not by else [g for _, g in used.groupby(by, sort=False)]
    for cell in cells:
        c = cell[cell[weight] > 0] if weight else cell
        if len(c) < 2:
            log.drop("cell with fewer than 2 units", len(cell))
            continue
        w = c[weight].to_numpy(float) if weight else np.ones(len(c))
        x = c[value].to_numpy(float)
        m = float(np.average(x, weights=w))
        between = float(np.average((x - m) ** 2, weights=w))
        if within_sd:
            big_s = float(np.sqrt(between + np.average(c[within_sd].to_numpy(float) ** 2, weights=w)))
        elif icc is not None:
            big_s = float(np.sqrt(between / icc))
        else:
            big_s = float(np.sqrt(between))
        if not np.isfinite(big_s) or big_s <= 0:
            log.drop("cell without spread (every unit has the same mean)", len(cell))
            no_spread += 1
            continue
        rows = c.index
        out.loc[rows, "mean"] = (x - m) / big_s
        if se:
            out.loc[rows, "se_mean"] = c[se].to_numpy(float) / big_s
        elif within_sd and n:
            out.loc[rows, "se_mean"] = c[within_sd].to_numpy(float) / np.sqrt(c[n].to_numpy(float)) / big_s
        if within_sd:
            sd = c[within_sd].to_numpy(float) / big_s
            out.loc[rows, "sd"] = sd
            if n:
                out.loc[rows, "se_sd"] = sd / np.sqrt(2 * (c[n].to_numpy(float) - 1))
    for c in ("se_mean", "se_sd"):  # a standard error of 0 is not an estimate
        out[c] = out[c].where(out[c] > 0)
    if no_spread:
        warnings.warn(f"standardize: {no_spread} cell(s) without spread between units left unstandardized "
                      "(mean NaN)", EstimationWarning, stacklevel=2)
    out["scale"] = scale
    out["sd_source"] = source
    out.attrs["sample_log"] = log
    return out
