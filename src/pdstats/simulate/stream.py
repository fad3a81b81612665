"""Streaming a large world (``size="state"``) to Parquet in state-year chunks.

Students never change state, so each state is simulated from its own random stream,
one year at a time; every state-year chunk of the student-level tables is validated
and appended to ``<path>/<table>.parquet`` (one row group per chunk) and then freed, so
memory holds one state-year at a time. District-level tables and the truth (except the
student-level ``achievement``, streamed to ``truth_achievement.parquet``) stay in memory
and are also written to ``path``. The folder can be loaded with
:meth:`pdstats.Study.import_parquet` (dictionary tables) or read table by table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pdstats.data.validate import validate
from pdstats.simulate.params import SimulationSpecError

__all__ = ["ParquetTables", "write_world"]


class ParquetTables(Mapping):
    """A mapping of table name to DataFrame whose large tables are read from Parquet on access.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.simulate.stream import ParquetTables
    >>> t = ParquetTables({"states": pd.DataFrame({"state": ["CA"]})}, {})
    >>> list(t), len(t["states"])
    (['states'], 1)
    """

    def __init__(self, frames: dict[str, pd.DataFrame], paths: dict[str, Path]) -> None:
        self._frames, self.paths = frames, paths

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in self._frames:
            return self._frames[name]
        return read_parquet_typed(self.paths[name], name)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._frames, *self.paths])

    def __len__(self) -> int:
        return len(self._frames) + len(self.paths)

    def n_rows(self, name: str) -> int:
        """Rows of a table without loading it."""
        if name in self._frames:
            return len(self._frames[name])
        return pq.ParquetFile(self.paths[name]).metadata.num_rows


def read_parquet_typed(path: Path, name: str | None = None) -> pd.DataFrame:
    """Read a Parquet file back with pandas nullable dtypes (as validated)."""
    return pq.read_table(path).to_pandas(types_mapper=_types_mapper)


def _types_mapper(t: pa.DataType) -> Any:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


class _Sink:
    """Appends DataFrames to one Parquet file per table, one row group per call."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.paths: dict[str, Path] = {}

    def write(self, name: str, df: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if name not in self.writers:
            self.paths[name] = self.folder / f"{name}.parquet"
            self.writers[name] = pq.ParquetWriter(self.paths[name], table.schema)
        else:
            table = table.cast(self.writers[name].schema)
        self.writers[name].write_table(table)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()


def write_world(random_state: Any, p: dict, path: str | Path | None, progress: bool = True):
    """Simulate ``size="state"`` to Parquet files in ``path`` and return the study.

    Returns a :class:`~pdstats.simulate.study.SimulatedStudy` whose ``tables`` is a
    :class:`ParquetTables` (student-level tables load from disk on access) and whose
    ``truth.achievement`` is ``None`` (read ``truth_achievement.parquet`` instead).
    Called by :func:`pdstats.simulate.study` when ``path`` is given.

    Examples
    --------
    >>> import tempfile
    >>> import pdstats as pds
    >>> sim = pds.simulate.study(random_state=0, n_states=1, n_districts=2, years=(2005,),
    ...                          n_comparison=0, progress=False, path=tempfile.mkdtemp())
    >>> type(sim.tables).__name__, sim.n_rows("students") > 0
    ('ParquetTables', True)
    """
    from pdstats.simulate.study import (
        STUDENT_TABLES,
        SimulatedStudy,
        SimulationTruth,
        finish_tables,
        iterate_world,
        validate_all,
    )

    if path is None:
        raise SimulationSpecError('size="state" streams to Parquet: give path=<folder>')
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    world, fixed, chunks = iterate_world(random_state, p, progress)
    sink = _Sink(folder)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in (
        "aggregates", "units", "stats", "naep", "effects", "experiment")}  # fmt: skip
    states = world.states[["state", "state_name", "fips", "test_name", "publishes"]]
    schools = world.schools[["school_id"]]
    seen: dict[str, pd.Index] = {}
    try:
        for sy, agg, units, stats, naep in chunks:
            known = seen.get(sy.state, pd.Index([], dtype=object)).append(pd.Index(sy.students["student_id"]))
            seen[sy.state] = known
            ids = pd.DataFrame({"student_id": known})
            sink.write("students", validate(sy.students, "students", {"states": states}))
            sink.write("student_scores", validate(sy.scores, "student_scores", {"students": ids, "states": states}))
            sink.write("enrollments", validate(sy.enrollments, "enrollments", {"students": ids, "schools": schools}))
            sink.write("truth_achievement", sy.achievement)
            for key, df in (("aggregates", agg), ("units", units), ("stats", stats), ("naep", naep),
                            ("effects", sy.effects), ("experiment", sy.experiment)):  # fmt: skip
                if len(df):
                    parts[key].append(df)
            del sy, agg, units
    finally:
        sink.close()
    out = finish_tables(world, fixed, p, parts)
    typed = validate_all(out["tables"])
    for name, df in typed.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    for name, df in out["truth"].items():
        df.to_parquet(folder / f"truth_{name}.parquet", index=False)
    paths = {n: sink.paths[n] for n in STUDENT_TABLES}
    truth = SimulationTruth(**out["truth"], achievement=None, params=p)
    truth.paths = {"achievement": sink.paths["truth_achievement"]}
    return SimulatedStudy(ParquetTables(typed, paths), truth)
