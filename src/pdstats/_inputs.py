"""Input checks at the public edge of every estimator: one rule, one place.

The rule (README, "The result contract"):

* **missing** is NaN, ``None``, ``pd.NA``, empty text or a suppression mark such as
  ``'*'``: the row is dropped, the drop is counted in the result's ``sample_log`` and a
  :class:`~pdstats.errors.DroppedRowsWarning` names the column and the count;
* **refused**: ``+-inf``, text that is not a number, and values outside a column's
  documented range raise :class:`~pdstats.errors.DataValidationError` naming the table,
  column, rule and row positions. Neither ever reaches an estimate.

Row positions (0-based, in the frame as passed) are reported, never row values, so the
messages are safe for sensitive tables.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pdstats.errors import DataValidationError, DroppedRowsWarning, ModelSpecificationError
from pdstats.results import SampleLog

__all__ = [
    "MISSING_TEXT",
    "require_frame",
    "require_columns",
    "refuse",
    "as_numeric",
    "as_bool",
    "drop_missing",
]

#: Text read as missing (compared after stripping and lower-casing).
MISSING_TEXT = frozenset({"", "*", "**", "na", "n/a", "nan", "none", "null", ".", "-"})
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})


def require_frame(data: Any, table: str) -> pd.DataFrame:
    """Return ``data`` if it is a DataFrame, else raise a :class:`ModelSpecificationError`."""
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecificationError(
            f"table {table!r} must be a pandas DataFrame, got {type(data).__name__}"
        )
    return data


def require_columns(df: pd.DataFrame, columns: Iterable[str], table: str, argument: str) -> None:
    """Raise :class:`~pdstats.ModelSpecificationError` naming the missing columns.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "counts", "by")
    >>> try:
    ...     require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "counts", "by")
    ... except Exception as e:
    ...     print(e)
    table 'counts' lacks column(s) ['b'] named by argument 'by'
    """
    require_frame(df, table)
    missing = [c for c in dict.fromkeys(columns) if c not in df.columns]
    if missing:
        raise ModelSpecificationError(
            f"table {table!r} lacks column(s) {missing} named by argument {argument!r}"
        )


def refuse(table: str, column: str, rule: str, rows: Sequence[int] | np.ndarray) -> DataValidationError:
    """Build the :class:`DataValidationError` for rows (0-based positions) breaking ``rule``.

    Examples
    --------
    >>> err = refuse("scores", "math", "finite", [3, 7])
    >>> print(err)
    table 'scores' failed validation: 2 problem(s)
      column 'math', rule finite: 2 row(s), keys row 3, row 7
    """
    rows = [int(r) for r in np.asarray(rows).ravel()]
    failures = pd.DataFrame({
        "table": table, "column": column, "rule": rule, "row": rows,
        "key": [f"row {r}" for r in rows], "value": None,
    })
    return DataValidationError(table, failures)


def _is_missing_text(values: pd.Series) -> np.ndarray:
    # judged once per distinct value (a column of a million rows has a handful of codes)
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (e.g. lists): judged one by one
        s = values.astype("string").str.strip().str.lower()
        return (s.isna() | s.isin(MISSING_TEXT)).to_numpy(dtype=bool)
    u = pd.Series(uniques, dtype=object).astype("string").str.strip().str.lower()
    missing_unique = (u.isna() | u.isin(MISSING_TEXT)).to_numpy(dtype=bool)
    return (codes < 0) | np.append(missing_unique, False)[codes]


def as_numeric(df: pd.DataFrame, column: str, table: str, *, lower: float = -np.inf,
               upper: float = np.inf, integer: bool = False,
               lower_open: bool = False) -> pd.Series:
    """The column as float64 with missing values as NaN; refuse anything else that is not a number.

    Missing (NaN, None, ``pd.NA``, missing-text such as ``'*'``) becomes NaN, for the
    caller to drop with :func:`drop_missing`. ``+-inf``, unparseable text, values outside
    ``[lower, upper]`` (``(lower, upper]`` with ``lower_open``) and, with ``integer``,
    non-integers raise :class:`DataValidationError` naming the rows.

    Examples
    --------
    >>> d = pd.DataFrame({"n": [3, None, "*", "4"]})
    >>> as_numeric(d, "n", "counts", lower=0, integer=True).tolist()
    [3.0, nan, nan, 4.0]
    >>> try:
    ...     as_numeric(pd.DataFrame({"n": [1.0, np.inf]}), "n", "counts")
    ... except Exception as e:
    ...     print(e.failures["rule"].iloc[0])
    finite (+-inf is not a number)
    """
    require_columns(df, [column], table, column)
    raw = df[column]
    if isinstance(raw, pd.DataFrame):
        raise ModelSpecificationError(f"table {table!r} has more than one column named {column!r}")
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype(float)
    if pd.api.types.is_numeric_dtype(raw):
        x = pd.to_numeric(raw, errors="coerce").astype(float)
    else:
        text_missing = _is_missing_text(raw)
        x = pd.to_numeric(raw.where(~text_missing), errors="coerce").astype(float)
        bad = np.flatnonzero(x.isna().to_numpy() & ~text_missing)
        if len(bad):
            raise refuse(table, column, "numeric (text that is not a number)", bad)
    v = x.to_numpy(dtype=float)
    inf = np.flatnonzero(np.isinf(v))
    if len(inf):
        raise refuse(table, column, "finite (+-inf is not a number)", inf)
    with np.errstate(invalid="ignore"):
        low = v <= lower if lower_open else v < lower
        out = np.flatnonzero(~np.isnan(v) & (low | (v > upper)))
    if len(out):
        lo = "(" if lower_open else "["
        raise refuse(table, column, f"range {lo}{lower:g}, {upper:g}]", out)
    if integer:
        frac = np.flatnonzero(~np.isnan(v) & (v != np.round(v)))
        if len(frac):
            raise refuse(table, column, "integer", frac)
    return pd.Series(v, index=df.index, name=column)


def as_bool(df: pd.DataFrame, column: str, table: str) -> pd.Series:
    """Parse a flag column: booleans, 0/1 and text such as ``"True"``/``"false"``/``"yes"``.

    Missing values become ``pd.NA``; anything else raises :class:`DataValidationError`.

    Examples
    --------
    >>> as_bool(pd.DataFrame({"s": ["False", "TRUE", None, 1]}), "s", "counts").tolist()
    [False, True, <NA>, True]
    """
    require_columns(df, [column], table, column)
    raw = df[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("boolean")
    s = raw.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=df.index, dtype="boolean")
    out[s.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[s.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    missing = _is_missing_text(raw)
    bad = np.flatnonzero(out.isna().to_numpy() & ~missing)
    if len(bad):
        raise refuse(table, column, "boolean (true/false, yes/no, 1/0)", bad)
    return out


def drop_missing(df: pd.DataFrame, columns: Iterable[str], table: str,
                 log: SampleLog | None = None, warn: bool = True,
                 stacklevel: int = 3, labels: dict[str, str] | None = None) -> tuple[pd.DataFrame, SampleLog]:
    """Drop rows missing any of ``columns``; count each drop by its first missing column.

    Missing means NaN/None/``pd.NA`` or missing-text (``'*'``, empty). A
    :class:`DroppedRowsWarning` names each column and count. ``labels`` maps working
    column names to the caller's column names, so the log and the warning name the user's
    columns.

    Examples
    --------
    >>> import warnings
    >>> d = pd.DataFrame({"a": [1, None, 3], "b": [None, None, 1]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     kept, log = drop_missing(d, ["a", "b"], "scores")
    >>> len(kept), log.dropped
    (1, {"missing 'a'": 1, "missing 'b'": 1})
    """
    log = log if log is not None else SampleLog(n_in=len(df))
    keep = np.ones(len(df), dtype=bool)
    for c in dict.fromkeys(columns):
        col = df[c]
        miss = (_is_missing_text(col) if col.dtype == object or pd.api.types.is_string_dtype(col)
                else col.isna().to_numpy(dtype=bool)) & keep
        n = int(miss.sum())
        if n:
            name = (labels or {}).get(c, c)
            log.drop(f"missing {name!r}", n)
            if warn:
                warnings.warn(f"table {table!r}: dropped {n} row(s) with a missing {name!r}",
                              DroppedRowsWarning, stacklevel=stacklevel)
        keep &= ~miss
    # a new frame either way (a shallow copy costs nothing under copy-on-write): a caller
    # that adds a column to the result never changes the table it was given
    return (df.copy(deep=False) if keep.all() else df.loc[keep]), log
