"""The ``pdstats`` command: ``pdstats reproduce`` and ``pdstats dictionary``.

``pdstats reproduce --study store.duckdb [--config study.toml] --out output`` runs the
three-year study on a store: the yearly study notebooks (``10_year1_baseline``,
``20_year2_growth``, ``30_year3_final_report``) are executed with papermill, their
parameters (store, config, profile) injected; the paper (``output/paper/numbers.json``,
``manuscript.md``, ``manuscript.html``) and the reproducibility record
(``output/reproducibility/``) are written. Without ``--study`` it is what ``make
reproduce`` runs: it builds the example store and the default simulated study store,
executes the method notebooks (00-06, worked examples on public data) and runs the study
on the simulated store. ``--full`` runs the heavy parts at full size; ``--methods`` runs
the method notebooks beside a given ``--study`` too. Every run ends at the disclosure
gate: the store's district results are published through :func:`pdstats.privacy.protect`
(``output/tables/``), the disclosure report is written to ``output/disclosure/`` and
every shared file is scanned for identifiers and cells below the minimum n.

The notebooks and the manuscript template ship inside the package
(``pdstats/notebooks`` and ``pdstats/paper`` are the repository's top-level ``notebooks/``
and ``paper/`` folders, linked in the source tree and copied into the wheel), so an
installed pdstats runs the same study as a checkout. A missing notebook or paper file
stops the run with a non-zero exit instead of reporting success.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

__all__ = ["main", "reproduce", "execute_notebook", "execute_study_notebook", "method_notebooks", "notebooks_dir",
           "paper_dir", "paper_files", "study_notebooks", "yearly_notebooks"]

#: The yearly study notebooks, in order (run by papermill with the study's parameters).
YEARLY = ("10_year1_baseline.ipynb", "20_year2_growth.ipynb", "30_year3_final_report.ipynb")

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


def method_notebooks(folder: Path | None = None) -> list[Path]:
    """The method notebooks (00-09: worked examples on public and simulated data).

    Examples
    --------
    >>> from pdstats.cli import method_notebooks
    >>> method_notebooks()[-1].name
    '07_incentive_programs.ipynb'
    """
    return [p for p in study_notebooks(folder) if p.name not in YEARLY]


def yearly_notebooks(folder: Path | None = None) -> list[Path]:
    """The three yearly study notebooks (ReproduceError if one is missing).

    Examples
    --------
    >>> from pdstats.cli import yearly_notebooks
    >>> [p.name[:2] for p in yearly_notebooks()]
    ['10', '20', '30']
    """
    from pdstats.errors import ReproduceError

    found = {p.name: p for p in study_notebooks(folder)}
    missing = [n for n in YEARLY if n not in found]
    if missing:
        raise ReproduceError(f"the study's yearly notebooks are incomplete: missing {', '.join(missing)}")
    return [found[n] for n in YEARLY]


def execute_study_notebook(path: Path, out_dir: Path, parameters: dict[str, str],
                           timeout: int = 1800) -> Path:
    """Execute a yearly study notebook with papermill, its parameters injected.

    Like :func:`execute_notebook`: the executed copy goes to ``out_dir/notebooks/``, which
    is the working directory, and ``PDSTATS_OUTPUT`` points at ``out_dir``. A cell error
    raises :class:`~pdstats.ReproduceError` naming the notebook.
    """
    import papermill as pm

    from pdstats.errors import ReproduceError

    workdir = out_dir / "notebooks"
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["PDSTATS_OUTPUT"] = str(out_dir.resolve())
    target = workdir / path.name
    try:
        pm.execute_notebook(str(path), str(target), parameters=parameters, cwd=str(workdir.resolve()),
                            kernel_name="python3", progress_bar=False, execution_timeout=timeout)
    except pm.PapermillExecutionError as exc:
        raise ReproduceError(f"{path.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                             f"(executed copy: {target})") from exc
    return target


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


def run_study(store_path: Path, out: Path, config_path: Path | None = None, profile: str = "fast",
              notebooks: Path | None = None) -> None:
    """The three yearly notebooks on one store, then the reproducibility record."""
    from pdstats.report import record_numbers
    from pdstats.report.record import write_record
    from pdstats.report.study import open_study

    store, cfg = open_study(store_path, config_path)  # refuses a bad config before anything runs
    try:
        write_record(store, store_path, cfg, profile, out=out)
    finally:
        store.close()
    record_numbers("run", {"profile": profile, "store": Path(store_path).name, "study": cfg.name}, out=out)
    params = {"store_path": str(Path(store_path).resolve()),
              "config_path": str(Path(config_path).resolve()) if config_path else "", "profile": profile}
    for nb in yearly_notebooks(notebooks):
        t = time.perf_counter()
        print(f"[reproduce] executing {nb.name} on {Path(store_path).name} ...", flush=True)
        execute_study_notebook(nb, out, params)
        print(f"[reproduce]   done in {time.perf_counter() - t:.1f} s")


def reproduce(out: Path, notebooks: Path | None = None, paper: Path | None = None, study: Path | None = None,
              config: Path | None = None, profile: str = "fast", methods: bool | None = None) -> None:
    """Run the study: store(s), method notebooks, the three yearly notebooks, the paper.

    Checks first that every notebook and the paper template are there (the shipped
    copies unless ``notebooks``/``paper`` folders are given), and that the study store
    and config exist, so nothing is reported as finished that did not run.

    Parameters
    ----------
    out : Path
        Output folder.
    study : Path, optional
        The study store; default: build the default simulated store in ``out`` and use it.
    config : Path, optional
        The study's TOML config; default: derived from the store.
    profile : {"fast", "full"}
        Size of the heavy parts (bootstrap draws).
    methods : bool, optional
        Run the method notebooks 00-06 (default: only when no ``study`` is given).
    """
    from pdstats.errors import ReproduceError
    from pdstats.report.study import PROFILES

    if profile not in PROFILES:
        raise ReproduceError(f"profile must be one of {sorted(PROFILES)}, not {profile!r}")
    method_nbs = method_notebooks(notebooks)
    yearly_notebooks(notebooks)
    _, make_numbers = paper_files(paper)
    for what, path in (("study store", study), ("study config", config)):
        if path is not None and not Path(path).is_file():
            raise ReproduceError(f"the {what} {str(path)!r} does not exist")
    if study is not None:  # a bad config or store stops the run before anything is written
        from pdstats.report.study import open_study

        open_study(study, config)[0].close()
    methods = study is None if methods is None else methods
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("numbers", "tables", "figures"):  # outputs of an earlier run must not leak into this one
        if (out / stale).is_dir():
            shutil.rmtree(out / stale)
    t0 = time.perf_counter()
    print(f"[reproduce] profile {profile}; notebooks from {method_nbs[0].parent}; paper from {make_numbers.parent}")
    if study is None:
        print(f"[reproduce] building the example study store in {out}/study.duckdb")
        build_example_store(out)
        print(f"[reproduce] simulating the default study world into {out}/simulated_study.duckdb")
        study = build_simulated_store(out)
    if methods:
        for nb in method_nbs:
            t = time.perf_counter()
            print(f"[reproduce] executing {nb.name} ...", flush=True)
            execute_notebook(nb, out)
            print(f"[reproduce]   done in {time.perf_counter() - t:.1f} s")
    run_study(Path(study), out, config, profile, notebooks)
    print("[reproduce] filling and rendering the paper")
    os.environ["PDSTATS_OUTPUT"] = str(out.resolve())
    import runpy

    runpy.run_path(str(make_numbers), run_name="__main__")
    from pdstats.privacy import share_study_tables
    from pdstats.report import suppression_threshold

    print("[reproduce] publishing the district results through the disclosure gate; scanning every shared file")
    share_study_tables(Path(study), out, min_n=suppression_threshold())
    print(f"[reproduce]   disclosure report in {out}/disclosure/; no shared file holds ids or small cells")
    print(f"[reproduce] finished in {time.perf_counter() - t0:.1f} s; outputs in {out}/")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pdstats`` command."""
    parser = argparse.ArgumentParser(prog="pdstats", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="build the store, run notebooks, regenerate figures")
    rep.add_argument("--out", type=Path, default=Path("output"))
    rep.add_argument("--study", type=Path, default=None,
                     help="the study store (DuckDB); default: build and use the simulated store")
    rep.add_argument("--config", type=Path, default=None, help="the study's TOML config; default: from the store")
    rep.add_argument("--full", action="store_true", help="heavy parts at full size (profile 'full')")
    rep.add_argument("--methods", action=argparse.BooleanOptionalAction, default=None,
                     help="run the method notebooks 00-06 (default: only without --study)")
    sub.add_parser("dictionary", help="regenerate data_dictionary/README.md from the schemas")
    args = parser.parse_args(argv)
    if args.command == "reproduce":
        from pdstats.errors import PdstatsError

        try:
            reproduce(args.out, study=args.study, config=args.config,
                      profile="full" if args.full else "fast", methods=args.methods)
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
