"""Results of the harmonize functions, all on the one result contract (:mod:`pdstats.results`).

* :class:`HetopResult` and :class:`LinkResult`: ``.estimates`` is long and tidy (one row per
  group x cell (x scale) x ``quantity`` in {"mean", "sd"}); the wide table with mean and SD
  side by side is ``.groups``;
* :class:`GapResult`: one row per unit x cell x gap statistic (``quantity`` "V" or "smd");
* :class:`LinkingErrorResult` and :class:`InterpolationErrorResult`: one row per parameter.

A standard error that is zero or missing for an estimated quantity is reported as NaN
with ``flag = True`` (the ``status`` column says why); the estimator raises an
:class:`~pdstats.EstimationWarning` naming the count.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pdstats.errors import EstimationWarning
from pdstats.figures.estimates import caterpillar
from pdstats.results import IntervalResultsBase, ResultsBase, SampleLog, add_ci

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["HetopResult", "LinkResult", "GapResult", "LinkingErrorResult", "InterpolationErrorResult"]

#: (quantity, estimate column, SE column, status column) of the wide group tables.
_QUANTITIES = (("mean", "mean", "se_mean", "mean_status"), ("sd", "sd", "se_sd", "sd_status"))
_STATUS_TEXT = {"min": "mean at a bound (all students in the lowest level)",
                "max": "mean at a bound (all students in the highest level)",
                "pooled": "SD pooled (students in fewer than 3 levels)"}


def _blank_se(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """A standard error of 0 (or +-inf) is not an estimate: NaN instead (flagged in the long table)."""
    for c in columns:
        if c in frame.columns:
            se = pd.to_numeric(frame[c], errors="coerce").astype(float)
            frame[c] = se.where(np.isfinite(se) & (se > 0))
    return frame


#: Status texts by code (0: a regular estimate); see :func:`_status`.
_STATUS_CODES = np.array(["estimated", _STATUS_TEXT["min"], _STATUS_TEXT["max"], _STATUS_TEXT["pooled"],
                          "SD below measurement error (not estimable)", "cell not converged",
                          "no standard error"], dtype=object)


def _status(groups: pd.DataFrame, quantity: str, est_col: str, se_col: str, status_col: str
            ) -> np.ndarray:
    """Why each group's ``quantity`` is flagged ("estimated" when it is not), as text."""
    return _STATUS_CODES[_status_codes(groups, quantity, est_col, se_col, status_col)]


def _status_codes(groups: pd.DataFrame, quantity: str, est_col: str, se_col: str, status_col: str
                  ) -> np.ndarray:
    """Why each group's ``quantity`` is flagged, as positions in ``_STATUS_CODES`` (0: not flagged).

    In order of precedence: the cell did not converge; (SD) below measurement error; the
    fit's status (a mean at a bound, a pooled SD); no finite positive standard error.
    """
    code = np.zeros(len(groups), dtype=np.int8)
    if status_col in groups.columns:
        fit_status = groups[status_col].to_numpy(dtype=object)
        for j, key in enumerate(("min", "max", "pooled"), start=1):
            code[fit_status == key] = j
    if quantity == "sd" and "sd_below_error" in groups.columns:
        code[groups["sd_below_error"].fillna(False).astype(bool).to_numpy()] = 4
    if "converged" in groups.columns:
        # rows without a fit of their own (e.g. published means and SDs) have no 'converged'
        code[groups["converged"].eq(False).to_numpy(dtype=bool)] = 5
    est = groups[est_col].to_numpy(dtype=float)
    se = groups[se_col].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(est) & np.isfinite(se) & (se > 0))
    code[bad & (code == 0)] = 6
    return code


def flag_counts(groups: pd.DataFrame) -> tuple[pd.Series, int]:
    """Rows of the long table of ``groups`` flagged, counted by reason (most frequent first),
    and the number of rows that table has."""
    codes = np.concatenate([_status_codes(groups, *q) for q in _QUANTITIES])
    counts = np.bincount(codes, minlength=len(_STATUS_CODES))[1:]
    out = pd.Series(counts, index=_STATUS_CODES[1:])
    return out[out > 0].sort_values(ascending=False, kind="stable"), len(codes)


def _long(groups: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per group x cell x quantity from a wide table with mean and SD side by side."""
    parts = []
    for quantity, est_col, se_col, status_col in _QUANTITIES:
        d = groups[keys].copy()
        d["quantity"] = quantity
        d["estimate"] = groups[est_col].to_numpy(dtype=float)
        d["std_error"] = groups[se_col].to_numpy(dtype=float)
        d["status"] = _status(groups, quantity, est_col, se_col, status_col)
        d["flag"] = (d["status"] != "estimated").to_numpy()
        parts.append(d)
    # interleave: each group's mean row, then its SD row
    order = np.arange(len(parts) * len(groups)).reshape(len(parts), -1).T.ravel()
    out = pd.concat(parts, ignore_index=True).take(order).reset_index(drop=True)
    add_ci(out, 0.95, df=None)
    return out[[*keys, "quantity", "estimate", "std_error", "ci_lower", "ci_upper", "flag", "status"]]


def warn_flagged(estimates: pd.DataFrame, what: str, stacklevel: int = 3) -> None:
    """One :class:`EstimationWarning` counting the flagged rows by reason."""
    if "flag" not in estimates.columns or not estimates["flag"].any():
        return
    warn_flag_counts(estimates.loc[estimates["flag"], "status"].value_counts(), len(estimates), what,
                     stacklevel=stacklevel + 1)


def warn_flag_counts(reasons: pd.Series, total: int, what: str, stacklevel: int = 3) -> None:
    """The warning of :func:`warn_flagged` from counts by reason (nothing when there are none)."""
    if not len(reasons):
        return
    text = "; ".join(f"{n} {r}" for r, n in reasons.items())
    warnings.warn(f"{what}: {int(reasons.sum())} of {total} estimates flagged "
                  f"(standard error NaN where not estimable): {text}", EstimationWarning,
                  stacklevel=stacklevel)


class _GroupResult(ResultsBase):
    """Shared behaviour of the group-level results: ``groups`` (wide), ``estimates`` (long)."""

    groups: pd.DataFrame
    group: str
    by: list[str]

    def _select(self, where: dict[str, object], frame: pd.DataFrame | None = None) -> pd.DataFrame:
        d = self.estimates if frame is None else frame
        for k, v in where.items():
            d = d[d[k] == v]
        return d


class HetopResult(_GroupResult):
    """Group means and SDs on each cell's star scale, from :func:`pdstats.harmonize.hetop`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Long and tidy: one row per group, cell and ``quantity`` ("mean", "sd"): the
        ``group`` column, the cell columns (state, year, grade, subject, subgroup),
        ``quantity``, ``estimate``, ``std_error``, 95% ``ci_lower``/``ci_upper``, ``flag``
        (True when the estimate is not a regular one: a mean at a bound, a pooled SD, a
        cell that did not converge, no standard error) and ``status`` (why).
    groups : pandas.DataFrame
        Wide: one row per group and cell with ``n``, ``mean``, ``se_mean``, ``sd``,
        ``se_sd``, their 95% intervals (``mean_lower``/``mean_upper``,
        ``sd_lower``/``sd_upper``), ``mean_status`` ("est", or "min"/"max" for a bound),
        ``sd_status`` ("est", "pooled", "common"), ``converged``, the fit-scale
        ``mean_fit``/``sd_fit`` and ``scale = "star"`` (the input of
        :func:`pdstats.harmonize.link_to_naep`).
    cuts : pandas.DataFrame
        Cut scores per cell on the star scale with standard errors (``fit_scale`` is the
        value on the estimation scale, the given scale when ``known``).
    cells : pandas.DataFrame
        One row per cell: groups, students, levels, convergence, iterations, ICC, the star
        scale's location/spread on the fit scale, counts of flagged groups.
    sample_log : SampleLog
        Group rows in, dropped by reason (suppressed, missing counts, too small, cell not
        estimable), used.
    """

    title = "HETOP estimates (star scale)"

    def __init__(self, groups: pd.DataFrame, cuts: pd.DataFrame, cells: pd.DataFrame,
                 sample_log: SampleLog, group: str, by: list[str], model: str) -> None:
        groups = _blank_se(groups, ("se_mean", "se_sd"))
        add_ci(groups, 0.95, estimate="mean", std_error="se_mean", df=None, prefix="mean")
        add_ci(groups, 0.95, estimate="sd", std_error="se_sd", df=None, prefix="sd")
        self.groups = groups
        self.cuts = cuts
        self.cells = cells
        self.sample_log = sample_log
        self.group = group
        self.by = by
        self.model = model
        self._estimates: pd.DataFrame | None = None

    @property
    def estimates(self) -> pd.DataFrame:
        """The long table (two rows per group and cell), built from ``groups`` on first use."""
        if self._estimates is None:
            self._estimates = _long(self.groups, [c for c in [self.group, *self.by]
                                                  if c in self.groups.columns])
        return self._estimates

    @estimates.setter
    def estimates(self, value: pd.DataFrame) -> None:
        self._estimates = value

    def _info(self) -> dict[str, object]:
        info = super()._info()
        c = self.cells
        info["Model"] = self.model
        info["Cells fitted"] = f"{int(c['converged'].sum())} converged of {len(c)}" if len(c) else "0"
        if len(self.groups):
            info["Means at a bound"] = int((self.groups["mean_status"] != "est").sum())
            info["SDs pooled"] = int((self.groups["sd_status"] == "pooled").sum())
        return info

    @property
    def sample_summary(self) -> pd.DataFrame:
        """Group rows by fate: received, each drop reason, and the fitted ones by status.

        Fitted rows are split into estimated means, means at a bound (every student in
        the lowest or highest level: uninformative about the mean) and pooled SDs
        (students in fewer than three levels: uninformative about the SD).
        """
        log = self.sample_log.to_frame()
        g = self.groups
        fitted = [
            ("fitted", "mean estimated", int((g["mean_status"] == "est").sum())),
            ("fitted", "mean at a bound (all students in one extreme level)", int((g["mean_status"] != "est").sum())),
            ("fitted", "SD pooled (students in fewer than 3 levels)", int((g["sd_status"] == "pooled").sum())),
            ("fitted", "cell not converged", int((~g["converged"].astype(bool)).sum())),
        ]
        return pd.concat([log, pd.DataFrame(fitted, columns=log.columns)], ignore_index=True)

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        cols = [c for c in [*self.by, "n_groups", "n_students", "n_levels", "converged",
                            "iterations", "icc"] if c in self.cells.columns]
        wide = self.groups[[c for c in [self.group, *self.by, "n", "mean", "se_mean", "sd", "se_sd"]
                            if c in self.groups.columns]]
        return [("Sample", self.sample_summary), ("Cells", self.cells[cols]),
                ("Groups (first 20 rows)", wide.head(20))]

    def __repr__(self) -> str:
        return f"<HetopResult: {len(self.groups)} groups in {len(self.cells)} cells, model {self.model}>"

    def plot(self, ax: Axes | None = None, **where: object) -> Axes:
        """Caterpillar plot of star-scale means with 95% intervals for one cell.

        ``where`` selects the cell (e.g. ``state="CA", grade=4``); by default the first.
        """
        d = self._select({"quantity": "mean", **where})
        if not where and len(d):
            first = d.iloc[0]
            d = d[(d[self.by] == first[self.by]).all(axis=1)]
        return caterpillar(d, label=self.group, ax=ax,
                           title="Group means on the star scale (95% intervals)")


class LinkResult(_GroupResult):
    """Estimates linked to the NAEP scale, from :func:`pdstats.harmonize.link_to_naep`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Long and tidy: one row per group, cell, ``scale`` ("naep", "cohort_standardized",
        "grade_equivalent") and ``quantity`` ("mean", "sd"), with ``estimate``,
        ``std_error``, 95% ``ci_lower``/``ci_upper``, ``flag`` and ``status``.
    groups : pandas.DataFrame
        Wide: one row per group, cell and ``scale``: ``mean``, ``se_mean`` and its parts
        (``se_estimation``, ``se_naep``, ``se_linking``, ``se_interpolation``), ``sd``,
        ``se_sd``, 95% intervals (``mean_lower``, ...), and the NAEP values used
        (``naep_mean``, ``naep_sd``, ``naep_interpolated``). :meth:`scale` picks one scale.
    naep : pandas.DataFrame
        The state NAEP means/SDs used per cell (interpolated ones flagged).
    sample_log : SampleLog
        Rows in, dropped (no NAEP value for the state/grade/year), used.
    """

    title = "Estimates linked to NAEP"

    def __init__(self, groups: pd.DataFrame, naep: pd.DataFrame, sample_log: SampleLog,
                 group: str, by: list[str], reliability_note: str) -> None:
        if len(groups):
            groups = _blank_se(groups, ("se_mean", "se_sd"))
            add_ci(groups, 0.95, estimate="mean", std_error="se_mean", df=None, prefix="mean")
            add_ci(groups, 0.95, estimate="sd", std_error="se_sd", df=None, prefix="sd")
        else:
            groups = pd.DataFrame(columns=[group, *by, "scale", "n", "mean", "se_mean", "sd", "se_sd"])
        self.groups = groups
        self.naep = naep
        self.sample_log = sample_log
        self.group = group
        self.by = by
        self.reliability_note = reliability_note
        keys = [c for c in [group, *by, "subgroup", "scale"] if c in groups.columns]
        self.estimates = _long(groups, keys)

    def scale(self, name: str = "naep") -> pd.DataFrame:
        """Wide group table (:attr:`groups`) on one scale ("naep", "cohort_standardized", "grade_equivalent")."""
        return self.groups[self.groups["scale"] == name].reset_index(drop=True)

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Reliability"] = self.reliability_note
        info["Interpolated NAEP cells"] = int(self.naep["naep_interpolated"].sum()) if len(self.naep) else 0
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        cols = [c for c in [self.group, *self.by, "n", "mean", "se_mean", "se_estimation", "se_naep",
                            "se_linking", "se_interpolation", "sd"] if c in self.groups.columns]
        return [("NAEP values used", self.naep),
                ("NAEP-scale estimates (first 20 rows)", self.scale("naep")[cols].head(20))]

    def __repr__(self) -> str:
        return f"<LinkResult: {len(self.scale('naep'))} linked group estimates>"

    def plot(self, ax: Axes | None = None, scale: str = "naep", hue: str | None = "state",
             **where: object) -> Axes:
        """Caterpillar plot of linked means with 95% intervals (``where`` filters rows)."""
        d = self._select({"scale": scale, "quantity": "mean", **where})
        return caterpillar(d, label=self.group, ax=ax, hue=hue,
                           title=f"Linked means, {scale} scale (95% intervals)")


class GapResult(_GroupResult):
    """Gap statistics between two subgroups, from :func:`pdstats.harmonize.gaps` and :func:`~pdstats.harmonize.smd`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per unit and cell: ``quantity`` ("smd" or "V"), ``estimate``,
        ``std_error``, 95% ``ci_lower``/``ci_upper``, ``flag`` (no standard error), the
        group sizes ``n_a``/``n_b`` and the subgroups ``a``/``b``.
    sample_log : SampleLog
    """

    title = "Achievement gaps"

    def __init__(self, estimates: pd.DataFrame, sample_log: SampleLog, group: str, by: list[str]) -> None:
        if estimates.empty:
            estimates = pd.DataFrame(columns=[group, *by, "quantity", "estimate", "std_error"])
        estimates = _blank_se(estimates, ("std_error",))
        est = estimates["estimate"].to_numpy(dtype=float)
        se = estimates["std_error"].to_numpy(dtype=float)
        estimates["flag"] = ~(np.isfinite(est) & np.isfinite(se))
        self.estimates = add_ci(estimates, 0.95, df=None)
        self.sample_log = sample_log
        self.group = group
        self.by = by

    def __repr__(self) -> str:
        return f"<GapResult: {len(self.estimates)} gap estimates>"

    def plot(self, ax: Axes | None = None, **where: object) -> Axes:
        """Caterpillar plot of the gaps with 95% intervals."""
        d = self._select(where)
        return caterpillar(d, label=self.group, ax=ax, hue="quantity", title="Gaps (95% intervals)")


class LinkingErrorResult(IntervalResultsBase):
    """Linking error estimated from NAEP district results, from :func:`pdstats.harmonize.estimate_linking_error`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        ``parameter`` ("bias", "tau", "rmse"), ``estimate``, ``std_error``, ``ci_lower``,
        ``ci_upper`` in state NAEP SDs (the tau interval inverts the REML likelihood-ratio
        test; see :meth:`conf_int`), ``flag`` (tau at its bound 0: no standard error),
        ``unit``, and ``estimate_points``/``std_error_points`` (times the mean state NAEP
        SD of the matched cells).
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

        def intervals(lv: float) -> tuple[np.ndarray, np.ndarray]:
            from pdstats.harmonize.linking_error import parameter_intervals

            return parameter_intervals(fit, discrepancies, estimates, lv)

        self._intervals = intervals

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
        d = self.discrepancies
        d = d.assign(_label=d[self.group].astype(str) + " " + d["grade"].astype(str) + " "
                     + d["subject"].astype(str) + " " + d["year"].astype(str),
                     estimate=d["discrepancy"], std_error=np.sqrt(d["known_variance"]))
        ax = caterpillar(add_ci(d, 0.95, df=None), label="_label", ax=ax, hue="state",
                         title="Linked minus NAEP district means (state NAEP SDs)")
        ax.axvline(self.bias, color="C3", lw=1)
        ax.axvspan(self.bias - self.tau, self.bias + self.tau, color="C3", alpha=0.1)
        return ax


class InterpolationErrorResult(IntervalResultsBase):
    """Interpolation error of state NAEP values, from :func:`pdstats.harmonize.estimate_interpolation_error`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        ``quantity`` ("mean", "sd"), ``component`` ("persistent": omega_u, a state
        grade's deviation from the line through grades 4 and 8; "transient": omega_v, one
        grade-year's deviation), ``estimate`` (the SD omega, NAEP points), ``std_error``,
        chi-square ``ci_lower``/``ci_upper`` (see :meth:`conf_int`), ``df``, ``flag``
        (omega truncated at 0 or not estimable: no standard error) and
        ``n_state_subjects`` (state-subjects the component used).
    n_states : int
        States contributing.
    sample_log : SampleLog
        NAEP rows in, dropped (national, other grades, missing values, a grade without its
        partner), used.
    """

    title = "Interpolation error of state NAEP values"

    def __init__(self, estimates: pd.DataFrame, sample_log: SampleLog, n_states: int, level: float,
                 moments: pd.DataFrame) -> None:
        self.estimates = estimates
        self.sample_log = sample_log
        self.n_states = int(n_states)
        self.level = level

        def intervals(lv: float) -> tuple[list[float], list[float]]:
            from pdstats.harmonize.interpolation_error import omega_interval

            bounds = [omega_interval(m.raw, m.sampling, int(m.df), m.k, lv) for m in moments.itertuples()]
            return [b[0] for b in bounds], [b[1] for b in bounds]

        self._intervals = intervals

    def omega(self, quantity: str = "mean", component: str = "persistent") -> float:
        """The SD ``omega`` (NAEP points) of one quantity ("mean"/"sd") and component ("persistent"/"transient")."""
        e = self.estimates
        hit = e[(e["quantity"] == quantity) & (e["component"] == component)]
        if hit.empty:
            from pdstats.errors import ModelSpecificationError

            raise ModelSpecificationError(f"no estimate for quantity {quantity!r}, component {component!r}")
        return float(hit["estimate"].iloc[0])

    def variance(self, quantity: str, f_u: float, f_v: float) -> float:
        """Interpolation variance ``omega_u^2 f_u + omega_v^2 f_v`` of one cell's state NAEP ``quantity``."""
        return self.omega(quantity, "persistent") ** 2 * f_u + self.omega(quantity, "transient") ** 2 * f_v

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

    def plot(self, ax: Axes | None = None) -> Axes:
        """The four omegas (NAEP points) with their chi-square intervals."""
        from pdstats.figures.estimates import coefplot

        d = self.estimates.assign(term=self.estimates["quantity"] + " / " + self.estimates["component"])
        ax = coefplot(d, ax=ax, title=self.title)
        ax.set_xlabel("omega, NAEP points (interval)")
        return ax
