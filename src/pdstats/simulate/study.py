"""``pds.simulate.study``: a complete simulated three-year study world with its truth."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from pdstats.data.dictionary import schema, table_names
from pdstats.data.validate import validate
from pdstats.simulate import aggregates, programs
from pdstats.simulate.achievement import StateYear, simulate_state
from pdstats.simulate.params import resolve_params
from pdstats.simulate.practices import practice_tables
from pdstats.simulate.world import World, build_world

if TYPE_CHECKING:
    from pdstats.data.store import Study

__all__ = ["SimulatedStudy", "SimulationTruth", "study"]

#: Student-level tables (large at size "state").
STUDENT_TABLES = ("students", "student_scores", "enrollments")


@dataclass
class SimulationTruth:
    """The truth behind a simulated world (all effects in NAEP-scale points).

    Attributes
    ----------
    state_tests : DataFrame
        state x year x grade x subject: the true mean/SD (``naep_mean``, ``naep_sd``, ddof 0)
        and number of the state's enrolled students on the NAEP-like scale; the test's
        transform (``ref_mean``, ``ref_sd``, ``scale_location``, ``scale_spread``,
        ``nonlinearity``: ``x = loc + spread * expm1(k z) / k``, ``z = (theta - ref_mean) /
        ref_sd``), ``reliability``, scale floor/ceiling, ``n_levels``, ``proficient_level``,
        the state-scale cuts ``cut_k`` and their exact NAEP equivalents ``naep_cut_k``.
    units : DataFrame
        district/school x year x grade x subject (subgroup "all"): tested students'
        ``n_students`` and the true ``naep_mean``/``naep_sd`` (ddof 1), and the same on the
        state's student-standardized scale, ``star_mean`` = (naep_mean - state naep_mean) /
        state naep_sd and ``star_sd`` = naep_sd / state naep_sd.
    effects : DataFrame
        level ("teacher", "school", "district") x unit_id x year x subject: ``effect``,
        the unit's contribution to one year of growth (``base`` + ``practice`` + ``program``;
        teacher ``base`` drifts AR(1) over years), with ``n_students`` (enrollment rows).
    practice_index : DataFrame
        district_id x year: the latent practice index (``studied`` marks interviewed ones).
    program_effects : DataFrame
        program, design, effect (yearly growth points per treated year), unit_type.
    achievement : DataFrame
        student x year x subject: true ``theta``, grade, testing school, ``tested``.
    states : DataFrame
        Each state's publishing rule, number of levels, suppression threshold, stringency
        (proficient cut in reference SDs) and status shift.
    params : dict
        Every knob used (see :data:`pdstats.simulate.params.DEFAULTS`).

    Examples
    --------
    >>> import pdstats as pds
    >>> sim = pds.simulate.study(random_state=1, n_states=1, n_districts=2, years=(2005,),
    ...                          n_comparison=0, progress=False)
    >>> sorted(sim.truth.effects["level"].unique())
    ['district', 'school', 'teacher']
    """

    state_tests: pd.DataFrame
    units: pd.DataFrame
    effects: pd.DataFrame
    practice_index: pd.DataFrame
    program_effects: pd.DataFrame
    achievement: pd.DataFrame
    states: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


class SimulatedStudy:
    """A simulated study: validated data-dictionary tables plus the truth behind them.

    Attributes
    ----------
    tables : mapping of str to DataFrame
        One validated table per data-dictionary table (schema columns and dtypes,
        rows sorted by the primary key).
    truth : SimulationTruth
        The generating values.

    Examples
    --------
    >>> import pdstats as pds
    >>> sim = pds.simulate.study(random_state=1, n_states=1, n_districts=2, years=(2005,),
    ...                          n_comparison=0, progress=False)
    >>> sim.tables["districts"]["studied"].tolist()
    [True, True]
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame], truth: SimulationTruth) -> None:
        self.tables = tables
        self.truth = truth

    def n_rows(self, name: str) -> int:
        """Rows of a table (without loading it when it lives on disk)."""
        t = self.tables
        return t.n_rows(name) if hasattr(t, "n_rows") else len(t[name])

    def summary(self) -> pd.DataFrame:
        """Rows per table.

        Examples
        --------
        >>> import pdstats as pds
        >>> sim = pds.simulate.study(random_state=1, n_states=1, n_districts=2, years=(2005,),
        ...                          n_comparison=0, progress=False)
        >>> int(sim.summary().loc["states", "rows"])
        1
        """
        return pd.DataFrame({"rows": {k: self.n_rows(k) for k in self.tables}}).rename_axis("table")

    def __repr__(self) -> str:
        p = self.truth.params
        return (f"SimulatedStudy(size={p['size']!r}, states={p['n_states']}, "
                f"districts={p['n_districts']}+{p['n_comparison']}, years={p['years']}, "
                f"student_scores={self.n_rows('student_scores'):,} rows)")  # fmt: skip

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(repr(self))}</p>" + self.summary().T.to_html()

    def to_study(self, path: str | Path = ":memory:") -> Study:
        """Write every table into a :class:`pdstats.Study` (validated, one transaction).

        Examples
        --------
        >>> import pdstats as pds
        >>> sim = pds.simulate.study(random_state=1, n_states=1, n_districts=2, years=(2005,),
        ...                          n_comparison=0, progress=False)
        >>> st = sim.to_study()
        >>> len(st.read("districts"))
        2
        """
        from pdstats.data.store import Study

        st = Study(path)
        paths = getattr(self.tables, "paths", {})
        small = {k: self.tables[k] for k in self.tables if k not in paths}
        st.write_many(small, mode="replace", source="pdstats.simulate.study")
        for name in STUDENT_TABLES:  # streamed worlds: one row group at a time
            if name in paths:
                pf = pq.ParquetFile(paths[name])
                for i in range(pf.num_row_groups):
                    df = pf.read_row_group(i).to_pandas()
                    st.write(name, df, mode="replace" if i == 0 else "append", source=str(paths[name]))
        return st


def _rngs(random_state: Any, n_states: int) -> list[np.random.Generator]:
    if isinstance(random_state, np.random.Generator):  # the validation runner's world stream
        random_state = random_state.bit_generator.seed_seq
    ss = random_state if isinstance(random_state, np.random.SeedSequence) else np.random.SeedSequence(random_state)
    # children 0-2: world, practices, NAEP states; 3..: one per state; last: NAEP districts
    # (spawned last, so the earlier streams do not depend on it)
    return [np.random.default_rng(s) for s in ss.spawn(4 + n_states)]


def _sort(df: pd.DataFrame, name: str) -> pd.DataFrame:
    pk = list(schema(name).primary_key)
    return df.sort_values(pk, kind="stable").reset_index(drop=True)


def iterate_world(random_state: Any, p: dict, progress: bool = True) -> tuple[World, dict, Iterator]:
    """Build the world and return it, its district-level tables and a state-year iterator.

    The iterator yields ``(StateYear, aggregates, units, state_stats, naep)`` in state
    then year order; every state draws from its own random stream.
    """
    rngs = _rngs(random_state, p["n_states"])
    world = build_world(rngs[0], p)
    ratings, codes = practice_tables(rngs[1], world.districts, world.practice_index, p["years"], p)
    studied = np.flatnonzero(world.districts["studied"].to_numpy())
    exp_district = int(rngs[0].choice(studied)) if len(studied) else -1
    p["experiment_district"] = str(world.districts["district_id"].iloc[exp_district]) if exp_district >= 0 else None
    fixed = {"ratings": ratings, "codes": codes, "exp_district": exp_district, "naep_rng": rngs[2],
             "tuda_rng": rngs[3 + p["n_states"]]}

    def gen() -> Iterator[tuple]:
        bar = tqdm(total=p["n_states"] * len(p["years"]), desc="simulating state-years", disable=not progress)
        for i, state in enumerate(world.states["state"]):
            for sy in simulate_state(world, p, state, rngs[3 + i], exp_district):
                stats = aggregates.state_truth(sy)
                yield (sy, aggregates.publish(world, sy), aggregates.true_units(world, sy, stats), stats,
                       aggregates.naep_rows(stats, p["naep_years"], rngs[2]))  # fmt: skip
                bar.update()
        bar.close()

    return world, fixed, gen()


def finish_tables(world: World, fixed: dict, p: dict, parts: dict[str, list[pd.DataFrame]]) -> dict:
    """District-level tables and truth from the collected state-year parts."""
    naep = pd.concat([*parts["naep"], aggregates.national_rows(world.tests, p["naep_years"], fixed["naep_rng"])],
                     ignore_index=True)  # fmt: skip
    stats = pd.concat(parts["stats"], ignore_index=True)
    tests = world.tests.merge(stats, on=["state", "year", "grade", "subject"], how="left")
    front = ["state", "year", "grade", "subject", "naep_mean", "naep_sd", "n_students"]
    tests = tests[front + [c for c in tests.columns if c not in front]]
    experiment = pd.concat(parts["experiment"], ignore_index=True) if parts["experiment"] else pd.DataFrame()
    pi = pd.DataFrame({
        "district_id": np.repeat(world.districts["district_id"].to_numpy(dtype=object), len(p["years"])),
        "year": np.tile(p["years"], len(world.districts)),
        "index": world.practice_index.reshape(-1),
        "studied": np.repeat(world.districts["studied"].to_numpy(), len(p["years"]))})  # fmt: skip
    units = pd.concat(parts["units"], ignore_index=True)
    tuda = aggregates.tuda_rows(world.districts, units, p["n_tuda_per_state"], p["naep_years"], fixed["tuda_rng"])
    st = world.states.copy()
    st["status_shift"] = st["state"].map(world.state_status)
    tables = {
        "states": world.states[["state", "state_name", "fips", "test_name", "publishes"]],
        "districts": world.districts,
        "schools": world.schools[["school_id", "district_id", "school_name", "level", "grade_low",
                                  "grade_high", "enrollment", "pct_frl"]],  # fmt: skip
        "cut_scores": world.cut_scores,
        "naep_state": naep,
        "naep_district": tuda,
        "state_assessment_aggregates": pd.concat(parts["aggregates"], ignore_index=True),
        "practice_ratings": fixed["ratings"],
        "interview_codes": fixed["codes"],
        "program_adoption": programs.adoption_rows(world.districts, world.p4p_year, world.schools,
                                                   world.school_p4p_year, experiment),
    }
    truth = {
        "state_tests": tests,
        "units": units,
        "effects": pd.concat(parts["effects"], ignore_index=True),
        "practice_index": pi,
        "program_effects": programs.program_effects(p),
        "states": st,
    }
    return {"tables": tables, "truth": truth}


def study(
    random_state: int | np.random.SeedSequence | np.random.Generator = 0,
    size: str = "small",
    n_states: int = 3,
    n_districts: int = 28,
    years: tuple[int, ...] = (2005, 2006, 2007),
    progress: bool = True,
    path: str | Path | None = None,
    **knobs: Any,
) -> SimulatedStudy:
    """Simulate a complete three-year study world with known truth.

    Parameters
    ----------
    random_state : int, SeedSequence or Generator, default 0
        Seed; the same seed gives identical tables on any machine. A Generator stands for
        its SeedSequence, so ``study(np.random.default_rng(s))`` is ``study(s)``: the world
        builder of :func:`pdstats.simulate.run` can be ``partial(study, progress=False)``.
    size : {"small", "medium", "state"}
        ``"small"`` (seconds; tests and notebooks), ``"medium"`` (about 0.43 M student-years),
        ``"state"`` (about 5 M student-years, streamed to Parquet in ``path``; see
        :func:`pdstats.simulate.stream.write_world`).
    n_states : int, default 3
        States (each with its own test), taken in the order of
        :data:`pdstats.simulate.world.STATE_TESTS`.
    n_districts : int, default 28
        Studied (interviewed) districts; comparison districts come on top (knob
        ``n_comparison``).
    years : tuple of int
        Consecutive spring years.
    progress : bool, default True
        Show a progress bar over state-years.
    path : str or Path, optional
        Stream the world to Parquet files in this folder, one state-year at a time
        (required for ``size="state"``, allowed for every size); the student-level
        tables are then read from disk when accessed.
    **knobs
        Any of :data:`pdstats.simulate.params.DEFAULTS` (effect sizes, variance
        components, mobility, ...).

    Returns
    -------
    SimulatedStudy
        ``.tables`` (validated data-dictionary tables), ``.truth`` (a
        :class:`SimulationTruth`), ``.to_study(path)``.

    Notes
    -----
    The data-generating process, with its equations, is described in
    ``pdstats/simulate/README.md`` and the docstrings of :mod:`pdstats.simulate.scales`,
    :mod:`~pdstats.simulate.world`, :mod:`~pdstats.simulate.achievement`,
    :mod:`~pdstats.simulate.aggregates`, :mod:`~pdstats.simulate.practices` and
    :mod:`~pdstats.simulate.programs`.

    Examples
    --------
    >>> import pdstats as pds
    >>> sim = pds.simulate.study(random_state=1, n_states=2, n_districts=4, years=(2005, 2006),
    ...                          n_comparison=0, progress=False)
    >>> sorted(sim.tables["states"]["state"])
    ['CA', 'TX']
    >>> float(sim.truth.program_effects.set_index("program").loc["teacher_bonus", "effect"])
    2.0
    """
    years = tuple(years)
    p = resolve_params(size, n_states, n_districts, years, knobs)
    if size == "state" or path is not None:
        from pdstats.simulate.stream import write_world

        return write_world(random_state, p, path, progress=progress)
    world, fixed, chunks = iterate_world(random_state, p, progress)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in (
        "students", "student_scores", "enrollments", "achievement", "aggregates", "units", "stats",
        "naep", "effects", "experiment")}  # fmt: skip
    for sy, agg, units, stats, naep in chunks:
        _collect(parts, sy, agg, units, stats, naep)
    out = finish_tables(world, fixed, p, parts)
    tables = out["tables"]
    for name in STUDENT_TABLES:
        tables[name] = pd.concat(parts[name], ignore_index=True)
    typed = validate_all(tables)
    truth = SimulationTruth(**out["truth"], achievement=pd.concat(parts["achievement"], ignore_index=True),
                            params=p)  # fmt: skip
    return SimulatedStudy(typed, truth)


def _collect(parts: dict, sy: StateYear, agg: pd.DataFrame, units: pd.DataFrame, stats: pd.DataFrame,
             naep: pd.DataFrame) -> None:
    parts["students"].append(sy.students)
    parts["student_scores"].append(sy.scores)
    parts["enrollments"].append(sy.enrollments)
    parts["achievement"].append(sy.achievement)
    parts["effects"].append(sy.effects)
    if len(sy.experiment):
        parts["experiment"].append(sy.experiment)
    parts["aggregates"].append(agg)
    parts["units"].append(units)
    parts["stats"].append(stats)
    parts["naep"].append(naep)


def validate_all(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Validate (and type) every table against the dictionary, foreign keys included."""
    typed: dict[str, pd.DataFrame] = {}
    for name in table_names():
        if name in tables:
            typed[name] = _sort(validate(tables[name], name, context=tables), name)
    return typed
