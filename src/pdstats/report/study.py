"""What the yearly study notebooks share: opening a study, sections a store cannot support,
and the program evaluations by design.

A study notebook opens its study with :func:`open_study` (store read-only, configuration
from the file or derived from the store, checked against it). Each section first asks
:func:`section_missing` whether the store holds what it needs; if not, the section records
``{"missing": "..."}`` (the paper then says what was missing) and the notebook goes on.

Program evaluations dispatch on the design the configuration names through
:data:`PROGRAM_ESTIMATORS`. ``"staggered"`` runs :func:`pdstats.evaluate.staggered_did`
(Callaway & Sant'Anna) beside :func:`pdstats.evaluate.twfe`; ``"randomized"`` runs
:func:`pdstats.evaluate.randomized` on the students of the randomized teachers or schools in
the assignment year (outcome and prior score in student SDs of the state test). A design with
no estimator registered is reported as not available: register a function
``(store, program, spec, config, profile) -> dict[str, result]`` under its design name to add
one (keys starting with ``_`` carry extras such as ``_n_units``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pdstats.data.config import StudyConfig, config_for_store, load_config
from pdstats.report.numbers import record_numbers
from pdstats.report.output import THRESHOLD_ENV

__all__ = ["PROFILES", "PROGRAM_ESTIMATORS", "evaluate_program", "open_study", "section_missing",
           "tables_until"]

#: Run profiles: bootstrap draws of the wild cluster bootstrap and the DiD bands.
PROFILES: dict[str, dict[str, int]] = {
    "fast": {"n_boot": 199},
    "full": {"n_boot": 1999},
}


def open_study(store_path: str | Path, config_path: str | Path | None = None) -> tuple[Any, StudyConfig]:
    """The study's store (read-only) and its checked configuration.

    Also sets the suppression threshold every shared output is checked against
    (:func:`pdstats.report.release`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pdstats.data.example import load_example_study
    >>> from pdstats.report.study import open_study
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "example.duckdb"
    >>> load_example_study(path).close()
    >>> store, cfg = open_study(path)
    >>> cfg.states
    ('CA', 'MA', 'TX')
    >>> store.close()
    """
    from pdstats.data.store import Study

    store = Study(str(store_path), read_only=True)
    try:
        cfg = load_config(config_path) if config_path else config_for_store(store)
        cfg.check_store(store)
    except Exception:
        store.close()
        raise
    os.environ[THRESHOLD_ENV] = str(cfg.suppression_threshold)
    return store, cfg


def section_missing(store: Any, section: str, tables: Iterable[str] = (), years: int = 1,
                    record: bool = True) -> str | None:
    """What the store lacks for a section (``None`` when it has everything).

    Parameters
    ----------
    store : pdstats.Study
    section : str
        Numbers section of the paper; when something is missing and ``record`` is true,
        ``{"missing": <text>}`` is recorded under it.
    tables : iterable of str
        Tables that must hold rows.
    years : int
        Distinct years ``state_assessment_aggregates`` and ``practice_ratings`` must both cover.

    Examples
    --------
    >>> from pdstats.data.example import load_example_study
    >>> from pdstats.report.study import section_missing
    >>> section_missing(load_example_study(), "demo", ["student_scores", "districts"], record=False)
    [demo] not available: student-level table(s) student_scores have no rows in this store
    'student-level table(s) student_scores have no rows in this store'
    """
    from pdstats.data.dictionary import schema

    empty = [t for t in tables if int(store.sql(f'SELECT count(*) AS n FROM "{t}"')["n"].iloc[0]) == 0]
    why = []
    if empty:
        student = [t for t in empty if schema(t).sensitive]
        other = [t for t in empty if t not in student]
        if student:
            why.append(f"student-level table(s) {', '.join(student)} have no rows in this store")
        if other:
            why.append(f"table(s) {', '.join(other)} have no rows in this store")
    if years > 1:
        held = min(int(store.sql(f"SELECT count(DISTINCT year) AS n FROM {t}")["n"].iloc[0])
                   for t in ("state_assessment_aggregates", "practice_ratings"))
        if held < years:
            why.append(f"it needs {years} study years of achievement and practice data; the store holds {held}")
    if not why:
        return None
    text = "; ".join(why)
    if record:
        record_numbers(section, {"missing": text})
    print(f"[{section}] not available: {text}")
    return text


def tables_until(store: Any, names: Iterable[str], year: int) -> dict[str, pd.DataFrame]:
    """Tables as they stood at the end of ``year``: rows of later years left out.

    Examples
    --------
    >>> from pdstats.data.example import load_example_study
    >>> from pdstats.report.study import tables_until
    >>> t = tables_until(load_example_study(), ["practice_ratings", "districts"], 2004)
    >>> len(t["practice_ratings"]), len(t["districts"])
    (0, 6)
    """
    out = {}
    for name in names:
        df = store.read(name)
        if "year" in df.columns:
            df = df[df["year"].astype("Int64") <= year].reset_index(drop=True)
        out[name] = df
    return out


def _staggered(store: Any, program: str, spec: dict[str, str], config: StudyConfig,
               profile: str) -> dict[str, Any]:
    import pdstats as pds

    subject = config.subjects[0] if len(config.subjects) == 1 else None
    pp = pds.evaluate.panel(store, program=program, outcome="growth", level=spec["level"], subject=subject)
    d = pp.data
    cs = pds.evaluate.staggered_did(d, outcome="outcome", unit="unit_id", time="year",
                                    first_treated="first_treated_year", n_boot=PROFILES[profile]["n_boot"],
                                    random_state=config.random_state)  # fmt: skip
    d = d.assign(treated=(d["first_treated_year"].notna()
                          & (d["year"] >= d["first_treated_year"].fillna(10_000))).astype(int))
    tw = pds.evaluate.twfe(d, outcome="outcome", treatment="treated", unit="unit_id", time="year")
    return {"Callaway-Sant'Anna": cs.aggregate("simple"), "TWFE": tw, "_panel": pp,
            "_n_units": int(d["unit_id"].nunique())}


def _standardized(scores: pd.DataFrame) -> pd.Series:
    """Scale scores in student SDs of the state test (within state x grade x year)."""
    g = scores.groupby(["state", "grade", "year"])["scale_score"]
    return (scores["scale_score"] - g.transform("mean")) / g.transform("std")


def _randomized(store: Any, program: str, spec: dict[str, str], config: StudyConfig,
                profile: str) -> dict[str, Any]:
    import pdstats as pds
    from pdstats.errors import ModelSpecificationError

    level, subject = spec["level"], config.subjects[0]
    if level not in ("teacher", "school"):
        raise ModelSpecificationError(f"program_adoption: a randomized {level}-level program is not "
                                      "supported here (teacher or school)")
    arms = store.read("program_adoption", program=program, unit_type=level)
    if arms["arm"].isna().any() or arms["arm"].nunique() < 2:
        missing = np.flatnonzero(arms["arm"].isna().to_numpy()).tolist()
        raise ModelSpecificationError(
            f"table 'program_adoption', column 'arm', program {program!r}: rule a randomized design has "
            f"both arms and an arm on every row; rows without an arm (positions): {missing[:10]}, "
            f"arms present: {sorted(arms['arm'].dropna().unique().tolist())}")
    year = int(arms.loc[arms["arm"] == "treatment", "first_treated_year"].min())
    key = f"{level}_id"
    en = store.read("enrollments", year=year, subject=subject)
    en = en[en[key].isin(arms["unit_id"])]
    # a student taught by units of both arms, or part-time, belongs to no single arm
    whole = en.groupby("student_id")[key].transform("nunique").eq(1) & en["dosage"].eq(1)
    students = en.loc[whole, ["student_id", key]].drop_duplicates("student_id")
    n_split = en["student_id"].nunique() - students["student_id"].nunique()
    sc = store.read("student_scores", subject=subject, year=[year - 1, year])
    sc = sc.assign(score_sd=_standardized(sc))[["student_id", "year", "score_sd"]]
    now = sc[sc["year"] == year].drop(columns="year")
    prior = sc[sc["year"] == year - 1].drop(columns="year").rename(columns={"score_sd": "prior_sd"})
    d = students.merge(now, on="student_id", how="left").merge(prior, on="student_id", how="left")
    d["bonus"] = d[key].map(arms.set_index("unit_id")["arm"].eq("treatment")).astype(int)
    res = pds.evaluate.randomized(d.drop(columns="student_id"), outcome="score_sd", treatment="bonus",
                                  level=level, cluster=key, covariates="prior_sd",
                                  methods=("regression",), random_state=config.random_state,
                                  progress=False)
    if n_split:  # logged with the others: students of the randomized units who have no single arm
        res.sample_log.n_in += n_split
        res.sample_log.drop(f"taught part-time or by units of both arms in {year} (no single arm)", n_split)
    return {f"ITT ({subject}, student SDs)": res, "_n_units": len(arms)}


#: Program-evaluation estimators by design (see the module docstring to add one).
PROGRAM_ESTIMATORS: dict[str, Callable[..., dict[str, Any]]] = {"staggered": _staggered,
                                                               "randomized": _randomized}


def evaluate_program(store: Any, program: str, config: StudyConfig, profile: str = "fast") -> dict[str, Any] | None:
    """Evaluate one configured program by its design; ``None`` (recorded) when not available.

    The numbers section ``program_<name>`` records ``missing`` when the design has no
    estimator yet or the store lacks the student-level tables the panels are built from.
    """
    spec = config.programs[program]
    section = f"program_{program}"
    estimator = PROGRAM_ESTIMATORS.get(spec["design"])
    if estimator is None:
        why = (f"design '{spec['design']}' has no estimator in this pdstats version "
               f"(pdstats.report.study.PROGRAM_ESTIMATORS)")
        record_numbers(section, {"missing": why})
        print(f"[{section}] not available: {why}")
        return None
    if section_missing(store, section, ["student_scores", "enrollments", "program_adoption"], years=2):
        return None
    from pdstats.errors import ModelSpecificationError

    try:
        return estimator(store, program, spec, config, profile)
    except ModelSpecificationError as err:  # the store's adoption data cannot support the design: say why
        why = f"the store's data cannot support the {spec['design']} design: {err}"
        record_numbers(section, {"missing": why})
        print(f"[{section}] not available: {why}")
        return None
