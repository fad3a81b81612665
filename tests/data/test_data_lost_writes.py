"""No lost writes (issue 12, part 2): each case the issue lists, with its new behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.example import example_dir, load_example_study

NUMERIC = [
    (name, f.name)
    for name in pds.data.table_names()
    for f in pds.data.schema(name).fields
    if f.type in ("integer", "number")
]


@pytest.fixture()
def study() -> pds.Study:
    return load_example_study()


def _snapshot(st: pds.Study) -> dict[str, pd.DataFrame]:
    return {name: st.read(name) for name in pds.data.table_names()}


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


# -- Study(path) ---------------------------------------------------------------------------
def test_existing_non_duckdb_file_is_refused_and_left_alone(tmp_path) -> None:
    csv = tmp_path / "existing.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(pds.StoreError, match="not a DuckDB database"):
        pds.Study(csv)
    assert csv.read_text(encoding="utf-8") == "a,b\n1,2\n"
    with pytest.raises(pds.StoreError, match="folder"):
        pds.Study(tmp_path)


def test_new_and_existing_duckdb_files_open(tmp_path) -> None:
    path = tmp_path / "new.csv"  # a new file of any name becomes a DuckDB file
    with pds.Study(path) as st:
        st.write("states", pd.read_csv(example_dir() / "states.csv", dtype=str))
    with pds.Study(path, read_only=True) as st:
        assert len(st.read("states")) == 3
    empty = tmp_path / "empty.duckdb"
    empty.touch()  # DuckDB itself refuses an empty file: a StoreError, never in-memory
    with pytest.raises(pds.StoreError, match="not a valid DuckDB"):
        pds.Study(empty)


# -- replacing with zero rows ----------------------------------------------------------------
def test_replace_with_empty_frame_needs_allow_empty(study: pds.Study) -> None:
    before = _snapshot(study)
    empty = pds.data.schema("practice_ratings").empty_frame()
    with pytest.raises(pds.StoreError, match="allow_empty=True"):
        study.write("practice_ratings", empty, mode="replace")
    with pytest.raises(pds.StoreError, match="zero rows"):
        study.write_many({"practice_ratings": empty.iloc[:0]}, mode="replace")
    _assert_same(before, _snapshot(study))
    rep = study.write("practice_ratings", empty, mode="replace", allow_empty=True)
    assert rep.n_rows == 0 and study.read("practice_ratings").empty
    assert study.write("practice_ratings", empty).n_rows == 0  # appending nothing is harmless


# -- non-finite and absurd numbers -----------------------------------------------------------
@pytest.mark.parametrize(("table", "column"), NUMERIC, ids=[f"{t}.{c}" for t, c in NUMERIC])
def test_every_numeric_field_refuses_inf_and_has_a_range(table: str, column: str) -> None:
    f = pds.data.schema(table).field(column)
    c = f.constraints
    assert "enum" in c or (
        ({"minimum", "exclusiveMinimum"} & set(c)) and ({"maximum", "exclusiveMaximum"} & set(c))
    ), f"{table}.{column} documents no plausible range"
    frame = pds.data.schema(table).empty_frame().astype(object)
    frame.loc[0] = None
    frame[column] = [np.inf]
    with pytest.raises(pds.DataValidationError) as err:
        pds.data.validate(frame, table)
    fails = err.value.failures
    assert ((fails["column"] == column) & fails["rule"].str.startswith("finite")).any(), fails


@pytest.mark.parametrize("value", [1e20, "1e20", 10**20, -1e20])
def test_absurd_integer_is_a_validation_error_not_a_type_error(value: object) -> None:
    row = pd.DataFrame({"district_id": ["0600001"], "state": ["CA"], "studied": [True],
                        "enrollment": pd.Series([value], dtype=object)})  # fmt: skip
    with pytest.raises(pds.DataValidationError) as err:
        pds.data.validate(row, "districts")
    f = err.value.failures
    assert f["column"].tolist() == ["enrollment"] and f["rule"].iloc[0].startswith("range: enrollment")


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e300, "inf"])
def test_infinite_and_absurd_scale_scores_are_refused(study: pds.Study, value: object) -> None:
    before = _snapshot(study)
    agg = study.read("state_assessment_aggregates").astype(object)
    agg.loc[agg["mean_scale"].notna().idxmax(), "mean_scale"] = value
    with pytest.raises(pds.DataValidationError, match="mean_scale"):
        study.write("state_assessment_aggregates", agg, mode="replace")
    _assert_same(before, _snapshot(study))


def test_scale_scores_within_the_tests_lowest_and_highest_obtainable_score(study: pds.Study) -> None:
    cuts = study.read("cut_scores").set_index(["state", "grade"])
    assert cuts.loc[("CA", 4), ["loss", "hoss"]].tolist() == [150, 600]
    agg = study.read("state_assessment_aggregates")
    row = agg.index[(agg["state"] == "CA") & (agg["grade"] == 4) & agg["mean_scale"].notna()][0]
    agg.loc[row, "mean_scale"] = 601.0  # inside the wide physical bound, above CA's HOSS
    with pytest.raises(pds.DataValidationError, match=r"bounds: mean_scale <= cut_scores.hoss") as err:
        study.write("state_assessment_aggregates", agg, mode="replace")
    assert err.value.failures["key"].str.contains("state=CA").all()
    agg.loc[row, "mean_scale"] = 599.0
    study.write("state_assessment_aggregates", agg, mode="replace")  # within: written
    bad_cut = study.read("cut_scores")
    bad_cut.loc[0, "loss"] = bad_cut.loc[0, "cut_1"] + 1
    with pytest.raises(pds.DataValidationError, match="cuts_within_obtainable"):
        study.write("cut_scores", bad_cut, mode="replace")


def test_student_scores_are_checked_against_loss_and_hoss(study: pds.Study) -> None:
    study.write("students", pd.DataFrame({"student_id": ["s1"], "state": ["TX"]}))
    score = pd.DataFrame({"student_id": ["s1"], "state": ["TX"], "year": [2005], "grade": [4],
                          "subject": ["math"], "scale_score": [1100.0]})  # fmt: skip
    with pytest.raises(pds.DataValidationError, match="bounds: scale_score >= cut_scores.loss"):
        study.write("student_scores", score)
    assert study.read("student_scores").empty
    study.write("student_scores", score.assign(scale_score=2250.0))
    assert study.read("student_scores")["scale_score"].tolist() == [2250.0]


# -- read(col=None) --------------------------------------------------------------------------
@pytest.mark.parametrize("value", [None, np.nan, pd.NA, ["CA", None]])
def test_read_refuses_a_missing_filter_value(study: pds.Study, value: object) -> None:
    with pytest.raises(pds.StoreError, match="IS NULL"):
        study.read("districts", state=value)
    n_missing = study.sql("SELECT count(*) AS n FROM districts WHERE enrollment IS NULL")["n"].item()
    assert n_missing == study.read("districts")["enrollment"].isna().sum()


def test_duckdb_errors_reach_the_caller_as_store_errors(study: pds.Study) -> None:
    with pytest.raises(pds.StoreError):
        study.read("districts", enrollment="many")
    with pytest.raises(pds.StoreError):
        study.sql("SELECT * FROM districts WHERE state = ?", [object()])


# -- export_parquet and quoting --------------------------------------------------------------
@pytest.mark.parametrize(
    "folder_name",
    ["it's here", "x' (FORMAT PARQUET); DELETE FROM districts; --", 'quote"double'],
)
def test_export_parquet_quotes_the_folder(tmp_path, study: pds.Study, folder_name: str) -> None:
    before = _snapshot(study)
    files = study.export_parquet(tmp_path / folder_name)
    _assert_same(before, _snapshot(study))  # the crafted name executed nothing
    assert len(study.read("districts")) == 6
    assert {f.parent.name for f in files} == {folder_name}
    assert pd.read_parquet(tmp_path / folder_name / "districts.parquet").shape[0] == 6


# -- load_example_study twice ----------------------------------------------------------------
def test_load_example_study_reopens_its_store(tmp_path) -> None:
    path = tmp_path / "study.duckdb"
    first = load_example_study(path)
    prov = first.provenance()
    counts = first.tables()["n_rows"].tolist()
    first.close()
    again = load_example_study(path)
    pd.testing.assert_frame_equal(again.provenance(), prov)  # nothing appended
    assert again.tables()["n_rows"].tolist() == counts
    again.close()


def test_load_example_study_leaves_another_study_alone(tmp_path) -> None:
    path = tmp_path / "mine.duckdb"
    with pds.Study(path) as st:
        st.write("states", pd.DataFrame({"state": ["NY"], "state_name": ["New York"], "fips": [36],
                                         "publishes": ["levels"]}))  # fmt: skip
    with pytest.raises(pds.StoreError, match="not the pdstats example"):
        load_example_study(path)
    with pds.Study(path, read_only=True) as st:
        assert st.read("states")["state"].tolist() == ["NY"]


def test_unreadable_files_are_refused_with_pdstats_errors(tmp_path, study: pds.Study) -> None:
    bad_csv = tmp_path / "districts.csv"
    bad_csv.write_text('district_id,state\n"0600009,CA\n', encoding="utf-8")  # unclosed quote
    with pytest.raises(pds.DataValidationError, match="readable CSV"):
        study.write_file("districts", bad_csv)
    folder = tmp_path / "pq"
    folder.mkdir()
    (folder / "districts.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(pds.StoreError, match="as Parquet"):
        study.import_parquet(folder)
    with pytest.raises(pds.DataValidationError, match="readable Parquet"):
        study.write_file("districts", folder / "districts.parquet")
    assert len(study.read("districts")) == 6
