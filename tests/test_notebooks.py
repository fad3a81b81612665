"""Every numbered notebook executes headless from a clean kernel, as `make reproduce` runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdstats.cli import REPO_ROOT, execute_notebook

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9]*.ipynb"))


def test_notebooks_exist() -> None:
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    out = execute_notebook(path, tmp_path)
    assert out.exists()
