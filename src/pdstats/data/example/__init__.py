"""A small example study shipped with pdstats (fictional districts, real NAEP figures).

The example has three states (CA, MA, TX) that publish their results differently (means
and SDs, level counts, or both), six fictional districts and nine fictional schools,
fictional cut scores and aggregates for grades 4 and 8 mathematics in 2005, stage-matrix
ratings for the three fictional "studied" districts, two fictional programs, and NAEP
state means that are real published figures (each row names its source; they come from
``shared/reference/naep_state_means.csv`` of the project, accommodations-permitted
samples). Everything except the NAEP rows is invented for illustration.
"""

from __future__ import annotations

from pathlib import Path

from pdstats.data.store import Study, _dependency_order

__all__ = ["example_dir", "load_example_study"]


def example_dir() -> Path:
    """Folder holding the example CSV files (one per data-dictionary table)."""
    return Path(__file__).resolve().parent


def load_example_study(path: str | Path = ":memory:") -> Study:
    """Build a :class:`~pdstats.Study` from the example files, recording each file's provenance.

    Parameters
    ----------
    path : str or Path, default ":memory:"
        Where to create the DuckDB file.

    Returns
    -------
    Study
        The store with every example table written and validated.

    Examples
    --------
    >>> from pdstats.data.example import load_example_study
    >>> study = load_example_study()
    >>> int(study.tables().set_index("table").loc["districts", "n_rows"])
    6
    """
    study = Study(path)
    files = {p.stem: p for p in example_dir().glob("*.csv")}
    for name in _dependency_order(files):
        study.write_file(name, files[name])
    return study
