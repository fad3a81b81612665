"""Which columns identify a person, and which tables hold one row per student.

A shared table may describe schools, districts or groups of students, never a single
student or teacher. :func:`identifier_columns` finds columns (and index levels) whose
names say they identify a person, case-insensitively (``student_id``, ``SID``,
``Student_ID``, ``teacher_id``, ``sasid``, ``first_name``, ``dob`` ...).
:func:`student_level_columns` finds columns that only student-level tables of the data
dictionary carry (a scale score, its CSEM, a student's own demographic flags).
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from pdstats.data.dictionary import schema, table_names

__all__ = ["IDENTIFIER_PATTERN", "STUDENT_COUNT_PATTERN", "identifier_columns", "student_level_columns"]

_PERSON = r"(?:stu|std|student|pupil|learner|child|person|teacher|tchr|instructor|staff|employee|educator)"
#: Names (lower-cased, non-alphanumerics as ``_``) that identify a person.
IDENTIFIER_PATTERN = re.compile(
    r"^(?:"
    rf"{_PERSON}s?_?(?:\w*_)?(?:id|ids|key|number|num|no|nbr|code|pseudonym|uid)"
    r"|[st]?id|s?uid|ss_?id|sas_?id|las_?id|sis_?id|ssn|social_security_number|pseudonym"
    r"|(?:first|last|middle|full|given|family|student|teacher)_?name"
    r"|dob|birth_?date|date_of_birth|email|e_mail|phone|address"
    r")$"
)
#: Names of columns / numbers that count students (lower-cased).
STUDENT_COUNT_PATTERN = re.compile(
    r"^(?:n|count|counts|n_tested|tested|students|enrollment|n_obs|level_\d+|n_level_\d+"
    r"|(?:n|num|number|count)_(?:of_)?(?:students?|pupils?|tested|test_takers)(?:_\w+)?"
    r"|\w+_(?:students|tested))$"
)
#: Student-table columns shared with aggregate tables: they do not mark a table as student-level.
_SHARED = {"state", "year", "grade", "subject", "district_id", "school_id", "class_id", "teacher_id"}


def _normal(name: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def identifier_columns(table: pd.DataFrame) -> list[str]:
    """Names of the columns and index levels of ``table`` that identify a person.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import identifier_columns
    >>> t = pd.DataFrame({"Student_ID": ["a"], "SID": ["b"], "n_tested": [40]})
    >>> identifier_columns(t.set_index("SID"))
    ['Student_ID', 'index SID']
    """
    found = [str(c) for c in table.columns if IDENTIFIER_PATTERN.match(_normal(c))]
    found += [f"index {n}" for n in table.index.names if n is not None and IDENTIFIER_PATTERN.match(_normal(n))]
    return found


@lru_cache(maxsize=1)
def _student_only() -> frozenset[str]:
    """Columns of the dictionary's sensitive tables that no aggregate table has."""
    sensitive, other = set(), set()
    for name in table_names():
        sch = schema(name)
        (sensitive if sch.sensitive else other).update(sch.columns)
    return frozenset(sensitive - other - _SHARED)


def student_level_columns(table: pd.DataFrame) -> list[str]:
    """Columns of ``table`` that only student-level tables carry (e.g. ``scale_score``, ``csem``).

    A table with a student's own score, its measurement error, or two or more of a
    student's own characteristics (``female``, ``frl``, ``race_ethnicity``, ...) is a
    table of students, whatever its other columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import student_level_columns
    >>> student_level_columns(pd.DataFrame({"scale_score": [301.0], "grade": [4]}))
    ['scale_score']
    >>> student_level_columns(pd.DataFrame({"n_tested": [40], "pct_frl": [0.4]}))
    []
    """
    hits = [str(c) for c in table.columns if _normal(c) in _student_only()]
    scores = [c for c in hits if _normal(c) in {"scale_score", "csem"}]
    return hits if scores or len(hits) >= 2 else []
