"""Result classes of :mod:`pdstats.inference` (the result contract of :mod:`pdstats.results`)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.results import ResultsBase, SampleLog, add_ci, check_level, flag_unestimated

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from pdstats.inference.covariance import LinearFit, RobustCovariance

__all__ = ["OLSResult", "RandomizationResult", "WaldTestResult", "WildBootstrapResult",
           "coef_table"]


def coef_table(names: list[str], est: np.ndarray, se: np.ndarray, df: np.ndarray,
               level: float = 0.95) -> pd.DataFrame:
    """term, estimate, std_error, df, statistic (t), p_value, ci_lower, ci_upper.

    Student t with ``df`` where finite, the normal otherwise.

    Examples
    --------
    >>> coef_table(["a"], np.array([2.0]), np.array([1.0]), np.array([10.0]))["p_value"].round(3).tolist()
    [0.073]
    """
    df = np.asarray(df, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.asarray(est, dtype=float) / np.asarray(se, dtype=float)
    fin = np.isfinite(df) & (df > 0)
    p = 2.0 * np.where(fin, stats.t.sf(np.abs(t), np.where(fin, df, 1.0)), stats.norm.sf(np.abs(t)))
    out = pd.DataFrame({"term": list(names), "estimate": est, "std_error": se, "df": df,
                        "statistic": t, "p_value": p})
    add_ci(out, level)
    return out


class OLSResult(ResultsBase):
    """Least-squares fit with cluster-robust inference (from :func:`pdstats.ols`).

    Attributes
    ----------
    estimates : pandas.DataFrame
        term, estimate, std_error, df, statistic, p_value, ci_lower, ci_upper, flag (a
        coefficient whose robust SE is zero or not finite, e.g. a perfect fit, has its SE,
        statistic, p-value and interval missing and ``flag`` True, with an
        :class:`~pdstats.EstimationWarning`).
    params : pandas.Series
        Estimates by term.
    vcov : pandas.DataFrame
        The robust covariance matrix.
    vcov_type : str
        CR2, CR1, CR0, HC2, HC1 or HC0.
    n_clusters : int
        Clusters (rows for HC types).
    sample_log : SampleLog
        Rows in, dropped, used.
    """

    def __init__(self, fit: LinearFit, rc: RobustCovariance, df: np.ndarray, kind: str,
                 info: dict[str, Any], level: float) -> None:
        self._fit = fit
        self._rc = rc
        self._info_dict = info
        self.vcov_type = kind
        self.formula = info["formula"]
        self.nobs = fit.n
        self.n_clusters = fit.n_clusters
        self.sample_log: SampleLog = info["sample_log"]
        self.title = "Least squares" + (" (weighted)" if info["weights"] is not None else "")
        se = np.sqrt(np.diag(rc.vcov))
        est = flag_unestimated(coef_table(fit.names, fit.beta, se, df, level),
                               "least squares", stacklevel=4)
        est.loc[est["flag"], ["statistic", "p_value"]] = np.nan
        self.estimates = est

    @property
    def params(self) -> pd.Series:
        """Coefficient estimates."""
        return pd.Series(self._fit.beta, index=pd.Index(self._fit.names, name="term"),
                         name="estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        """Robust covariance of the coefficients."""
        return pd.DataFrame(self._rc.vcov, index=self._fit.names, columns=self._fit.names)

    def wald_test(self, constraints: Any, rhs: Any = None) -> WaldTestResult:
        """Wald test of linear constraints with the Hotelling-T^2 small-sample F (CR2: "HTZ").

        See :func:`pdstats.inference.wald.wald_test`.
        """
        from pdstats.inference.wald import wald_test

        return wald_test(self._rc, constraints, rhs, sample_log=self.sample_log)

    def wild_bootstrap(self, term: str, null: float = 0.0, **kwargs: Any) -> WildBootstrapResult:
        """Wild cluster bootstrap test and interval of one coefficient.

        See :func:`pdstats.inference.wild.wild_bootstrap` for the arguments.
        """
        from pdstats.inference.wild import wild_bootstrap

        return wild_bootstrap(self._fit, term, null=null, **kwargs)

    def _info(self) -> dict[str, object]:
        info: dict[str, object] = {"Formula": self.formula, "Observations": self.nobs,
                                   "Covariance": self.vcov_type}
        if self.vcov_type.startswith("CR"):
            info["Clusters"] = self.n_clusters
        return info

    def plot(self, ax: Axes | None = None) -> Axes:
        """Coefficient plot with the confidence intervals."""
        from pdstats.figures.estimates import coefplot

        return coefplot(self.estimates, ax=ax, title=self.formula)


class WaldTestResult(ResultsBase):
    """A Wald test of several linear constraints ``R beta = r``.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per constraint: ``R beta - r`` with its robust SE and interval.
    statistic : float
        The F statistic (Hotelling-T^2 scaled for CR2, ``Q / q`` otherwise).
    df_num, df_denom : float
        F degrees of freedom.
    p_value : float
        Upper-tail F probability.
    test : str
        ``"HTZ"`` (CR2) or ``"F"`` (CR0/CR1 with ``G - 1`` denominator df).
    """

    title = "Wald test"

    def __init__(self, estimates: pd.DataFrame, statistic: float, df_num: float, df_denom: float,
                 p_value: float, test: str, sample_log: SampleLog) -> None:
        self.estimates = estimates
        self.statistic = float(statistic)
        self.df_num = float(df_num)
        self.df_denom = float(df_denom)
        self.p_value = float(p_value)
        self.test = test
        self.sample_log = sample_log

    @property
    def table(self) -> pd.DataFrame:
        """One-row test table: test, statistic, df_num, df_denom, p_value."""
        return pd.DataFrame({"test": [self.test], "statistic": [self.statistic],
                             "df_num": [self.df_num], "df_denom": [self.df_denom],
                             "p_value": [self.p_value]})

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Test", self.table), ("Constraints", self.estimates)]


class _InvertedTestResult(ResultsBase):
    """A test of one coefficient whose interval inverts the test (shared by two results)."""

    def __init__(self, estimates: pd.DataFrame, interval: Callable[[float], tuple] | None,
                 settings: dict[str, object], sample_log: SampleLog) -> None:
        self.estimates = estimates
        self._interval = interval
        self.settings = settings
        self.sample_log = sample_log

    @property
    def p_value(self) -> float:
        """p-value of the test of the null."""
        return float(self.estimates["p_value"].iloc[0])

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Interval at ``level`` by inverting the test on the same draws."""
        level = check_level(level)
        out = self.estimates[["term", "estimate"]].copy()
        lo, hi = self._interval(level) if self._interval is not None else (np.nan, np.nan)
        out["ci_lower"], out["ci_upper"] = lo, hi
        return out

    @abstractmethod
    def _draws_label(self) -> tuple[str, str]:
        """The summary line naming the draws (label, value); each subclass says its own."""

    def _info(self) -> dict[str, object]:
        info = dict(self.settings)
        key, value = self._draws_label()
        info[key] = value
        return info


class WildBootstrapResult(_InvertedTestResult):
    """Wild cluster bootstrap test of one coefficient, interval by test inversion.

    Attributes
    ----------
    estimates : pandas.DataFrame
        term, estimate, std_error (the robust SE of the chosen type), statistic (the
        observed t against ``null``), p_value (bootstrap), ci_lower, ci_upper (bootstrap
        interval at ``level``).
    p_value : float
        Bootstrap p-value of the test of ``null``.
    t_boot : numpy.ndarray
        Bootstrap t statistics (under ``null`` for the restricted bootstrap).
    n_boot : int
        Draws used (all ``2^G`` sign vectors when enumerated).
    enumerated : bool
        Whether every Rademacher sign vector was used.
    """

    title = "Wild cluster bootstrap"

    def __init__(self, estimates: pd.DataFrame, t_boot: np.ndarray, enumerated: bool,
                 pvalue_at: Callable[[float], float], interval: Callable[[float], tuple],
                 settings: dict[str, object], sample_log: SampleLog) -> None:
        super().__init__(estimates, interval, settings, sample_log)
        self.t_boot = t_boot
        self.n_boot = len(t_boot)
        self.enumerated = enumerated
        self._pvalue_at = pvalue_at

    def pvalue_at(self, value: float) -> float:
        """Bootstrap p-value of the null ``coefficient = value`` (same draws)."""
        return float(self._pvalue_at(float(value)))

    def _draws_label(self) -> tuple[str, str]:
        return "Draws", f"{self.n_boot}" + (" (all sign vectors)" if self.enumerated else "")

    def plot(self, ax: Axes | None = None) -> Axes:
        """The bootstrap p-value as a function of the null value, with the 95% interval."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3))
        row = self.estimates.iloc[0]
        half = max(row["ci_upper"] - row["ci_lower"], 4 * row["std_error"])
        grid = np.linspace(row["estimate"] - half, row["estimate"] + half, 201)
        ax.plot(grid, [self.pvalue_at(v) for v in grid], color="C0")
        ax.axhline(0.05, color="grey", lw=0.8, ls="--")
        for v in (row["ci_lower"], row["ci_upper"]):
            ax.axvline(v, color="C3", lw=0.8)
        ax.set_xlabel(f"null value of {row['term']}")
        ax.set_ylabel("bootstrap p-value")
        return ax


class RandomizationResult(_InvertedTestResult):
    """Randomization (permutation) test of an assigned treatment.

    Attributes
    ----------
    estimates : pandas.DataFrame
        term, estimate (observed statistic), std_error (SD of the permutation
        distribution), p_value, ci_lower, ci_upper (interval by inversion under a
        constant effect; missing when not requested).
    p_value : float
        Randomization p-value of the sharp null of no effect.
    distribution : numpy.ndarray
        The statistic under each re-randomization (null of no effect).
    """

    title = "Randomization inference"

    def __init__(self, estimates: pd.DataFrame, distribution: np.ndarray,
                 interval: Callable[[float], tuple] | None, settings: dict[str, object],
                 sample_log: SampleLog) -> None:
        super().__init__(estimates, interval, settings, sample_log)
        self.distribution = distribution

    def _draws_label(self) -> tuple[str, str]:
        return "Re-randomizations", str(len(self.distribution))

    def plot(self, ax: Axes | None = None) -> Axes:
        """Histogram of the randomization distribution with the observed statistic."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3))
        sns.histplot(self.distribution, ax=ax, color="0.6")
        ax.axvline(float(self.estimates["estimate"].iloc[0]), color="C3")
        ax.set_xlabel(f"{self.estimates['term'].iloc[0]} under re-randomization")
        return ax
