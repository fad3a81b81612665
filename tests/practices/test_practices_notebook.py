"""The year-1 notebook runs headless and its in-notebook checks pass."""

import os
from pathlib import Path

import nbformat

from pdstats.cli import execute_notebook

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks" / "01_year1_report.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NB, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    src = "\n".join(c.source for c in code)
    assert src.count("check_figure(") >= 9 and "assert" in src


def test_notebook_executes(tmp_path, monkeypatch):
    # the kernel runs in notebooks/; make sure it imports this worktree's source
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = execute_notebook(NB, tmp_path)
    assert out.exists()
    figs = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert "year1_table_6_1.png" in figs and "year1_figure_1_1.png" in figs
    assert len(figs) == 13
