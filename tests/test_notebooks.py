"""Every numbered notebook executes headless from a clean kernel, as `make reproduce` runs it.

The notebooks are the package's shipped copies (``pdstats/notebooks``, the repository's
``notebooks/``), and they run with a temporary folder, not the repository, as working
directory: they must find their data and reference values through the package.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pdstats.cli import REPO_ROOT, execute_notebook, method_notebooks, study_notebooks
from pdstats.privacy import scan_outputs

NOTEBOOKS = study_notebooks()
METHOD_NOTEBOOKS = method_notebooks()  # the yearly study notebooks run in test_study_reproduce.py


def test_notebooks_exist_and_are_the_top_level_ones() -> None:
    assert NOTEBOOKS, "no notebooks found"
    top = sorted((REPO_ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert [p.name for p in NOTEBOOKS] == [p.name for p in top]
    for shipped, repo in zip(NOTEBOOKS, top, strict=True):
        assert shipped.read_bytes() == repo.read_bytes(), shipped.name


@pytest.mark.parametrize("path", METHOD_NOTEBOOKS, ids=[p.stem for p in METHOD_NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat

    stored = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in stored.cells), f"{path.name} is stored with outputs"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the repository
    out = execute_notebook(path, tmp_path / "out")
    assert out.exists()
    assert Path(os.environ["PDSTATS_OUTPUT"]) == (tmp_path / "out").resolve()
    assert list((tmp_path / "out" / "figures").glob("*.png")), f"{path.name} saved no figure"
    found = scan_outputs(tmp_path / "out")  # what the notebook shares: no ids, no cell below 10
    assert found.empty, found.to_string()
    assert f"notebooks/{path.name}" in found.attrs["scanned"]
