"""Results of the harmonize functions: :class:`HetopResult`, :class:`LinkResult`, :class:`GapResult`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pdstats.results import ResultsBase, SampleLog

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["HetopResult", "LinkResult", "GapResult", "LinkingErrorResult", "InterpolationErrorResult", "caterpillar"]

Z95 = 1.959963984540054


def _with_ci(df: pd.DataFrame, est: str, se: str, prefix: str) -> pd.DataFrame:
    df[f"{prefix}_lower"] = df[est] - Z95 * df[se]
    df[f"{prefix}_upper"] = df[est] + Z95 * df[se]
    return df


def caterpillar(est: pd.DataFrame, mean: str, se: str, label: str, ax: Axes | None = None,
                hue: str | None = None, title: str | None = None) -> Axes:
    """Caterpillar plot: sorted estimates with 95% intervals (one row per unit).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"unit": list("abc"), "m": [0.1, -0.2, 0.3], "se": [0.05, 0.1, 0.08]})
    >>> caterpillar(d, "m", "se", "unit").get_xlabel()
    'm (95% interval)'
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = est.dropna(subset=[mean]).sort_values(mean).reset_index(drop=True)
    d["_rank"] = np.arange(len(d))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, min(0.18 * len(d) + 1.5, 12)))
    half = Z95 * d[se].fillna(0.0)
    ax.hlines(d["_rank"], d[mean] - half, d[mean] + half, color="0.6", lw=1)
    sns.scatterplot(data=d, x=mean, y="_rank", hue=hue, ax=ax, s=18, zorder=3,
                    color=None if hue else "C0")
    if len(d) <= 40:
        ax.set_yticks(d["_rank"], d[label].astype(str), fontsize=7)
    else:
        ax.set_yticks([])
    ax.set_ylabel(label)
    ax.set_xlabel(f"{mean} (95% interval)")
    if title:
        ax.set_title(title, loc="left")
    return ax


class _Tidy(ResultsBase):
    """Shared behaviour: ``estimates`` table, cell filtering for plots."""

    estimates: pd.DataFrame
    group: str
    by: list[str]

    def to_frame(self) -> pd.DataFrame:
        """The tidy estimates table (a copy)."""
        return self.estimates.copy()

    def _select(self, where: dict[str, object]) -> pd.DataFrame:
        d = self.estimates
        for k, v in where.items():
            d = d[d[k] == v]
        return d


class HetopResult(_Tidy):
    """Group means and SDs on each cell's star scale, from :func:`pdstats.harmonize.hetop`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per group and cell: the ``group`` column, the cell columns (state, year,
        grade, subject, subgroup), ``n``, ``mean``, ``se_mean``, ``sd``, ``se_sd``, their
        95% intervals (``mean_lower``/``mean_upper``, ``sd_lower``/``sd_upper``),
        ``mean_status`` ("est", or "min"/"max" for a bound), ``sd_status`` ("est",
        "pooled", "common"), ``converged``, the fit-scale ``mean_fit``/``sd_fit`` and
        ``scale = "star"``.
    cuts : pandas.DataFrame
        Cut scores per cell on the star scale with standard errors (``fit_scale`` is the
        value on the estimation scale, the given scale when ``known``).
    cells : pandas.DataFrame
        One row per cell: groups, students, levels, convergence, iterations, ICC, the star
        scale's location/spread on the fit scale, counts of flagged groups.
    sample_log : SampleLog
        Group rows in, dropped by reason (suppressed, no counts, too small, cell not
        estimable), used.
    """

    title = "HETOP estimates (star scale)"

    def __init__(self, estimates: pd.DataFrame, cuts: pd.DataFrame, cells: pd.DataFrame,
                 sample_log: SampleLog, group: str, by: list[str], model: str) -> None:
        est = _with_ci(estimates, "mean", "se_mean", "mean")
        self.estimates = _with_ci(est, "sd", "se_sd", "sd")
        self.cuts = cuts
        self.cells = cells
        self.sample_log = sample_log
        self.group = group
        self.by = by
        self.model = model

    def _info(self) -> dict[str, object]:
        info = super()._info()
        c = self.cells
        info["Model"] = self.model
        info["Cells fitted"] = f"{int(c['converged'].sum())} converged of {len(c)}" if len(c) else "0"
        if len(self.estimates):
            info["Means at a bound"] = int((self.estimates["mean_status"] != "est").sum())
            info["SDs pooled"] = int((self.estimates["sd_status"] == "pooled").sum())
        return info

    @property
    def sample_summary(self) -> pd.DataFrame:
        """Group rows by fate: received, each drop reason, and the fitted ones by status.

        Fitted rows are split into estimated means, means at a bound (every student in
        the lowest or highest level: uninformative about the mean) and pooled SDs
        (students in fewer than three levels: uninformative about the SD).
        """
        log = self.sample_log.to_frame()
        est = self.estimates
        fitted = [
            ("fitted", "mean estimated", int((est["mean_status"] == "est").sum())),
            ("fitted", "mean at a bound (all students in one extreme level)", int((est["mean_status"] != "est").sum())),
            ("fitted", "SD pooled (students in fewer than 3 levels)", int((est["sd_status"] == "pooled").sum())),
            ("fitted", "cell not converged", int((~est["converged"].astype(bool)).sum())),
        ]
        return pd.concat([log, pd.DataFrame(fitted, columns=log.columns)], ignore_index=True)

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        cols = [c for c in [*self.by, "n_groups", "n_students", "n_levels", "converged",
                            "iterations", "icc"] if c in self.cells.columns]
        est = self.estimates[[c for c in [self.group, *self.by, "n", "mean", "se_mean", "sd", "se_sd"]
                              if c in self.estimates.columns]]
        return [("Sample", self.sample_summary), ("Cells", self.cells[cols]),
                ("Estimates (first 20 rows)", est.head(20))]

    def __repr__(self) -> str:
        return f"<HetopResult: {len(self.estimates)} groups in {len(self.cells)} cells, model {self.model}>"

    def plot(self, ax: Axes | None = None, **where: object) -> Axes:
        """Caterpillar plot of star-scale means with 95% intervals for one cell.

        ``where`` selects the cell (e.g. ``state="CA", grade=4``); by default the first.
        """
        d = self._select(where)
        if not where and len(d):
            first = d.iloc[0]
            d = d[(d[self.by] == first[self.by]).all(axis=1)]
        return caterpillar(d, "mean", "se_mean", self.group,
                           ax=ax, title="Group means on the star scale (95% intervals)")


class LinkResult(_Tidy):
    """Estimates linked to the NAEP scale, from :func:`pdstats.harmonize.link_to_naep`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Long table, one row per group, cell and ``scale`` ("naep", "cohort_standardized",
        "grade_equivalent"): ``mean``, ``se_mean`` and its parts (``se_estimation``,
        ``se_naep``, ``se_linking``, ``se_interpolation``), ``sd``, ``se_sd``, 95% intervals, and the NAEP values
        used (``naep_mean``, ``naep_sd``, ``naep_interpolated``).
    naep : pandas.DataFrame
        The state NAEP means/SDs used per cell (interpolated ones flagged).
    sample_log : SampleLog
        Rows in, dropped (no NAEP value for the state/grade/year), used.
    """

    title = "Estimates linked to NAEP"

    def __init__(self, estimates: pd.DataFrame, naep: pd.DataFrame, sample_log: SampleLog,
                 group: str, by: list[str], reliability_note: str) -> None:
        est = _with_ci(estimates, "mean", "se_mean", "mean")
        self.estimates = _with_ci(est, "sd", "se_sd", "sd")
        self.naep = naep
        self.sample_log = sample_log
        self.group = group
        self.by = by
        self.reliability_note = reliability_note

    def scale(self, name: str = "naep") -> pd.DataFrame:
        """Estimates on one scale ("naep", "cohort_standardized" or "grade_equivalent")."""
        return self.estimates[self.estimates["scale"] == name].reset_index(drop=True)

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Reliability"] = self.reliability_note
        info["Interpolated NAEP cells"] = int(self.naep["naep_interpolated"].sum()) if len(self.naep) else 0
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        cols = [c for c in [self.group, *self.by, "n", "mean", "se_mean", "se_estimation", "se_naep",
                            "se_linking", "se_interpolation", "sd"] if c in self.estimates.columns]
        return [("NAEP values used", self.naep),
                ("NAEP-scale estimates (first 20 rows)", self.scale("naep")[cols].head(20))]

    def __repr__(self) -> str:
        return f"<LinkResult: {len(self.scale('naep'))} linked group estimates>"

    def plot(self, ax: Axes | None = None, scale: str = "naep", hue: str | None = "state",
             **where: object) -> Axes:
        """Caterpillar plot of linked means with 95% intervals (``where`` filters rows)."""
        d = self._select({"scale": scale, **where})
        return caterpillar(d, "mean", "se_mean", self.group, ax=ax, hue=hue,
                           title=f"Linked means, {scale} scale (95% intervals)")


class GapResult(_Tidy):
    """Gap statistics between two subgroups, from :func:`pdstats.harmonize.gaps`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per unit and cell: ``statistic`` ("smd" or "V"), ``estimate``, ``se``,
        95% interval, and the group sizes.
    sample_log : SampleLog
    """

    title = "Achievement gaps"

    def __init__(self, estimates: pd.DataFrame, sample_log: SampleLog, group: str, by: list[str]) -> None:
        self.estimates = _with_ci(estimates, "estimate", "se", "ci")
        self.sample_log = sample_log
        self.group = group
        self.by = by

    def __repr__(self) -> str:
        return f"<GapResult: {len(self.estimates)} gap estimates>"

    def plot(self, ax: Axes | None = None, **where: object) -> Axes:
        """Caterpillar plot of the gaps with 95% intervals."""
        d = self._select(where)
        return caterpillar(d, "estimate", "se", self.group, ax=ax, hue="statistic",
                           title="Gaps (95% intervals)")


class LinkingErrorResult(ResultsBase):
    """Linking error estimated from NAEP district results, from :func:`pdstats.harmonize.estimate_linking_error`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        ``parameter`` ("bias", "tau", "rmse"), ``estimate``, ``std_error``, ``ci_lower``,
        ``ci_upper`` in state NAEP SDs, and ``estimate_points``/``std_error_points``
        (times the mean state NAEP SD of the matched cells).
    discrepancies : pandas.DataFrame
        One row per matched district-cell: the linked and NAEP district means, the
        standardized ``discrepancy`` and its ``known_variance``.
    linking_error : float
        The linking-error term for :func:`pdstats.harmonize.link_to_naep`, in state NAEP
        SDs: ``sqrt(bias^2 + tau^2)`` (``include_bias=True``) or ``tau``.
    fit : pdstats.multilevel.results.LMMResult
        The V-known random-effects fit.
    sample_log : SampleLog
        NAEP district-cells in, dropped (no linked estimate), used.
    """

    title = "Linking error from NAEP district results"

    def __init__(self, estimates: pd.DataFrame, discrepancies: pd.DataFrame, sample_log: SampleLog,
                 linking_error: float, include_bias: bool, group: str, level: float, fit: object) -> None:
        self.estimates = estimates
        self.discrepancies = discrepancies
        self.sample_log = sample_log
        self.linking_error = float(linking_error)
        self.include_bias = include_bias
        self.group = group
        self.level = level
        self.fit = fit

    def _value(self, name: str) -> float:
        return float(self.estimates.set_index("parameter").loc[name, "estimate"])

    @property
    def bias(self) -> float:
        """Mean discrepancy ``b`` (linked minus NAEP district mean), state NAEP SDs."""
        return self._value("bias")

    @property
    def tau(self) -> float:
        """SD ``tau`` of the linking error beyond sampling error, state NAEP SDs."""
        return self._value("tau")

    @property
    def n_cells(self) -> int:
        """District-cells used."""
        return len(self.discrepancies)

    @property
    def n_districts(self) -> int:
        """Districts used."""
        return int(self.discrepancies[self.group].nunique())

    def to_frame(self) -> pd.DataFrame:
        """The parameter table."""
        return self.estimates.copy()

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info.update({"Districts": self.n_districts, "District-cells": self.n_cells,
                     "Linking-error term": f"{self.linking_error:.4f} state NAEP SDs "
                     f"({'sqrt(bias^2 + tau^2)' if self.include_bias else 'tau'})"})
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Linking error (precision-adjusted random-effects model)", self.estimates.set_index("parameter"))]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Discrepancies (state NAEP SDs) with 95% intervals from their known errors, bias and +-tau band."""
        d = self.discrepancies.assign(_label=self.discrepancies[self.group].astype(str) + " "
                                      + self.discrepancies["grade"].astype(str) + " "
                                      + self.discrepancies["subject"].astype(str) + " "
                                      + self.discrepancies["year"].astype(str),
                                      _se=np.sqrt(self.discrepancies["known_variance"]))
        ax = caterpillar(d, "discrepancy", "_se", "_label", ax=ax, hue="state",
                         title="Linked minus NAEP district means (state NAEP SDs)")
        ax.axvline(self.bias, color="C3", lw=1)
        ax.axvspan(self.bias - self.tau, self.bias + self.tau, color="C3", alpha=0.1)
        return ax


class InterpolationErrorResult(ResultsBase):
    """Interpolation error of state NAEP values, from :func:`pdstats.harmonize.estimate_interpolation_error`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        ``quantity`` ("mean", "sd"), ``component`` ("persistent": omega_u, a state
        grade's deviation from the line through grades 4 and 8; "transient": omega_v, one
        grade-year's deviation), ``omega`` (NAEP points), ``std_error``, ``ci_lower``,
        ``ci_upper``, ``df`` and ``n_state_subjects`` (state-subjects the component used).
    n_states : int
        States contributing.
    sample_log : SampleLog
        NAEP rows in, dropped (national, other grades, missing values, a grade without its
        partner), used.
    """

    title = "Interpolation error of state NAEP values"

    def __init__(self, estimates: pd.DataFrame, sample_log: SampleLog, n_states: int, level: float) -> None:
        self.estimates = estimates
        self.sample_log = sample_log
        self.n_states = int(n_states)
        self.level = level

    def omega(self, quantity: str = "mean", component: str = "persistent") -> float:
        """The SD ``omega`` (NAEP points) of one quantity ("mean"/"sd") and component ("persistent"/"transient")."""
        e = self.estimates
        hit = e[(e["quantity"] == quantity) & (e["component"] == component)]
        if hit.empty:
            raise KeyError(f"no estimate for quantity {quantity!r}, component {component!r}")
        return float(hit["omega"].iloc[0])

    def variance(self, quantity: str, f_u: float, f_v: float) -> float:
        """Interpolation variance ``omega_u^2 f_u + omega_v^2 f_v`` of one cell's state NAEP ``quantity``."""
        return self.omega(quantity, "persistent") ** 2 * f_u + self.omega(quantity, "transient") ** 2 * f_v

    def to_frame(self) -> pd.DataFrame:
        """The parameter table."""
        return self.estimates.copy()

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["States"] = self.n_states
        return info

    def __repr__(self) -> str:
        return (f"<InterpolationErrorResult: {self.n_states} states; state NAEP means: persistent "
                f"{self.omega('mean', 'persistent'):.2f}, transient {self.omega('mean', 'transient'):.2f} NAEP points>")

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Interpolation error SDs (moment estimates from differences between states)",
                 self.estimates.set_index(["quantity", "component"]))]
