"""The embedded study store: validated tables in one DuckDB file.

A :class:`Study` holds a study's tables (those of the data dictionary) in a single
DuckDB database. Every write is validated against the dictionary first (types,
constraints, keys, cross-field rules, foreign keys against what the store holds) and is
all-or-nothing: a batch that fails leaves every table exactly as it was. Each batch is
recorded in a provenance table (when, what mode, from what file or object, its SHA-256).

Nothing is lost without saying so: a path that exists but is not a DuckDB database is
refused (never silently opened as an empty in-memory store), replacing a table with zero
rows needs ``allow_empty=True``, a filter value of ``None`` is refused rather than matching
nothing, user text never becomes SQL (identifiers and literals are quoted, values are
parameters) and DuckDB's own exceptions reach the caller as :class:`~pdstats.StoreError`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from pdstats.data.dictionary import DUCKDB_TYPES, TableSchema, schema, table_names
from pdstats.data.readers import read_table
from pdstats.data.validate import failures_frame, validate
from pdstats.errors import DataValidationError, SchemaError, StoreError

__all__ = ["Study"]

PROVENANCE = "_provenance"
Mode = Literal["append", "replace"]
#: Bytes 8-11 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"


def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier in double quotes (embedded quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a DuckDB string literal in single quotes (embedded quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


def _check_path(path: str) -> None:
    """Refuse a path that exists but cannot be this store's DuckDB file."""
    if path == ":memory:":
        return
    p = Path(path)
    if p.is_dir():
        raise StoreError(f"cannot open study store {path!r}: it is a folder, not a DuckDB file")
    if p.exists() and p.stat().st_size > 0:
        with p.open("rb") as fh:
            head = fh.read(12)
        if head[8:12] != DUCKDB_MAGIC:
            raise StoreError(
                f"cannot open study store {path!r}: the file exists and is not a DuckDB database "
                "(pass a new path, or read the file with pds.data.read_table and write it)"
            )


def _dependency_order(names: Iterable[str]) -> list[str]:
    """Order tables so that every table comes after the tables it references or reads bounds from."""
    names = list(names)
    done: list[str] = []
    pending = set(names)
    while pending:
        ready = sorted(
            n for n in pending if all(r not in pending or r == n for _, r, _ in schema(n).lookups())
        )
        if not ready:  # a reference cycle: keep dictionary order for the rest
            ready = sorted(pending)
        for n in ready:
            done.append(n)
            pending.discard(n)
    return done


class Study:
    """A study's validated tables in one embedded DuckDB file.

    Parameters
    ----------
    path : str or Path, default ":memory:"
        DuckDB file (created if missing) or ``":memory:"``. A path that exists but is not
        a DuckDB database (e.g. a CSV file) is refused with :class:`~pdstats.StoreError`.
    read_only : bool, default False
        Open an existing file without write access (several readers may share it).

    Raises
    ------
    StoreError
        When the path is a folder or a file of another kind, or DuckDB cannot open it.

    Examples
    --------
    >>> import pandas as pd
    >>> import pdstats as pds
    >>> study = pds.Study()
    >>> states = pd.DataFrame({"state": ["MA"], "state_name": ["Massachusetts"],
    ...                        "fips": [25], "publishes": ["levels"]})
    >>> study.write("states", states).n_rows
    1
    >>> study.read("states", state="MA")["state_name"].tolist()
    ['Massachusetts']
    """

    def __init__(self, path: str | Path = ":memory:", read_only: bool = False) -> None:
        self.path = str(path)
        self._depth = 0
        _check_path(self.path)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
            files = self._con.execute("SELECT file FROM pragma_database_list WHERE name = current_database()").fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"cannot open study store {self.path!r}: {exc}") from exc
        if self.path != ":memory:" and not (files and files[0][0]):
            self._con.close()
            raise StoreError(f"cannot open study store {self.path!r}: DuckDB did not open it as a database file")
        if not read_only:
            self._create_tables()

    # -- set-up ---------------------------------------------------------------------
    def _run(self, sql: str, params: list[Any] | None = None) -> duckdb.DuckDBPyConnection:
        """Execute one statement; DuckDB errors become :class:`StoreError`."""
        try:
            return self._con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise StoreError(f"study store {self.path!r}: {exc}") from exc

    def _create_tables(self) -> None:
        with self._transaction():
            self._run(
                f"CREATE TABLE IF NOT EXISTS {PROVENANCE} (batch_id BIGINT, table_name VARCHAR, "
                "mode VARCHAR, n_rows BIGINT, written_at TIMESTAMP, source VARCHAR, "
                "source_sha256 VARCHAR, pdstats_version VARCHAR)"
            ).fetchall()
            for name in table_names():
                sch = schema(name)
                cols = ", ".join(f"{quote_ident(f.name)} {DUCKDB_TYPES[f.type]}" for f in sch.fields)
                have = {r[0] for r in self._run(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "AND table_schema = current_schema()", [name]).fetchall()}  # fmt: skip
                if not have:
                    self._run(f"CREATE TABLE {quote_ident(name)} ({cols}, _batch_id BIGINT)").fetchall()
                for f in sch.fields:  # a store written before the dictionary gained a column
                    if f.name not in have and have:
                        self._run(f"ALTER TABLE {quote_ident(name)} ADD COLUMN {quote_ident(f.name)} "
                                  f"{DUCKDB_TYPES[f.type]}").fetchall()  # fmt: skip

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction around the block; nested blocks join the outermost one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._run("BEGIN TRANSACTION").fetchall()
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            with contextlib.suppress(duckdb.Error):
                self._con.execute("ROLLBACK").fetchall()
            raise
        self._depth = 0
        self._run("COMMIT").fetchall()

    def _n_rows_held(self) -> int:
        """Rows held over every dictionary table."""
        return sum(int(self._run(f"SELECT count(*) FROM {quote_ident(n)}").fetchall()[0][0]) for n in table_names())

    def _clear(self) -> None:
        """Delete every row of every dictionary table (the provenance log is kept)."""
        with self._transaction():
            for name in table_names():
                self._run(f"DELETE FROM {quote_ident(name)}").fetchall()

    def close(self) -> None:
        """Close the database file."""
        self._con.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Study({self.path!r})"

    # -- reading --------------------------------------------------------------------
    def _schema(self, table: str) -> TableSchema:
        if table == PROVENANCE:
            raise StoreError(f"{PROVENANCE!r} is internal; use Study.provenance()")
        return schema(table)

    def _typed(self, df: pd.DataFrame, sch: TableSchema) -> pd.DataFrame:
        for f in sch.fields:
            if f.name in df.columns:
                df[f.name] = df[f.name].astype(f.dtype)
        return df

    def read(self, table: str, columns: list[str] | None = None, **filters: Any) -> pd.DataFrame:
        """Read a table, optionally only some columns and rows.

        Parameters
        ----------
        table : str
            Data-dictionary table name.
        columns : list of str, optional
            Columns to return (default: all, in schema order).
        **filters
            ``column=value`` keeps rows equal to value; ``column=[v1, v2]`` keeps rows in
            the list. A missing value (``None``, NaN, ``pd.NA``) as a filter is refused:
            in SQL it matches no row, which would read as "no data". Select missing values
            with :meth:`sql` and ``IS NULL``.

        Returns
        -------
        pandas.DataFrame
            Rows sorted by the primary key, with the schema's dtypes.

        Raises
        ------
        StoreError
            For an unknown column, a missing filter value, or a value DuckDB cannot
            compare with the column.
        """
        sch = self._schema(table)
        cols = columns or sch.columns
        unknown = [c for c in [*cols, *filters] if c not in sch.columns]
        if unknown:
            raise StoreError(f"table {table!r} has no column(s) {unknown}; columns: {sch.columns}")
        where, params = [], []
        for col, val in filters.items():
            vals = list(val) if isinstance(val, list | tuple | set | pd.Series | np.ndarray) else [val]
            if any(_is_missing(v) for v in vals):
                raise StoreError(
                    f"read({table!r}): filter {col}={val!r} holds a missing value, which matches no "
                    f"row in SQL; select missing values with Study.sql('SELECT * FROM {table} WHERE "
                    f"{col} IS NULL')"
                )
            if not vals:
                where.append("FALSE")
                continue
            where.append(f"{quote_ident(col)} IN ({', '.join('?' * len(vals))})")
            params += [v.item() if isinstance(v, np.generic) else v for v in vals]
        sql = f"SELECT {', '.join(quote_ident(c) for c in cols)} FROM {quote_ident(table)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        order = [c for c in sch.primary_key if c in cols]
        if order:
            sql += " ORDER BY " + ", ".join(quote_ident(c) for c in order)
        df = self._run(sql, params).df()
        return self._typed(df, sch)

    def sql(self, query: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a SQL query against the store and return the result as a DataFrame.

        Examples
        --------
        >>> import pdstats as pds
        >>> pds.Study().sql("SELECT count(*) AS n FROM districts")["n"].item()
        0
        """
        try:
            return self._con.execute(query, params or []).df()
        except duckdb.Error as exc:
            raise StoreError(f"SQL failed: {exc}") from exc
        except (TypeError, ValueError) as exc:  # e.g. parameters DuckDB cannot bind
            raise StoreError(f"SQL failed: {exc}") from exc

    def tables(self) -> pd.DataFrame:
        """One row per table: rows held, batches written and when the last one came."""
        prov = self.provenance()
        rows = []
        for name in table_names():
            n = self._run(f"SELECT count(*) FROM {quote_ident(name)}").fetchall()[0][0]
            p = prov[prov["table_name"] == name]
            rows.append(
                {"table": name, "n_rows": int(n), "n_batches": len(p),
                 "last_written": p["written_at"].max() if len(p) else pd.NaT}
            )  # fmt: skip
        return pd.DataFrame(rows)

    def provenance(self, table: str | None = None) -> pd.DataFrame:
        """The batch log: batch id, table, mode, rows, time, source file and its SHA-256."""
        sql = f"SELECT * FROM {PROVENANCE}"
        params: list[Any] = []
        if table is not None:
            sql += " WHERE table_name = ?"
            params.append(table)
        return self._run(sql + " ORDER BY batch_id", params).df()

    # -- writing --------------------------------------------------------------------
    def _keys_in_store(self, table: str, cols: list[str]) -> pd.DataFrame:
        quoted = ", ".join(quote_ident(c) for c in cols)
        return self._run(f"SELECT DISTINCT {quoted} FROM {quote_ident(table)}").df()

    def _context(self, sch: TableSchema, batch: Mapping[str, pd.DataFrame], mode: Mode) -> dict[str, pd.DataFrame]:
        """The referenced (foreign key) and bounds tables as they will be after this batch."""
        needed: dict[str, list[str]] = {}
        for _, ref, ref_cols in sch.lookups():
            if ref != sch.name:
                needed.setdefault(ref, [])
                needed[ref] += [c for c in ref_cols if c not in needed[ref]]
        context = {}
        for ref, cols in needed.items():
            stored = self._keys_in_store(ref, cols)
            if ref in batch:
                new = batch[ref][cols]
                stored = new if mode == "replace" else pd.concat([stored.astype("string"), new.astype("string")])
            context[ref] = stored
        return context

    def _check_existing_keys(self, sch: TableSchema, typed: pd.DataFrame) -> None:
        """Appending: no primary key of ``typed`` may be held already (joined inside DuckDB)."""
        pk = list(sch.primary_key)
        if typed.empty:
            return
        con = self._con
        table = quote_ident(sch.name)
        if not self._run(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
            return
        keys = typed[pk].reset_index(drop=True).assign(_pdstats_row=np.arange(len(typed)))
        con.register("_pdstats_keys", keys)
        try:
            on = " AND ".join(f"k.{quote_ident(c)} = t.{quote_ident(c)}" for c in pk)
            rows = self._run(f"SELECT DISTINCT k._pdstats_row FROM _pdstats_keys k JOIN {table} t ON {on} "
                             "ORDER BY 1").fetchnumpy()["_pdstats_row"]
        finally:
            con.unregister("_pdstats_keys")
        if len(rows):
            left = typed[pk].astype("string")
            keys = left.iloc[rows].astype(str).apply(
                lambda r: ", ".join(f"{c}={r[c]}" for c in pk), axis=1
            )
            raise DataValidationError(
                sch.name,
                failures_frame([
                    {"table": sch.name, "column": ", ".join(pk),
                     "rule": "primary key unique: row already in the study store (use mode='replace')",
                     "row": int(r), "key": k, "value": None}
                    for r, k in zip(rows, keys, strict=True)
                ]),
            )  # fmt: skip

    def _check_children(self, table: str, typed: pd.DataFrame, batch: Mapping[str, pd.DataFrame]) -> None:
        """Replacing a referenced table must not orphan rows of tables that point at it."""
        for child in table_names():
            if child in batch or child == table:
                continue
            for cols, ref, ref_cols in schema(child).references():
                if ref != table:
                    continue
                used = self._keys_in_store(child, cols).dropna()
                if used.empty:
                    continue
                have = typed[ref_cols].astype("string").drop_duplicates()
                have.columns = cols
                m = used.astype("string").merge(have.assign(_ok=True), on=cols, how="left")
                orphan = m[m["_ok"].isna()]
                if len(orphan):
                    keys = orphan[cols].astype(str).agg("/".join, axis=1)
                    raise DataValidationError(
                        table,
                        failures_frame([
                            {"table": table, "column": ", ".join(ref_cols),
                             "rule": f"foreign key: replacing {table} would orphan rows of {child}",
                             "row": None, "key": f"{'/'.join(cols)}={k}", "value": None}
                            for k in keys
                        ]),
                    )  # fmt: skip

    def write(
        self,
        table: str,
        df: pd.DataFrame,
        mode: Mode = "append",
        source: str | None = None,
        allow_empty: bool = False,
    ) -> WriteReport:
        """Validate ``df`` against the dictionary and write it to ``table``, all or nothing.

        Parameters
        ----------
        table : str
            Data-dictionary table name.
        df : pandas.DataFrame
            Rows to write.
        mode : {"append", "replace"}
            Append to the rows held (primary keys must be new) or replace them all.
        source : str, optional
            Where the rows came from, for the provenance log (default ``"DataFrame"``).
        allow_empty : bool, default False
            Allow ``mode="replace"`` with zero rows, which empties the table. Without it
            an empty frame in replace mode is refused (an empty read is a common bug).

        Returns
        -------
        WriteReport
            Batch id and rows written.

        Raises
        ------
        DataValidationError
            When any row breaks a dictionary rule, repeats a key already held (append),
            points at a missing row of a referenced table, or when replacing would orphan
            rows of a table that references this one. Nothing is written.
        StoreError
            When ``mode="replace"`` gets zero rows without ``allow_empty=True``, or the
            database refuses the write (it is rolled back).
        """
        return self.write_many({table: df}, mode=mode, source=source, allow_empty=allow_empty)[table]

    def write_many(
        self,
        tables: Mapping[str, pd.DataFrame],
        mode: Mode = "append",
        source: str | Mapping[str, str] | None = None,
        allow_empty: bool = False,
        _sha256: str | Mapping[str, str] | None = None,
    ) -> dict[str, WriteReport]:
        """Validate and write several tables in one transaction (all or nothing).

        Tables are validated in dependency order, so a batch may hold a table and the
        tables it references (e.g. ``states``, ``districts`` and ``schools`` together).
        ``source`` may name one source for all tables or one per table; ``allow_empty``
        is as in :meth:`write`.
        """
        if mode not in ("append", "replace"):
            raise StoreError(f"mode must be 'append' or 'replace', not {mode!r}")
        if not isinstance(tables, Mapping):
            raise StoreError(f"write_many takes a mapping of table name to DataFrame, not {type(tables).__name__}")
        order = _dependency_order(tables)
        for name in order:
            self._schema(name)
            df = tables[name]
            if mode == "replace" and not allow_empty and isinstance(df, pd.DataFrame) and df.empty:
                raise StoreError(
                    f"refusing to replace table {name!r} with zero rows, which would delete every "
                    "row it holds; pass allow_empty=True if that is what you mean"
                )
        typed: dict[str, pd.DataFrame] = {}
        for name in order:
            sch = self._schema(name)
            typed[name] = validate(tables[name], name, self._context(sch, typed, mode))
            if mode == "append":
                self._check_existing_keys(sch, typed[name])
            else:
                self._check_children(name, typed[name], tables)
        reports = {}
        con = self._con
        from pdstats import __version__

        try:
            with self._transaction():
                batch = int(self._run(f"SELECT coalesce(max(batch_id), 0) FROM {PROVENANCE}").fetchall()[0][0])
                for name in order:
                    batch += 1
                    frame = typed[name].assign(_batch_id=batch)
                    if mode == "replace":
                        self._run(f"DELETE FROM {quote_ident(name)}").fetchall()
                    con.register("_pdstats_incoming", frame)
                    try:
                        cols = ", ".join(quote_ident(c) for c in frame.columns)
                        self._run(f"INSERT INTO {quote_ident(name)} ({cols}) SELECT {cols} FROM _pdstats_incoming").fetchall()
                    finally:
                        con.unregister("_pdstats_incoming")
                    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
                    self._run(
                        f"INSERT INTO {PROVENANCE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [batch, name, mode, len(frame), now, _per_table(source, name) or "DataFrame",
                         _per_table(_sha256, name), __version__],
                    ).fetchall()  # fmt: skip
                    reports[name] = WriteReport(name, batch, len(frame), mode)
        except (DataValidationError, SchemaError):
            raise
        except Exception as exc:  # noqa: BLE001 - every other failure: rolled back, one error type
            raise StoreError(f"writing failed and was rolled back: {exc}") from exc
        return reports

    def write_file(self, table: str, path: str | Path, mode: Mode = "append") -> WriteReport:
        """Read a CSV/Parquet file (see :func:`pdstats.data.read_table`) and write it."""
        return self.write_files({table: path}, mode=mode)[table]

    def write_files(self, files: Mapping[str, str | Path], mode: Mode = "append") -> dict[str, WriteReport]:
        """Read several files (table name to path) and write them in one transaction.

        Each table's provenance records its file and the file's SHA-256.

        Examples
        --------
        >>> import pdstats as pds
        >>> from pdstats.data.example import example_dir
        >>> st = pds.Study()
        >>> reports = st.write_files({"states": example_dir() / "states.csv"})
        >>> reports["states"].n_rows
        3
        """
        paths = {name: Path(p) for name, p in files.items()}
        frames = {name: read_table(p, name) for name, p in paths.items()}
        digests = {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in paths.items()}
        return self.write_many(frames, mode=mode, source={n: str(p) for n, p in paths.items()}, _sha256=digests)

    # -- Parquet --------------------------------------------------------------------
    def export_parquet(self, folder: str | Path) -> list[Path]:
        """Write every non-empty table (and the provenance log) to ``folder/<table>.parquet``.

        The folder may have any name (quotes included); it is never read as SQL.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in [*table_names(), PROVENANCE]:
            n = self._run(f"SELECT count(*) FROM {quote_ident(name)}").fetchall()[0][0]
            if n == 0:
                continue
            target = folder / f"{name}.parquet"
            # COPY takes no parameter for its target: the path is quoted as a literal
            self._run(f"COPY {quote_ident(name)} TO {quote_literal(target.as_posix())} (FORMAT PARQUET)").fetchall()
            written.append(target)
        return written

    def import_parquet(self, folder: str | Path, mode: Mode = "append") -> dict[str, WriteReport]:
        """Validate and write every ``<table>.parquet`` in ``folder`` in one transaction."""
        folder = Path(folder)
        frames = {}
        for name in table_names():
            p = folder / f"{name}.parquet"
            if p.exists():
                try:
                    frames[name] = pd.read_parquet(p).drop(columns=["_batch_id"], errors="ignore")
                except (ValueError, OSError) as exc:  # pyarrow: not Parquet, truncated
                    raise StoreError(f"cannot read {p} as Parquet: {exc}") from exc
        if not frames:
            raise StoreError(f"no <table>.parquet files of the data dictionary in {folder}")
        return self.write_many(frames, mode=mode, source=f"parquet folder {folder}")


def _per_table(value: str | Mapping[str, str] | None, name: str) -> str | None:
    """One table's entry of a per-table mapping, or the single value given for all."""
    if isinstance(value, Mapping):
        return value.get(name)
    return value


def _is_missing(value: object) -> bool:
    """None, NaN or pd.NA (a filter value that SQL would never match with ``=``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


class WriteReport:
    """What one write did: table, batch id, rows written and mode."""

    def __init__(self, table: str, batch_id: int, n_rows: int, mode: str) -> None:
        self.table, self.batch_id, self.n_rows, self.mode = table, batch_id, n_rows, mode

    def __repr__(self) -> str:
        return f"WriteReport(table={self.table!r}, batch_id={self.batch_id}, n_rows={self.n_rows}, mode={self.mode!r})"
