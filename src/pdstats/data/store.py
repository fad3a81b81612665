"""The embedded study store: validated tables in one DuckDB file.

A :class:`Study` holds a study's tables (those of the data dictionary) in a single
DuckDB database. Every write is validated against the dictionary first (types,
constraints, keys, cross-field rules, foreign keys against what the store holds) and is
all-or-nothing: a batch that fails leaves every table exactly as it was. Each batch is
recorded in a provenance table (when, what mode, from what file or object, its SHA-256).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from pdstats.data.dictionary import DUCKDB_TYPES, TableSchema, schema, table_names
from pdstats.data.readers import read_table
from pdstats.data.validate import failures_frame, validate
from pdstats.errors import DataValidationError, StoreError

__all__ = ["Study"]

PROVENANCE = "_provenance"
Mode = Literal["append", "replace"]


def _dependency_order(names: Iterable[str]) -> list[str]:
    """Order tables so that every table comes after the tables it references."""
    names = list(names)
    done: list[str] = []
    pending = set(names)
    while pending:
        ready = sorted(
            n for n in pending if all(r not in pending or r == n for _, r, _ in schema(n).references())
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
        DuckDB file (created if missing) or ``":memory:"``.
    read_only : bool, default False
        Open an existing file without write access (several readers may share it).

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
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open study store {self.path!r}: {exc}") from exc
        if not read_only:
            self._create_tables()

    # -- set-up ---------------------------------------------------------------------
    def _create_tables(self) -> None:
        con = self._con
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {PROVENANCE} (batch_id BIGINT, table_name VARCHAR, "
            "mode VARCHAR, n_rows BIGINT, written_at TIMESTAMP, source VARCHAR, "
            "source_sha256 VARCHAR, pdstats_version VARCHAR)"
        ).fetchall()
        for name in table_names():
            sch = schema(name)
            cols = ", ".join(f'"{f.name}" {DUCKDB_TYPES[f.type]}' for f in sch.fields)
            con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({cols}, _batch_id BIGINT)').fetchall()

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
            the list.

        Returns
        -------
        pandas.DataFrame
            Rows sorted by the primary key, with the schema's dtypes.
        """
        sch = self._schema(table)
        cols = columns or sch.columns
        unknown = [c for c in [*cols, *filters] if c not in sch.columns]
        if unknown:
            raise StoreError(f"table {table!r} has no column(s) {unknown}; columns: {sch.columns}")
        where, params = [], []
        for col, val in filters.items():
            if isinstance(val, list | tuple | set | pd.Series):
                vals = list(val)
                if not vals:
                    where.append("FALSE")
                    continue
                where.append(f'"{col}" IN ({", ".join("?" * len(vals))})')
                params += vals
            else:
                where.append(f'"{col}" = ?')
                params.append(val)
        sql = f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{table}"'
        if where:
            sql += " WHERE " + " AND ".join(where)
        order = [c for c in sch.primary_key if c in cols]
        if order:
            sql += " ORDER BY " + ", ".join(f'"{c}"' for c in order)
        df = self._con.execute(sql, params).df()
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

    def tables(self) -> pd.DataFrame:
        """One row per table: rows held, batches written and when the last one came."""
        prov = self.provenance()
        rows = []
        for name in table_names():
            n = self._con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
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
        return self._con.execute(sql + " ORDER BY batch_id", params).df()

    # -- writing --------------------------------------------------------------------
    def _keys_in_store(self, table: str, cols: list[str]) -> pd.DataFrame:
        quoted = ", ".join(f'"{c}"' for c in cols)
        return self._con.execute(f'SELECT DISTINCT {quoted} FROM "{table}"').df()

    def _context(self, sch: TableSchema, batch: Mapping[str, pd.DataFrame], mode: Mode) -> dict[str, pd.DataFrame]:
        context = {}
        for _, ref, ref_cols in sch.references():
            stored = self._keys_in_store(ref, ref_cols)
            if ref in batch:
                new = batch[ref][ref_cols]
                stored = new if mode == "replace" else pd.concat([stored.astype("string"), new.astype("string")])
            context[ref] = stored
        return context

    def _check_existing_keys(self, sch: TableSchema, typed: pd.DataFrame) -> None:
        """Appending: no primary key of ``typed`` may be held already (joined inside DuckDB)."""
        pk = list(sch.primary_key)
        if typed.empty:
            return
        con = self._con
        if not con.execute(f'SELECT count(*) FROM "{sch.name}"').fetchall()[0][0]:
            return
        keys = typed[pk].reset_index(drop=True).assign(_pdstats_row=np.arange(len(typed)))
        con.register("_pdstats_keys", keys)
        try:
            on = " AND ".join(f'k."{c}" = t."{c}"' for c in pk)
            rows = con.execute(f'SELECT DISTINCT k._pdstats_row FROM _pdstats_keys k JOIN "{sch.name}" t ON {on} '
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
        self, table: str, df: pd.DataFrame, mode: Mode = "append", source: str | None = None
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
        """
        return self.write_many({table: df}, mode=mode, source=source)[table]

    def write_many(
        self,
        tables: Mapping[str, pd.DataFrame],
        mode: Mode = "append",
        source: str | None = None,
        _sha256: str | None = None,
    ) -> dict[str, WriteReport]:
        """Validate and write several tables in one transaction (all or nothing).

        Tables are validated in dependency order, so a batch may hold a table and the
        tables it references (e.g. ``states``, ``districts`` and ``schools`` together).
        """
        if mode not in ("append", "replace"):
            raise StoreError(f"mode must be 'append' or 'replace', not {mode!r}")
        order = _dependency_order(tables)
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
        con.execute("BEGIN TRANSACTION").fetchall()
        try:
            batch = int(con.execute(f"SELECT coalesce(max(batch_id), 0) FROM {PROVENANCE}").fetchall()[0][0])
            for name in order:
                batch += 1
                frame = typed[name].assign(_batch_id=batch)
                if mode == "replace":
                    con.execute(f'DELETE FROM "{name}"').fetchall()
                con.register("_pdstats_incoming", frame)
                cols = ", ".join(f'"{c}"' for c in frame.columns)
                con.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM _pdstats_incoming').fetchall()
                con.unregister("_pdstats_incoming")
                now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
                from pdstats import __version__

                con.execute(
                    f"INSERT INTO {PROVENANCE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [batch, name, mode, len(frame), now, source or "DataFrame", _sha256, __version__],
                ).fetchall()
                reports[name] = WriteReport(name, batch, len(frame), mode)
            con.execute("COMMIT").fetchall()
        except Exception as exc:
            con.execute("ROLLBACK").fetchall()
            raise StoreError(f"writing failed and was rolled back: {exc}") from exc
        return reports

    def write_file(self, table: str, path: str | Path, mode: Mode = "append") -> WriteReport:
        """Read a CSV/Parquet file (see :func:`pdstats.data.read_table`) and write it."""
        path = Path(path)
        df = read_table(path, table)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return self.write_many({table: df}, mode=mode, source=str(path), _sha256=digest)[table]

    # -- Parquet --------------------------------------------------------------------
    def export_parquet(self, folder: str | Path) -> list[Path]:
        """Write every non-empty table (and the provenance log) to ``folder/<table>.parquet``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in [*table_names(), PROVENANCE]:
            n = self._con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            if n == 0:
                continue
            target = folder / f"{name}.parquet"
            self._con.execute(f"COPY \"{name}\" TO '{target.as_posix()}' (FORMAT PARQUET)").fetchall()
            written.append(target)
        return written

    def import_parquet(self, folder: str | Path, mode: Mode = "append") -> dict[str, WriteReport]:
        """Validate and write every ``<table>.parquet`` in ``folder`` in one transaction."""
        folder = Path(folder)
        frames = {}
        for name in table_names():
            p = folder / f"{name}.parquet"
            if p.exists():
                frames[name] = pd.read_parquet(p).drop(columns=["_batch_id"], errors="ignore")
        if not frames:
            raise StoreError(f"no <table>.parquet files of the data dictionary in {folder}")
        return self.write_many(frames, mode=mode, source=f"parquet folder {folder}")


class WriteReport:
    """What one write did: table, batch id, rows written and mode."""

    def __init__(self, table: str, batch_id: int, n_rows: int, mode: str) -> None:
        self.table, self.batch_id, self.n_rows, self.mode = table, batch_id, n_rows, mode

    def __repr__(self) -> str:
        return f"WriteReport(table={self.table!r}, batch_id={self.batch_id}, n_rows={self.n_rows}, mode={self.mode!r})"
