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

import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from pdstats._inputs import as_numeric, drop_missing, require_columns, require_frame
from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.results import ResultsBase, SampleLog, check_level
from pdstats.vam._checks import positive_int
from pdstats.vam.results import VAResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ClassificationResult", "classify"]


class ClassificationResult(ResultsBase):
    """Ranks, probabilities of clearing a bonus cut and expected misclassification.

    Attributes
    ----------
    estimates : pandas.DataFrame
        The result contract's table: group columns, unit, quantity (``rank``),
        estimate (rank, 1 = highest), std_error (SD of the unit's rank over the
        posterior draws), ci_lower, ci_upper (rank interval from the draws, 95%), flag
        (the rank was the same in every draw, so its SE is below what ``n_draws`` draws
        resolve).
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
                 rule: str, draws: list[np.ndarray], keys: list[str]) -> None:
        self.units = units
        self.rates = rates
        self.sample_log = sample_log
        self.rule = rule
        self._draws = draws
        self._keys = keys
        self.estimates = self._rank_table(0.95)

    def _rank_table(self, level: float) -> pd.DataFrame:
        a = (1 - level) / 2
        u = self.units
        out = u[[*self._keys, "unit"]].copy()
        out["quantity"] = "rank"
        out["estimate"] = u["rank"].to_numpy(dtype=float)
        order = [np.asarray(d) for d in self._draws]
        out["std_error"] = np.concatenate([d.std(axis=0, ddof=1) for d in order]) if order \
            else np.empty(0)
        out["ci_lower"] = np.concatenate([_rank_bound(d, a) for d in order]) if order \
            else np.empty(0)
        out["ci_upper"] = np.concatenate([_rank_bound(d, 1 - a) for d in order]) if order \
            else np.empty(0)
        out["flag"] = ~(out["std_error"].to_numpy(dtype=float) > 0)
        out.loc[out["flag"], "std_error"] = np.nan
        return out.reset_index(drop=True)

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Rank intervals at ``level`` from the posterior draws."""
        out = self._rank_table(check_level(level))
        return out.drop(columns=["std_error", "flag"])

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


def _rank_bound(draws: np.ndarray, q: float) -> np.ndarray:
    """Integer rank bound from the draws: the quantile rounded outwards (floor below the
    median, ceiling above), so the interval covers at least its level."""
    v = np.quantile(draws, q, axis=0)
    return (np.floor(v) if q < 0.5 else np.ceil(v)).astype(int)


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
    level = check_level(level)
    n_draws = positive_int(n_draws, "n_draws", minimum=2)
    if threshold is None:
        if isinstance(cut, bool) or not isinstance(cut, numbers.Real) or not 0 < cut < 1:
            raise ModelSpecificationError(f"cut={cut!r}: a quantile strictly inside (0, 1)")
    elif isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
            or not np.isfinite(threshold):
        raise ModelSpecificationError(f"threshold={threshold!r}: a finite number")
    eff = result.effects if isinstance(result, VAResult) else result
    table = "classify effects"
    require_frame(eff, table)
    require_columns(eff, ["unit", "estimate", "std_error"], table, "result")
    by = list(result.by) if isinstance(result, VAResult) else []
    if "year" in eff.columns and eff["year"].notna().any():
        by = [*by, "year"]
    require_columns(eff, by, table, "result")
    eff = eff.copy()
    eff["estimate"] = as_numeric(eff, "estimate", table)
    # a posterior SD of 0 is never an estimate (pds.vam reports NaN + flag instead)
    eff["std_error"] = as_numeric(eff, "std_error", table, lower=0.0, lower_open=True)
    log = SampleLog(n_in=len(eff), unit="units")
    eff, log = drop_missing(eff, ["estimate", "std_error", "unit", *by], table, log,
                            stacklevel=3)
    if len(eff) == 0:
        raise ModelSpecificationError(f"classify: no unit has an estimate and a standard error "
                                      f"({log})")
    rng = np.random.default_rng(random_state)
    a = (1 - level) / 2
    units, rates, all_draws = [], [], []
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
                          "rank_lower": _rank_bound(draws_rank, a),
                          "rank_upper": _rank_bound(draws_rank, 1 - a),
                          "p_above": p, "selected": sel})
        keys = key if isinstance(key, tuple) else (key,)
        for col, v in reversed(list(zip(by, keys, strict=True))):
            u.insert(0, col, v)
        order = np.argsort(rank, kind="stable")
        units.append(u.iloc[order])
        all_draws.append(draws_rank[:, order])
        fp = float(np.mean(1 - p[sel])) if sel.any() else np.nan
        fn = float(np.mean(p[~sel])) if (~sel).any() else np.nan
        miss = float(np.sum(1 - p[sel]) + np.sum(p[~sel]))
        rates.append(dict(zip(by, keys, strict=True)) | {
            "n_units": n, "cut_value": c, "n_selected": int(sel.sum()),
            "expected_false_positive_rate": fp, "expected_false_negative_rate": fn,
            "expected_misclassified": miss, "expected_share_misclassified": miss / n})
    rule = (f"estimate >= {threshold:g}" if threshold is not None
            else f"top {100 * (1 - cut):.0f}% of estimates")
    res = ClassificationResult(pd.concat(units, ignore_index=True), pd.DataFrame(rates), log,
                               rule, all_draws, by)
    if res.estimates["flag"].any():
        warnings.warn(f"classify: {int(res.estimates['flag'].sum())} unit(s) had the same rank in "
                      f"all {n_draws} draws; their rank SE is below what the draws resolve "
                      "(std_error NaN, flag=True; raise n_draws)", EstimationWarning, stacklevel=2)
    return res
