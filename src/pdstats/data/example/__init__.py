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

import hashlib
from pathlib import Path

from pdstats.data.store import Study, _dependency_order
from pdstats.errors import StoreError

__all__ = ["example_dir", "load_example_study"]


def example_dir() -> Path:
    """Folder holding the example CSV files (one per data-dictionary table)."""
    return Path(__file__).resolve().parent


def _example_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(example_dir().glob("*.csv"))}


def _digests(files: dict[str, Path]) -> dict[str, str]:
    return {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in files.items()}


def load_example_study(path: str | Path = ":memory:") -> Study:
    """Build a :class:`~pdstats.Study` from the example files, or reopen one built before.

    Every example table is written in one transaction, each recording its file and the
    file's SHA-256 in the provenance log. Called again with the same path (a notebook run
    twice), it reopens that store instead of writing the example a second time: a store
    is the example when its provenance holds every shipped example file's SHA-256. Later
    batches the user wrote into it are kept.

    Parameters
    ----------
    path : str or Path, default ":memory:"
        Where to create (or find) the DuckDB file.

    Returns
    -------
    Study
        The store with every example table written and validated.

    Raises
    ------
    StoreError
        When ``path`` holds a store with other data (it is left untouched), or is not a
        DuckDB database.

    Examples
    --------
    >>> from pdstats.data.example import load_example_study
    >>> study = load_example_study()
    >>> int(study.tables().set_index("table").loc["districts", "n_rows"])
    6
    """
    study = Study(path)
    try:
        files = _example_files()
        digests = _digests(files)
        prov = study.provenance()
        if len(prov) or study._n_rows_held():
            have = set(zip(prov["table_name"], prov["source_sha256"], strict=True))
            if set(digests.items()) <= have:
                return study
            raise StoreError(
                f"{study.path!r} holds a study store that is not the pdstats example (its "
                "provenance lacks the example files); load_example_study leaves it untouched: "
                "open it with pds.Study(path) or pass a new path"
            )
        study.write_files({name: files[name] for name in _dependency_order(files)})
    except BaseException:
        study.close()
        raise
    return study
