"""What the notebook generators (``notebooks/make_NN_*.py``) share.

Each generator describes its notebook as a list of markdown and code cells and writes it
without outputs, with stable cell ids (``cell-001``, ...) so that regenerating an unchanged
notebook changes no byte. Figures inside the notebooks are saved with
``pdstats.reporting.save_figure`` and numbers with ``pdstats.reporting.record_numbers``.

Usage, from the repository root::

    from nbgen import Notebook
    nb = Notebook()
    nb.md("# 01 - Title")
    nb.code("import pdstats as pds")
    nb.write("notebooks/01_title.ipynb")
"""

from __future__ import annotations

import nbformat as nbf

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


class Notebook:
    """Cells of one notebook, in order."""

    def __init__(self) -> None:
        self.cells: list = []

    def md(self, text: str) -> None:
        """Append a markdown cell."""
        self.cells.append(nbf.v4.new_markdown_cell(text))

    def code(self, text: str) -> None:
        """Append a code cell."""
        self.cells.append(nbf.v4.new_code_cell(text))

    def write(self, path: str) -> None:
        """Write the notebook, without outputs and with stable cell ids."""
        nb = nbf.v4.new_notebook()
        for i, cell in enumerate(self.cells, start=1):
            cell["id"] = f"cell-{i:03d}"
        nb["cells"] = self.cells
        nb["metadata"]["kernelspec"] = KERNELSPEC
        nbf.write(nb, path)
