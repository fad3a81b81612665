"""``hetop()``: group means and SDs from proficiency-level counts, state by state.

Each cell (one state, year, grade, subject and subgroup) is fitted separately by
:func:`pdstats.harmonize.cell.fit_cell` (heteroskedastic ordered probit and its
variants; see that module for the model, the sparse-group rule and the optimizer) and
moved to the star scale with delta-method standard errors by
:func:`pdstats.harmonize.scale.to_star`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pdstats.errors import ConvergenceError, EstimationWarning, ModelSpecificationError
from pdstats.harmonize.cell import MODELS, fit_cell
from pdstats.harmonize.checks import require_columns
from pdstats.harmonize.results import HetopResult
from pdstats.harmonize.scale import to_star
from pdstats.results import SampleLog

__all__ = ["hetop", "DEFAULT_BY"]

DEFAULT_BY = ("state", "year", "grade", "subject")


def _level_columns(df: pd.DataFrame, levels: Sequence[str] | None) -> list[str]:
    if levels is not None:
        levels = list(levels)
        require_columns(df, levels, "counts", "levels")
        return levels
    found = sorted((c for c in df.columns if re.fullmatch(r"level_\d+", str(c))),
                   key=lambda c: int(str(c).split("_")[1]))
    if len(found) < 2:
        raise ModelSpecificationError(
            "table 'counts': no level columns found; pass levels=[...] (lowest level first) "
            "or name them level_1, level_2, ..."
        )
    return found


def _cut_lookup(cuts: pd.DataFrame | Sequence[float] | None, by: list[str]):
    if cuts is None:
        return lambda key, k: None
    if not isinstance(cuts, pd.DataFrame):
        fixed = np.asarray(cuts, float)
        return lambda key, k: fixed
    require_columns(cuts, by, "cuts", "by")
    cut_cols = sorted((c for c in cuts.columns if re.fullmatch(r"cut_\d+", str(c))),
                      key=lambda c: int(str(c).split("_")[1]))
    table = {tuple(r[by]): r[cut_cols].to_numpy(float) for _, r in cuts.iterrows()}

    def lookup(key: tuple, k: int) -> np.ndarray | None:
        row = table.get(tuple(key))
        if row is None:
            return None
        return row[: k - 1]

    return lookup


def hetop(
    counts: pd.DataFrame,
    group: str = "unit_id",
    levels: Sequence[str] | None = None,
    by: Sequence[str] = DEFAULT_BY,
    model: str = "hetop",
    cuts: pd.DataFrame | Sequence[float] | None = None,
    min_n: int = 10,
    tau: float | None = None,
    bias_correct: bool = True,
    on_fail: str = "flag",
    max_iter: int = 100,
    progress: bool = True,
) -> HetopResult:
    """Estimate group means and SDs on each state's standardized (star) scale.

    Fits a heteroskedastic ordered probit (HETOP; Reardon, Shear, Castellano & Ho 2017)
    to the proficiency-level counts of the groups (districts, schools) of each
    state-year-grade-subject(-subgroup) cell, which share that test's cut scores.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per group and cell with the ``by`` columns, the ``group`` column and one
        count column per level (e.g. the ``state_assessment_aggregates`` table). A
        ``suppressed`` column (True = withheld by the state) and a ``subgroup`` column are
        used when present.
    group : str
        Column naming the groups; the estimates table keeps this name.
    levels : list of str, optional
        Count columns, lowest level first; default the columns ``level_1, level_2, ...``.
        Within a cell, level columns that are empty for every group are left out (the
        state reports fewer levels).
    by : sequence of str
        Columns defining a cell (``subgroup`` is added when the table has it).
    model : {"hetop", "homop", "phop"}
        Own SD per group; one common SD; partially pooled log-SDs (see
        :mod:`pdstats.harmonize.cell`).
    cuts : pandas.DataFrame or sequence of float, optional
        Known cut scores: a table with the ``by`` columns and ``cut_1..cut_{K-1}``, or one
        sequence used for every cell. Estimated when omitted (or missing for a cell).
    min_n : int
        Groups with fewer students are dropped (logged as too small).
    tau : float, optional
        PHOP prior SD of log-SDs (estimated by moments when omitted).
    bias_correct : bool
        Use the bias-corrected star scale (see :mod:`pdstats.harmonize.scale`).
    on_fail : {"flag", "raise"}
        A cell that does not converge is kept and flagged (``converged = False``, with an
        :class:`~pdstats.EstimationWarning`) or raises :class:`~pdstats.ConvergenceError`.
    max_iter : int
        Newton iteration limit per cell.
    progress : bool
        Show a progress bar over cells.

    Returns
    -------
    HetopResult
        ``estimates`` (one row per group: n, mean, sd, standard errors, 95% intervals,
        flags, ``scale = "star"``), ``cuts``, ``cells`` and ``sample_log``.

    Raises
    ------
    ModelSpecificationError
        Bad arguments or missing columns.
    ConvergenceError
        With ``on_fail="raise"`` when a cell fails to converge.

    Examples
    --------
    >>> import pandas as pd
    >>> import pdstats as pds
    >>> df = pd.DataFrame({"state": "CA", "year": 2005, "grade": 4, "subject": "math",
    ...                    "unit_id": ["a", "b", "c", "d"],
    ...                    "level_1": [10, 2, 20, 8], "level_2": [20, 10, 15, 20],
    ...                    "level_3": [15, 20, 10, 15], "level_4": [5, 18, 5, 7]})
    >>> fit = pds.harmonize.hetop(df, progress=False)
    >>> fit.estimates[["unit_id", "mean", "se_mean"]].round(2).shape
    (4, 3)
    """
    if model not in MODELS:
        raise ModelSpecificationError(f"argument 'model' must be one of {MODELS}, got {model!r}")
    if on_fail not in ("flag", "raise"):
        raise ModelSpecificationError(f"argument 'on_fail' must be 'flag' or 'raise', got {on_fail!r}")
    by = list(by)
    if "subgroup" in counts.columns and "subgroup" not in by:
        by.append("subgroup")
    require_columns(counts, [*by, group], "counts", "by/group")
    lev = _level_columns(counts, levels)
    dup = counts.duplicated([*by, group], keep=False)
    if dup.any():
        keys = counts.loc[dup, [*by, group]].drop_duplicates().head(5).astype(str).agg("/".join, axis=1).tolist()
        raise ModelSpecificationError(
            f"table 'counts': rule one row per {group} and cell {by} broken for {int(dup.sum())} rows, e.g. {keys}"
        )
    cut_for = _cut_lookup(cuts, by)
    log = SampleLog(n_in=len(counts), unit="group rows")
    df = counts.reset_index(drop=True)
    if "suppressed" in df.columns:
        supp = df["suppressed"].fillna(False).astype(bool)
        log.drop("suppressed by the state", int(supp.sum()))
        df = df[~supp]
    values = df[lev].apply(pd.to_numeric, errors="coerce")
    if (values < 0).any().any():
        bad = df.loc[(values < 0).any(axis=1), group].astype(str).head(5).tolist()
        raise ModelSpecificationError(
            f"table 'counts', columns {lev}: rule counts >= 0 broken for {group} {bad}"
        )
    none = values.isna().all(axis=1)
    log.drop("no level counts", int(none.sum()))
    df, values = df[~none], values[~none]
    n = values.fillna(0).sum(axis=1)
    small = n < max(min_n, 1)
    log.drop(f"too small (fewer than {max(min_n, 1)} students)", int(small.sum()))
    df, values = df[~small], values[~small]

    est_rows, cut_rows, cell_rows = [], [], []
    grouped = df.groupby(by, sort=True, dropna=False)
    for key, cell in tqdm(grouped, total=grouped.ngroups, disable=not progress, desc="hetop cells"):
        key = key if isinstance(key, tuple) else (key,)
        v = values.loc[cell.index]
        used_levels = [c for c in lev if v[c].notna().any()]
        info = dict(zip(by, key, strict=True))
        known_cuts = cut_for(key, len(used_levels))
        merged = []
        if known_cuts is None:
            # a level with no students anywhere in the cell carries no information to
            # separate its two cuts: it is merged away (recorded in cells.message)
            merged = [c for c in used_levels if v[c].fillna(0).sum() == 0]
            used_levels = [c for c in used_levels if c not in merged]
        mat = v[used_levels].fillna(0).to_numpy(float)
        k = len(used_levels)
        try:
            if len(cell) < 2:
                raise ModelSpecificationError("fewer than 2 groups in the cell")
            fit = fit_cell(mat, model, known_cuts, tau, max_iter=max_iter)
        except ModelSpecificationError as exc:
            log.drop(f"cell not estimable ({exc})", len(cell))
            cell_rows.append({**info, "model": model, "n_groups": len(cell), "n_students": int(mat.sum()),
                              "n_levels": k, "converged": False, "message": str(exc)})
            continue
        if not fit.converged:
            msg = f"cell {info}: {fit.message}"
            if on_fail == "raise":
                raise ConvergenceError(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
        star = to_star(fit, bias_correct)
        rows = pd.DataFrame({
            group: cell[group].to_numpy(), **{b: [kv] * len(cell) for b, kv in info.items()},
            "n": mat.sum(axis=1).astype(int), "mean": star.mean, "se_mean": star.se_mean,
            "sd": star.sd, "se_sd": star.se_sd, "mean_status": fit.mean_status,
            "sd_status": fit.sd_status, "converged": fit.converged,
            "mean_fit": fit.mu, "sd_fit": np.exp(fit.s),
        })
        est_rows.append(rows)
        cut_rows.append(pd.DataFrame({**{b: [kv] * (k - 1) for b, kv in info.items()},
                                      "cut": np.arange(1, k),
                                      "between": [f"{a}|{b}" for a, b in zip(used_levels[:-1], used_levels[1:],
                                                                            strict=True)],
                                      "estimate": star.cuts,
                                      "se": star.se_cuts, "fit_scale": fit.cuts,
                                      "known": fit.known_cuts}))
        cell_rows.append({**info, "model": model, "n_groups": len(cell), "n_students": int(mat.sum()),
                          "n_levels": k, "converged": fit.converged, "iterations": fit.iterations,
                          "loglik": fit.loglik, "information": fit.information, "tau": fit.tau,
                          "icc": star.icc, "location": star.location, "spread": star.spread,
                          "bias_corrected": star.bias_corrected,
                          "n_mean_bound": int((fit.mean_status != "est").sum()),
                          "n_sd_pooled": int((fit.sd_status == "pooled").sum()),
                          "message": fit.message + (f"; empty levels merged: {merged}" if merged else "")})
    cols = [group, *by, "n", "mean", "se_mean", "sd", "se_sd"]
    est = pd.concat(est_rows, ignore_index=True) if est_rows else pd.DataFrame(columns=cols)
    if "subgroup" not in est.columns:
        est["subgroup"] = "all"
    est["scale"] = "star"
    cut_tab = pd.concat(cut_rows, ignore_index=True) if cut_rows else pd.DataFrame()
    return HetopResult(est, cut_tab, pd.DataFrame(cell_rows), log, group=group, by=by, model=model)
