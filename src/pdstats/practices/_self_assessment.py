"""A self-assessment on the stage matrix (the report's chapter 7, "Next Steps", item 2).

A district answers 48 yes/no questions, one per cell of Table 6.1 ("Does this describe
your district?"). :func:`self_assessment` returns its profile (highest stage and number
of cells per practice), a continuous practice index with a standard error (the
partial-credit model of :func:`pdstats.practices.score` calibrated on the 28 year-1
districts), its percentile among those districts, and, for each practice, the text of
the next stage to work on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pdstats._inputs import as_bool, refuse
from pdstats.errors import DataValidationError, ModelSpecificationError
from pdstats.practices.instrument import PRACTICES, STAGES, item_ids, stage_matrix
from pdstats.practices.rasch import PCMResult
from pdstats.results import ResultsBase, SampleLog, add_ci, check_level, critical_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["questionnaire", "self_assessment", "SelfAssessmentResult"]


def questionnaire() -> pd.DataFrame:
    """The 48 yes/no self-assessment questions built from the cells of Table 6.1.

    Examples
    --------
    >>> from pdstats.practices import questionnaire
    >>> q = questionnaire()
    >>> len(q), q["item"].iloc[0]
    (48, 'monitoring_goals_s1')
    """
    sm = stage_matrix()
    q = sm[["item", "group_label", "practice", "practice_label", "stage", "description"]].copy()
    q["question"] = "Does this describe your district today? " + q["description"]
    q["year1_share"] = sm["n_districts"] / 28
    return q


class SelfAssessmentResult(ResultsBase):
    """Profile of one district on the stage matrix.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row, ``quantity = "practice_index"``: ``estimate`` (theta, PCM WLE),
        ``std_error``, 95% ``ci_lower``/``ci_upper``, ``flag``.
    profile : pandas.DataFrame
        Per practice: ``highest_stage``, ``n_cells``, ``missing_lower_stages`` (stages
        below the highest that are not in place), ``next_stage`` and ``next_step`` (the
        cell text to work on next) and ``year1_share_next`` (share of year-1 districts
        already there).
    index : pandas.Series
        ``theta`` (practice index, PCM WLE), ``se``, ``ci_lower``, ``ci_upper``,
        ``percentile`` among the year-1 districts and its interval from the CI bounds.
    responses : pandas.Series
        The 48 answers (0/1) by item id.
    """

    title = "Stage-matrix self-assessment"

    def __init__(self, profile: pd.DataFrame, index: pd.Series, responses: pd.Series,
                 reference: pd.DataFrame, sample_log: SampleLog, notes: list[str]) -> None:
        self.profile = profile
        self.index = index
        self.responses = responses
        self.reference = reference
        self.sample_log = sample_log
        self.notes = notes
        est = pd.DataFrame({"quantity": ["practice_index"], "estimate": [float(index["theta"])],
                            "std_error": [float(index["se"])]})
        est["std_error"] = est["std_error"].where(est["std_error"] > 0)
        add_ci(est, 0.95, df=None)
        est["flag"] = ~(np.isfinite(est["estimate"]) & np.isfinite(est["std_error"]))
        self.estimates = est

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Practice index", self.estimates), ("Profile", self.profile)]

    def _info(self) -> dict[str, object]:
        info = super()._info()
        i = self.index
        info["Practice index (PCM, WLE)"] = (
            f"{i['theta']:.2f} (SE {i['se']:.2f}; 95% CI {i['ci_lower']:.2f} to {i['ci_upper']:.2f})"
        )
        info["Percentile (reference)"] = (
            f"{i['percentile']:.0f} (CI {i['percentile_lower']:.0f}-{i['percentile_upper']:.0f})"
        )
        for k, note in enumerate(self.notes, 1):
            info[f"Note {k}"] = note
        return info

    def plot(self, ax: Axes | None = None) -> Axes:
        """Heatmap of the answers with the year-1 prevalence of each cell."""
        from pdstats.figures.practices import plot_self_assessment

        return plot_self_assessment(self, ax=ax)


def _as_series(responses: Mapping[str, int] | pd.Series | pd.DataFrame) -> pd.Series:
    if isinstance(responses, pd.DataFrame):
        need = {"practice", "stage", "evidence"}
        if not need <= set(responses.columns):
            raise DataValidationError(
                "responses",
                pd.DataFrame({"table": "responses", "column": sorted(need - set(responses.columns)),
                              "rule": "required column", "row": None, "key": "", "value": None}),
            )
        s = pd.Series(responses["evidence"].to_numpy(),
                      index=responses["practice"].astype(str) + "_s" + responses["stage"].astype(str))
    elif isinstance(responses, (Mapping, pd.Series)):
        s = pd.Series(dict(responses), dtype=object)
    else:
        raise ModelSpecificationError("argument 'responses' must be a mapping, Series or DataFrame of "
                                      f"answers, got {type(responses).__name__}")
    items = item_ids()
    unknown = [k for k in s.index if k not in items]
    missing = [k for k in items if k not in s.index]
    if unknown or missing:
        keys = unknown + missing
        raise DataValidationError(
            "responses",
            pd.DataFrame({"table": "responses", "column": "item",
                          "rule": ["unknown item id"] * len(unknown) + ["item not answered"] * len(missing),
                          "row": None, "key": keys, "value": None}),
        )
    s = s.reindex(items)
    parsed = as_bool(pd.DataFrame({"answer": s.to_numpy()}, index=s.index), "answer", "responses")
    if parsed.isna().any():
        raise refuse("responses", "answer", "every item answered 0/1 (a missing answer cannot be scored)",
                     np.flatnonzero(parsed.isna().to_numpy()))
    return parsed.astype(int)


def self_assessment(
    responses: Mapping[str, int] | pd.Series | pd.DataFrame,
    reference: pd.DataFrame | None = None,
    level: float = 0.95,
    random_state: int = 0,
) -> SelfAssessmentResult:
    """Profile, practice index and next steps for one district's questionnaire answers.

    Parameters
    ----------
    responses : mapping, Series or DataFrame
        The 48 answers: a mapping / Series from item id (``"finance_s3"``, see
        :func:`questionnaire`) to 0/1, or a frame with ``practice``, ``stage``,
        ``evidence``.
    reference : pandas.DataFrame, optional
        ``practice_ratings`` of the comparison districts; default the year-1
        reconstruction ``reconstruct_year1(random_state)``.
    level : float
        Level of the index's Wald interval.
    random_state : int
        Seed of the default reference reconstruction.

    Returns
    -------
    SelfAssessmentResult

    Examples
    --------
    >>> from pdstats.practices import questionnaire, self_assessment
    >>> answers = {item: int(stage <= 2) for item, stage in
    ...            zip(questionnaire()["item"], questionnaire()["stage"])}
    >>> res = self_assessment(answers)
    >>> int(res.profile.loc["finance", "next_stage"])
    3
    """
    from pdstats.practices.reconstruct import reconstruct_year1
    from pdstats.practices.scoring import score

    level = check_level(level)
    s = _as_series(responses)
    if reference is None:
        reference = reconstruct_year1(random_state)["practice_ratings"]
    ref = score(reference, method="pcm")
    model: PCMResult = ref.model  # type: ignore[assignment]
    sm = stage_matrix().set_index("item")
    log = SampleLog(n_in=48, unit="answers")
    notes: list[str] = []
    rows = []
    counts = {}
    for p in PRACTICES:
        ans = np.array([s[f"{p}_s{k}"] for k in STAGES])
        highest = int(max((k for k, a in zip(STAGES, ans, strict=False) if a), default=0))
        counts[p] = int(ans.sum())
        missing_lower = [k for k in STAGES if k < highest and not ans[k - 1]]
        if highest < 4:
            nxt = highest + 1
            cell = sm.loc[f"{p}_s{nxt}"]
            text, share = cell["description"], cell["n_districts"] / 28
        else:
            nxt, text, share = np.nan, "All four stages are in place: sustain and monitor.", np.nan
        rows.append((p, sm.loc[f"{p}_s1", "practice_label"], highest, int(ans.sum()),
                     ",".join(map(str, missing_lower)), nxt, text, share))
    profile = pd.DataFrame(rows, columns=["practice", "practice_label", "highest_stage", "n_cells",
                                          "missing_lower_stages", "next_stage", "next_step",
                                          "year1_share_next"]).set_index("practice")
    profile["next_stage"] = profile["next_stage"].astype("Int64")
    # map counts onto the categories seen in the calibration (unseen -> nearest seen)
    row = {}
    for p in PRACTICES:
        rec = model.recode[model.recode["item"] == p]
        seen = rec["original"].to_numpy()
        c = counts[p]
        if c not in seen:
            near = int(seen[np.argmin(np.abs(seen - c))])
            notes.append(f"{p}: {c} cells is outside the year-1 range; scored as {near}")
            c = near
        row[p] = c
    est = model.score(pd.DataFrame([row]))
    z = float(critical_value(level))
    theta, se = float(est["theta"].iloc[0]), float(est["se"].iloc[0])
    ref_theta = ref.wide["theta"].to_numpy()

    def pct(t: float) -> float:
        return float(100 * ((ref_theta < t).mean() + 0.5 * (ref_theta == t).mean()))

    index = pd.Series({"theta": theta, "se": se, "ci_lower": theta - z * se,
                       "ci_upper": theta + z * se, "percentile": pct(theta),
                       "percentile_lower": pct(theta - z * se),
                       "percentile_upper": pct(theta + z * se),
                       "n_reference": len(ref_theta)})
    return SelfAssessmentResult(profile, index, s, ref.wide, log, notes)


#: Former name, kept so existing code keeps working.
SelfAssessmentResults = SelfAssessmentResult
