"""The study configuration: every rule names its key; files round-trip; stores are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

import pdstats as pds
from pdstats.data import StudyConfig, config_for_store, load_config
from pdstats.data.example import load_example_study

GOOD = {"states": ["CA", "TX"], "years": [2005, 2006, 2007], "subjects": ["math", "reading"], "grades": [4, 8],
        "practice_instrument": "stage_matrix", "reported_scale": "naep", "suppression_threshold": 5,
        "random_state": 3, "name": "A \"quoted\" study",
        "programs": {"pay_for_performance": {"design": "staggered", "level": "district"},
                     "teacher_bonus": {"design": "randomized", "level": "teacher"}}}  # fmt: skip


@pytest.mark.parametrize("key,value,rule", [
    ("states", ["ca"], "two-letter upper-case"),
    ("states", [], "non-empty list"),
    ("years", [2005, 2007], "consecutive"),
    ("years", [2005, "2006"], "integers only"),
    ("years", [1890], "1990..2035"),
    ("subjects", ["science"], "among ['math', 'reading']"),
    ("grades", [4, 4], "must not repeat"),
    ("practice_instrument", "survey", "must be one of ['stage_matrix']"),
    ("reported_scale", "percentile", "must be one of ['naep', 'student_sd']"),
    ("suppression_threshold", 0, "integer >= 1"),
    ("suppression_threshold", True, "integer >= 1"),
    ("random_state", -1, "integer >= 0"),
    ("programs", ["p4p"], "table of program names"),
    ("programs.p4p.design", "lottery", "must be one of ['staggered', 'randomized', 'rd']"),
    ("programs.p4p.level", "state", "must be one of ['district', 'school', 'teacher']"),
    ("colour", "blue", "unknown key"),
])  # fmt: skip
def test_each_rule_names_its_key_and_rule(key: str, value: object, rule: str) -> None:
    raw = {k: v for k, v in GOOD.items() if k != "programs"}
    if key.startswith("programs."):
        field = key.split(".")[-1]
        spec = {"design": "staggered", "level": "district"} | {field: value}
        raw["programs"] = {"p4p": spec}
    else:
        raw[key] = value
    with pytest.raises(pds.StudyConfigError) as err:
        StudyConfig.from_dict(raw)
    assert f"'{key}'" in str(err.value) and rule in str(err.value)
    assert isinstance(err.value, pds.PdstatsError)


def test_required_keys_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(pds.StudyConfigError, match="'years': is required"):
        StudyConfig.from_dict({"states": ["CA"]})
    with pytest.raises(pds.StudyConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("states = [CA\n", encoding="utf-8")
    with pytest.raises(pds.StudyConfigError, match="not valid TOML"):
        load_config(bad)


def test_toml_round_trip(tmp_path: Path) -> None:
    cfg = StudyConfig.from_dict(GOOD)
    path = tmp_path / "study.toml"
    path.write_text(cfg.to_toml(), encoding="utf-8")
    back = load_config(path)
    assert back == cfg
    assert (back.year1, back.year2, back.year3) == (2005, 2006, 2007)
    assert back.programs["teacher_bonus"] == {"design": "randomized", "level": "teacher"}


def test_config_from_and_checked_against_a_store() -> None:
    store = load_example_study()
    cfg = config_for_store(store)
    assert cfg.states == ("CA", "MA", "TX") and cfg.years == (2005,)
    assert cfg.grades == (4, 8) and cfg.subjects == ("math",)
    assert cfg.programs == {"pay_for_performance": {"design": "staggered", "level": "district"},
                            "teacher_bonus": {"design": "randomized", "level": "school"}}
    cfg.check_store(store)
    with pytest.raises(pds.StudyConfigError, match=r"'states': \['NY'\] are not in the store"):
        StudyConfig.from_dict({"states": ["CA", "NY"], "years": [2005]}).check_store(store)
    with pytest.raises(pds.StudyConfigError, match=r"'programs': \['vouchers'\]"):
        StudyConfig.from_dict({"states": ["CA"], "years": [2005],
                               "programs": {"vouchers": {"design": "rd"}}}).check_store(store)
    with pytest.raises(pds.StudyConfigError, match="year 1 \\(2001\\) has no rows"):
        StudyConfig.from_dict({"states": ["CA"], "years": [2001, 2002]}).check_store(store)
