"""Stages as a dose: did moving up the stage matrix go with faster growth?

For each district and practice, the highest stage evidenced in the first and the last
study year (:func:`pdstats.practices.score`, ``method="highest"``); the district's dose
is the number of stages gained, summed over the 12 practices (a practice that fell back
counts as a negative gain). Two views:

* dose-response: the district's growth in the last year minus its growth in the first
  growth year (each the precision-weighted mean over grades, on the linked scale)
  regressed on the dose, with state fixed effects and HC2 standard errors with
  Bell-McCaffrey df (:func:`pdstats.ols`; one row per district, so the district is the
  cluster). Differencing removes each district's stable growth level, so the slope
  compares districts that moved more with districts that moved less;
* event-style: mean growth by year for districts grouped by dose (tertiles).

The stage gains are counts of evidenced cells and carry the measurement error of the
evidence; the slope is naive (not corrected) and is descriptive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError
from pdstats.linkage.panel import PanelResult
from pdstats.results import ResultsBase, SampleLog

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["DoseResult", "stage_transitions"]


class DoseResult(ResultsBase):
    """Stage transitions and growth, from :func:`stage_transitions`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        The dose-response regression (``term``, ``estimate``, ``std_error``, ``df``,
        ``p_value``, intervals); the ``dose`` row is the change in yearly growth (NAEP
        points) per stage gained.
    districts : pandas.DataFrame
        One row per district: ``dose``, ``moved`` (practices that moved up), growth change.
    by_dose : pandas.DataFrame
        Mean growth by year and dose group (event-style view).
    transitions : pandas.DataFrame
        Practice x (first-year stage, last-year stage) counts of districts.
    """

    title = "Stages as a dose: stage gains and growth"

    def __init__(self, estimates: pd.DataFrame, districts: pd.DataFrame, by_dose: pd.DataFrame,
                 transitions: pd.DataFrame, sample_log: SampleLog) -> None:
        self.estimates = estimates
        self.districts = districts
        self.by_dose = by_dose
        self.transitions = transitions
        self.sample_log = sample_log

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Dose-response (HC2, BM df)", self.estimates), ("Growth by dose group", self.by_dose)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Mean growth by year for each dose group."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        sns.lineplot(self.by_dose, x="year", y="growth", hue="dose_group", marker="o", ax=ax)
        ax.set_xticks(sorted(self.by_dose["year"].unique()))
        ax.set_ylabel("mean cohort growth (NAEP points)")
        ax.set_title("Growth by stages gained, first to last study year", loc="left")
        return ax


def stage_transitions(panel: PanelResult) -> DoseResult:
    """Stage gains between the first and last study year as a dose for growth.

    Parameters
    ----------
    panel : PanelResult
        From :func:`pdstats.linkage.analysis_panel`.

    Returns
    -------
    DoseResult

    Examples
    --------
    >>> import pdstats as pds
    >>> panel = pds.linkage.analysis_panel(pds.simulate.study(progress=False))  # doctest: +SKIP
    >>> pds.linkage.stage_transitions(panel).estimates["term"].tolist()  # doctest: +SKIP
    ['Intercept', 'C(state)[T.MA]', 'C(state)[T.TX]', 'dose']
    """
    import pdstats as pds
    from pdstats.practices import PRACTICES, score

    r = panel.tables["practice_ratings"]
    if "informant_role" in r.columns and (r["informant_role"] == "consensus").any():
        r = r[r["informant_role"] == "consensus"]
    hi = score(r, method="highest").wide[list(PRACTICES)].reset_index()
    hi = hi.astype({"district_id": str, "year": int})
    first, last = int(hi["year"].min()), int(hi["year"].max())
    if first == last:
        raise ModelSpecificationError("practice_ratings: one study year only; stage transitions need two")
    a = hi[hi["year"] == first].set_index("district_id")[list(PRACTICES)]
    b = hi[hi["year"] == last].set_index("district_id")[list(PRACTICES)]
    common = a.index.intersection(b.index)
    gain = b.loc[common] - a.loc[common]
    trans = pd.concat([a.loc[common].melt(ignore_index=False, var_name="practice", value_name="stage_first"),
                       b.loc[common].melt(ignore_index=False, var_name="practice",
                                          value_name="stage_last")["stage_last"]], axis=1)
    trans = trans.groupby(["practice", "stage_first", "stage_last"]).size().rename("districts").reset_index()

    d = panel.data.assign(w=1.0 / panel.data["var_growth"])
    yearly = d.groupby(["district_id", "state", "year"]).apply(
        lambda g: pd.Series({"growth": np.average(g["growth"], weights=g["w"])}), include_groups=False
    ).reset_index()
    g_first, g_last = int(yearly["year"].min()), int(yearly["year"].max())
    wide = yearly.pivot_table(index=["district_id", "state"], columns="year", values="growth").reset_index()
    if g_first == g_last:
        raise ModelSpecificationError("analysis panel: one growth year only; the dose view needs two")
    wide["growth_change"] = wide[g_last] - wide[g_first]
    dist = pd.DataFrame({"dose": gain.sum(axis=1), "moved": (gain > 0).sum(axis=1)})
    dist = dist.rename_axis("district_id").reset_index()
    dist = dist.merge(wide[["district_id", "state", "growth_change"]], on="district_id", how="inner")
    log = SampleLog(n_in=len(common), unit="districts with stages in both years")
    log.drop("no growth in both growth years", len(common) - len(dist))
    fit = pds.ols("growth_change ~ dose + C(state)", dist, vcov="HC2")
    est = fit.estimates
    groups = pd.qcut(dist["dose"].rank(method="first"), 3, labels=["lowest third", "middle third", "highest third"])
    dist["dose_group"] = groups.astype(str)
    by = yearly.merge(dist[["district_id", "dose_group"]], on="district_id")
    by_dose = by.groupby(["dose_group", "year"], as_index=False).agg(growth=("growth", "mean"),
                                                                     districts=("district_id", "nunique"))
    return DoseResult(est, dist, by_dose, trans, log)
