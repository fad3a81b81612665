"""SimulatedStudy.to_study never replaces a study silently and writes a world all or nothing."""

from __future__ import annotations

import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.example import load_example_study

TINY = dict(random_state=1, n_states=1, n_districts=2, years=(2005,), n_comparison=0, progress=False)


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """A small world streamed to Parquet (its student tables are written row group by row group)."""
    return pds.simulate.study(path=tmp_path_factory.mktemp("world"), **TINY)


def _snapshot(path) -> dict[str, pd.DataFrame]:
    with pds.Study(path, read_only=True) as st:
        return {"_provenance": st.provenance(), **{n: st.read(n) for n in pds.data.table_names()}}


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def test_to_study_refuses_a_store_with_rows(tmp_path, streamed) -> None:
    path = tmp_path / "real.duckdb"
    load_example_study(path).close()
    before = _snapshot(path)
    with pytest.raises(pds.StoreError, match="overwrite=True"):
        streamed.to_study(path)
    _assert_same(before, _snapshot(path))
    st = streamed.to_study(path, overwrite=True)
    assert len(st.read("districts")) == 2 and len(st.read("student_scores")) == streamed.n_rows("student_scores")
    assert st.read("practice_ratings")["district_id"].isin(st.read("districts")["district_id"]).all()
    st.close()


@pytest.mark.parametrize("existing", [False, True], ids=["new store", "overwriting a study"])
def test_a_failure_midway_leaves_the_store_as_it_was(tmp_path, streamed, monkeypatch, existing) -> None:
    path = tmp_path / "s.duckdb"
    if existing:
        load_example_study(path).close()
    else:
        pds.Study(path).close()
    before = _snapshot(path)
    real_write, calls = pds.Study.write, []

    def failing_write(self, table, df, *args, **kwargs):  # the 3rd streamed row group fails
        calls.append(table)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real_write(self, table, df, *args, **kwargs)

    monkeypatch.setattr(pds.Study, "write", failing_write)
    with pytest.raises(KeyboardInterrupt):
        streamed.to_study(path, overwrite=True)
    assert calls[:2] == ["students", "student_scores"]  # small tables and students went in first
    _assert_same(before, _snapshot(path))


def test_in_memory_world_writes_in_one_transaction(tmp_path, monkeypatch) -> None:
    sim = pds.simulate.study(**TINY)
    path = tmp_path / "m.duckdb"
    sim.to_study(path).close()
    with pds.Study(path, read_only=True) as st:
        prov = st.provenance()
        counts = st.tables().set_index("table")["n_rows"]
    assert set(prov["table_name"]) == set(sim.tables)
    assert all(counts[n] == sim.n_rows(n) for n in sim.tables)
