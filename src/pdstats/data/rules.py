"""Cross-field rules named in the data dictionary's ``rules`` lists.

Each rule is a function of a (type-coerced) table returning a boolean Series that is
True on the rows breaking the rule, plus the column the failure is reported under.
Rules only judge rows whose inputs are present; missing values are the business of the
``required`` constraints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pdstats.data.codes import STATE_FIPS

__all__ = ["Rule", "RULES", "level_columns", "cut_columns"]

MAX_LEVELS = 6


def level_columns(n: int = MAX_LEVELS) -> list[str]:
    """Names of the proficiency-level count columns ``level_1 .. level_n``."""
    return [f"level_{k}" for k in range(1, n + 1)]


def cut_columns(n: int = MAX_LEVELS - 1) -> list[str]:
    """Names of the cut-score columns ``cut_1 .. cut_n``."""
    return [f"cut_{k}" for k in range(1, n + 1)]


@dataclass(frozen=True)
class Rule:
    """A named cross-field rule."""

    name: str
    description: str
    column: str
    check: Callable[[pd.DataFrame], pd.Series]


def _present(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return df[cols].notna().to_numpy()


def _district_fips(df: pd.DataFrame) -> pd.Series:
    fips = df["state"].map(STATE_FIPS)
    prefix = pd.to_numeric(df["district_id"].str.slice(0, 2), errors="coerce")
    ok = df["district_id"].isna() | fips.isna() | (prefix == fips)
    return ~ok.fillna(False).astype(bool)


def _school_in_district(df: pd.DataFrame) -> pd.Series:
    both = df["school_id"].notna() & df["district_id"].notna()
    bad = both & (df["school_id"].str.slice(0, 7) != df["district_id"])
    return bad.fillna(False).astype(bool)


def _grade_span(df: pd.DataFrame) -> pd.Series:
    return (df["grade_low"] > df["grade_high"]).fillna(False).astype(bool)


def _levels_sum(df: pd.DataFrame) -> pd.Series:
    counts = df[level_columns()].astype("Float64")
    any_level = counts.notna().any(axis=1)
    total = counts.sum(axis=1, skipna=True)
    bad = any_level & df["n_tested"].notna() & (total != df["n_tested"])
    return bad.fillna(False).astype(bool)


def _levels_beyond(df: pd.DataFrame) -> pd.Series:
    present = _present(df, level_columns())
    any_level = present.any(axis=1)
    n = df["n_levels"].astype("Float64").fillna(-1).to_numpy()
    k = np.arange(1, MAX_LEVELS + 1)[None, :]
    should = k <= n[:, None]
    mismatch = (present != should).any(axis=1)
    # rows reporting levels must say how many; rows saying how many must report exactly those
    bad = any_level & ((n < 0) | mismatch)
    return pd.Series(bad, index=df.index)


def _results_present(df: pd.DataFrame) -> pd.Series:
    sup = df["suppressed"].fillna(False).astype(bool)
    has_means = df["mean_scale"].notna() & df["sd_scale"].notna()
    has_levels = pd.Series(_present(df, level_columns()).any(axis=1), index=df.index)
    has_any = df["mean_scale"].notna() | df["sd_scale"].notna() | has_levels
    bad = (~sup & ~(has_means | has_levels)) | (sup & has_any)
    return bad.astype(bool)


def _cuts_increasing(df: pd.DataFrame) -> pd.Series:
    cuts = df[cut_columns()].to_numpy(dtype=float, na_value=np.nan)
    bad = np.zeros(len(df), dtype=bool)
    for i in range(cuts.shape[1] - 1):
        a, b = cuts[:, i], cuts[:, i + 1]
        bad |= ~np.isnan(a) & ~np.isnan(b) & (b <= a)
    return pd.Series(bad, index=df.index)


def _cuts_within_obtainable(df: pd.DataFrame) -> pd.Series:
    cuts = df[cut_columns()].to_numpy(dtype=float, na_value=np.nan)
    loss = df["loss"].to_numpy(dtype=float, na_value=np.nan)[:, None]
    hoss = df["hoss"].to_numpy(dtype=float, na_value=np.nan)[:, None]
    with np.errstate(invalid="ignore"):
        bad = (cuts < loss).any(axis=1) | (cuts > hoss).any(axis=1) | (loss[:, 0] >= hoss[:, 0])
    return pd.Series(bad, index=df.index)


def _cuts_match(df: pd.DataFrame) -> pd.Series:
    present = _present(df, cut_columns())
    n = df["n_levels"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    k = np.arange(1, MAX_LEVELS)[None, :]
    should = k <= (n[:, None] - 1)
    bad = ~np.isnan(n) & (present != should).any(axis=1)
    return pd.Series(bad, index=df.index)


def _dosage_sum(df: pd.DataFrame) -> pd.Series:
    keys = ["student_id", "year", "subject"]
    total = df.groupby(keys, dropna=False)["dosage"].transform("sum")
    return (total > 1 + 1e-9).fillna(False).astype(bool)


def _arm(df: pd.DataFrame) -> pd.Series:
    randomized = df["design"] == "randomized"
    bad = (randomized & df["arm"].isna()) | (~randomized & df["arm"].notna())
    return bad.fillna(False).astype(bool)


RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        Rule("district_id_matches_state_fips",
             "the first two digits of district_id are the FIPS code of the district's state",
             "district_id", _district_fips),
        Rule("school_id_within_district",
             "the first seven digits of school_id are the row's district_id",
             "school_id", _school_in_district),
        Rule("grade_span_ordered", "grade_low is not above grade_high", "grade_low", _grade_span),
        Rule("level_counts_sum_to_n_tested",
             "where level counts are reported, level_1 + ... + level_<n_levels> equals n_tested",
             "n_tested", _levels_sum),
        Rule("levels_beyond_n_levels_missing",
             "rows with level counts give n_levels and report exactly level_1 .. level_<n_levels>",
             "n_levels", _levels_beyond),
        Rule("results_present_unless_suppressed",
             "an unsuppressed row reports mean and SD or level counts; a suppressed row reports neither",
             "suppressed", _results_present),
        Rule("cuts_increasing", "cut scores strictly increase: cut_1 < cut_2 < ...", "cut_1",
             _cuts_increasing),
        Rule("cuts_within_obtainable",
             "where given, loss < hoss and every cut lies within loss .. hoss",
             "cut_1", _cuts_within_obtainable),
        Rule("cuts_match_n_levels", "exactly cut_1 .. cut_<n_levels - 1> are given", "n_levels",
             _cuts_match),
        Rule("dosage_sums_at_most_one",
             "a student's dosages for one year and subject add up to at most 1",
             "dosage", _dosage_sum),
        Rule("arm_given_for_randomized",
             "randomized programs give every unit an arm; adoption programs give none",
             "arm", _arm),
    ]
}  # fmt: skip
