"""The README's quickstart block runs as pasted into Jupyter, twice in a row (issue 12, part 4)."""

from __future__ import annotations

import re

import pandas as pd

import pdstats as pds
from pdstats.cli import REPO_ROOT


def quickstart_block() -> str:
    """The python block under the README's "Quickstart" heading."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Quickstart"):]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the README's quickstart has no python block"
    return match.group(1)


def test_quickstart_runs_twice_in_a_fresh_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = compile(quickstart_block(), "README.md quickstart", "exec")
    ns: dict = {}
    exec(code, ns)  # first run: builds study.duckdb
    first = ns["study"]
    prov_first = first.provenance()
    counts = first.tables()["n_rows"].tolist()
    exec(code, ns)  # the same cell run again, as in Jupyter
    again = ns["study"]
    assert (tmp_path / "study.duckdb").exists()
    assert again.tables()["n_rows"].tolist() == counts
    prov = again.provenance()
    # the example batches are the same ones; the second run added only its own write
    pd.testing.assert_frame_equal(prov.iloc[: len(prov_first)], prov_first)
    assert prov.iloc[len(prov_first):]["table_name"].tolist() == ["districts"]
    assert len(ns["ma"]) == 2 and ns["ma"]["state"].eq("MA").all()
    assert isinstance(again, pds.Study)
    first.close()
    again.close()
