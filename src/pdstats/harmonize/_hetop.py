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
from typing import Any

import numpy as np
import pandas as pd

from pdstats._inputs import as_bool, as_numeric, drop_missing, require_columns, require_frame
from pdstats._parallel import _guarded, _Warned, check_backend, map_pieces, raise_failures
from pdstats.errors import (
    ConvergenceError,
    DroppedRowsWarning,
    EstimationWarning,
    ModelSpecificationError,
)
from pdstats.harmonize.cell import MODELS, fit_cell
from pdstats.harmonize.results import HetopResult, flag_counts, warn_flag_counts
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
        try:
            fixed = np.asarray(cuts, float).ravel()
        except (TypeError, ValueError) as exc:
            raise ModelSpecificationError(f"argument 'cuts' must be numbers or a table, got {cuts!r}") from exc
        if not np.isfinite(fixed).all():
            raise ModelSpecificationError(f"argument 'cuts' must be finite numbers, got {fixed.tolist()}")
        return lambda key, k: fixed
    require_columns(cuts, by, "cuts", "by")
    cut_cols = sorted((c for c in cuts.columns if re.fullmatch(r"cut_\d+", str(c))),
                      key=lambda c: int(str(c).split("_")[1]))
    values = pd.DataFrame({c: as_numeric(cuts, c, "cuts") for c in cut_cols}, index=cuts.index)
    table = {tuple(r[by]): values.loc[i].to_numpy(float) for i, r in cuts.iterrows()}

    def lookup(key: tuple, k: int) -> np.ndarray | None:
        row = table.get(tuple(key))
        if row is None or np.isnan(row[: k - 1]).any():
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
    backend: str = "local",
    client: Any = None,
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
        ``suppressed`` column (True = withheld by the state; text such as ``"False"`` is
        parsed) and a ``subgroup`` column are used when present. Counts must be whole
        numbers >= 0 (negative, fractional or infinite counts are refused). A missing
        count (NaN, empty or ``'*'``) in a level the cell reports makes the row unusable:
        it is dropped, logged and warned about (:class:`~pdstats.DroppedRowsWarning`).
    group : str
        Column naming the groups; the estimates table keeps this name.
    levels : list of str, optional
        Count columns, lowest level first; default the columns ``level_1, level_2, ...``.
        Within a cell, level columns that are empty for every group are left out (the
        state reports fewer levels).
    by : sequence of str
        Columns defining a cell (``subgroup`` is added when the table has it); ``[]``
        fits the whole table as one cell.
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
    backend : {"local", "dask"}
        Fit the cells one after another here, or as tasks (96 batches of cells) on a
        ``dask.distributed`` cluster (the current client, or ``client``). The result is
        identical; a cell whose
        fit raises an unexpected error is reported by its key
        (:class:`~pdstats.PiecesFailedError`).
    client : distributed.Client, optional
        The dask client for ``backend="dask"``.

    Returns
    -------
    HetopResult
        ``estimates`` (long: one row per group x cell x ``quantity`` "mean"/"sd" with
        ``estimate``, ``std_error``, 95% interval and ``flag``), ``groups`` (wide: n,
        mean, sd, standard errors, statuses, ``scale = "star"``), ``cuts``, ``cells`` and
        ``sample_log``. Means at a bound and pooled SDs are flagged, with an
        :class:`~pdstats.EstimationWarning`.

    Raises
    ------
    ModelSpecificationError
        Bad arguments or missing columns.
    DataValidationError
        Negative, fractional, infinite or non-numeric counts (the rows are named).
    ConvergenceError
        With ``on_fail="raise"`` when a cell fails to converge.
    PiecesFailedError
        A cell's fit raised an unexpected error (named by its key).

    Examples
    --------
    >>> import pandas as pd
    >>> import pdstats as pds
    >>> df = pd.DataFrame({"state": "CA", "year": 2005, "grade": 4, "subject": "math",
    ...                    "unit_id": ["a", "b", "c", "d"],
    ...                    "level_1": [10, 2, 20, 8], "level_2": [20, 10, 15, 20],
    ...                    "level_3": [15, 20, 10, 15], "level_4": [5, 18, 5, 7]})
    >>> fit = pds.harmonize.hetop(df, progress=False)
    >>> fit.groups[["unit_id", "mean", "se_mean"]].shape
    (4, 3)
    >>> fit.estimates[["unit_id", "quantity", "estimate", "std_error"]].shape
    (8, 4)
    """
    _check_arguments(model, on_fail, min_n, tau, max_iter)
    check_backend(backend, client)
    require_frame(counts, "counts")
    by = list(by)
    if "subgroup" in counts.columns and "subgroup" not in by:
        by.append("subgroup")
    require_columns(counts, [*by, group], "counts", "by/group")
    lev = _level_columns(counts, levels)
    log = SampleLog(n_in=len(counts), unit="group rows")
    base = counts.reset_index(drop=True)
    values = pd.DataFrame({c: as_numeric(base, c, "counts", lower=0, integer=True) for c in lev})
    # only the columns used travel on (the row filters below copy what they keep)
    df = base[list(dict.fromkeys([*by, group, *(["suppressed"] if "suppressed" in base.columns else [])]))]
    n_before = len(df)
    df, log = drop_missing(df, [*by, group], "counts", log)
    if len(df) < n_before:
        values = values.loc[df.index]
    # each row's cell, found once (the duplicate check, the counts check and the cutting use it)
    cell = df.groupby(by, sort=True).ngroup().to_numpy() if by else np.zeros(len(df), dtype=np.int64)
    ids = pd.factorize(df[group])[0]
    dup = pd.Series(cell * (int(ids.max(initial=0)) + 1) + ids).duplicated(keep=False).to_numpy()
    if dup.any():
        keys = df.loc[dup, [*by, group]].drop_duplicates().head(5).astype(str).agg("/".join, axis=1).tolist()
        raise ModelSpecificationError(
            f"table 'counts': rule one row per {group} and cell {by} broken for {int(dup.sum())} rows, e.g. {keys}"
        )
    cut_for = _cut_lookup(cuts, by)
    if "suppressed" in df.columns:
        supp = as_bool(df, "suppressed", "counts").fillna(False).to_numpy(dtype=bool)
        log.drop("suppressed by the state", int(supp.sum()))
        if supp.any():
            df, values, cell = df[~supp], values[~supp], cell[~supp]
    df, values, cell = _drop_missing_counts(df, values, cell, log)
    n = values.fillna(0).sum(axis=1)
    small = (n < max(min_n, 1)).to_numpy()
    log.drop(f"too small (fewer than {max(min_n, 1)} students)", int(small.sum()))
    if small.any():
        df, values, cell = df[~small], values[~small], cell[~small]

    # the cells as contiguous slices of arrays sorted by cell, fitted in batches of cells
    # (pieces carry arrays only; each batch stacks its cells' tables where it runs, so the
    # caller assembles a few dozen blocks rather than thousands of small tables)
    cells = _cell_slices(df, values, cell, by, group)
    pieces = [(key, ids, mat, levels_used, cut_for(key, len(levels_used)))
              for key, ids, mat, levels_used in cells]
    keys = [p[0] for p in pieces]
    size = max(1, -(-len(pieces) // _BATCHES))
    batches = [pieces[i:i + size] for i in range(0, len(pieces), size)]
    done = map_pieces(_fit_cells, list(range(len(batches))), [(b,) for b in batches], backend=backend,
                      client=client, progress=progress, desc=f"hetop cells ({size} per batch)",
                      shared=(by, model, tau, max_iter, bias_correct))
    raise_failures(done, "hetop cell batches")
    outcome = {}
    for i, batch in enumerate(batches):
        for piece, part in zip(batch, done[i]["outcomes"], strict=True):
            if isinstance(part, _Warned):   # the cell's warnings, re-issued in cell order
                for category, message in part.caught:
                    warnings.warn(message, category, stacklevel=2)
                part = part.value
            outcome[piece[0]] = part
    raise_failures(outcome, "hetop cells", by)
    cell_rows = []
    for key in keys:
        part = outcome[key]
        info = dict(zip(by, key, strict=True))
        if part["drop"] is not None:
            log.drop(*part["drop"])
        if part["nonconverged"] is not None:
            msg = f"cell {info}: {part['nonconverged']}"
            if on_fail == "raise":
                raise ConvergenceError(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
        cell_rows.append({**info, **part["cell"]})
    est_parts = [done[i]["est"] for i in range(len(batches)) if done[i]["est"] is not None]
    cut_parts = [done[i]["cuts"] for i in range(len(batches)) if done[i]["cuts"] is not None]
    cols = [group, *by, "n", "mean", "se_mean", "sd", "se_sd", "mean_status", "sd_status", "converged",
            "mean_fit", "sd_fit"]
    est = _stack(est_parts, group, by) if est_parts else pd.DataFrame(columns=cols)
    if "subgroup" not in est.columns:
        est["subgroup"] = "all"
    est["scale"] = "star"
    cut_tab = _stack(cut_parts, None, by) if cut_parts else pd.DataFrame()
    res = HetopResult(est, cut_tab, pd.DataFrame(cell_rows), log, group=group, by=by, model=model)
    warn_flag_counts(*flag_counts(res.groups), "hetop")  # without building the long table
    return res


def _fit_one_cell(by: list[str], model: str, tau: float | None, max_iter: int, bias_correct: bool,
                  key: tuple,
                  ids: np.ndarray, counts: np.ndarray, levels_used: list[str],
                  known_cuts: np.ndarray | None) -> dict:
    """Fit one cell (a piece of :func:`hetop`): its columns of the estimates and cuts tables.

    ``counts`` is the cell's groups x levels matrix (NaN where a group's count is
    missing); the returned ``est`` and ``cuts`` are dictionaries of equal-length arrays
    (the cell's key columns are added when the cells are stacked) and ``cell`` its row
    of the cells table without the key.
    """
    used_levels = list(levels_used)
    merged = []
    if known_cuts is None:
        # a level with no students anywhere in the cell carries no information to
        # separate its two cuts: it is merged away (recorded in cells.message)
        empty = np.nansum(counts, axis=0) == 0
        merged = [c for c, e in zip(used_levels, empty, strict=True) if e]
        counts = counts[:, ~empty]
        used_levels = [c for c, e in zip(used_levels, empty, strict=True) if not e]
    mat = np.nan_to_num(counts, nan=0.0)
    k, n_groups = len(used_levels), len(ids)
    out = {"est": None, "cuts": None, "drop": None, "nonconverged": None}
    try:
        if n_groups < 2:
            raise ModelSpecificationError("fewer than 2 groups in the cell")
        fit = fit_cell(mat, model, known_cuts, tau, max_iter=max_iter)
    except (ModelSpecificationError, np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError,
            ValueError) as exc:
        if not isinstance(exc, ModelSpecificationError):
            warnings.warn(f"cell {dict(zip(by, key, strict=True))}: numerical failure ({type(exc).__name__}: {exc}); cell left out",
                          EstimationWarning, stacklevel=2)
            exc = ModelSpecificationError(f"numerical failure: {type(exc).__name__}")
        out["drop"] = (f"cell not estimable ({exc})", n_groups)
        out["cell"] = {"model": model, "n_groups": n_groups, "n_students": int(mat.sum()),
                       "n_levels": k, "converged": False, "message": str(exc)}
        return out
    if not fit.converged:
        out["nonconverged"] = fit.message
    star = to_star(fit, bias_correct)
    out["est"] = {
        "ids": np.asarray(ids), "n": mat.sum(axis=1).astype(int), "mean": star.mean,
        "se_mean": star.se_mean, "sd": star.sd, "se_sd": star.se_sd,
        "mean_status": np.asarray(fit.mean_status, dtype=object),
        "sd_status": np.asarray(fit.sd_status, dtype=object),
        "converged": np.full(n_groups, bool(fit.converged)), "mean_fit": fit.mu,
        "sd_fit": np.exp(fit.s)}
    out["cuts"] = {"cut": np.arange(1, k),
                   "between": np.array([f"{a}|{b}" for a, b in zip(used_levels[:-1], used_levels[1:],
                                                                  strict=True)], dtype=object),
                   "estimate": star.cuts, "se": star.se_cuts, "fit_scale": fit.cuts,
                   "known": np.broadcast_to(fit.known_cuts, (k - 1,))}
    out["cell"] = {"model": model, "n_groups": n_groups, "n_students": int(mat.sum()),
                   "n_levels": k, "converged": fit.converged, "iterations": fit.iterations,
                   "loglik": fit.loglik, "information": fit.information, "tau": fit.tau,
                   "icc": star.icc, "location": star.location, "spread": star.spread,
                   "bias_corrected": star.bias_corrected,
                   "n_mean_bound": int((fit.mean_status != "est").sum()),
                   "n_sd_pooled": int((fit.sd_status == "pooled").sum()),
                   "message": fit.message + (f"; empty levels merged: {merged}" if merged else "")}
    return out


#: Batches of cells per hetop call (pieces of the dask backend): enough for the workers
#: to share the load, few enough that assembling them costs little.
_BATCHES = 96


def _fit_cells(by: list[str], model: str, tau: float | None, max_iter: int, bias_correct: bool,
               cells: list[tuple]) -> dict:
    """Fit a batch of cells (a piece of :func:`hetop`): each cell guarded on its own.

    Returns each cell's outcome (its :func:`_fit_one_cell` value with its warnings, or
    the failure) and the batch's estimates and cuts already stacked (:func:`_concat_cells`).
    """
    outcomes, est, cuts = [], [], []
    for cell in cells:
        part = _guarded(_fit_one_cell, cell, (by, model, tau, max_iter, bias_correct), record=True)
        if isinstance(part, _Warned) and part.value["est"] is not None:
            est.append((cell[0], part.value.pop("est")))
            cuts.append((cell[0], part.value.pop("cuts")))
        outcomes.append(part)
    return {"outcomes": outcomes, "est": _concat_cells(est), "cuts": _concat_cells(cuts)}


def _concat_cells(items: list[tuple[tuple, dict]]) -> tuple[list, np.ndarray, dict] | None:
    """Cells' column dictionaries as (keys, rows per cell, concatenated columns)."""
    if not items:
        return None
    lengths = np.array([len(next(iter(cols.values()))) for _, cols in items])
    columns = {name: np.concatenate([np.asarray(cols[name]) for _, cols in items]) for name in items[0][1]}
    return [key for key, _ in items], lengths, columns


def _stack(parts: list[tuple[list, np.ndarray, dict]], group: str | None, by: list[str]) -> pd.DataFrame:
    """One table from batches of stacked cells: the key columns, then the cells' columns.

    With ``group``, the cells' ``ids`` become the first column, named ``group``.
    """
    keys = [key for part_keys, _, _ in parts for key in part_keys]
    cell_of_row = np.repeat(np.arange(len(keys)), np.concatenate([n for _, n, _ in parts]))
    names = list(parts[0][2])
    out: dict[str, Any] = {}
    if group is not None:
        out[group] = np.concatenate([cols["ids"] for _, _, cols in parts])
        names.remove("ids")
    for j, b in enumerate(by):
        out[b] = pd.Series([key[j] for key in keys]).array.take(cell_of_row)
    for name in names:
        out[name] = np.concatenate([cols[name] for _, _, cols in parts])
    return pd.DataFrame(out)


def _check_arguments(model: str, on_fail: str, min_n: int, tau: float | None, max_iter: int) -> None:
    if model not in MODELS:
        raise ModelSpecificationError(f"argument 'model' must be one of {MODELS}, got {model!r}")
    if on_fail not in ("flag", "raise"):
        raise ModelSpecificationError(f"argument 'on_fail' must be 'flag' or 'raise', got {on_fail!r}")
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 0:
        raise ModelSpecificationError(f"argument 'min_n' must be an integer >= 0, got {min_n!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ModelSpecificationError(f"argument 'max_iter' must be an integer >= 1, got {max_iter!r}")
    if tau is not None and (not isinstance(tau, (int, float, np.floating)) or not np.isfinite(tau) or tau <= 0):
        raise ModelSpecificationError(f"argument 'tau' must be a finite number > 0, got {tau!r}")


def _cell_slices(df: pd.DataFrame, values: pd.DataFrame, codes: np.ndarray, by: list[str], group: str
                 ) -> list[tuple[tuple, np.ndarray, np.ndarray, list[str]]]:
    """The cells in key order as (key tuple, group ids, counts matrix, levels reported).

    ``codes`` numbers each row's cell in key order. Rows keep their table order within a
    cell; a level column empty for every row of a cell is left out of that cell
    (``by=[]`` makes the whole table one cell).
    """
    if not len(df):
        return []
    lev = list(values.columns)
    perm = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[perm]) != 0])
    ends = np.r_[starts[1:], len(perm)]
    mat_all = values.to_numpy(dtype=float)[perm]
    ids_all = df[group].to_numpy()[perm]
    firsts = df[by].iloc[perm[starts]]
    keys = list(firsts.itertuples(index=False, name=None)) if by else [()] * len(starts)
    out = []
    for key, a, b in zip(keys, starts, ends, strict=True):
        mat = mat_all[a:b]
        reported = ~np.isnan(mat).all(axis=0)
        out.append((key, ids_all[a:b], mat[:, reported], [c for c, r in zip(lev, reported, strict=True) if r]))
    return out


def _drop_missing_counts(df: pd.DataFrame, values: pd.DataFrame, cell: np.ndarray,
                         log: SampleLog) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Drop (log, warn) rows without counts, and rows missing a level their cell reports.

    A level column empty for every row of a cell is a level the state does not report
    there (left out of that cell's fit); a count missing for some rows only makes those
    rows unusable: reading it as 0 would move the group's estimate.
    """
    present = values.notna()
    none = ~present.any(axis=1)
    used = present.groupby(cell, sort=False).transform("any")   # the levels each cell reports
    partial = ((~present) & used).any(axis=1) & ~none
    for mask, what in ((none, "no level counts"), (partial, "a missing level count")):
        k = int(mask.sum())
        if k:
            log.drop(what, k)
            warnings.warn(f"table 'counts': dropped {k} row(s) with {what} (columns {list(values.columns)})",
                          DroppedRowsWarning, stacklevel=3)
    keep = ~(none | partial).to_numpy()
    if keep.all():
        return df, values, cell
    return df[keep], values[keep], cell[keep]
