"""What the notebook generators (``notebooks/make_NN_*.py``) share.

Each generator describes its notebook as a list of markdown and code cells and writes it
without outputs, with stable cell ids (``cell-001``, ...) so that regenerating an unchanged
notebook changes no byte. Figures inside the notebooks are saved with
``pdstats.report.save_figure`` and numbers with ``pdstats.report.record_numbers``.

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

    def code(self, text: str, tags: list[str] | None = None) -> None:
        """Append a code cell (``tags=["parameters"]`` marks papermill's parameters cell)."""
        cell = nbf.v4.new_code_cell(text)
        if tags:
            cell["metadata"]["tags"] = list(tags)
        self.cells.append(cell)

    def write(self, path: str) -> None:
        """Write the notebook, without outputs and with stable cell ids."""
        nb = nbf.v4.new_notebook()
        for i, cell in enumerate(self.cells, start=1):
            cell["id"] = f"cell-{i:03d}"
        nb["cells"] = self.cells
        nb["metadata"]["kernelspec"] = KERNELSPEC
        nbf.write(nb, path)


def study_opening(nb: Notebook) -> None:
    """The parameters cell and set-up shared by the yearly study notebooks (10, 20, 30).

    Parameters are injected by papermill (``pdstats reproduce --study ...`` does it); run
    by hand, the notebook uses the default simulated store in ``$PDSTATS_OUTPUT``.
    """
    nb.md("Parameters: `store_path`, the study store (empty: the default simulated store, built if "
          "missing); `config_path`, the study's TOML configuration (empty: derived from the store); "
          "`profile`, `fast` or `full` (bootstrap draws and simulated power at full size).")
    nb.code('''store_path = ""
config_path = ""
profile = "fast"''', tags=["parameters"])
    nb.code('''import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import pdstats as pds
from pdstats.report import output_dir, record_numbers, save_figure, table
from pdstats.report.study import PROFILES, evaluate_program, open_study, section_missing, tables_until

sns.set_theme(style="whitegrid", context="notebook")
warnings.simplefilter("ignore", pds.DroppedRowsWarning)   # every drop is in the results' sample logs
if not store_path:
    from pdstats.cli import build_simulated_store
    store_path = output_dir() / "simulated_study.duckdb"
    if not store_path.exists():
        build_simulated_store(output_dir())
store, cfg = open_study(store_path, config_path or None)
RUN = PROFILES[profile]
print(cfg.to_toml())''')
