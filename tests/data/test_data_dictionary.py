"""The data dictionary is complete, consistent and its README is current."""

from __future__ import annotations

import pytest

import pdstats as pds
from pdstats.data.dictionary import dictionary_dir, render_readme
from pdstats.data.rules import RULES

REQUIRED_TABLES = {
    "states", "districts", "schools", "state_assessment_aggregates", "cut_scores", "naep_state",
    "students", "student_scores", "enrollments", "practice_ratings", "interview_codes", "naep_district",
    "program_adoption",
}  # fmt: skip


def test_every_required_table_has_a_schema() -> None:
    assert REQUIRED_TABLES <= set(pds.data.table_names())


@pytest.mark.parametrize("name", sorted(REQUIRED_TABLES))
def test_schema_is_documented_and_keyed(name: str) -> None:
    sch = pds.data.schema(name)
    assert sch.description and sch.primary_key
    for f in sch.fields:
        assert f.description, f"{name}.{f.name} has no description"
    for rule in sch.rules:
        assert rule in RULES, f"{name} names unknown rule {rule}"
    for cols, ref, ref_cols in sch.references():
        assert len(cols) == len(ref_cols)
        assert set(ref_cols) <= set(pds.data.schema(ref).columns)
    empty = sch.empty_frame()
    assert list(empty.columns) == sch.columns
    assert pds.data.validate(empty, name).empty


def test_readme_is_current() -> None:
    on_disk = (dictionary_dir() / "README.md").read_text(encoding="utf-8")
    assert on_disk == render_readme(), "data_dictionary/README.md is stale: run `make dictionary`"


def test_unknown_table() -> None:
    with pytest.raises(pds.SchemaError, match="unknown table"):
        pds.data.schema("teacher")
