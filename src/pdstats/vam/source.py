"""Student tables larger than memory: Parquet read one group at a time through DuckDB.

``pds.vam.value_added`` and ``pds.vam.sgp`` accept a Parquet file (or a glob of files)
in place of a DataFrame when ``by=`` splits the work (e.g. by subject and grade). Each
group's rows are then read with one DuckDB query (only the columns the analysis uses,
``WHERE`` the group's key, in file order), analysed and freed, so memory holds one group
at a time (plus the results): the ceiling is set by the largest group, not the table.
Results equal the in-memory ones exactly (the same rows in the same order); the result's
student-level rows are indexed by the row number in the Parquet data (over the files of
a glob, in path order).

:func:`analysis_parquet` writes the value-added analysis file
(:func:`pdstats.vam.analysis_file`) of a world streamed to Parquet
(``pds.simulate.study(size="state", path=...)``) with DuckDB, out of core.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError, StoreError

__all__ = ["analysis_parquet", "group_keys", "is_source", "read_group", "source_columns", "source_counts"]

#: DuckDB's working-memory cap for these queries (it spills to disk beyond it).
MEMORY_LIMIT = "1GB"


def is_source(data: object) -> bool:
    """True when ``data`` names Parquet data (a path or glob) instead of holding a table.

    Examples
    --------
    >>> is_source("scores.parquet"), is_source([1, 2])
    (True, False)
    """
    return isinstance(data, (str, os.PathLike))


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = true")
    return con


def _scan(path: str | os.PathLike) -> str:
    return f"read_parquet({_quote(str(path))}, file_row_number = true, filename = true)"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _run(path: str | os.PathLike, sql: str, params: list | None = None) -> pd.DataFrame:
    try:
        with _connect() as con:
            return con.execute(sql, params or []).df()
    except duckdb.Error as exc:
        raise StoreError(f"Parquet data {str(path)!r}: {type(exc).__name__}: {exc}") from exc


def source_columns(path: str | os.PathLike) -> list[str]:
    """Column names of the Parquet data.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> f = tempfile.mkdtemp() + "/t.parquet"
    >>> pd.DataFrame({"a": [1], "b": [2.0]}).to_parquet(f)
    >>> source_columns(f)
    ['a', 'b']
    """
    cols = _run(path, f"DESCRIBE SELECT * FROM read_parquet({_quote(str(path))})")["column_name"]
    return cols.tolist()


def group_keys(path: str | os.PathLike, by: Sequence[str]) -> list[tuple]:
    """The distinct complete keys of the ``by`` columns, sorted.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> f = tempfile.mkdtemp() + "/t.parquet"
    >>> pd.DataFrame({"g": [2, 1, 2, None]}).to_parquet(f)
    >>> group_keys(f, ["g"])
    [(1.0,), (2.0,)]
    """
    cols = ", ".join(_ident(b) for b in by)
    complete = " AND ".join(f"{_ident(b)} IS NOT NULL" for b in by)
    keys = _run(path, f"SELECT DISTINCT {cols} FROM {_scan(path)} WHERE {complete} ORDER BY {cols}")
    return [tuple(r) for r in keys.itertuples(index=False, name=None)]


def source_counts(path: str | os.PathLike, by: Sequence[str]) -> tuple[int, dict[str, int]]:
    """Rows of the Parquet data, and rows missing each ``by`` column (the first missing one).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> f = tempfile.mkdtemp() + "/t.parquet"
    >>> pd.DataFrame({"g": [2, 1, None]}).to_parquet(f)
    >>> source_counts(f, ["g"])
    (3, {'g': 1})
    """
    seen, parts = [], []
    for b in by:
        earlier = "".join(f" AND {_ident(c)} IS NOT NULL" for c in seen)
        parts.append(f"count(*) FILTER (WHERE {_ident(b)} IS NULL{earlier})")
        seen.append(b)
    row = _run(path, f"SELECT count(*) {''.join(', ' + p for p in parts)} FROM {_scan(path)}").iloc[0]
    return int(row.iloc[0]), {b: int(row.iloc[i + 1]) for i, b in enumerate(by)}


def read_group(path: str | os.PathLike, columns: Sequence[str], by: Sequence[str] = (),
               key: tuple = ()) -> pd.DataFrame:
    """The rows of one ``by`` group (all rows without ``by``), in file order.

    The index is the row's position in the Parquet data (over the files of a glob, in
    path order), so results of several groups line up with the whole table.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> f = tempfile.mkdtemp() + "/t.parquet"
    >>> pd.DataFrame({"g": [2, 1, 2], "y": [5.0, 6.0, 7.0]}).to_parquet(f)
    >>> read_group(f, ["y"], ["g"], (2,))["y"].to_dict()
    {0: 5.0, 2: 7.0}
    """
    used = list(dict.fromkeys([*by, *columns]))
    missing = sorted(set(used) - set(source_columns(path)))
    if missing:
        raise ModelSpecificationError(f"Parquet data {str(path)!r}: no column(s) {missing}")
    where = " AND ".join(f"{_ident(b)} = ?" for b in by) or "TRUE"
    offsets = _file_offsets(path)
    sql = (f"SELECT filename AS __file, file_row_number AS __row, {', '.join(_ident(c) for c in used)} "
           f"FROM {_scan(path)} WHERE {where} ORDER BY filename, file_row_number")
    df = _run(path, sql, [_plain(v) for v in key])
    index = df["__file"].map(offsets).to_numpy(dtype=np.int64) + df["__row"].to_numpy(dtype=np.int64)
    return df.drop(columns=["__file", "__row"]).set_index(pd.Index(index, name=None))


def _plain(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _file_offsets(path: str | os.PathLike) -> dict[str, int]:
    counts = _run(path, f"SELECT filename, count(*) AS n FROM {_scan(path)} GROUP BY filename ORDER BY filename")
    start = np.r_[0, np.cumsum(counts["n"].to_numpy())[:-1]]
    return dict(zip(counts["filename"], start.tolist(), strict=True))


def analysis_parquet(folder: str | os.PathLike, out: str | os.PathLike, min_grade: int | None = None
                     ) -> Path:
    """Write the value-added analysis file of a Parquet world with DuckDB (out of core).

    The same table as :func:`pdstats.vam.analysis_file` (enrollments with the current
    score and the prior-year scores in the same and the other subject, standardized
    within state x year x grade x subject, with their CSEMs), built by DuckDB from
    ``folder/enrollments.parquet`` and ``folder/student_scores.parquet`` (as written by
    ``pds.simulate.study(size="state", path=folder)``) and written to ``out``; DuckDB
    spills to disk beyond :data:`MEMORY_LIMIT`. ``min_grade`` keeps only enrollments in
    that grade or above (e.g. 4: the grades with a prior-year score).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> import pdstats as pds
    >>> d = tempfile.mkdtemp()
    >>> sim = pds.simulate.study(random_state=0, n_states=1, n_districts=2, years=(2005, 2006),
    ...                          n_comparison=0, progress=False, path=d)
    >>> f = analysis_parquet(d, d + "/analysis.parquet")
    >>> pd.read_parquet(f).columns[-4:].tolist()
    ['prior_same', 'csem_same', 'prior_other', 'csem_other']
    """
    folder = Path(folder)
    enr, sco = folder / "enrollments.parquet", folder / "student_scores.parquet"
    for f in (enr, sco):
        if not f.exists():
            raise ModelSpecificationError(f"analysis_parquet: {str(f)!r} not found")
    grade = "" if min_grade is None else f"WHERE e.grade >= {int(min_grade)}"
    sql = f"""
    COPY (
      WITH s AS (
        SELECT student_id, state, year, grade, subject, scale_score, csem FROM read_parquet({_quote(str(sco))})
      ), st AS (
        SELECT state, year, grade, subject, avg(scale_score) AS m, stddev_samp(scale_score) AS sd
        FROM s GROUP BY ALL
      ), z AS (
        SELECT s.student_id, s.state, s.year, s.subject, (s.scale_score - st.m) / st.sd AS z,
               s.csem / st.sd AS z_csem
        FROM s JOIN st USING (state, year, grade, subject)
      )
      SELECT e.student_id, e.year, e.grade, e.subject, e.school_id, e.district_id, e.teacher_id,
             e.class_id, e.dosage, cur.state, cur.z AS score,
             ps.z AS prior_same, ps.z_csem AS csem_same, po.z AS prior_other, po.z_csem AS csem_other
      FROM (SELECT *, row_number() OVER () AS __r FROM read_parquet({_quote(str(enr))})) e
      LEFT JOIN z cur ON cur.student_id = e.student_id AND cur.year = e.year AND cur.subject = e.subject
      LEFT JOIN z ps ON ps.student_id = e.student_id AND ps.year = e.year - 1 AND ps.subject = e.subject
      LEFT JOIN z po ON po.student_id = e.student_id AND po.year = e.year - 1
                    AND po.subject = CASE WHEN e.subject = 'math' THEN 'reading' ELSE 'math' END
      {grade}
      ORDER BY e.__r
    ) TO {_quote(str(out))} (FORMAT parquet, ROW_GROUP_SIZE 200000)
    """
    with _connect() as con:
        tmp = Path(out).parent / ".duckdb_tmp"
        con.execute(f"SET temp_directory = {_quote(str(tmp))}")
        try:
            con.execute(sql)
        except duckdb.Error as exc:
            raise StoreError(f"analysis_parquet({str(folder)!r}): {type(exc).__name__}: {exc}") from exc
    return Path(out)
