"""`pdstats reproduce --study <store>`: the three yearly notebooks and the paper describe THAT store.

Acceptance of issue 17: a simulated world of another shape than the default (four states,
24 studied districts, seed 9173, used nowhere else) runs through the same path as the
example store (which has no student-level tables: the sections that need them say so);
two runs on one store give byte-identical numbers and tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import pdstats as pds
from pdstats.cli import YEARLY, main
from pdstats.data import load_config
from pdstats.data.example import load_example_study
from pdstats.report.record import table_hashes

CONFIG = """name = "Four-state test study"
states = ["CA", "FL", "MA", "TX"]
years = [2005, 2006, 2007]
subjects = ["math", "reading"]
grades = [3, 4, 5, 6, 7, 8]
suppression_threshold = 10
random_state = 11

[programs.pay_for_performance]
design = "staggered"
level = "district"

[programs.teacher_bonus]
design = "randomized"
level = "teacher"
"""


def _world(path: Path, seed: int, **shape: object) -> Path:
    pds.simulate.study(random_state=seed, progress=False, **shape).to_study(path, overwrite=True).close()
    return path


def _reproduce(store: Path, out: Path, config: Path | None = None) -> dict:
    args = ["reproduce", "--study", str(store), "--out", str(out)] + (["--config", str(config)] if config else [])
    assert main(args) == 0
    return json.loads((out / "paper" / "numbers.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def four_states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("four")
    store = _world(root / "four_states.duckdb", 9173, n_states=4, n_districts=24, n_comparison=4)
    config = root / "study.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return store, root / "out", _reproduce(store, root / "out", config)


def test_the_numbers_describe_the_store(four_states: tuple[Path, Path, dict]) -> None:
    store, out, numbers = four_states
    with pds.Study(store, read_only=True) as s:
        d = s.read("districts")
        n_schools = len(s.read("schools"))
        states = sorted(s.read("states")["state"])
        n_bonus_teachers = len(s.read("program_adoption", program="teacher_bonus"))
    assert states == ["CA", "FL", "MA", "TX"]
    assert numbers["y1_sample"]["n_states"] == 4
    assert numbers["y1_sample"]["n_districts_studied"] == int(d["studied"].sum()) == 24
    assert numbers["y1_sample"]["n_districts_comparison"] == int((~d["studied"]).sum()) == 4
    assert numbers["y1_sample"]["n_schools"] == n_schools
    assert numbers["y1_stage_matrix"]["n_districts"] == 24
    # districts with linked growth and a usable practice index (a district without one is logged)
    assert 20 <= numbers["y3_growth"]["n_districts"] <= 24
    assert numbers["y3_power"]["n_districts"] == numbers["y3_growth"]["n_districts"]
    assert numbers["y3_linkage"]["n_models"] == 4
    assert numbers["run"] == {"profile": "fast", "store": "four_states.duckdb", "study": "Four-state test study"}
    # the randomized teacher bonus: its randomized teachers, and the ITT on their students with an SE
    bonus = numbers["program_teacher_bonus"]
    assert "missing" not in bonus and bonus["n_units"] == n_bonus_teachers
    assert bonus["itt_std_error"] > 0
    assert numbers["y3_programs"] == {"n_configured": 2, "n_evaluated": 2}


def test_notebooks_paper_and_record(four_states: tuple[Path, Path, dict]) -> None:
    store, out, numbers = four_states
    for name in YEARLY:
        nb = nbformat.read(out / "notebooks" / name, as_version=4)
        assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        params = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1 and str(store.resolve()) in params[0].source
    md = (out / "paper" / "manuscript.md").read_text(encoding="utf-8")
    assert "{{" not in md
    assert "| practice index (per SD) |" in md and "| ATT |" in md
    assert "24 districts in 4 states" in " ".join(md.split())
    page = (out / "paper" / "manuscript.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 10 and page.count("<table>") >= 3
    assert "../figures" not in page
    for t in ("y3_practice_growth", "y3_program_pay_for_performance", "y3_sensitivity"):
        assert {p.suffix for p in (out / "tables").glob(f"{t}.*")} == {".md", ".html", ".tex", ".csv"}
    record = json.loads((out / "reproducibility" / "record.json").read_text(encoding="utf-8"))
    with pds.Study(store, read_only=True) as s:
        hashes = table_hashes(s).set_index("table")["sha256"].to_dict()
    assert record["store_sha256"] == hashes and record["profile"] == "fast"
    assert record["dependencies"]["papermill"] != "not installed"
    assert load_config(out / "reproducibility" / "study.toml").states == ("CA", "FL", "MA", "TX")


def test_every_shared_file_passes_the_disclosure_scan(four_states: tuple[Path, Path, dict]) -> None:
    _, out, _ = four_states
    found = pds.privacy.scan_outputs(out, min_n=10)  # tables, figure data, numbers, notebooks, paper
    assert found.empty, found.to_string()
    assert {"tables/district_results.csv", "paper/numbers.json"} <= set(found.attrs["scanned"])
    assert sum(f.startswith("notebooks/") for f in found.attrs["scanned"]) == len(YEARLY)
    report = (out / "disclosure" / "disclosure_report.csv").read_text(encoding="utf-8")
    assert report.startswith("output,table,row,") and "primary" in report


def test_example_store_reports_missing_sections(tmp_path: Path) -> None:
    store = tmp_path / "example.duckdb"
    load_example_study(store).close()
    numbers = _reproduce(store, tmp_path / "out")
    with pds.Study(store, read_only=True) as s:
        studied = int(s.read("districts")["studied"].fillna(True).astype(bool).sum())
    assert numbers["y1_sample"]["n_districts_studied"] == studied and numbers["y1_sample"]["n_states"] == 3
    assert numbers["y1_stage_matrix"]["n_districts"] == studied
    assert "interview_codes" in numbers["y1_figures"]["missing"]
    assert "student_scores" in numbers["program_pay_for_performance"]["missing"]
    assert "two study years" in numbers["y3_linkage"]["missing"]
    md = (tmp_path / "out" / "paper" / "manuscript.md").read_text(encoding="utf-8")
    assert "Not available for this study: table(s) interview_codes have no rows" in md
    assert f"{studied} districts in 3 states" in " ".join(md.split())
    assert (tmp_path / "out" / "paper" / "manuscript.html").is_file()


def test_bad_config_stops_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = tmp_path / "example.duckdb"
    load_example_study(store).close()
    config = tmp_path / "study.toml"
    config.write_text('states = ["CA", "WY"]\nyears = [2005]\n', encoding="utf-8")
    assert main(["reproduce", "--study", str(store), "--config", str(config), "--out", str(tmp_path / "o")]) == 1
    assert "'states': ['WY'] are not in the store" in capsys.readouterr().err
    assert not (tmp_path / "o" / "notebooks").exists()


def _outputs(out: Path) -> dict[str, bytes]:
    files = [out / "paper" / "numbers.json", *sorted((out / "tables").glob("*"))]
    return {p.name: p.read_bytes() for p in files}


def test_two_runs_on_one_store_are_identical(tmp_path: Path) -> None:
    store = _world(tmp_path / "small.duckdb", 9174, n_states=2, n_districts=8, n_comparison=2)
    _reproduce(store, tmp_path / "a")
    _reproduce(store, tmp_path / "b")
    a, b = _outputs(tmp_path / "a"), _outputs(tmp_path / "b")
    assert len(a) > 5 and a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


@pytest.mark.slow
def test_two_runs_on_the_four_state_store_are_identical(four_states: tuple[Path, Path, dict], tmp_path: Path) -> None:
    store, out, _ = four_states
    _reproduce(store, tmp_path / "again", out.parent / "study.toml")
    assert _outputs(tmp_path / "again") == _outputs(out)
