"""Practice scores from stage-matrix evidence.

Informant-level ``practice_ratings`` are first combined into one 0/1 value per district and
cell (:func:`pdstats.practices.combine_informants`; default rule ``"any"``: a cell is
evidenced when any of the four informants evidences it, which is how the report counted
"districts whose practices fit the description"; consensus rows, when present, are used
as they are). Scores then are:

``"highest"``  highest stage evidenced per practice (0 = none), and the mean over practices.
``"count"``    number of the four stage cells evidenced per practice (0-4), and the total (0-48).
``"index"``    group indices (share of the group's cells evidenced, 0-1) for the five groups
               of Table 6.1 and the overall index (share of the 48 cells).
``"rasch"``    dichotomous Rasch model on the 48 cells (CML item parameters, person WLE/ML
               estimate with standard error).
``"pcm"``      partial-credit model on the 12 practices scored 0-4 (cells evidenced), the
               continuous practice index with a standard error per district.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pdstats.errors import DataValidationError
from pdstats.practices.instrument import GROUPS, PRACTICES, item_ids, stage_matrix
from pdstats.practices.rasch import PCMResults, fit_pcm
from pdstats.practices.tables import combine_informants
from pdstats.results import ResultsBase, SampleLog

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["score", "evidence_matrix", "ScoreResults", "METHODS"]

METHODS = ("highest", "count", "index", "rasch", "pcm")


def evidence_matrix(ratings: pd.DataFrame, rule: str = "any") -> pd.DataFrame:
    """District x cell 0/1 matrix (48 columns ``<practice>_s<stage>``) from ratings.

    Parameters
    ----------
    ratings : pandas.DataFrame
        A ``practice_ratings`` table (consensus and/or informant rows).
    rule : {"any", "majority", "all"}
        Informant combination rule when there are no consensus rows.

    Returns
    -------
    pandas.DataFrame
        Index ``district_id`` (or ``district_id``, ``year``), one column per cell.
        Cells missing for a district raise :class:`~pdstats.DataValidationError`.

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> pds.practices.evidence_matrix(data["practice_ratings"]).shape
    (28, 48)
    """
    ev = combine_informants(ratings, rule=rule)
    bad = ev[~ev["practice"].isin(PRACTICES)]
    if len(bad):
        raise DataValidationError(
            "practice_ratings",
            pd.DataFrame({"table": "practice_ratings", "column": "practice",
                          "rule": f"must be one of {list(PRACTICES)}", "row": list(bad.index),
                          "key": bad["district_id"].astype(str).tolist(),
                          "value": bad["practice"].tolist()}),
        )
    ev["item"] = ev["practice"] + "_s" + ev["stage"].astype(str)
    idx = ["district_id", *(["year"] if "year" in ev.columns else [])]
    wide = ev.pivot_table(index=idx, columns="item", values="evidence", aggfunc="max")
    wide = wide.reindex(columns=item_ids())
    if wide.isna().any().any():
        rows = wide[wide.isna().any(axis=1)]
        raise DataValidationError(
            "practice_ratings",
            pd.DataFrame({"table": "practice_ratings", "column": "stage",
                          "rule": "every district needs all 48 practice x stage cells",
                          "row": None, "key": [str(k) for k in rows.index],
                          "value": rows.isna().sum(axis=1).tolist()}),
        )
    wide.columns.name = None
    return wide.astype(int)


class ScoreResults(ResultsBase):
    """Practice scores per district.

    Attributes
    ----------
    scores : pandas.DataFrame
        Tidy: one row per district x score (``score`` names the practice, group or
        ``"overall"``), with ``value`` and, for the scaled methods, ``se``, ``ci_lower``,
        ``ci_upper``.
    wide : pandas.DataFrame
        Districts x scores.
    model : PCMResults or None
        The fitted Rasch / PCM model (``method`` "rasch" or "pcm").
    """

    def __init__(self, method: str, scores: pd.DataFrame, wide: pd.DataFrame,
                 sample_log: SampleLog, rule: str, model: PCMResults | None = None) -> None:
        self.method = method
        self.scores = scores
        self.wide = wide
        self.sample_log = sample_log
        self.rule = rule
        self.model = model
        self.title = f"Practice scores ({method})"

    def to_frame(self) -> pd.DataFrame:
        """The tidy score table."""
        return self.scores

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Method"] = self.method
        info["Informant rule"] = self.rule
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Scores", self.wide)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Practice index with 95% CIs (methods "rasch"/"pcm") or a heatmap of the scores."""
        if self.method in ("rasch", "pcm"):
            from pdstats.figures.practices import plot_practice_index

            return plot_practice_index(self, ax=ax)
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 7))
        sns.heatmap(self.wide.droplevel("year") if "year" in self.wide.index.names else self.wide,
                    cmap="crest", ax=ax)
        ax.set_title(self.title, loc="left")
        return ax


def score(ratings: pd.DataFrame, method: str = "pcm", rule: str = "any",
          person_method: str = "wle") -> ScoreResults:
    """Score districts on the stage matrix.

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``practice_ratings`` rows (informant-level, consensus, or both).
    method : {"highest", "count", "index", "rasch", "pcm"}
        See the module docstring.
    rule : {"any", "majority", "all"}
        How informants are combined when no consensus rows are given.
    person_method : {"wle", "ml"}
        Person estimator of the scaled methods.

    Returns
    -------
    ScoreResults

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> res = pds.practices.score(data["practice_ratings"], method="count")
    >>> int(res.wide["total"].sum())  # all published cell counts added up
    610
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    log = SampleLog(n_in=len(ratings), unit="rating rows")
    ev = evidence_matrix(ratings, rule=rule)
    sm = stage_matrix()
    counts = pd.DataFrame({p: ev[[f"{p}_s{s}" for s in (1, 2, 3, 4)]].sum(axis=1)
                           for p in PRACTICES})
    model = None
    if method == "highest":
        stages = np.array([1, 2, 3, 4])
        wide = pd.DataFrame({p: (ev[[f"{p}_s{s}" for s in stages]].to_numpy() * stages).max(axis=1)
                             for p in PRACTICES}, index=ev.index)
        wide["mean_highest"] = wide[list(PRACTICES)].mean(axis=1)
    elif method == "count":
        wide = counts.copy()
        wide["total"] = counts.sum(axis=1)
    elif method == "index":
        grp = dict(zip(sm["item"], sm["group"].astype(str), strict=False))
        wide = pd.DataFrame({g: ev[[c for c in ev.columns if grp[c] == g]].mean(axis=1)
                             for g in GROUPS}, index=ev.index)
        wide["overall"] = ev.mean(axis=1)
    else:
        data = ev if method == "rasch" else counts
        model = fit_pcm(data, person_method=person_method)
        p = model.persons
        wide = pd.DataFrame({"theta": p["theta"], "se": p["se"], "ci_lower": p["ci_lower"],
                             "ci_upper": p["ci_upper"], "raw_score": p["raw_score"]},
                            index=ev.index)
        tidy = wide.reset_index().assign(score="practice_index").rename(columns={"theta": "value"})
        keys = list(ev.index.names)
        tidy = tidy[[*keys, "score", "value", "se", "ci_lower", "ci_upper", "raw_score"]]
        return ScoreResults(method, tidy, wide, log, rule, model)
    keys = list(ev.index.names)
    tidy = wide.reset_index().melt(id_vars=keys, var_name="score", value_name="value")
    return ScoreResults(method, tidy, wide, log, rule, model)
