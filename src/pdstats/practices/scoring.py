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

from pdstats.errors import DataValidationError, ModelSpecificationError
from pdstats.practices.instrument import GROUPS, PRACTICES, item_ids, stage_matrix
from pdstats.practices.rasch import PCMResult, fit_pcm
from pdstats.practices.tables import combine_informants
from pdstats.results import ResultsBase, SampleLog

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["score", "evidence_matrix", "ScoreResult", "METHODS"]

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
        Cells missing for a district raise :class:`~pdstats.DataValidationError`;
        ``attrs["sample_log"]`` counts rating rows dropped as missing.

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
    wide = wide.astype(int)
    wide.attrs["sample_log"] = ev.attrs["sample_log"]
    return wide


class ScoreResult(ResultsBase):
    """Practice scores per district.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Long and tidy: one row per district (x year) and ``score`` (the practice, group,
        ``"overall"``, ``"total"`` or ``"practice_index"``) with ``estimate`` (the score),
        ``std_error``, 95% ``ci_lower``/``ci_upper`` and ``flag``. The scaled methods
        ("rasch", "pcm") give model-based standard errors (``flag`` marks an estimate
        without one, e.g. an extreme raw score under ML); the descriptive methods
        ("highest", "count", "index") are exact functions of the evidence, so their
        ``std_error`` and interval are NaN (``flag`` False).
    scores : pandas.DataFrame
        Alias of ``estimates`` (the name used before the result contract).
    wide : pandas.DataFrame
        Districts x scores (the scaled methods: ``theta``, ``se``, ``ci_lower``,
        ``ci_upper``, ``raw_score``).
    model : PCMResult or None
        The fitted Rasch / PCM model (``method`` "rasch" or "pcm").
    """

    def __init__(self, method: str, estimates: pd.DataFrame, wide: pd.DataFrame,
                 sample_log: SampleLog, rule: str, model: PCMResult | None = None) -> None:
        self.method = method
        self.estimates = estimates
        self.wide = wide
        self.sample_log = sample_log
        self.rule = rule
        self.model = model
        self.title = f"Practice scores ({method})"

    @property
    def scores(self) -> pd.DataFrame:
        """Alias of :attr:`estimates`."""
        return self.estimates

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
          person_method: str = "wle") -> ScoreResult:
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
    ScoreResult

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> res = pds.practices.score(data["practice_ratings"], method="count")
    >>> int(res.wide["total"].sum())  # all published cell counts added up
    610
    """
    if method not in METHODS:
        raise ModelSpecificationError(f"argument 'method' must be one of {METHODS}, got {method!r}")
    ev = evidence_matrix(ratings, rule=rule)
    log = ev.attrs["sample_log"]
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
        keys = list(ev.index.names)
        tidy = wide.reset_index().assign(score="practice_index", flag=p["flag"].to_numpy())
        tidy = tidy.rename(columns={"theta": "estimate", "se": "std_error"})
        tidy = tidy[[*keys, "score", "estimate", "std_error", "ci_lower", "ci_upper", "flag", "raw_score"]]
        return ScoreResult(method, tidy, wide, log, rule, model)
    keys = list(ev.index.names)
    tidy = wide.reset_index().melt(id_vars=keys, var_name="score", value_name="estimate")
    tidy["estimate"] = tidy["estimate"].astype(float)
    tidy["std_error"] = np.nan
    tidy["ci_lower"] = np.nan
    tidy["ci_upper"] = np.nan
    tidy["flag"] = False
    return ScoreResult(method, tidy, wide, log, rule, model)


#: Former name, kept so existing code keeps working.
ScoreResults = ScoreResult
