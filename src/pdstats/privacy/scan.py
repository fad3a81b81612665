"""Scan a folder of shared outputs for person identifiers and cells below the minimum n."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pdstats.errors import PrivacyError
from pdstats.privacy.gate import check_min_n
from pdstats.privacy.identifiers import (
    IDENTIFIER_PATTERN,
    STUDENT_COUNT_PATTERN,
    identifier_columns,
    student_level_columns,
)

__all__ = ["SCANNED_SUFFIXES", "check_frame", "frame_findings", "scan_outputs"]

#: File types the scanner reads; everything else (figures, stores, logs) is listed as not scanned.
SCANNED_SUFFIXES = (".csv", ".json", ".parquet", ".html", ".htm", ".ipynb")
_COLUMNS = ["file", "where", "kind", "column", "rows"]
_TOKEN = re.compile(r"\b([A-Za-z][A-Za-z0-9_]*_[A-Za-z0-9_]*|sid|SID|ssn|SSN|dob|DOB)\s*[=:]")


class _Tables(HTMLParser):
    """The tables of an HTML page as lists of rows of cell text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_frames(text: str) -> list[pd.DataFrame]:
    parser = _Tables()
    parser.feed(text)
    frames = []
    for rows in parser.tables:
        rows = [r for r in rows if r]
        if not rows:
            continue
        width = max(len(r) for r in rows)
        header = rows[0] + [""] * (width - len(rows[0]))
        body = [r + [""] * (width - len(r)) for r in rows[1:]]
        frames.append(pd.DataFrame(body, columns=[h or f"col{i}" for i, h in enumerate(header)]))
    return frames


def frame_findings(table: pd.DataFrame, min_n: int = 10, counts: Sequence[str] = (), file: str = "",
                   where: str = "table") -> pd.DataFrame:
    """What in one table may not be shared: identifier columns, a table of students, small counts.

    Small counts are values from 1 to ``min_n - 1`` in ``counts`` and in columns named
    like counts of students (``n``, ``n_tested``, ``level_1``, ``students`` ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import frame_findings
    >>> frame_findings(pd.DataFrame({"school": ["a", "b"], "n": [30, 4]}))[["kind", "column", "rows"]].values.tolist()
    [['count below 10', 'n', '1']]
    """
    min_n = check_min_n(min_n)
    out: list[dict[str, Any]] = []
    for col in identifier_columns(table):
        out.append({"file": file, "where": where, "kind": "identifier column", "column": col, "rows": ""})
    student = student_level_columns(table)
    if student:
        out.append({"file": file, "where": where, "kind": "student-level table", "column": ", ".join(student),
                    "rows": ""})
    for col in table.columns:
        if col not in counts and not STUDENT_COUNT_PATTERN.match(str(col).strip().lower()):
            continue
        text = table[col].astype("string").str.replace(",", "")
        v = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small = np.flatnonzero((v >= 1) & (v < min_n) & (v == np.round(v)))
        if len(small):
            out.append({"file": file, "where": where, "kind": f"count below {min_n}", "column": str(col),
                        "rows": ", ".join(map(str, small[:20])) + (" ..." if len(small) > 20 else "")})
    return pd.DataFrame(out, columns=_COLUMNS)


def check_frame(table: pd.DataFrame, name: str, min_n: int = 10, counts: Sequence[str] = ()) -> pd.DataFrame:
    """Return ``table`` if it may be shared as it is, else raise :class:`PrivacyError`.

    The check for a table that needs no suppression (estimates, figure data): no person
    identifiers, not a table of students, no count of 1 to ``min_n - 1``. Tables of
    counts go through :func:`protect` first.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import check_frame
    >>> check_frame(pd.DataFrame({"state": ["CA"], "n_students": [120]}), "sample").shape
    (1, 2)
    >>> try:
    ...     check_frame(pd.DataFrame({"sid": ["a"], "n": [40]}), "sample")
    ... except Exception as err:
    ...     print(err)
    output 'sample' may not be shared: identifier column sid
    """
    if not isinstance(table, pd.DataFrame):
        raise PrivacyError(f"output {name!r}: a DataFrame is needed, not {type(table).__name__}")
    if missing := [c for c in counts if c not in table.columns]:
        raise PrivacyError(f"output {name!r}: count column(s) {missing} are not in the table")
    found = frame_findings(table, min_n, counts)
    if len(found):
        what = "; ".join(f"{r.kind} {r.column}" + (f" (rows {r.rows})" if r.rows else "") for r in found.itertuples())
        raise PrivacyError(f"output {name!r} may not be shared: {what}")
    return table


def _check_frame(df: pd.DataFrame, file: str, where: str, min_n: int, out: list[dict[str, Any]]) -> None:
    out.extend(frame_findings(df, min_n, (), file, where).to_dict("records"))


def _check_numbers(obj: Any, file: str, min_n: int, out: list[dict[str, Any]], path: str = "") -> None:
    """Named numbers (e.g. numbers.json): identifier names, small student counts."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            name = str(k).strip().lower()
            where = f"{path}.{k}" if path else str(k)
            if IDENTIFIER_PATTERN.match(re.sub(r"[^0-9a-z]+", "_", name).strip("_")):
                out.append({"file": file, "where": where, "kind": "identifier column", "column": str(k), "rows": ""})
            if (STUDENT_COUNT_PATTERN.match(name) and isinstance(v, int | float) and not isinstance(v, bool)
                    and 1 <= v < min_n and float(v).is_integer()):
                out.append({"file": file, "where": where, "kind": f"count below {min_n}", "column": str(k),
                            "rows": ""})
            _check_numbers(v, file, min_n, out, where)
    elif isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        _check_frame(pd.DataFrame(obj), file, path or "(records)", min_n, out)


def _check_text(text: str, file: str, where: str, out: list[dict[str, Any]]) -> None:
    """Printed ``student_id=...`` style identifiers in notebook output text."""
    for token in sorted({m.group(1) for m in _TOKEN.finditer(text)}):
        if IDENTIFIER_PATTERN.match(token.lower()):
            out.append({"file": file, "where": where, "kind": "identifier printed", "column": token, "rows": ""})


def _check_notebook(path: Path, file: str, min_n: int, out: list[dict[str, Any]]) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []):
            where = f"cell {i}"
            data = output.get("data", {})
            html_text = data.get("text/html")
            if html_text:
                for k, frame in enumerate(_html_frames("".join(html_text))):
                    _check_frame(frame, file, f"{where} table {k}", min_n, out)
            for key in ("text/plain", "text"):
                text = data.get(key) if key in data else output.get(key)
                if text:
                    _check_text("".join(text), file, where, out)
            if output.get("output_type") == "error":
                _check_text(str(output.get("evalue", "")), file, where, out)


def scan_outputs(folder: Path | str, min_n: int = 10, strict: bool = False) -> pd.DataFrame:
    """Check every shared file of an output folder for identifiers and cells below ``min_n``.

    Reads CSV, Parquet, JSON (tables as records, and named numbers such as
    ``numbers/*.json``), HTML tables and executed notebooks (their HTML tables and printed
    text), in every sub-folder. A finding is an identifier column (by name, also in
    the index), a table of students, a student count between 1 and ``min_n - 1`` (in
    columns named like counts: ``n``, ``n_tested``, ``level_1``, ``students`` ...), or an
    identifier printed as ``student_id=...``. The disclosure report folder itself is
    skipped (it names hidden cells, not values).

    Parameters
    ----------
    folder : path
        The output folder (e.g. what ``pdstats reproduce --out`` wrote).
    min_n : int, default 10
        The minimum number of students a published cell may rest on.
    strict : bool, default False
        Raise :class:`PrivacyError` listing the findings instead of returning them.

    Returns
    -------
    pandas.DataFrame
        One row per finding: ``file`` (relative path), ``where``, ``kind``, ``column``,
        ``rows`` (positions). Empty when every shared file is clean. ``.attrs["scanned"]``
        and ``.attrs["not_scanned"]`` list the files read and the files skipped.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from pdstats.privacy import scan_outputs
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"Student_ID": ["x"], "score": [1.0]}).to_csv(d / "t.csv", index=False)
    >>> pd.DataFrame({"district": ["a", "b"], "n_tested": [40, 3]}).to_csv(d / "u.csv", index=False)
    >>> scan_outputs(d)[["file", "kind", "column", "rows"]].values.tolist()
    [['t.csv', 'identifier column', 'Student_ID', ''], ['u.csv', 'count below 10', 'n_tested', '1']]
    """
    min_n = check_min_n(min_n)
    root = Path(folder)
    if not root.is_dir():
        raise PrivacyError(f"scan_outputs: no output folder {root}")
    found: list[dict[str, Any]] = []
    scanned, skipped = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in SCANNED_SUFFIXES or rel.startswith("disclosure/"):
            skipped.append(rel)
            continue
        scanned.append(rel)
        try:
            suffix = path.suffix.lower()
            if suffix == ".csv":
                _check_frame(pd.read_csv(path, dtype=str, keep_default_na=False), rel, "table", min_n, found)
            elif suffix == ".parquet":
                _check_frame(pd.read_parquet(path), rel, "table", min_n, found)
            elif suffix == ".json":
                _check_numbers(json.loads(path.read_text(encoding="utf-8")), rel, min_n, found)
            elif suffix in (".html", ".htm"):
                text = path.read_text(encoding="utf-8", errors="replace")
                for k, frame in enumerate(_html_frames(text)):
                    _check_frame(frame, rel, f"table {k}", min_n, found)
            else:
                _check_notebook(path, rel, min_n, found)
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            found.append({"file": rel, "where": "", "kind": f"unreadable ({type(exc).__name__})", "column": "",
                          "rows": ""})
    result = pd.DataFrame(found, columns=_COLUMNS)
    result.attrs["scanned"], result.attrs["not_scanned"] = scanned, skipped
    if strict and len(result):
        lines = [f"  {r.file} [{r.where}]: {r.kind} {r.column} {r.rows}".rstrip() for r in result.itertuples()]
        raise PrivacyError(f"{len(result)} finding(s) in shared outputs under {root}:\n" + "\n".join(lines[:30]))
    return result
