"""The stage-matrix instrument of the year-1 report as data.

Table 6.1 (12 practices x 4 stages), the Appendix A interview protocol and the four
informant roles, read from the package data in ``pdstats/practices/data/``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

__all__ = [
    "PRACTICES",
    "GROUPS",
    "ROLES",
    "STAGES",
    "LAYOUT_NOTE",
    "stage_matrix",
    "interview_protocol",
    "informant_roles",
    "case_prompts",
    "item_ids",
]

#: Practice ids (rows of Table 6.1) in the table's row order (data-dictionary enum).
PRACTICES: tuple[str, ...] = (
    "monitoring_goals",
    "finance",
    "human_resources",
    "information_systems",
    "access_use_of_data",
    "assessments",
    "linking_assessment_instruction",
    "fidelity_of_implementation",
    "teacher_principal_support",
    "senior_admin_evaluations",
    "site_leadership_ownership",
    "focus_on_improvement",
)
#: Group ids of Table 6.1 in table order.
GROUPS: tuple[str, ...] = (
    "goals",
    "resources",
    "assessment_instruction",
    "professional_development",
    "learning_organization",
)
#: Informant roles interviewed in every district (chapter 1).
ROLES: tuple[str, ...] = (
    "superintendent",
    "chief_academic_officer",
    "chief_financial_officer",
    "chief_hr_officer",
)
STAGES: tuple[int, ...] = (1, 2, 3, 4)
#: Where the column layout of Table 6.1 leaves the cell-to-row mapping uncertain
#: (details in ``pdstats/practices/data/README.md``); attached as ``attrs["layout_note"]``.
LAYOUT_NOTE = (
    "Table 6.1 is printed as column blocks (one per stage, two pages); cells were assigned "
    "to rows by their order inside each block, and every cell's content fits its row. "
    "Uncertain: (1) 'Information Systems' and 'Access and Use of Data' carry no group "
    "heading of their own and are placed under 'Matching Resources to Goals'; (2) stage 1 "
    "of 'Fidelity of Program Implementation' (goals tracked through measurable outcomes) "
    "reads like a goals-monitoring cell but is kept in its block position; (3) stage 1 of "
    "'Information Systems' and of 'Access and Use of Data' describe a starting condition, "
    "not an achievement."
)


def _read(name: str) -> pd.DataFrame:
    path = resources.files("pdstats.practices") / "data" / name
    with path.open("rb") as fh:
        return pd.read_csv(fh)


@cache
def _stage_matrix() -> pd.DataFrame:
    df = _read("stage_matrix.csv")
    df["practice"] = pd.Categorical(df["practice"], categories=list(PRACTICES), ordered=True)
    df["group"] = pd.Categorical(df["group"], categories=list(GROUPS), ordered=True)
    df["stage"] = df["stage"].astype("int64")
    df["n_districts"] = df["n_districts"].astype("int64")
    df.insert(0, "item", [f"{p}_s{s}" for p, s in zip(df["practice"], df["stage"], strict=False)])
    df = df.sort_values(["practice", "stage"]).reset_index(drop=True)
    df.attrs["layout_note"] = LAYOUT_NOTE
    return df


def stage_matrix() -> pd.DataFrame:
    """Table 6.1 of the year-1 report: the 48 cells of the stage matrix.

    Returns
    -------
    pandas.DataFrame
        One row per cell, in row (practice) then stage order, with columns ``item``
        (``"<practice>_s<stage>"``), ``group``, ``group_label``, ``practice``,
        ``practice_label``, ``stage`` (1-4), ``description`` (full cell text),
        ``n_districts`` (published number of the 28 districts whose practices fit the
        cell) and ``source_line`` (line of the count in the report's text).

    Notes
    -----
    The table is printed as column blocks (one per stage) on two pages; cells were
    assigned to rows by their order inside each block. Where the layout leaves the
    mapping uncertain (the group of "Information Systems" and "Access and Use of Data",
    stage 1 of "Fidelity of Program Implementation") is stated in
    ``attrs["layout_note"]`` (:data:`LAYOUT_NOTE`) and, in full, in
    ``pdstats/practices/data/README.md``.

    Examples
    --------
    >>> import pdstats as pds
    >>> sm = pds.practices.stage_matrix()
    >>> len(sm), int(sm.loc[sm["item"] == "finance_s4", "n_districts"].iloc[0])
    (48, 4)
    """
    return _stage_matrix().copy()


def item_ids() -> list[str]:
    """The 48 cell ids ``"<practice>_s<stage>"`` in table order.

    Examples
    --------
    >>> from pdstats.practices import item_ids
    >>> item_ids()[:2]
    ['monitoring_goals_s1', 'monitoring_goals_s2']
    """
    return [f"{p}_s{s}" for p in PRACTICES for s in STAGES]


def interview_protocol() -> pd.DataFrame:
    """Appendix A of the year-1 report: the interview protocol (42 questions).

    Returns
    -------
    pandas.DataFrame
        Columns ``section``, ``number``, ``question``, ``case_question`` (the [CASE*]
        questions, followed by the prompts of :func:`case_prompts`) and ``source_line``.

    Examples
    --------
    >>> from pdstats.practices import interview_protocol
    >>> p = interview_protocol()
    >>> len(p), int(p["case_question"].sum())
    (42, 6)
    """
    df = _read("interview_protocol.csv")
    df["case_question"] = df["case_question"].astype(bool)
    return df


def case_prompts() -> list[str]:
    """Follow-up prompts used with every [CASE*] question of the protocol (Appendix A note).

    Examples
    --------
    >>> from pdstats.practices import case_prompts
    >>> case_prompts()[0]
    'frequency of occurrence'
    """
    return [
        "frequency of occurrence",
        "monitoring and feedback",
        "action taken",
        "evidence of continuous improvement",
        "embedded processes",
        "barriers and obstacles",
    ]


def informant_roles() -> pd.DataFrame:
    """The four informants interviewed per district, with the report's titles.

    Examples
    --------
    >>> from pdstats.practices import informant_roles
    >>> informant_roles()["informant_role"].tolist()[0]
    'superintendent'
    """
    return _read("informant_roles.csv")
