"""Malformed input of every kind is refused with a precise error and the store untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.example import example_dir, load_example_study


def snapshot(study: pds.Study) -> dict[str, pd.DataFrame]:
    """Every row of every table (and the provenance log) of a store."""
    names = [*pds.data.table_names(), "_provenance"]
    return {n: study.sql(f'SELECT * FROM "{n}" ORDER BY ALL') for n in names}


def assert_same(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=True)


@pytest.fixture()
def study() -> pds.Study:
    return load_example_study()


def example(name: str) -> pd.DataFrame:
    return pd.read_csv(example_dir() / f"{name}.csv", dtype=str, keep_default_na=False)


def aggregates_row(**changes: object) -> pd.DataFrame:
    row = {
        "state": "MA", "unit_type": "district", "unit_id": "2500002", "year": 2006, "grade": 4,
        "subject": "math", "subgroup": "all", "n_tested": 100, "n_levels": 4,
        "level_1": 10, "level_2": 30, "level_3": 40, "level_4": 20, "suppressed": False,
    }  # fmt: skip
    row.update(changes)
    return pd.DataFrame([row])


def cut_row(**changes: object) -> pd.DataFrame:
    row = {"state": "MA", "year": 2006, "grade": 4, "subject": "math", "n_levels": 4,
           "cut_1": 220, "cut_2": 240, "cut_3": 260, "proficient_level": 3, "reliability": 0.9}
    row.update(changes)
    return pd.DataFrame([row])


def district_row(**changes: object) -> pd.DataFrame:
    row = {"district_id": "2500003", "state": "MA", "district_name": "New", "enrollment": 5000,
           "pct_frl": 30.0, "locale": "suburb", "studied": False}
    row.update(changes)
    return pd.DataFrame([row])


def practice_row(**changes: object) -> pd.DataFrame:
    row = {"district_id": "0600002", "year": 2005, "practice": "finance", "stage": 2,
           "evidence": 1, "informant_role": "superintendent", "source": "interview"}
    row.update(changes)
    return pd.DataFrame([row])


# Each case: (table, bad frame, expected words in the rule, expected key text, expected column)
CASES: dict[str, tuple[str, Callable[[], pd.DataFrame], str, str, str]] = {
    "wrong type (text in an integer column)": (
        "districts", lambda: district_row(enrollment="many"), "type: integer", "district_id=2500003", "enrollment"),
    "wrong type (text in a boolean column)": (
        "districts", lambda: district_row(studied="perhaps"), "type: boolean", "district_id=2500003", "studied"),
    "duplicate primary key within the batch": (
        "districts", lambda: pd.concat([district_row(), district_row()]), "primary key unique",
        "district_id=2500003", "district_id"),
    "primary key already in the store": (
        "districts", lambda: district_row(district_id="2500001"), "already in the study store",
        "district_id=2500001", "district_id"),
    "level counts not summing to n_tested": (
        "state_assessment_aggregates", lambda: aggregates_row(n_tested=101), "level_counts_sum_to_n_tested",
        "unit_id=2500002", "n_tested"),
    "decreasing cut scores": (
        "cut_scores", lambda: cut_row(cut_2=210), "cuts_increasing", "state=MA, year=2006", "cut_1"),
    "cut scores not matching the number of levels": (
        "cut_scores", lambda: cut_row(n_levels=5), "cuts_match_n_levels", "state=MA, year=2006", "n_levels"),
    "unknown state code": (
        "districts", lambda: district_row(state="ZZ"), "enum", "district_id=2500003", "state"),
    "grade 27": (
        "state_assessment_aggregates", lambda: aggregates_row(grade=27), "range: grade <= 12", "grade=27", "grade"),
    "negative counts": (
        "state_assessment_aggregates",
        lambda: aggregates_row(level_1=-10, level_2=50), "range: level_1 >= 0", "unit_id=2500002", "level_1"),
    "missing required column": (
        "districts", lambda: district_row().drop(columns="studied"), "required column missing",
        "(whole table)", "studied"),
    "missing required value": (
        "districts", lambda: district_row(studied=None), "required", "district_id=2500003", "studied"),
    "unknown column": (
        "districts", lambda: district_row(budget=1), "unknown column", "(whole table)", "budget"),
    "unknown practice name": (
        "practice_ratings", lambda: practice_row(practice="vision_statement"), "enum",
        "practice=vision_statement", "practice"),
    "stage 5": (
        "practice_ratings", lambda: practice_row(stage=5), "range: stage <= 4", "stage=5", "stage"),
    "orphan foreign key": (
        "schools", lambda: pd.DataFrame([{"school_id": "250000900001", "district_id": "2500009"}]),
        "foreign key: (district_id) must exist in districts", "school_id=250000900001", "district_id"),
    "district id not matching the state's FIPS code": (
        "districts", lambda: district_row(district_id="0600009"), "district_id_matches_state_fips",
        "district_id=0600009", "district_id"),
    "school id outside its district": (
        "schools", lambda: pd.DataFrame([{"school_id": "250000200009", "district_id": "2500001"}]),
        "school_id_within_district", "school_id=250000200009", "school_id"),
    "pattern (six-digit district id)": (
        "districts", lambda: district_row(district_id="250003"), "pattern", "district_id=250003", "district_id"),
    "suppressed cell that still reports results": (
        "state_assessment_aggregates", lambda: aggregates_row(suppressed=True), "results_present_unless_suppressed",
        "unit_id=2500002", "suppressed"),
    "level count beyond n_levels": (
        "state_assessment_aggregates", lambda: aggregates_row(n_levels=3, level_4=20, level_3=40),
        "levels_beyond_n_levels_missing", "unit_id=2500002", "n_levels"),
    "reliability above 1": (
        "cut_scores", lambda: cut_row(reliability=1.3), "range: reliability <= 1", "state=MA", "reliability"),
    "randomized program without an arm": (
        "program_adoption",
        lambda: pd.DataFrame([{"unit_type": "school", "unit_id": "250000200001", "program": "teacher_bonus",
                               "design": "randomized", "first_treated_year": 2006}]),
        "arm_given_for_randomized", "unit_id=250000200001", "arm"),
    "float in a string id column": (
        "districts", lambda: district_row(district_id=2500003.0), "type: string", "district_id=2500003.0", "district_id"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_write_is_refused_and_store_unchanged(study: pds.Study, case: str) -> None:
    table, make, rule_words, key_words, column = CASES[case]
    before = snapshot(study)
    with pytest.raises(pds.DataValidationError) as info:
        study.write(table, make())
    err = info.value
    assert isinstance(err, pds.PdstatsError)
    failures = err.failures
    assert list(failures.columns) == ["table", "column", "rule", "row", "key", "value"]
    hit = failures[failures["rule"].str.contains(rule_words, regex=False)]
    assert len(hit), f"no failure with rule {rule_words!r} in {failures['rule'].tolist()}"
    assert (hit["table"] == table).all()
    assert hit["column"].str.contains(column, regex=False).any()
    assert hit["key"].str.contains(key_words, regex=False).any(), hit["key"].tolist()
    message = str(err)
    assert table in message and rule_words.split(":")[0] in message and column in message
    assert_same(before, snapshot(study))


def test_validation_failures_list_every_row() -> None:
    df = pd.concat([district_row(district_id=f"250000{i}", enrollment=-i - 1) for i in range(7)])
    with pytest.raises(pds.DataValidationError) as info:
        pds.data.validate(df, "districts")
    failures = info.value.failures
    assert (failures["rule"] == "range: enrollment >= 0").sum() == 7
    assert "(+2 more)" in str(info.value)


def test_failed_batch_of_several_tables_writes_none(study: pds.Study) -> None:
    before = snapshot(study)
    good = district_row()
    bad_schools = pd.DataFrame([{"school_id": "250000300001", "district_id": "2500003", "grade_low": 6,
                                 "grade_high": 2}])
    with pytest.raises(pds.DataValidationError, match="grade_span_ordered"):
        study.write_many({"districts": good, "schools": bad_schools})
    assert_same(before, snapshot(study))


def test_replace_that_would_orphan_children_is_refused(study: pds.Study) -> None:
    before = snapshot(study)
    only_ca = example("districts").query("state == 'CA'")
    with pytest.raises(pds.DataValidationError, match="would orphan rows of"):
        study.write("districts", only_ca, mode="replace")
    assert_same(before, snapshot(study))


def test_non_utf8_file(tmp_path: Path, study: pds.Study) -> None:
    path = tmp_path / "districts.csv"
    text = "district_id,state,district_name,studied\n2500003,MA,Worcester Caf\xe9,false\n"
    path.write_bytes(text.encode("latin-1"))
    before = snapshot(study)
    with pytest.raises(pds.DataValidationError, match="encoding: UTF-8") as info:
        study.write_file("districts", path)
    assert "line 2" in info.value.failures.loc[0, "key"]
    assert_same(before, snapshot(study))


@pytest.mark.parametrize("content", [b"", b"  \n", b"district_id,state,studied\n"])
def test_empty_file(tmp_path: Path, study: pds.Study, content: bytes) -> None:
    path = tmp_path / "districts.csv"
    path.write_bytes(content)
    before = snapshot(study)
    with pytest.raises(pds.DataValidationError, match="non-empty file"):
        study.write_file("districts", path)
    assert_same(before, snapshot(study))


def test_unknown_table_and_bad_mode(study: pds.Study) -> None:
    with pytest.raises(pds.SchemaError, match="unknown table 'teachers'"):
        study.write("teachers", pd.DataFrame({"a": [1]}))
    with pytest.raises(pds.StoreError, match="mode must be"):
        study.write("districts", district_row(), mode="upsert")  # type: ignore[arg-type]
    with pytest.raises(pds.DataValidationError, match="input is a pandas DataFrame"):
        pds.data.validate([1, 2], "districts")  # type: ignore[arg-type]
