"""The result of :func:`pdstats.evaluate.randomized` (the pdstats result contract)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.results import ResultsBase, SampleLog, add_ci, check_level, flag_unestimated

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from pdstats.evaluate.effect_size import EffectSizeResult

__all__ = ["RandomizedResult", "pooled_sd"]


def pooled_sd(x1: Any, x0: Any) -> float:
    """Pooled within-arm SD ``sqrt(((n1 - 1) s1^2 + (n0 - 1) s0^2) / (n1 + n0 - 2))`` (WWC v5.0).

    Examples
    --------
    >>> round(pooled_sd([1.0, 2, 3], [2.0, 4]), 4)
    1.1547
    """
    a, b = np.asarray(x1, dtype=float), np.asarray(x0, dtype=float)
    ss = np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2)
    return float(np.sqrt(ss / (len(a) + len(b) - 2)))


class RandomizedResult(ResultsBase):
    """Effects of a randomized assignment, one row per estimand and method.

    Attributes
    ----------
    estimates : pandas.DataFrame
        ``term`` (``"ITT"``, ``"take-up (first stage)"``, ``"effect on the treated"``),
        ``method``, ``estimate``, ``std_error``, ``df``, ``p_value``, ``ci_lower``,
        ``ci_upper``, ``design`` (the variance used) and ``flag``. The randomization row's
        interval inverts the test; its ``std_error`` is the SD of the re-drawn statistic.
    balance : pandas.DataFrame
        Baseline covariates by arm: means, difference (block fixed effects, design-robust
        SE), pooled within-arm SD and standardized difference with its SE.
    n_treated, n_control : int
        Rows (students) in each arm.
    n_clusters : int or None
        Randomized clusters (teachers or schools), None for individual randomization.
    outcome_sd : float
        Pooled within-arm SD of the outcome (:func:`pooled_sd`).
    outcome_scale : numpy.ndarray
        Which rows are effects in outcome points (all but the take-up first stage).
    settings : dict
        Outcome, treatment, level, blocks, cluster, covariates, take-up.
    """

    title = "Randomized trial"

    def __init__(self, estimates: pd.DataFrame, balance: pd.DataFrame, sample_log: SampleLog,
                 settings: dict[str, object], y: np.ndarray, d: np.ndarray,
                 clusters: np.ndarray | None, conf_level: float) -> None:
        est = estimates.copy()
        if "p_value" not in est:
            est["p_value"] = np.nan
        if "ci_lower" not in est:
            est["ci_lower"] = est["ci_upper"] = np.nan
        self._fixed_ci = est["method"].eq("randomization").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(est["estimate"] / est["std_error"]).to_numpy(dtype=float)
        dfs = est["df"].to_numpy(dtype=float)
        finite = np.isfinite(dfs) & (dfs > 0)
        p_t = np.where(finite, 2 * stats.t.sf(z, np.where(finite, dfs, 1.0)), 2 * stats.norm.sf(z))
        est["p_value"] = np.where(self._fixed_ci, est["p_value"], p_t)
        fixed = est.loc[self._fixed_ci, ["ci_lower", "ci_upper"]].copy()
        add_ci(est, 0.95)
        est.loc[self._fixed_ci, ["ci_lower", "ci_upper"]] = fixed.to_numpy()
        self.level_of_fixed_ci = conf_level
        cols = ["term", "method", "estimate", "std_error", "ci_lower", "ci_upper", "df", "p_value",
                "design"]
        est = est[cols]
        self.estimates = flag_unestimated(est, "randomized trial", stacklevel=4)
        self.balance = balance
        self.sample_log = sample_log
        self.settings = settings
        self.n_treated = int((d == 1).sum())
        self.n_control = int((d == 0).sum())
        self.n_clusters = None if clusters is None else int(pd.Series(clusters).nunique())
        self.outcome_sd = pooled_sd(y[d == 1], y[d == 0])
        self.outcome_scale = ~self.estimates["term"].eq("take-up (first stage)").to_numpy()

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Intervals at ``level`` (t with ``df``; the randomization row keeps its inverted test
        interval at the level it was computed and is NaN at other levels).

        Parameters
        ----------
        level : float
            Confidence level strictly between 0 and 1.
        """
        level = check_level(level)
        out = self.estimates[["term", "method", "estimate", "std_error", "df"]].copy()
        add_ci(out, level)
        keep = self._fixed_ci & np.isclose(level, self.level_of_fixed_ci)
        out.loc[self._fixed_ci, ["ci_lower", "ci_upper"]] = np.nan
        out.loc[keep, ["ci_lower", "ci_upper"]] = self.estimates.loc[keep, ["ci_lower", "ci_upper"]].to_numpy()
        return out.drop(columns=["std_error", "df"])

    def effect_size(self, sd: float | None = None, sd_name: str | None = None) -> EffectSizeResult:
        """Effect sizes of every row (see :func:`pdstats.evaluate.effect_size`).

        Parameters
        ----------
        sd : float, optional
            Student SD to divide by (e.g. the NAEP national SD of the grade and subject);
            default the pooled within-arm SD of the outcome in the trial.
        sd_name : str, optional
            What ``sd`` is.
        """
        from pdstats.evaluate.effect_size import effect_size

        return effect_size(self, sd=sd, sd_name=sd_name)

    def _info(self) -> dict[str, object]:
        info: dict[str, object] = {k: v for k, v in self.settings.items() if v is not None}
        info["Treated / control rows"] = f"{self.n_treated} / {self.n_control}"
        if self.n_clusters is not None:
            info["Randomized clusters"] = self.n_clusters
        info.update(super()._info())
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        blocks = [("Estimates", self.estimates)]
        if len(self.balance):
            blocks.append(("Baseline balance", self.balance))
        return blocks

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Coefficient plot of the estimates, one row per estimand and method."""
        from pdstats.figures.estimates import coefplot

        d = self.estimates.assign(label=self.estimates["term"] + ": " + self.estimates["method"])
        return coefplot(d, term="label", ax=ax, title=self.title, **kwargs)
