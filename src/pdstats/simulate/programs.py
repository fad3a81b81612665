"""Incentive programs: staggered pay for performance and a randomized teacher bonus.

* ``pay_for_performance`` (design "adoption", unit district): ``p4p_share`` of all
  districts adopt, in equal numbers in each study year after the first, chosen at
  random (independently of every other component, so adoption is as good as random).
  A treated district adds ``p4p_effect`` NAEP points to each student's yearly growth
  (dosage weighted) from its first treated year on.
* ``teacher_bonus`` (design "randomized", unit teacher): in one studied district, every
  teacher teaching in the second study year is randomized 1:1; treated teachers add
  ``bonus_effect`` points to their students' growth in that and later years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["adoption_rows", "program_effects"]


def adoption_rows(districts: pd.DataFrame, p4p_year: np.ndarray, experiment: pd.DataFrame) -> pd.DataFrame:
    """``program_adoption`` rows: every district for pay for performance, plus the experiment."""
    p4p = pd.DataFrame({
        "unit_type": "district", "unit_id": districts["district_id"].to_numpy(dtype=object),
        "program": "pay_for_performance", "design": "adoption",
        "first_treated_year": pd.array(np.where(p4p_year > 0, p4p_year, -1), dtype="Int64"),
        "arm": pd.NA})  # fmt: skip
    out = pd.concat([p4p, experiment], ignore_index=True)
    fty = out["first_treated_year"].astype("Int64")
    out["first_treated_year"] = fty.mask(fty < 0)
    return out


def program_effects(p: dict) -> pd.DataFrame:
    """Truth: the true effect of each program on yearly growth (NAEP points)."""
    return pd.DataFrame({
        "program": ["pay_for_performance", "teacher_bonus"],
        "design": ["adoption", "randomized"],
        "effect": [float(p["p4p_effect"]), float(p["bonus_effect"])],
        "unit_type": ["district", "teacher"],
        "outcome": ["yearly growth, NAEP points (dosage weighted), each treated year"] * 2})  # fmt: skip
