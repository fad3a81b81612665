"""The reproducibility record of a run: software, configuration, the store's content.

:func:`write_record` writes ``<output>/reproducibility/``:

* ``record.json`` - pdstats version, Python and platform, the installed version of every
  dependency pdstats declares (and of the notebook tools), the run's profile, the store's
  file name, a SHA-256 of each of its tables and its provenance log (every batch written:
  when, from what, the source's own hash);
* ``study.toml`` - the configuration the run used (reads back with
  :func:`pdstats.data.load_config`);
* ``table_hashes.csv`` - table, rows, SHA-256.

A table's hash is over its rows in a canonical order (``ORDER BY ALL``) written as CSV
with every float at full precision, so it does not depend on how the rows were inserted.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from pdstats.data.config import StudyConfig
from pdstats.report.output import output_dir

__all__ = ["dependency_versions", "table_hashes", "write_record"]

_EXTRA_TOOLS = ("papermill", "nbclient", "nbformat", "ipykernel", "mistune")


def dependency_versions() -> dict[str, str]:
    """Installed versions of pdstats' declared dependencies and the notebook tools.

    Examples
    --------
    >>> from pdstats.report.record import dependency_versions
    >>> "numpy" in dependency_versions()
    True
    """
    names: set[str] = set(_EXTRA_TOOLS)
    try:
        for req in metadata.requires("pdstats") or []:
            if "extra ==" in req and not any(f'"{e}"' in req for e in ("notebooks", "data")):
                continue
            names.add(re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0].lower())
    except metadata.PackageNotFoundError:  # a source tree without an install: the core set
        names |= {"numpy", "pandas", "scipy", "statsmodels", "duckdb", "matplotlib", "seaborn"}
    out = {}
    for name in sorted(names):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def table_hashes(store: Any) -> pd.DataFrame:
    """One row per data-dictionary table: rows held and a SHA-256 of its content.

    Examples
    --------
    >>> from pdstats.data.example import load_example_study
    >>> from pdstats.report.record import table_hashes
    >>> h = table_hashes(load_example_study())
    >>> int(h.set_index("table").loc["districts", "n_rows"]), len(h["sha256"].iloc[0])
    (6, 64)
    """
    from pdstats.data.dictionary import table_names
    from pdstats.data.store import quote_ident

    rows = []
    for name in sorted(table_names()):
        df = store.sql(f"SELECT * FROM {quote_ident(name)} ORDER BY ALL")
        text = df.to_csv(index=False, float_format="%.17g", lineterminator="\n")
        rows.append({"table": name, "n_rows": len(df), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
    return pd.DataFrame(rows)


def _provenance(store: Any) -> list[dict[str, object]]:
    prov = store.provenance()
    recs = []
    for r in prov.to_dict(orient="records"):
        recs.append({k: (v.isoformat() if hasattr(v, "isoformat") else (None if pd.isna(v) else v))
                     for k, v in r.items()})  # fmt: skip
    return json.loads(json.dumps(recs, default=str))


def write_record(store: Any, store_path: Path, config: StudyConfig, profile: str,
                 out: Path | None = None) -> Path:
    """Write the run's reproducibility record (see the module docstring); returns its folder."""
    import pdstats

    folder = (out or output_dir()) / "reproducibility"
    folder.mkdir(parents=True, exist_ok=True)
    hashes = table_hashes(store)
    hashes.to_csv(folder / "table_hashes.csv", index=False, lineterminator="\n")
    (folder / "study.toml").write_text(config.to_toml(), encoding="utf-8", newline="\n")
    record = {
        "pdstats": pdstats.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "profile": profile,
        "store": Path(store_path).name,
        "store_sha256": {r.table: r.sha256 for r in hashes.itertuples()},
        "config": config.to_dict(),
        "dependencies": dependency_versions(),
        "provenance": _provenance(store),
    }
    (folder / "record.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return folder
