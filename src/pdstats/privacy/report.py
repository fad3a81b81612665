"""The disclosure report: which cells each shared output hides, why, and under which rule."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pdstats.errors import PrivacyError
from pdstats.privacy.gate import REASONS, ProtectedTable

__all__ = ["write_disclosure_report"]


def write_disclosure_report(
    results: Mapping[str, ProtectedTable], folder: Path | str, name: str = "disclosure_report"
) -> tuple[Path, Path]:
    """Write ``<name>.csv`` (one row per hidden cell) and ``<name>.json`` (rules and totals).

    The CSV has the report of every protected output stacked, with an ``output`` column
    naming it; the JSON holds each output's rule parameters (``min_n``, the minimum
    width of a hidden cell's feasible interval, percentage coding, the columns) and the
    number of cells hidden for each reason. Neither holds a hidden value. The report tells
    primary from complementary cells: it is the data steward's audit record.

    Parameters
    ----------
    results : mapping of str to ProtectedTable
        Each shared output's name and what :func:`protect` made of it.
    folder : path
        Folder the two files are written to (created if needed).
    name : str, default "disclosure_report"
        File name without extension.

    Returns
    -------
    (Path, Path)
        The CSV and the JSON file.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> import pdstats as pds
    >>> t = pd.DataFrame({"unit": ["a", "b"], "n": [4, 50], "k": [4, 20]})
    >>> out = pds.privacy.protect(t, counts=["k"], n="n", sums_to_n=False)
    >>> csv, js = pds.privacy.write_disclosure_report({"units": out}, tempfile.mkdtemp())
    >>> pd.read_csv(csv)[["output", "row", "column", "reason"]].values.tolist()
    [['units', 0, 'k', 'primary'], ['units', 0, 'n', 'primary']]
    """
    if not isinstance(results, Mapping) or not all(isinstance(r, ProtectedTable) for r in results.values()):
        raise PrivacyError("write_disclosure_report takes a mapping of output name to protect()'s result")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = [r.report.assign(output=str(k))[["output", *r.report.columns]] for k, r in results.items()]
    cells = (pd.concat(frames, ignore_index=True) if frames
             else pd.DataFrame(columns=["output", "table", "row", "column", "reason", "rule"]))
    summary = {
        str(k): {
            "parameters": r.parameters,
            "cells_in": r.sample_log.n_in,
            "hidden": {reason: int((r.report["reason"] == reason).sum()) for reason in REASONS},
        }
        for k, r in results.items()
    }
    csv, js = folder / f"{name}.csv", folder / f"{name}.json"
    tmp_csv, tmp_js = csv.with_suffix(".csv.tmp"), js.with_suffix(".json.tmp")
    cells.to_csv(tmp_csv, index=False)
    tmp_js.write_text(json.dumps({"outputs": summary}, indent=2, default=str), encoding="utf-8")
    tmp_csv.replace(csv)
    tmp_js.replace(js)
    return csv, js
