"""Student scale scores on the linked (NAEP) scale, and yearly gains.

The harmonization links each state's *district means* to the NAEP scale; within a state,
grade and year that link is (to first order) linear in the state's scale. Student scores
reach the same scale by the same state-grade-year line: ``y* = a + b x``, estimated by
regressing the districts' linked means on their students' mean scale scores within each
state-grade-year (weighted by the number of students). Its error is a state-grade-year
error shared by every student of the cell; the student model puts fixed effects on those
cells, which absorb the shared intercept error (the slope error rescales a cell's gains
and is left in the residual, so it enters the district-clustered inference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pdstats._inputs import refuse, require_columns
from pdstats.results import SampleLog

__all__ = ["COLUMNS", "student_gains"]

#: Columns of :func:`student_gains`.
COLUMNS = ("student_id", "state", "district_id", "prior_district_id", "school_id", "year", "grade", "score",
           "prior", "prior_csem", "gain")


def _primary_enrollment(enr: pd.DataFrame, subject: str) -> pd.DataFrame:
    e = enr[enr["subject"] == subject]
    if "dosage" in e.columns:
        e = e.sort_values("dosage", ascending=False, kind="stable")
    e = e.drop_duplicates(["student_id", "year"])
    return e[["student_id", "year", "school_id", "district_id"]]


def _linear_links(scores: pd.DataFrame, means: pd.DataFrame) -> pd.DataFrame:
    dm = scores.groupby(["state", "district_id", "year", "grade"], as_index=False).agg(
        x=("scale_score", "mean"), n_students=("scale_score", "size"))
    dm = dm.merge(means[["district_id", "year", "grade", "mean"]], on=["district_id", "year", "grade"])
    rows = []
    for (state, year, grade), g in dm.groupby(["state", "year", "grade"]):
        if len(g) < 3 or g["x"].std() == 0:
            continue
        w = g["n_students"].to_numpy(float)
        X = np.column_stack([np.ones(len(g)), g["x"].to_numpy(float)])
        a, b = np.linalg.lstsq(X * np.sqrt(w)[:, None], g["mean"].to_numpy(float) * np.sqrt(w), rcond=None)[0]
        rows.append({"state": state, "year": year, "grade": grade, "link_a": a, "link_b": b})
    return pd.DataFrame(rows, columns=["state", "year", "grade", "link_a", "link_b"])


def student_gains(tables: dict[str, pd.DataFrame], means: pd.DataFrame, subject: str,
                  log: SampleLog | None = None) -> pd.DataFrame:
    """Yearly gains of students on the linked scale, with their school and district.

    Parameters
    ----------
    tables : dict
        Needs ``student_scores`` and ``enrollments``.
    means : pandas.DataFrame
        Linked district means (``district_id``, ``year``, ``grade``, ``mean``).
    subject : str
    log : SampleLog, optional
        Receives the counts of student-years without a link or a prior score.

    Returns
    -------
    pandas.DataFrame
        ``student_id``, ``state``, ``district_id``, ``prior_district_id`` (the district of
        the prior-year score), ``school_id``, ``year``, ``grade``, ``score`` (linked),
        ``prior`` (linked, previous year and grade), ``prior_csem`` (the prior score's
        conditional SEM times the link's slope; NaN without a ``csem`` column), ``gain``.

    Examples
    --------
    >>> import pandas as pd
    >>> sc = pd.DataFrame({"student_id": ["a", "a"], "state": "CA", "year": [2005, 2006],
    ...                    "grade": [3, 4], "subject": "math", "scale_score": [300.0, 320.0]})
    >>> student_gains({"student_scores": sc, "enrollments": sc.assign(school_id="s", district_id="d")},
    ...               pd.DataFrame(columns=["district_id", "year", "grade", "mean"]), "math").shape[0]
    0
    """
    sc = tables["student_scores"]
    require_columns(sc, ["student_id", "state", "year", "grade", "subject", "scale_score"],
                    "student_scores", "student model")
    require_columns(tables["enrollments"], ["student_id", "year", "subject", "school_id", "district_id"],
                    "enrollments", "student model")
    sc = sc[(sc["subject"] == subject)].dropna(subset=["scale_score"])
    sc = sc.astype({"student_id": str, "year": int, "grade": int})
    enr = _primary_enrollment(tables["enrollments"].astype({"student_id": str, "district_id": str,
                                                            "school_id": str, "year": int}), subject)
    d = sc.merge(enr, on=["student_id", "year"], how="left")
    no_enr = d["district_id"].isna()
    if log is not None:
        log.drop("student score without an enrollment row", int(no_enr.sum()))
    d = d[~no_enr]
    links = _linear_links(d, means)
    d = d.merge(links, on=["state", "year", "grade"], how="left")
    no_link = d["link_a"].isna()
    if log is not None:
        log.drop("student score in a state-grade-year without a linked line", int(no_link.sum()))
    d = d[~no_link]
    d["score"] = d["link_a"] + d["link_b"] * d["scale_score"].astype(float)
    # the score's conditional SEM on the linked scale (NaN when the table has no csem column)
    d["score_csem"] = d["link_b"].abs() * (d["csem"].astype(float) if "csem" in d.columns else np.nan)
    prior = d[["student_id", "year", "grade", "score", "score_csem", "district_id"]].assign(
        year=lambda x: x["year"] + 1, grade=lambda x: x["grade"] + 1)
    g = d.merge(prior.rename(columns={"score": "prior", "score_csem": "prior_csem",
                                      "district_id": "prior_district_id"}),
                on=["student_id", "year", "grade"], how="inner")
    if log is not None:
        log.drop("student-year without a prior-year score (first year, grade 3, entrants, retained)",
                 len(d) - len(g))
    if g.empty:
        return pd.DataFrame(columns=COLUMNS)
    g["gain"] = g["score"] - g["prior"]
    bad = np.flatnonzero(~np.isfinite(g["gain"].to_numpy(dtype=float)))
    if bad.size:
        raise refuse("student_scores", "scale_score", "finite gain on the linked scale", bad)
    return g[list(COLUMNS)]
