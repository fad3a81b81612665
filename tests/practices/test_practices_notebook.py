"""The year-1 notebook is stored clean and asserts the published values inside.

Its execution is tested with every other notebook in tests/test_notebooks.py.
"""

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NB = ROOT / "notebooks" / "01_year1_report.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NB, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    src = "\n".join(c.source for c in code)
    assert src.count("check_figure(") >= 9 and "assert" in src
