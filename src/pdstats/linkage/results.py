"""LinkageResult: one result class for every practice-growth model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from pdstats.results import ResultsBase, SampleLog

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["LinkageResult"]


class LinkageResult(ResultsBase):
    """A practice-growth link from :func:`pdstats.linkage.practice_growth`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per term: ``term`` (``"practice_index"``, a practice id, a group id or a
        covariate), ``kind`` ("index", "practice", "group", "covariate"), ``estimate``,
        ``std_error``, ``df``, ``ci_lower``, ``ci_upper``, ``p_value``, ``p_holm`` and
        ``p_bh`` (Holm and Benjamini-Hochberg across the 12 practices), ``flag``. Score
        rows are errors-in-variables corrected (unless ``correction=False``) and in NAEP
        points of yearly growth per SD of the error-free score among year-1 districts;
        covariate rows are in points per unit of the covariate (CR2 standard errors and
        Bell-McCaffrey df).
    naive : pandas.DataFrame
        The same rows without the measurement-error correction.
    attenuation : pandas.DataFrame
        Per score: ``naive`` and ``corrected`` estimate, ``conditional_reliability`` (the
        attenuation factor), ``marginal_reliability``, ``sd_true`` (SD of the error-free
        score among year-1 districts, raw score units), ``estimate_student_sd`` (the
        effect divided by ``student_sd``).
    student_sd : float
        The student SD used for effect sizes: the mean, over the rows analysed, of the
        state's NAEP student SD in the row's grade and year (the linked scale's SD).
    model, subject, inference : str
    n_clusters : int
        Districts.
    variance_components : pandas.DataFrame or None
        Of the mixed model (district, district-year, ...), where there is one.
    fit : object
        The underlying fit of the practice-index model (an ``LMMResult`` or ``OLSResult``).
    sample_log : SampleLog
    """

    def __init__(self, model: str, subject: str, inference: str, estimates: pd.DataFrame,
                 naive: pd.DataFrame, attenuation: pd.DataFrame, student_sd: float, n_clusters: int,
                 sample_log: SampleLog, variance_components: pd.DataFrame | None, fit: Any,
                 notes: list[str]) -> None:
        self.model = model
        self.subject = subject
        self.inference = inference
        self.estimates = estimates
        self.naive = naive
        self.attenuation = attenuation
        self.student_sd = student_sd
        self.n_clusters = n_clusters
        self.sample_log = sample_log
        self.variance_components = variance_components
        self.fit = fit
        self.notes = notes
        self.title = f"Practices and growth: {model} model ({subject})"

    def effect(self, term: str = "practice_index") -> pd.Series:
        """The row of ``estimates`` for ``term``."""
        return self.estimates.set_index("term").loc[term]

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Model"] = self.model
        info["Inference"] = self.inference
        info["Districts (clusters)"] = self.n_clusters
        info["Effect units"] = "NAEP points of yearly growth per SD of the error-free score (year-1 districts)"
        info["Student SD"] = f"{self.student_sd:.2f} NAEP points"
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        cols = ["term", "estimate", "std_error", "df", "ci_lower", "ci_upper", "p_value", "p_holm", "p_bh"]
        blocks = [("Estimates (corrected)", self.estimates[[c for c in cols if c in self.estimates]]),
                  ("Attenuation", self.attenuation)]
        if self.notes:
            blocks.append(("Notes", pd.DataFrame({"note": self.notes})))
        return blocks

    def __repr__(self) -> str:
        e = self.effect()
        return (f"<LinkageResult {self.model}: practice_index {e['estimate']:.3f} "
                f"(SE {e['std_error']:.3f}) points per SD, {self.n_clusters} districts>")

    def plot(self, ax: Axes | None = None, kind: str = "practice") -> Axes:
        """Coefficient plot of the corrected score effects (``kind``: "practice", "group", "index")."""
        from pdstats.figures.estimates import coefplot

        d = self.estimates[self.estimates["kind"].isin([kind, "index"])]
        return coefplot(d, ax=ax, title=f"{self.model} model: points of yearly growth per SD (95% CI)")
