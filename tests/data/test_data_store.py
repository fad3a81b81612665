"""The study store: reads, filters, SQL, provenance, batches and Parquet round trips."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.example import example_dir, load_example_study


@pytest.fixture()
def study() -> pds.Study:
    return load_example_study()


def test_example_store_holds_every_example_row(study: pds.Study) -> None:
    counts = study.tables().set_index("table")["n_rows"]
    for path in example_dir().glob("*.csv"):
        n_lines = len(path.read_text(encoding="utf-8").strip().splitlines()) - 1
        assert counts[path.stem] == n_lines, path.stem


def test_read_filters_types_and_order(study: pds.Study) -> None:
    ma = study.read("state_assessment_aggregates", state="MA", grade=[4])
    assert set(ma["state"]) == {"MA"} and set(ma["grade"]) == {4}
    assert len(ma) == 2
    assert ma["n_tested"].dtype == "Int64" and ma["suppressed"].dtype == "boolean"
    ids = study.read("districts", columns=["district_id"])["district_id"].tolist()
    assert ids == sorted(ids)
    assert study.read("districts", state=[]).empty
    with pytest.raises(pds.StoreError, match="no column"):
        study.read("districts", county="Suffolk")


def test_provenance_records_file_and_hash(study: pds.Study) -> None:
    prov = study.provenance("states")
    assert len(prov) == 1
    path = Path(prov.loc[0, "source"])
    assert path.name == "states.csv"
    assert prov.loc[0, "source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert prov.loc[0, "n_rows"] == 3


def test_append_then_replace(study: pds.Study) -> None:
    new = pd.DataFrame([{"district_id": "2500003", "state": "MA", "studied": False}])
    rep = study.write("districts", new, source="unit test")
    assert rep.n_rows == 1 and rep.mode == "append"
    assert len(study.read("districts")) == 7
    assert study.provenance("districts")["source"].iloc[-1] == "unit test"
    full = study.read("districts")
    full.loc[full["district_id"] == "2500003", "enrollment"] = 4200
    study.write("districts", full, mode="replace")
    got = study.read("districts", district_id="2500003")
    assert got["enrollment"].tolist() == [4200]
    assert len(study.read("districts")) == 7


def test_sql_and_errors(study: pds.Study) -> None:
    out = study.sql("SELECT state, sum(n_tested) AS n FROM state_assessment_aggregates "
                    "WHERE NOT suppressed GROUP BY state ORDER BY state")
    assert out["state"].tolist() == ["CA", "MA", "TX"]
    with pytest.raises(pds.StoreError, match="SQL failed"):
        study.sql("SELECT * FROM no_such_table")


def test_parquet_round_trip(tmp_path: Path, study: pds.Study) -> None:
    files = study.export_parquet(tmp_path / "pq")
    assert {f.stem for f in files} >= {"states", "districts", "_provenance"}
    other = pds.Study(tmp_path / "copy.duckdb")
    other.import_parquet(tmp_path / "pq")
    for name in pds.data.table_names():
        pd.testing.assert_frame_equal(study.read(name), other.read(name))
    other.close()


def test_file_store_persists(tmp_path: Path) -> None:
    path = tmp_path / "study.duckdb"
    load_example_study(path).close()
    with pds.Study(path, read_only=True) as again:
        assert len(again.read("schools")) == 9


def test_append_names_exactly_the_rows_whose_composite_key_is_held():
    """The duplicate-key check (a join inside DuckDB) reports the repeated rows of a later batch, by row."""
    import numpy as np

    states = pd.DataFrame({"state": ["MA"], "state_name": ["Massachusetts"], "fips": [25], "publishes": ["levels"]})
    ids = [f"s{i}" for i in range(6)]
    students = pd.DataFrame({"student_id": ids, "state": "MA"})

    def scores(sid, year):
        return pd.DataFrame({"student_id": sid, "state": "MA", "year": year, "grade": 5, "subject": "math",
                             "scale_score": np.linspace(200, 260, len(sid)), "csem": 4.0})

    study = pds.Study()
    study.write_many({"states": states, "students": students, "student_scores": scores(ids[:4], 2006)})
    study.write("student_scores", scores(ids[4:], 2006))  # new keys: fine
    second = pd.concat([scores(["s1", "s5"], 2007), scores(["s2", "s5"], 2006)], ignore_index=True)
    with pytest.raises(pds.DataValidationError) as err:
        study.write("student_scores", second)
    f = err.value.failures
    assert f["row"].tolist() == [2, 3]  # s2 and s5 in 2006 are held; the 2007 rows are new
    assert f["key"].tolist() == ["row 2", "row 3"]  # a student table: positions, never the ids
    assert not f["key"].str.contains("s2").any() and "s2" not in str(err.value)
    assert len(study.read("student_scores")) == 6  # nothing written
