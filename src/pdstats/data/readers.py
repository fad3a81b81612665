"""Read raw files (CSV or Parquet) into validated tables."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from pdstats.data.validate import failures_frame, validate
from pdstats.errors import DataValidationError

__all__ = ["read_table"]


def _file_error(table: str, path: Path, rule: str, key: str, value: object = None) -> DataValidationError:
    return DataValidationError(
        table,
        failures_frame([{"table": table, "column": "(file)", "rule": rule, "row": None,
                         "key": key, "value": None if value is None else str(value)}]),
    )  # fmt: skip


def read_table(path: str | Path, name: str) -> pd.DataFrame:
    """Read a CSV (UTF-8) or Parquet file and validate it as data-dictionary table ``name``.

    CSV values are read as text and coerced by the schema, so leading zeros of ids survive
    and the schema's missing-value codes are honoured.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8, header row) or ``.parquet`` file.
    name : str
        Data-dictionary table name.

    Returns
    -------
    pandas.DataFrame
        The validated table (see :func:`pdstats.data.validate`).

    Raises
    ------
    DataValidationError
        For an empty file, a file that is not UTF-8 (the message gives the line), a file
        that is not readable CSV/Parquet, a file with a header but no rows, or any schema
        rule broken by its rows.

    Examples
    --------
    >>> import pdstats as pds, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "states.csv"
    >>> _ = p.write_text("state,state_name,fips,publishes\\nMA,Massachusetts,25,means\\n")
    >>> pds.data.read_table(p, "states")["fips"].tolist()
    [25]
    """
    path = Path(path)
    if not path.is_file():
        raise _file_error(name, path, "file exists", str(path))
    if path.suffix.lower() == ".parquet":
        try:
            df = pd.read_parquet(path)
        except (ValueError, OSError) as exc:  # pyarrow's errors: not a Parquet file, truncated
            raise _file_error(name, path, "readable Parquet file", str(path), exc) from exc
        if df.empty:
            raise _file_error(name, path, "non-empty file: no rows", str(path))
        return validate(df, name)
    raw = path.read_bytes()
    if not raw.strip():
        raise _file_error(name, path, "non-empty file", str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _file_error(
            name, path, "encoding: UTF-8", f"{path.name} line {line} byte {exc.start}",
            raw[exc.start : exc.start + 4],
        ) from exc  # fmt: skip
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except ValueError as exc:  # pandas' ParserError: ragged rows, bad quoting
        raise _file_error(name, path, "readable CSV file", str(path), exc) from exc
    if df.empty:
        raise _file_error(name, path, "non-empty file: header but no rows", str(path))
    return validate(df, name)
