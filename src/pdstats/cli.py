"""The ``pdstats`` command: ``pdstats reproduce`` and ``pdstats dictionary``.

``pdstats reproduce --out output`` is what ``make reproduce`` runs: it builds the example
study store and the store of a simulated study world, executes every notebook in
``notebooks/`` headless (executed copies and figures go under ``--out``) and regenerates
the paper's numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main", "reproduce", "execute_notebook"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def execute_notebook(path: Path, out_dir: Path, timeout: int = 1800) -> Path:
    """Execute one notebook headless; write the executed copy to ``out_dir/notebooks/``.

    The notebook runs with its own folder as working directory and the environment
    variable ``PDSTATS_OUTPUT`` pointing at ``out_dir`` (figures go to
    ``out_dir/figures/``). Any cell error raises ``nbclient.exceptions.CellExecutionError``.
    """
    import nbformat
    from nbclient import NotebookClient

    (out_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(path, as_version=4)
    os.environ["PDSTATS_OUTPUT"] = str(out_dir.resolve())
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
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
    store = study(random_state=random_state, progress=False).to_study(target)
    print(store.tables().to_string(index=False))
    store.close()
    return target


def reproduce(out: Path, notebooks: Path | None = None) -> None:
    """Run the main job: store, analyses, notebooks, figures and paper numbers."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"[reproduce] building the example study store in {out}/study.duckdb")
    build_example_store(out)
    print(f"[reproduce] simulating the default study world into {out}/simulated_study.duckdb")
    build_simulated_store(out)
    nb_dir = notebooks or REPO_ROOT / "notebooks"
    for nb in sorted(nb_dir.glob("[0-9]*.ipynb")):
        t = time.perf_counter()
        print(f"[reproduce] executing {nb.name} ...", flush=True)
        execute_notebook(nb, out)
        print(f"[reproduce]   done in {time.perf_counter() - t:.1f} s")
    paper = REPO_ROOT / "paper" / "make_numbers.py"
    if paper.exists():
        print("[reproduce] regenerating the paper's numbers")
        import runpy

        runpy.run_path(str(paper), run_name="__main__")
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
        reproduce(args.out)
    elif args.command == "dictionary":
        from pdstats.data.dictionary import write_readme

        path = write_readme()
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
