"""The value-added analysis file from the data dictionary's student tables.

:func:`analysis_file` joins ``enrollments`` (student x year x subject x class, with
dosage) to ``student_scores``: each row gets the current score and the prior-year scores
in the same and the other subject, all standardized within state x year x grade x
subject (mean 0, SD 1), with their CSEMs on the same standardized scale (for the
measurement-error correction).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, refuse, require_columns
from pdstats.errors import ModelSpecificationError

__all__ = ["analysis_file", "standardize_scores"]

_ENR = ["student_id", "year", "grade", "subject", "school_id", "district_id", "teacher_id",
        "class_id", "dosage"]
_SCO = ["student_id", "state", "year", "grade", "subject", "scale_score", "csem"]


def _require(df: pd.DataFrame, cols: list[str], table: str) -> None:
    require_columns(df, cols, table, table)


def standardize_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Add ``z`` (standardized score) and ``z_csem`` within state x year x grade x subject.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"student_id": ["a", "b"], "state": "MA", "year": 2005, "grade": 4,
    ...                   "subject": "math", "scale_score": [240.0, 260.0], "csem": 5.0})
    >>> standardize_scores(s)[["z", "z_csem"]].round(3).to_numpy().tolist()
    [[-0.707, 0.354], [0.707, 0.354]]
    """
    _require(scores, _SCO, "student_scores")
    out = scores[_SCO].copy()
    out["scale_score"] = as_numeric(out, "scale_score", "student_scores")
    out["csem"] = as_numeric(out, "csem", "student_scores", lower=0.0)
    g = out.groupby(["state", "year", "grade", "subject"], observed=True)["scale_score"]
    mean, sd = g.transform("mean"), g.transform("std")
    out["z"] = (out["scale_score"] - mean) / sd
    out["z_csem"] = out["csem"] / sd
    return out


def analysis_file(enrollments: pd.DataFrame, student_scores: pd.DataFrame) -> pd.DataFrame:
    """One row per enrollment with standardized current and prior-year scores.

    Parameters
    ----------
    enrollments : pandas.DataFrame
        The ``enrollments`` table (student_id, year, grade, subject, school_id,
        district_id, teacher_id, class_id, dosage).
    student_scores : pandas.DataFrame
        The ``student_scores`` table (student_id, state, year, grade, subject,
        scale_score, csem).

    Non-finite scale scores or CSEMs, negative CSEMs, dosages outside [0, 1],
    non-integer years and duplicate (student_id, year, subject) scores raise
    :class:`~pdstats.errors.DataValidationError` naming the rows.

    Returns
    -------
    pandas.DataFrame
        The enrollment columns plus state, ``score``, ``prior_same``, ``prior_other``,
        ``csem_same``, ``csem_other`` (standardized); rows without a current score are
        kept with missing values (``value_added`` logs them when it drops them).

    Examples
    --------
    >>> import pandas as pd
    >>> enr = pd.DataFrame({"student_id": ["a", "b", "a", "b"], "year": [2005, 2005, 2006, 2006],
    ...     "grade": [3, 3, 4, 4], "subject": "math", "school_id": "s", "district_id": "d",
    ...     "teacher_id": ["t1", "t1", "t2", "t2"], "class_id": ["c1", "c1", "c2", "c2"],
    ...     "dosage": 1.0})
    >>> sc = enr[["student_id", "year", "grade", "subject"]].assign(state="MA", csem=5.0,
    ...     scale_score=[200.0, 210.0, 220.0, 240.0])
    >>> sc = pd.concat([sc, sc.assign(subject="reading")])
    >>> af = analysis_file(enr, sc)
    >>> af[["year", "score", "prior_same"]].round(3).to_numpy().tolist()[2:]
    [[2006.0, -0.707, -0.707], [2006.0, 0.707, 0.707]]
    """
    _require(enrollments, _ENR, "enrollments")
    enrollments = enrollments[_ENR]
    as_numeric(enrollments, "dosage", "enrollments", lower=0.0, upper=1.0)
    as_numeric(enrollments, "year", "enrollments", integer=True)
    z = standardize_scores(student_scores)
    keys = ["student_id", "year", "subject"]
    as_numeric(z, "year", "student_scores", integer=True)
    dup = np.flatnonzero(z.duplicated(keys, keep=False).to_numpy())
    if dup.size:
        raise refuse("student_scores", "student_id, year, subject",
                     "unique key (one score per student, year and subject)", dup)
    cur = z[["student_id", "year", "subject", "state", "z"]].rename(columns={"z": "score"})
    prev = z[["student_id", "year", "subject", "z", "z_csem"]].assign(year=z["year"] + 1)
    same = prev.rename(columns={"z": "prior_same", "z_csem": "csem_same"})
    other = prev.assign(subject=np.where(prev["subject"] == "math", "reading", "math")).rename(
        columns={"z": "prior_other", "z_csem": "csem_other"})
    if prev["subject"].nunique() > 2:
        raise ModelSpecificationError(
            "analysis_file pairs math with reading; student_scores has other subjects too")
    out = enrollments.merge(cur, on=keys, how="left", validate="many_to_one")
    out = out.merge(same, on=keys, how="left", validate="many_to_one")
    out = out.merge(other, on=keys, how="left", validate="many_to_one")
    return out
