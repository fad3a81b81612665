"""Validate tables against the data dictionary.

:func:`validate` coerces a DataFrame to its schema's types and checks every rule the
dictionary states: required columns, types, required values, enums, patterns, ranges,
unique primary keys, the named cross-field rules and, when the referenced tables are
given, foreign keys and row-by-row ``bounds``. Numbers are judged as floats before any
cast: ``+-inf`` (unless the field sets ``allowNonFinite``) and values outside the field's
range are refused, so an absurd integer (``1e20``) is a failure row, never a cast error. All problems are collected before anything is raised, so one
:class:`~pdstats.errors.DataValidationError` lists every failing row.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pdstats.data.dictionary import Field, TableSchema, schema
from pdstats.data.rules import RULES
from pdstats.errors import DataValidationError

__all__ = ["validate", "failures_frame"]

FAILURE_COLUMNS = ["table", "column", "rule", "row", "key", "value"]
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def failures_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A failures table with the standard columns (see :class:`DataValidationError`)."""
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


class _Collector:
    """Gathers failures of one table, labelling rows by their primary-key values."""

    def __init__(self, sch: TableSchema, df: pd.DataFrame) -> None:
        self.sch = sch
        self.rows: list[dict[str, object]] = []
        pk = [c for c in sch.primary_key if c in df.columns]
        if pk and len(pk) == len(sch.primary_key):
            parts = [c + "=" + df[c].astype("string").fillna("<NA>") for c in pk]
            keys = parts[0]
            for p in parts[1:]:
                keys = keys + ", " + p
            self.keys = keys.to_numpy(dtype=object)
        else:
            self.keys = np.array([f"row {i}" for i in range(len(df))], dtype=object)

    def add(self, column: str, rule: str, mask: np.ndarray | pd.Series, values: pd.Series | None) -> None:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        for i in idx:
            value = None if values is None else values.iloc[i]
            self.rows.append(
                {
                    "table": self.sch.name,
                    "column": column,
                    "rule": rule,
                    "row": int(i),
                    "key": self.keys[i],
                    "value": None if value is None or value is pd.NA else str(value),
                }
            )

    def add_table(self, column: str, rule: str, value: object = None) -> None:
        self.rows.append(
            {"table": self.sch.name, "column": column, "rule": rule, "row": None,
             "key": "(whole table)", "value": None if value is None else str(value)}
        )  # fmt: skip


def _missing(index: pd.Index, f: Field) -> pd.Series:
    """An all-missing column of the field's dtype."""
    return pd.Series(np.nan if f.type == "number" else pd.NA, index=index, dtype=f.dtype)


def _to_missing(s: pd.Series, codes: tuple[str, ...]) -> pd.Series:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        stripped = s.astype("string").str.strip()
        return s.mask(stripped.isin(codes) | s.isna())
    return s


def _coerce(s: pd.Series, f: Field, col: _Collector) -> pd.Series:
    """Coerce one column to the field's dtype, recording values that do not parse."""
    present = s.notna().to_numpy()
    if f.type == "string":
        if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            col.add(f.name, f"type: {f.type}", present, s)
            return _missing(s.index, f)
        return s.astype("string").str.strip()
    if f.type in ("integer", "number"):
        return _coerce_number(s, f, col, present)
    # boolean
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")
    text = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy()] = True
    out[text.isin(_FALSE).fillna(False).to_numpy()] = False
    bad = present & out.isna().to_numpy()
    col.add(f.name, "type: boolean", bad, s)
    return out


def _range_failures(vals: np.ndarray, f: Field, col: _Collector, judged: np.ndarray, s: pd.Series) -> np.ndarray:
    """Record values outside the field's range; True where a value fails."""
    c, failed = f.constraints, np.zeros(len(vals), dtype=bool)
    for key, op, sym in (
        ("minimum", np.less, ">="),
        ("exclusiveMinimum", np.less_equal, ">"),
        ("maximum", np.greater, "<="),
        ("exclusiveMaximum", np.greater_equal, "<"),
    ):
        if key in c:
            with np.errstate(invalid="ignore"):
                bad = judged & op(vals, float(c[key]))
            col.add(f.name, f"range: {f.name} {sym} {c[key]}", bad, s)
            failed |= bad
    return failed


def _coerce_number(s: pd.Series, f: Field, col: _Collector, present: np.ndarray) -> pd.Series:
    """Parse to float, refuse text, booleans, ``+-inf`` and out-of-range values, then cast."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        col.add(f.name, f"type: {f.type}", present, s)
        return _missing(s.index, f)
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_timedelta64_dtype(dtype)
    num = pd.to_numeric(s if numeric else s.astype("string").str.strip(), errors="coerce")
    try:
        vals = np.asarray(num.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    except (TypeError, ValueError, OverflowError):  # e.g. object columns of odd values
        vals = np.array([_as_float(v) for v in num], dtype=float)
    bad = present & np.isnan(vals)
    col.add(f.name, f"type: {f.type}", bad, s)
    ok = present & ~bad
    if f.type == "integer" or not f.allow_non_finite:
        inf = ok & np.isinf(vals)
        col.add(f.name, "finite: +-inf is not a value of this field", inf, s)
        ok &= ~inf
    ok &= ~_range_failures(vals, f, col, ok & np.isfinite(vals), s)
    if f.type == "number":
        return pd.Series(np.where(ok, vals, np.nan), index=s.index, dtype="float64")
    with np.errstate(invalid="ignore"):
        frac = ok & ((vals != np.round(vals)) | (np.abs(vals) >= 2.0**53))
    col.add(f.name, "type: integer", frac, s)
    ok &= ~frac
    return pd.Series(np.where(ok, np.round(vals), np.nan), index=s.index).astype("Int64")


def _as_float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return np.nan


def _check_constraints(s: pd.Series, f: Field, col: _Collector) -> None:
    c = f.constraints
    present = s.notna().to_numpy()
    if c.get("required"):
        col.add(f.name, "required", ~present, None)
    if "enum" in c:
        allowed = [str(v) for v in c["enum"]] if f.type == "string" else list(c["enum"])
        ok = s.isin(allowed).fillna(False).to_numpy()
        col.add(f.name, f"enum: one of {allowed if len(allowed) <= 12 else str(allowed[:12])[:-1] + ', ...]'}",
                present & ~ok, s)
    if "pattern" in c:
        ok = s.astype("string").str.fullmatch(c["pattern"]).astype("boolean").fillna(True)
        col.add(f.name, f"pattern: {c['pattern']}", present & ~ok.to_numpy(dtype=bool), s)
    if c.get("unique"):
        dup = s.duplicated(keep=False).to_numpy() & present
        col.add(f.name, "unique", dup, s)


def _check_foreign_keys(
    df: pd.DataFrame, sch: TableSchema, context: Mapping[str, pd.DataFrame], col: _Collector
) -> None:
    for cols, ref_table, ref_cols in sch.references():
        if ref_table not in context or not all(c in df.columns for c in cols):
            continue
        ref = context[ref_table]
        if ref_table == sch.name:
            continue
        left = df[cols].astype("string")
        right = ref[ref_cols].astype("string").drop_duplicates()
        right.columns = cols
        present = left.notna().all(axis=1).to_numpy()
        merged = left.merge(right.assign(_found=True), on=cols, how="left")
        missing = present & merged["_found"].isna().to_numpy()
        if not missing.any():
            continue
        values = left[cols[0]].copy()
        if len(cols) > 1:  # join the key parts, for the failing rows only
            values[missing] = left[missing].astype(str).agg("/".join, axis=1)
        label = ", ".join(cols)
        col.add(label, f"foreign key: ({label}) must exist in {ref_table}", missing, values)


def _check_bounds(df: pd.DataFrame, sch: TableSchema, context: Mapping[str, pd.DataFrame], col: _Collector) -> None:
    """Fields with ``bounds``: each value within its row's bounds in the bounds table, where given."""
    for f in sch.fields:
        b = f.bounds
        if not b or b["resource"] not in context or not len(df):
            continue
        keys, lo, hi = list(b["fields"]), b["minimum"], b["maximum"]
        ref = context[b["resource"]]
        if not {*keys, lo, hi} <= set(ref.columns):
            continue
        right = ref[[*keys, lo, hi]].copy()
        right[keys] = right[keys].astype("string")
        right = right.dropna(subset=[lo, hi], how="all").drop_duplicates(subset=keys)
        if right.empty:
            continue
        left = df[keys].astype("string").reset_index(drop=True)
        m = left.merge(right, on=keys, how="left")
        vals = df[f.name].to_numpy(dtype=float, na_value=np.nan)
        low = pd.to_numeric(m[lo], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        high = pd.to_numeric(m[hi], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            col.add(f.name, f"bounds: {f.name} >= {b['resource']}.{lo} of the same {', '.join(keys)}",
                    vals < low, df[f.name])
            col.add(f.name, f"bounds: {f.name} <= {b['resource']}.{hi} of the same {', '.join(keys)}",
                    vals > high, df[f.name])


def validate(
    df: pd.DataFrame,
    name: str,
    context: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Check a table against its data-dictionary schema and return it with schema types.

    Parameters
    ----------
    df : pandas.DataFrame
        The table. Columns may come as text (e.g. read from CSV) and are coerced to the
        schema's types; missing-value codes (e.g. ``""``, ``"NA"``) become missing.
        Optional columns that are absent are added as missing.
    name : str
        Data-dictionary table name.
    context : mapping of str to DataFrame, optional
        Tables this one references by foreign key or ``bounds`` (e.g. ``{"states":
        states}``). Foreign keys and bounds are checked only against tables given here;
        :class:`pdstats.Study` always supplies them.

    Returns
    -------
    pandas.DataFrame
        A new DataFrame with exactly the schema's columns, in schema order and dtypes.

    Raises
    ------
    DataValidationError
        Listing every failing row: ``.failures`` has one row per (row, rule) with the
        table, column, rule, row position, primary-key values and offending value.

    Examples
    --------
    >>> import pandas as pd
    >>> import pdstats as pds
    >>> states = pd.DataFrame({"state": ["CA"], "state_name": ["California"], "fips": [6],
    ...                        "publishes": ["means"]})
    >>> pds.data.validate(states, "states").dtypes["fips"]
    Int64Dtype()
    >>> bad = states.assign(state="ZZ")
    >>> try:
    ...     pds.data.validate(bad, "states")
    ... except pds.DataValidationError as err:
    ...     print(err.failures.loc[0, ["column", "key"]].tolist())
    ['state', 'state=ZZ']
    """
    sch = schema(name)
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(
            name,
            failures_frame([{"table": name, "column": "(table)", "rule": "input is a pandas DataFrame",
                             "row": None, "key": "(whole table)", "value": type(df).__name__}]),
        )  # fmt: skip
    df = df.reset_index(drop=True)
    col = _Collector(sch, df)
    unknown = [c for c in df.columns if c not in sch.columns]
    for c in unknown:
        col.add_table(str(c), f"unknown column (the schema of {name} has no column {c!r})")
    missing_required = [f.name for f in sch.fields if f.required and f.name not in df.columns]
    missing_required += [c for c in sch.primary_key if c not in df.columns and c not in missing_required]
    for c in missing_required:
        col.add_table(c, "required column missing")
    if col.rows:
        raise DataValidationError(name, failures_frame(col.rows))

    out = {}
    for f in sch.fields:
        if f.name in df.columns:
            s = _to_missing(df[f.name], sch.missing_values)
            out[f.name] = _coerce(s, f, col)
        else:
            out[f.name] = _missing(df.index, f)
    typed = pd.DataFrame(out, index=df.index)
    for f in sch.fields:
        _check_constraints(typed[f.name], f, col)
    if sch.primary_key and len(typed):
        pk = list(sch.primary_key)
        dup = typed.duplicated(subset=pk, keep=False).to_numpy()
        col.add(pk[0] if len(pk) == 1 else ", ".join(pk), f"primary key unique: ({', '.join(pk)})", dup, None)
    if len(typed):
        for rule_name in sch.rules:
            rule = RULES[rule_name]
            col.add(rule.column, f"{rule.name}: {rule.description}", rule.check(typed).to_numpy(), typed[rule.column])
    if context:
        _check_foreign_keys(typed, sch, context, col)
        _check_bounds(typed, sch, context, col)
    if col.rows:
        raise DataValidationError(name, failures_frame(col.rows))
    return typed
