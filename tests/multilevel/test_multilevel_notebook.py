"""The growth-model notebook runs end to end and saves its figure."""

from __future__ import annotations

import os
from pathlib import Path

from pdstats.cli import execute_notebook

ROOT = Path(__file__).resolve().parents[2]


def test_growth_notebook_executes(tmp_path: Path) -> None:
    # the kernel must import this checkout's pdstats, whatever its working directory
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src")] + ([old] if old else [])
    )
    try:
        out = execute_notebook(ROOT / "notebooks" / "03_multilevel_growth.ipynb", tmp_path)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    assert out.exists()
    assert (tmp_path / "figures" / "03_school_growth_trajectories.png").stat().st_size > 10_000
    text = out.read_text()
    assert "matches published" in text and "True" in text
