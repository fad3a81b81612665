"""The disclosure report, the output scanner, and the gate as `pdstats reproduce` runs it."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

import pdstats as pds
from pdstats.cli import build_example_store
from pdstats.privacy import protect, scan_outputs, share_study_tables, write_disclosure_report


def test_reproduce_step_on_the_default_store_writes_the_report_and_scans(tmp_path) -> None:
    store = build_example_store(tmp_path)
    found = share_study_tables(store, tmp_path)
    assert found.empty
    shared = pd.read_csv(tmp_path / "tables" / "district_results.csv")
    assert set(shared["subgroup"]) == {"all"} and len(shared) == 12  # the districts' results for all students
    n = pd.to_numeric(shared["n_tested"], errors="coerce")
    assert not ((n >= 1) & (n < 10)).any()
    report = pd.read_csv(tmp_path / "disclosure" / "disclosure_report.csv")
    assert {"output", "row", "column", "reason", "rule"} <= set(report.columns)
    params = json.loads((tmp_path / "disclosure" / "disclosure_report.json").read_text())
    rule = params["outputs"]["district_results"]["parameters"]
    assert rule["min_n"] == 10 and rule["min_interval"] == 5.0


def test_the_report_holds_reasons_and_parameters_but_no_hidden_value(tmp_path) -> None:
    t = pd.DataFrame({"unit": ["a", "b", "c", "state"], "n": [7, 40, 50, 97], "k1": [7, 12, 20, 39],
                      "k2": [0, 28, 30, 58]})
    out = protect(t, counts=["k1", "k2"], n="n", totals={"unit": "state"}, min_n=10)
    csv, js = write_disclosure_report({"units": out}, tmp_path / "disclosure")
    rep = pd.read_csv(csv)
    assert set(rep["reason"]) == {"primary", "complementary"}
    assert "value" not in rep.columns  # which cells, never what they hold
    hidden = out.report[["row", "column"]].values.tolist()
    assert rep[["row", "column"]].values.tolist() == hidden
    meta = json.loads(js.read_text())["outputs"]["units"]
    assert meta["hidden"]["primary"] == 3 and meta["parameters"]["min_n"] == 10


def _notebook(path, html: str, text: str) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html}),
                    nbformat.v4.new_output("stream", name="stdout", text=text)]
    nb.cells = [cell]
    nbformat.write(nb, path)


@pytest.mark.parametrize(("kind", "write", "expected"), [
    ("csv ids", lambda d: pd.DataFrame({"teacher_id": ["t1"], "va": [0.1]}).to_csv(d / "a.csv", index=False),
     ("a.csv", "identifier column", "teacher_id")),
    ("parquet counts", lambda d: pd.DataFrame({"school": ["s"], "level_2": [4]}).to_parquet(d / "a.parquet"),
     ("a.parquet", "count below 10", "level_2")),
    ("json records", lambda d: (d / "a.json").write_text(json.dumps([{"sid": "x", "n": 40}])),
     ("a.json", "identifier column", "sid")),
    ("numbers.json", lambda d: (d / "numbers.json").write_text(json.dumps({"sec": {"n_students": 3}})),
     ("numbers.json", "count below 10", "n_students")),
    ("html table", lambda d: (d / "t.html").write_text("<table><tr><th>school</th><th>n_tested</th></tr>"
                                                      "<tr><td>a</td><td>5</td></tr></table>"),
     ("t.html", "count below 10", "n_tested")),
    ("student table", lambda d: pd.DataFrame({"scale_score": [300.0], "csem": [4.0]}).to_csv(d / "s.csv"),
     ("s.csv", "student-level table", "scale_score, csem")),
    ("notebook", lambda d: _notebook(d / "nb.ipynb", "<table><tr><th>Student_ID</th></tr><tr><td>S1</td></tr>"
                                     "</table>", "error for student_id=S0600000000"),
     ("nb.ipynb", "identifier column", "Student_ID")),
])
def test_scan_outputs_finds_every_kind_of_leak(tmp_path, kind, write, expected) -> None:
    write(tmp_path)
    found = scan_outputs(tmp_path, min_n=10)
    assert tuple(found.iloc[0][["file", "kind", "column"]]) == expected, found
    if kind == "notebook":
        assert (found["kind"] == "identifier printed").any()
    with pytest.raises(pds.PrivacyError, match=expected[0]):
        scan_outputs(tmp_path, strict=True)


def test_a_clean_folder_passes_and_thresholds_are_checked(tmp_path) -> None:
    pd.DataFrame({"district": ["a"], "n_tested": [0], "mean": [3.0]}).to_csv(tmp_path / "ok.csv", index=False)
    (tmp_path / "figure.png").write_bytes(b"\x89PNG")
    found = scan_outputs(tmp_path)
    assert found.empty and found.attrs["scanned"] == ["ok.csv"] and found.attrs["not_scanned"] == ["figure.png"]
    with pytest.raises(pds.PrivacyError, match="min_n"):
        scan_outputs(tmp_path, min_n=0)
