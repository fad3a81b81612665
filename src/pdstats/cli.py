"""The ``pdstats`` command: ``pdstats reproduce`` and ``pdstats dictionary``.

``pdstats reproduce --out output`` is what ``make reproduce`` runs: it builds the example
study store and the store of a simulated study world, executes every notebook headless
(executed copies and figures go under ``--out``), regenerates the paper's numbers, publishes
the study's tables through the disclosure gate (``--out/tables``, with the disclosure report
in ``--out/disclosure``) and scans every shared file for identifiers and small cells.

The notebooks and the manuscript template ship inside the package
(``pdstats/notebooks`` and ``pdstats/paper`` are the repository's top-level ``notebooks/``
and ``paper/`` folders, linked in the source tree and copied into the wheel), so an
installed pdstats runs the same study as a checkout. A missing notebook or paper file
stops the run with a non-zero exit instead of reporting success.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main", "reproduce", "execute_notebook", "notebooks_dir", "paper_dir", "paper_files", "study_notebooks"]

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent


def notebooks_dir() -> Path:
    """The notebooks shipped with the package (the repository's ``notebooks/``).

    Examples
    --------
    >>> from pdstats.cli import notebooks_dir
    >>> notebooks_dir().name
    'notebooks'
    """
    return PACKAGE_DIR / "notebooks"


def paper_dir() -> Path:
    """The manuscript template and its filler shipped with the package (``paper/``).

    Examples
    --------
    >>> from pdstats.cli import paper_dir
    >>> (paper_dir() / "manuscript.md").is_file()
    True
    """
    return PACKAGE_DIR / "paper"


def study_notebooks(folder: Path | None = None) -> list[Path]:
    """The numbered notebooks of the study, checked to be complete.

    Every generator ``make_NN_name.py`` must have its notebook ``NN_name.ipynb``.

    Raises
    ------
    ReproduceError
        When the folder is missing, holds no numbered notebook, or a generator's notebook
        is missing.

    Examples
    --------
    >>> from pdstats.cli import study_notebooks
    >>> study_notebooks()[0].name
    '00_study_store.ipynb'
    """
    from pdstats.errors import ReproduceError

    folder = folder or notebooks_dir()
    if not folder.is_dir():
        raise ReproduceError(f"the study's notebooks are missing: no folder {folder}")
    found = sorted(folder.glob("[0-9]*.ipynb"))
    expected = [folder / (g.stem.removeprefix("make_") + ".ipynb") for g in sorted(folder.glob("make_[0-9]*.py"))]
    missing = [p.name for p in expected if p not in found]
    if not found or missing:
        raise ReproduceError(
            f"the study's notebooks are incomplete in {folder}: "
            + (f"missing {', '.join(missing)}" if missing else "no numbered notebook found")
        )
    return found


def execute_notebook(path: Path, out_dir: Path, timeout: int = 1800) -> Path:
    """Execute one notebook headless; write the executed copy to ``out_dir/notebooks/``.

    The notebook runs with ``out_dir/notebooks/`` as working directory (not the folder
    it ships in, which may be read-only and is not a checkout) and the environment
    variable ``PDSTATS_OUTPUT`` pointing at ``out_dir`` (figures go to
    ``out_dir/figures/``). Any cell error raises ``nbclient.exceptions.CellExecutionError``.
    """
    import nbformat
    from nbclient import NotebookClient

    workdir = out_dir / "notebooks"
    workdir.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    os.environ["PDSTATS_OUTPUT"] = str(out_dir.resolve())
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir.resolve())}},
    )
    client.execute()
    target = out_dir / "notebooks" / path.name
    nbformat.write(nb, target)
    return target


def build_example_store(out: Path) -> Path:
    """Build ``out/study.duckdb`` from the example data shipped with the package."""
    from pdstats.data.example import load_example_study

    target = out / "study.duckdb"
    if target.exists():
        target.unlink()
    study = load_example_study(target)
    print(study.tables().to_string(index=False))
    study.close()
    return target


def build_simulated_store(out: Path, random_state: int = 0) -> Path:
    """Simulate the default study world and write it to ``out/simulated_study.duckdb``.

    The world (``pds.simulate.study(random_state=0)``) carries every data-dictionary table,
    student-level ones included; its generating truth is documented in
    ``src/pdstats/simulate/README.md``.
    """
    from pdstats.simulate import study

    target = out / "simulated_study.duckdb"
    if target.exists():
        target.unlink()
    store = study(random_state=random_state, progress=False).to_study(target, overwrite=True)
    print(store.tables().to_string(index=False))
    store.close()
    return target


def paper_files(folder: Path | None = None) -> tuple[Path, Path]:
    """The manuscript template and the script filling it (ReproduceError if either is missing).

    Examples
    --------
    >>> from pdstats.cli import paper_files
    >>> [p.name for p in paper_files()]
    ['manuscript.md', 'make_numbers.py']
    """
    from pdstats.errors import ReproduceError

    folder = folder or paper_dir()
    files = (folder / "manuscript.md", folder / "make_numbers.py")
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise ReproduceError(f"the paper template is incomplete in {folder}: missing {', '.join(missing)}")
    return files


def reproduce(out: Path, notebooks: Path | None = None, paper: Path | None = None) -> None:
    """Run the main job: store, analyses, notebooks, figures and paper numbers.

    Checks first that every notebook and the paper template are there (the shipped
    copies unless ``notebooks``/``paper`` folders are given), so nothing is reported as
    finished that did not run.
    """
    nbs = study_notebooks(notebooks)
    _, make_numbers = paper_files(paper)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"[reproduce] {len(nbs)} notebooks from {nbs[0].parent}; paper from {make_numbers.parent}")
    print(f"[reproduce] building the example study store in {out}/study.duckdb")
    build_example_store(out)
    print(f"[reproduce] simulating the default study world into {out}/simulated_study.duckdb")
    build_simulated_store(out)
    for nb in nbs:
        t = time.perf_counter()
        print(f"[reproduce] executing {nb.name} ...", flush=True)
        execute_notebook(nb, out)
        print(f"[reproduce]   done in {time.perf_counter() - t:.1f} s")
    print("[reproduce] regenerating the paper's numbers")
    import runpy

    runpy.run_path(str(make_numbers), run_name="__main__")
    from pdstats.privacy import share_study_tables

    print("[reproduce] publishing the study's tables through the disclosure gate; scanning every shared file")
    share_study_tables(out / "study.duckdb", out)
    print(f"[reproduce]   disclosure report in {out}/disclosure/; no shared file holds ids or small cells")
    print(f"[reproduce] finished in {time.perf_counter() - t0:.1f} s; outputs in {out}/")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pdstats`` command."""
    parser = argparse.ArgumentParser(prog="pdstats", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="build the store, run notebooks, regenerate figures")
    rep.add_argument("--out", type=Path, default=Path("output"))
    sub.add_parser("dictionary", help="regenerate data_dictionary/README.md from the schemas")
    args = parser.parse_args(argv)
    if args.command == "reproduce":
        from pdstats.errors import PdstatsError

        try:
            reproduce(args.out)
        except PdstatsError as exc:
            print(f"[reproduce] FAILED: {exc}", file=sys.stderr)
            return 1
    elif args.command == "dictionary":
        from pdstats.data.dictionary import write_readme

        path = write_readme()
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
