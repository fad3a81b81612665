"""The instrument as data: Table 6.1, Appendix A protocol, informant roles."""

import numpy as np

import pdstats as pds

# Table 6.1 of the year-1 report (lines 3898-4217), rows in table order, stages 1-4.
PUBLISHED_TABLE_6_1 = {
    "monitoring_goals": [23, 21, 9, 6],
    "finance": [27, 18, 13, 4],
    "human_resources": [28, 18, 10, 2],
    "information_systems": [10, 8, 10, 1],
    "access_use_of_data": [14, 14, 8, 6],
    "assessments": [22, 21, 15, 2],
    "linking_assessment_instruction": [25, 12, 13, 2],
    "fidelity_of_implementation": [18, 16, 10, 6],
    "teacher_principal_support": [26, 22, 17, 15],
    "senior_admin_evaluations": [14, 7, 8, 1],
    "site_leadership_ownership": [24, 7, 14, 6],
    "focus_on_improvement": [15, 10, 5, 7],
}


def test_stage_matrix_has_48_cells_matching_table_6_1():
    sm = pds.practices.stage_matrix()
    assert len(sm) == 48
    assert list(sm.columns[:8]) == ["item", "group", "group_label", "practice", "practice_label",
                                    "stage", "description", "n_districts"]
    for practice, counts in PUBLISHED_TABLE_6_1.items():
        got = sm[sm["practice"] == practice].sort_values("stage")["n_districts"].tolist()
        assert got == counts, practice
    assert list(dict.fromkeys(sm["practice"].astype(str))) == list(PUBLISHED_TABLE_6_1)
    assert tuple(PUBLISHED_TABLE_6_1) == pds.practices.PRACTICES


def test_stage_matrix_groups_and_text():
    sm = pds.practices.stage_matrix()
    groups = sm.drop_duplicates("practice").groupby("group", observed=True)["practice"].apply(list)
    assert groups["goals"] == ["monitoring_goals"]
    assert groups["resources"] == ["finance", "human_resources", "information_systems",
                                   "access_use_of_data"]
    assert groups["learning_organization"] == ["senior_admin_evaluations",
                                               "site_leadership_ownership", "focus_on_improvement"]
    cell = sm.set_index("item").loc["information_systems_s3", "description"]
    assert cell.startswith("System accommodates longitudinal studies")
    assert sm["description"].str.len().min() > 40
    assert not sm["description"].str.contains(r"\(\d+\)").any()  # counts not left in the text
    assert sm["source_line"].between(3898, 4217).all()


def test_stage_matrix_carries_the_layout_note():
    note = pds.practices.stage_matrix().attrs["layout_note"]
    assert "Information Systems" in note and "Fidelity of Program Implementation" in note


def test_stage_matrix_is_a_copy():
    sm = pds.practices.stage_matrix()
    sm.loc[0, "n_districts"] = -1
    assert pds.practices.stage_matrix().loc[0, "n_districts"] == 23


def test_interview_protocol():
    p = pds.practices.interview_protocol()
    assert len(p) == 42
    assert p.groupby("section", sort=False).size().to_dict() == {
        "Intro": 3, "Goals": 8, "Information Systems and Data": 7, "Assessment": 8,
        "Instruction": 5, "Professional Development": 11}
    case = p[p["case_question"]]
    assert len(case) == 6
    assert case["question"].str.contains(r"\[CASE").sum() == 0
    assert len(pds.practices.case_prompts()) == 6


def test_informant_roles_match_data_dictionary_ids():
    roles = pds.practices.informant_roles()
    assert roles["informant_role"].tolist() == list(pds.practices.ROLES)
    assert "chief of curriculum and instruction" in roles["report_title"].tolist()


def test_item_ids_order():
    ids = pds.practices.item_ids()
    assert len(ids) == 48 and ids[4] == "finance_s1"
    assert ids == pds.practices.stage_matrix()["item"].tolist()


def test_rows_with_rising_counts_are_documented():
    from importlib import resources

    readme = (resources.files("pdstats.practices") / "data" / "README.md").read_text()
    rising = [p for p, c in PUBLISHED_TABLE_6_1.items() if (np.diff(c) > 0).any()]
    assert rising == ["information_systems", "linking_assessment_instruction",
                      "senior_admin_evaluations", "site_leadership_ownership",
                      "focus_on_improvement"]
    for phrase in ("Information Systems 8 -> 10", "Linking", "Senior Administrators 7 -> 8",
                   "Site Leadership 7 -> 14", "Focusing on Improvement 5 -> 7"):
        assert phrase in readme
