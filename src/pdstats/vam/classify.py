"""Incentive-program classification: ranks with intervals, P(above a bonus cut), error rates.

For a bonus rule given as a cut on the VA distribution (``cut=0.8``: the top 20% of
estimates), each unit's estimate is treated as the mean of a normal posterior with SD
``std_error``.  This is a proper posterior for shrunken estimates (``eb``, ``re``,
``cfr``); for ``ols``/``fe`` it is only the sampling distribution, and the
probabilities overstate certainty at the tails.

* ranks: 1 = highest; intervals from ``n_draws`` joint posterior draws;
* ``p_above = Phi((estimate - c) / std_error)`` with ``c`` the cut value
  (``threshold`` given directly, or the ``cut`` quantile of the estimates);
* expected misclassification: among units selected (estimate >= c) the expected share
  truly below (``mean(1 - p_above)``), among the rest the expected share truly above
  (``mean(p_above)``), and the expected number misclassified overall.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.errors import ModelSpecificationError
from pdstats.results import ResultsBase, SampleLog

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from pdstats.vam.results import VAResult

__all__ = ["ClassificationResult", "classify"]


class ClassificationResult(ResultsBase):
    """Ranks, probabilities of clearing a bonus cut and expected misclassification.

    Attributes
    ----------
    units : pandas.DataFrame
        Group columns, unit, estimate, std_error, rank, rank_lower, rank_upper,
        p_above, selected.
    rates : pandas.DataFrame
        One row per group: n_units, cut_value, n_selected, expected false-positive
        rate among the selected, expected false-negative rate among the rest, expected
        number and share misclassified.
    """

    title = "Classification of units against a bonus cut"

    def __init__(self, units: pd.DataFrame, rates: pd.DataFrame, sample_log: SampleLog,
                 rule: str) -> None:
        self.units = units
        self.rates = rates
        self.sample_log = sample_log
        self.rule = rule

    def to_frame(self) -> pd.DataFrame:
        """The per-unit table."""
        return self.units

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Rule"] = self.rule
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Expected misclassification", self.rates)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Probability of being above the cut against rank."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        u = self.units
        ax.scatter(u["rank"], u["p_above"], s=6, c=np.where(u["selected"], "C3", "C0"))
        ax.set_xlabel("rank (1 = highest estimate)")
        ax.set_ylabel("P(above the bonus cut)")
        ax.axhline(0.5, color="grey", lw=0.6)
        return ax


def classify(
    result: VAResult,
    cut: float = 0.8,
    threshold: float | None = None,
    n_draws: int = 1000,
    level: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> ClassificationResult:
    """Ranks with intervals and bonus-cut probabilities for every unit.

    Parameters
    ----------
    result : VAResult or pandas.DataFrame
        A value-added result, or a table with unit, estimate, std_error (and optional
        year / by columns).  Units are ranked within year and ``by`` group.
    cut : float
        Quantile of the estimates that defines the bonus (0.8: top 20%).
    threshold : float, optional
        An absolute cut on the VA scale instead of ``cut``.
    n_draws : int
        Posterior draws for the rank intervals.
    level : float
        Level of the rank intervals.
    random_state : int or numpy.random.Generator, optional
        Seeds the draws.

    Returns
    -------
    ClassificationResult

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"unit": list("abcde"), "estimate": [0.3, 0.1, 0.0, -0.1, -0.3],
    ...                     "std_error": [0.05] * 5})
    >>> c = classify(eff, cut=0.8, n_draws=200)
    >>> c.units["rank"].tolist(), c.units["selected"].tolist()
    ([1, 2, 3, 4, 5], [True, False, False, False, False])
    """
    eff = result.effects if hasattr(result, "effects") else result
    for col in ("unit", "estimate", "std_error"):
        if col not in eff.columns:
            raise ModelSpecificationError(f"classify: the effects table has no {col!r} column")
    if threshold is None and not 0 < cut < 1:
        raise ModelSpecificationError(f"cut={cut}: a quantile in (0, 1)")
    by = list(getattr(result, "by", []))
    if "year" in eff.columns and eff["year"].notna().any():
        by = [*by, "year"]
    ok = eff["estimate"].notna() & eff["std_error"].notna()
    log = SampleLog(n_in=len(eff), unit="units")
    log.drop("no estimate (e.g. one year only under cfr)", int((~ok).sum()))
    eff = eff.loc[ok]
    rng = np.random.default_rng(random_state)
    a = (1 - level) / 2
    units, rates = [], []
    groups = eff.groupby(by, sort=True) if by else [((), eff)]
    for key, g in groups:
        est = g["estimate"].to_numpy(dtype=float)
        se = g["std_error"].to_numpy(dtype=float)
        n = len(est)
        c = float(threshold) if threshold is not None else float(np.quantile(est, cut))
        rank = stats.rankdata(-est, method="min").astype(int)
        draws_rank = np.empty((n_draws, n), dtype=np.int32)
        chunk = max(1, 2_000_000 // max(n, 1))
        for b0 in range(0, n_draws, chunk):
            th = est + se * rng.standard_normal((min(chunk, n_draws - b0), n))
            # continuous draws: no ties, so the rank is the position in the sorted order
            draws_rank[b0:b0 + len(th)] = np.argsort(np.argsort(-th, axis=1), axis=1) + 1
        with np.errstate(divide="ignore"):
            p = np.where(se > 0, stats.norm.sf((c - est) / np.where(se > 0, se, 1.0)),
                         (est >= c).astype(float))
        sel = est >= c
        u = pd.DataFrame({"unit": g["unit"].to_numpy(), "estimate": est, "std_error": se,
                          "rank": rank,
                          "rank_lower": np.quantile(draws_rank, a, axis=0).astype(int),
                          "rank_upper": np.quantile(draws_rank, 1 - a, axis=0).astype(int),
                          "p_above": p, "selected": sel})
        keys = key if isinstance(key, tuple) else (key,)
        for col, v in reversed(list(zip(by, keys, strict=True))):
            u.insert(0, col, v)
        units.append(u.sort_values("rank", kind="stable"))
        fp = float(np.mean(1 - p[sel])) if sel.any() else np.nan
        fn = float(np.mean(p[~sel])) if (~sel).any() else np.nan
        miss = float(np.sum(1 - p[sel]) + np.sum(p[~sel]))
        rates.append(dict(zip(by, keys, strict=True)) | {
            "n_units": n, "cut_value": c, "n_selected": int(sel.sum()),
            "expected_false_positive_rate": fp, "expected_false_negative_rate": fn,
            "expected_misclassified": miss, "expected_share_misclassified": miss / n})
    rule = (f"estimate >= {threshold:g}" if threshold is not None
            else f"top {100 * (1 - cut):.0f}% of estimates")
    return ClassificationResult(pd.concat(units, ignore_index=True), pd.DataFrame(rates), log,
                                rule)
