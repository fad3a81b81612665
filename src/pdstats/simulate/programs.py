"""Incentive programs: staggered pay for performance and a randomized teacher bonus.

* ``pay_for_performance`` (design "adoption", unit district or school): ``p4p_share`` of
  all districts adopt, in equal numbers in each of ``p4p_years`` (default: every study
  year after the first), chosen at random (independently of every other component, so
  adoption is as good as random); in the other districts ``p4p_school_share`` of the
  schools adopt on their own, in a random one of those years. A treated district or school adds ``p4p_effect`` NAEP points to
  each student's yearly growth (dosage weighted) from its first treated year on.
* ``teacher_bonus`` (design "randomized", unit teacher): in one studied district, every
  teacher teaching in the second study year is randomized 1:1; treated teachers add
  ``bonus_effect`` points to their students' growth in that and later years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["adoption_rows", "program_effects"]


def adoption_rows(districts: pd.DataFrame, p4p_year: np.ndarray, schools: pd.DataFrame,
                  school_p4p_year: np.ndarray, experiment: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    """``program_adoption`` rows: pay for performance for every district and for every school
    of the never-adopting districts, plus the teacher-bonus experiment (made by
    :func:`pdstats.simulate.study`, whose ``tables["program_adoption"]`` shows them)."""
    eligible = p4p_year[schools["district_index"].to_numpy()] == 0
    p4p = pd.DataFrame({
        "unit_type": np.r_[np.full(len(districts), "district"), np.full(int(eligible.sum()), "school")],
        "unit_id": np.r_[districts["district_id"].to_numpy(dtype=object), schools["school_id"].to_numpy(dtype=object)[eligible]],
        "program": "pay_for_performance", "design": "adoption",
        "first_treated_year": pd.array(np.where(np.r_[p4p_year, school_p4p_year[eligible]] > 0,
                                                np.r_[p4p_year, school_p4p_year[eligible]], -1), dtype="Int64"),
        "arm": pd.NA})  # fmt: skip
    out = pd.concat([p4p, experiment], ignore_index=True)
    fty = out["first_treated_year"].astype("Int64")
    out["first_treated_year"] = fty.mask(fty < 0)
    return out


def program_effects(p: dict) -> pd.DataFrame:
    """Truth: the true effect of each program on yearly growth (NAEP points).

    Examples
    --------
    >>> from pdstats.simulate.programs import program_effects
    >>> program_effects({"p4p_effect": 3.0, "bonus_effect": 2.0})["effect"].tolist()
    [3.0, 2.0]
    """
    return pd.DataFrame({
        "program": ["pay_for_performance", "teacher_bonus"],
        "design": ["adoption", "randomized"],
        "effect": [float(p["p4p_effect"]), float(p["bonus_effect"])],
        "unit_type": ["district or school", "teacher"],
        "outcome": ["yearly growth, NAEP points (dosage weighted), each treated year"] * 2})  # fmt: skip
