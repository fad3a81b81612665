"""Results of a value-added fit (:class:`VAResult`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from pdstats.errors import ModelSpecificationError
from pdstats.results import ResultsBase, SampleLog, add_ci, check_level, critical_value

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["VAResult", "moment_table"]


_METHOD_NAMES = {
    "ols": "covariate-adjusted unit means (OLS)",
    "eb": "Kane-Staiger empirical Bayes",
    "cfr": "Chetty-Friedman-Rockoff drift-adjusted leave-year-out",
    "fe": "unit fixed effects",
    "re": "random effects (BLUP)",
}


def moment_table(pieces: dict, names: dict[str, str] | None = None,
                 level: float = 0.95) -> pd.DataFrame:
    """Tidy table of :class:`~pdstats.vam.variance.Moment` pieces with normal CIs.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.vam.variance import Moment
    >>> t = moment_table({"total": Moment(1.0, np.array([0.03, 0.04]), 100)})
    >>> t[["component", "estimate", "std_error"]].to_numpy().tolist()
    [['total', 1.0, 0.05]]
    """
    rows = [((names or {}).get(key, key), float(m.estimate), float(m.std_error), m.n)
            for key, m in pieces.items()]
    table = pd.DataFrame(rows, columns=["component", "estimate", "std_error", "n"])
    add_ci(table, level, df=None)
    return table[["component", "estimate", "std_error", "ci_lower", "ci_upper", "n"]]


class VAResult(ResultsBase):
    """Value-added estimates of units (teachers, schools or districts).

    Attributes
    ----------
    estimates : pandas.DataFrame
        The result contract's table: one row per unit (or unit-year for ``cfr`` and
        ``by_year=True``) with any ``by`` columns, ``unit`` (and ``year`` for unit-year
        estimates), estimate, std_error, ci_lower, ci_upper (95%) and flag (True where
        no estimate or standard error could be made, e.g. a ``cfr`` unit-year without
        another year).
    effects : pandas.DataFrame
        The wide alias of ``estimates``: with any ``by`` columns first, unit, year
        (missing when pooled over years), estimate, std_error (posterior SD for
        ``eb``/``re``/``cfr``), ci_lower, ci_upper (at the fit's ``level``),
        reliability, n_students (sum of dosage), n_classes, flag.
    variance_components : pandas.DataFrame
        component, estimate, std_error, ci_lower, ci_upper, n (rows or pairs used).
    autocovariance : pandas.DataFrame or None
        For ``cfr``: lag, covariance, std_error, correlation, corr_se, n_pairs,
        used (the value in the forecast after the drift limit).
    coefficients : pandas.DataFrame
        The residualizing regression's slopes with classical SEs.
    sample_log : SampleLog
        Rows in, dropped by reason, used.
    method, unit : str
    """

    def __init__(self, method: str, unit: str, effects: pd.DataFrame,
                 variance_components: pd.DataFrame, coefficients: pd.DataFrame,
                 sample_log: SampleLog, autocovariance: pd.DataFrame | None = None,
                 rows: pd.DataFrame | None = None, by: list[str] | None = None,
                 options: dict | None = None) -> None:
        self.method = method
        self.unit = unit
        self.effects = effects
        self.variance_components = variance_components
        self.autocovariance = autocovariance
        self.coefficients = coefficients
        self.sample_log = sample_log
        self.by = list(by or [])
        self.options = dict(options or {})
        self._rows = rows
        self.title = f"Value-added by {unit}: {_METHOD_NAMES.get(method, method)}"

    # ------------------------------------------------------------------ tables
    @property
    def estimates(self) -> pd.DataFrame:
        """One row per unit (or unit-year): keys, estimate, std_error, 95% interval, flag."""
        e = self.effects
        keys = [*self.by, "unit"]
        if "year" in e.columns and e["year"].notna().any():
            keys.append("year")
        out = e[[*keys, "estimate", "std_error"]].copy()
        add_ci(out, 0.95, df=None)
        out["flag"] = e["flag"].to_numpy(dtype=bool) if "flag" in e else False
        return out

    @property
    def rows(self) -> pd.DataFrame:
        """Row-level residuals (and, for ``cfr``, the row's leave-year-out VA).

        Student-level: for diagnostics, never for sharing.  Indexed like the input rows.
        """
        if self._rows is None:
            raise ModelSpecificationError("this result keeps no row-level residuals")
        return self._rows

    def _info(self) -> dict[str, object]:
        info = super()._info()
        e = self.effects
        info["Method"] = _METHOD_NAMES.get(self.method, self.method)
        info["Units"] = int(e["unit"].nunique())
        info["Estimates"] = int(e["estimate"].notna().sum())
        info["SD of estimates"] = f"{e['estimate'].std():.4g}"
        info["Mean reliability"] = f"{e['reliability'].mean():.3f}"
        for k, v in self.options.items():
            info[k] = v
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        blocks = [("Variance components", self.variance_components.set_index("component"))]
        if self.autocovariance is not None:
            blocks.append(("Autocovariance of unit-year effects by lag",
                           self.autocovariance.set_index("lag")))
        cols = ["estimate", "std_error", "reliability", "n_students"]
        blocks.append(("Distribution of estimates", self.effects[cols].describe().T))
        return blocks

    # ------------------------------------------------------------------ plots
    def plot(self, kind: str = "caterpillar", ax: Axes | None = None, level: float = 0.95,
             max_units: int = 400) -> Axes:
        """Caterpillar plot of the estimates with intervals, or the drift curve.

        Parameters
        ----------
        kind : {"caterpillar", "drift"}
            ``"drift"`` (``cfr`` only) plots the autocorrelation of unit-year effects by lag.
        level : float
            Interval level of the caterpillar.
        max_units : int
            Above this many rows an evenly spaced subset of the sorted estimates is drawn.
        """
        import matplotlib.pyplot as plt

        from pdstats.figures.estimates import caterpillar

        level = check_level(level)
        if kind == "drift":
            if self.autocovariance is None:
                raise ModelSpecificationError("the drift curve needs method='cfr'")
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 4))
            a = self.autocovariance
            ax.errorbar(a["lag"], a["correlation"], yerr=critical_value(level) * a["corr_se"],
                        fmt="o-", capsize=3, label="estimated")
            used = a["used"] / self.variance_components.set_index("component").loc[
                "unit-year effect (same-year covariance)", "estimate"]
            ax.plot(a["lag"], used, "s--", color="grey", label="used in the forecast")
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xlabel("lag (years)")
            ax.set_ylabel("autocorrelation of unit-year effects")
            ax.legend(frameon=False)
            return ax
        if kind != "caterpillar":
            raise ModelSpecificationError(f"kind={kind!r}; choose 'caterpillar' or 'drift'")
        ax = caterpillar(self.conf_int(level), label="unit", ax=ax, centre=0.0,
                         max_units=max_units)
        ax.set_xlabel(f"{self.unit} value-added ({level:.0%} interval)")
        return ax
