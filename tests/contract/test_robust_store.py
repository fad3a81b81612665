"""Property test: whatever reaches ``Study.write``, the store is written cleanly or left alone.

Generated cases put non-finite values, absurd numbers, text, booleans, missing codes and
wrong dtypes into columns of valid frames of a few tables, and send empty frames in both
modes. Each call must either write (and the rows read back are the rows sent) or raise
``DataValidationError``/``StoreError`` with every table and the provenance log unchanged.
Never a raw exception. ``CASES["store"]`` counts the generated cases (``pytest -s`` prints).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdstats as pds
from pdstats.data.example import load_example_study

from .checks import CASES

TABLES = ["districts", "state_assessment_aggregates", "student_scores", "practice_ratings", "cut_scores"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

BAD_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([np.inf, -np.inf, 1e300, -1e300, 1e20, 2.0**63, np.nan]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["inf", "-inf", "1e300", "NaN", "*", "", "  ", "abc", "1e20", "0x10", "True"]),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.just(dt.datetime(2005, 1, 1)),
    st.just(pd.NA),
)
DTYPES = ["bool", "datetime64[ns]", "category", "object", "complex128", "timedelta64[ns]"]


@pytest.fixture(scope="module")
def store() -> pds.Study:
    study = load_example_study()
    study.write("students", pd.DataFrame({"student_id": ["s1", "s2", "s3"], "state": ["TX"] * 3}))
    study.write("student_scores", pd.DataFrame({
        "student_id": ["s1", "s2", "s3"], "state": ["TX"] * 3, "year": [2005] * 3, "grade": [4] * 3,
        "subject": ["math"] * 3, "scale_score": [2150.0, 2300.0, 2410.0], "csem": [30.0, 28.0, 35.0]}))  # fmt: skip
    return study


@pytest.fixture(scope="module", autouse=True)
def report_cases():
    """Print the tally of generated cases for the closing note (``pytest -s``)."""
    yield
    print(f"\n[robust store] generated cases: {CASES['store']}")


def _snapshot(study: pds.Study) -> dict[str, pd.DataFrame]:
    """Every row of the tables written here, the provenance log and all tables' row counts."""
    return {"_provenance": study.provenance(), "_counts": study.tables()[["table", "n_rows"]],
            **{n: study.read(n) for n in TABLES}}  # fmt: skip


def _write_or_refuse(study: pds.Study, table: str, frame: object, mode: str) -> str:
    """The one acceptable pair of outcomes; returns "written" or "refused"."""
    CASES["store"] += 1
    before = _snapshot(study)
    try:
        report = study.write(table, frame, mode=mode)
    except (pds.DataValidationError, pds.StoreError):
        after = _snapshot(study)
        for name in before:
            pd.testing.assert_frame_equal(before[name], after[name], obj=f"{name} after a refused write")
        return "refused"
    held = study.read(table)
    n_before = len(before[table])
    assert len(held) == (report.n_rows if mode == "replace" else n_before + report.n_rows)
    after = _snapshot(study)
    for name in TABLES:  # no other table moved
        if name != table:
            pd.testing.assert_frame_equal(before[name], after[name], obj=name)
    values = held.select_dtypes("number").to_numpy(dtype=float, na_value=np.nan)
    assert not np.isinf(values).any(), f"{table}: an infinite value was written"
    return "written"


@SETTINGS
@given(table=st.sampled_from(TABLES), data=st.data(), mode=st.sampled_from(["replace", "append"]))
def test_bad_values_in_any_column(store: pds.Study, table: str, data: st.DataObject, mode: str) -> None:
    frame = store.read(table).astype(object)
    column = data.draw(st.sampled_from(list(frame.columns)), label="column")
    rows = data.draw(st.lists(st.integers(0, len(frame) - 1), min_size=1, max_size=3, unique=True), label="rows")
    for r in rows:
        frame.iat[r, frame.columns.get_loc(column)] = data.draw(BAD_VALUES, label="value")
    _write_or_refuse(store, table, frame, mode)


@SETTINGS
@given(table=st.sampled_from(TABLES), data=st.data(), mode=st.sampled_from(["replace", "append"]))
def test_wrong_dtypes(store: pds.Study, table: str, data: st.DataObject, mode: str) -> None:
    frame = store.read(table)
    column = data.draw(st.sampled_from(list(frame.columns)), label="column")
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    try:
        frame[column] = frame[column].astype(dtype)
    except (TypeError, ValueError):  # not convertible: send the raw numbers as that dtype instead
        frame[column] = pd.Series(np.arange(len(frame)), index=frame.index).astype(dtype)
    _write_or_refuse(store, table, frame, mode)


@SETTINGS
@given(table=st.sampled_from(TABLES), mode=st.sampled_from(["replace", "append"]),
       shape=st.sampled_from(["schema columns", "no columns", "some columns", "not a frame"]))
def test_empty_frames(store: pds.Study, table: str, mode: str, shape: str) -> None:
    sch = pds.data.schema(table)
    frame: object = {
        "schema columns": sch.empty_frame(),
        "no columns": pd.DataFrame(),
        "some columns": sch.empty_frame()[list(sch.primary_key)],
        "not a frame": [],
    }[shape]
    outcome = _write_or_refuse(store, table, frame, mode)
    if mode == "replace":
        assert outcome == "refused", "an empty replace wiped a table"
