"""``estimate_interpolation_error()``: the error of state NAEP values interpolated to untested grades and years.

NAEP tests grades 4 and 8, in some years. :func:`pdstats.harmonize.link_to_naep` links
grades 3, 5, 6 and 7, and the years between NAEP years, through state NAEP means and SDs
interpolated linearly (see :mod:`pdstats.harmonize.linking`). A state's grade profile is
not a straight line: each grade cohort of a state sits a little above or below the line
through its grade-4 and grade-8 values, and each year's cohort a little off the line
through the NAEP years. That error is shared by every district of the state-grade-year,
so it does not average out; neither the TUDA comparison
(:func:`~pdstats.harmonize.estimate_linking_error`, grades 4 and 8 of NAEP years only) nor
the NAEP sampling errors see it. This module estimates its size from how the states
differ from one another at the grades and years NAEP does test.

Model
-----
For state ``s``, NAEP-tested grade ``g`` (4 or 8) and NAEP year ``y``, the published
state value (mean, or SD) is

    ``X_sgy = a_s + c_gy + u_sg + v_sgy + e_sgy``,

with ``a_s`` the state's level, ``c_gy`` the profile common to all states (national
grade profile and trends), ``u_sg ~ N(0, omega_u^2)`` a persistent deviation of the
state's grade ``g`` from its line, ``v_sgy ~ N(0, omega_v^2)`` a transient deviation of
one grade-year (one cohort) and ``e_sgy`` NAEP sampling error with known standard
error. The same holds, by assumption, at the untested grades and years. Two contrasts of
each state's values identify the two variances:

* transient, from each pair of consecutive NAEP years ``(y, y')``: ``C_s = (X_s8y' -
  X_s4y') - (X_s8y - X_s4y)``, ``Var(C_s) = 4 omega_v^2 + q_s`` (``q_s`` the sum of the
  four sampling variances);
* persistent, from the grade gap averaged over the ``T`` NAEP years: ``D_s = mean_y
  (X_s8y - X_s4y)``, ``Var(D_s) = 2 omega_u^2 + 2 omega_v^2 / T + q_s``.

Each contrast is centred across states (which removes ``a_s`` and ``c_gy``); for ``S``
independent values ``Z_s`` with variances ``theta + q_s``, ``E sum_s (Z_s - Zbar)^2 =
(1 - 1/S) sum_s (theta + q_s)``, so the moment estimator pooled over subjects (and year
pairs) is ``theta = sum_b [SS_b / (1 - 1/S_b) - sum_s q_s] / sum_b S_b``, truncated at 0.

The model gives states a common slope between grades 4 and 8 relative to one another:
every difference between states in how their standing changes from grade 4 to grade 8
counts as grade-specific deviation ``u``. If states truly differ in slope, ``omega_u`` is
overstated (linear interpolation follows a slope exactly), so the term errs on the side
of wider intervals. Curvature common to all states (``c_gy`` off the line, e.g. growth
that slows with grade) is not identified and not included.

Interpolation error of one cell
-------------------------------
A target cell (grade ``g``, year ``y``) is interpolated as ``sum_k w_k X_k`` over tested
cells ``k`` (weights from the year and grade interpolation, summing to 1). Its error is
``(u_g - sum_k w_k u_gk) + (v_gy - sum_k w_k v_k)``, with variance

    ``omega_u^2 f_u + omega_v^2 f_v``,
    ``f_u = 1 + (1 - w)^2 + w^2`` for grades 3, 5, 6, 7 (``w = (g - 4) / 4``), 0 at grades 4 and 8;
    ``f_v = 1 + sum_k w_k^2`` for an untested cell, 0 for a tested one.

In ``link_to_naep`` this enters the linked mean's standard error as ``se_interpolation^2
= var_M + (m*^2 / r) var_S`` (``var_M``, ``var_S`` the interpolation variances of the
state NAEP mean and SD) and the linked SD's as ``(sd / S)^2 var_S``.

Intervals
---------
Each ``omega^2`` is approximately ``theta / k`` with ``theta`` a pooled variance on
``df = sum_b (S_b - 1)`` degrees of freedom: the reported standard error is
``sqrt(2 / df)`` times the raw pooled variance (sampling part included) over ``k``, and the
interval is the chi-square one for the raw variance with the sampling part then
subtracted (truncated at 0). Consecutive year pairs share cells, so with more than two
NAEP years the intervals are somewhat too narrow.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from pdstats._inputs import as_numeric, drop_missing, require_columns
from pdstats.data.validate import failures_frame
from pdstats.errors import DataValidationError, EstimationWarning, ModelSpecificationError
from pdstats.harmonize.results import InterpolationErrorResult
from pdstats.results import SampleLog, check_level

__all__ = ["estimate_interpolation_error", "interpolation_factors", "omega_interval"]

TESTED_GRADES = (4, 8)


def interpolation_factors(grade: int, year_weights: dict[int, dict[int, float]], tested: bool) -> tuple[float, float]:
    """Variance multipliers ``(f_u, f_v)`` of one interpolated cell (see the module notes).

    Parameters
    ----------
    grade : int
        Target grade (3-8).
    year_weights : dict
        Source grade -> {NAEP year: weight}: the year weights used at each source grade
        (each summing to 1).
    tested : bool
        Whether the target cell itself is a NAEP-tested cell (then both factors are 0).

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> interpolation_factors(6, {4: {2005: 1.0}, 8: {2005: 1.0}}, tested=False)
    (1.5, 1.5)
    >>> interpolation_factors(4, {4: {2005: 0.5, 2007: 0.5}}, tested=False)
    (0.0, 1.5)
    """
    if tested:
        return 0.0, 0.0
    if grade in TESTED_GRADES:
        grade_w = {grade: 1.0}
        f_u = 0.0
    else:
        w = (grade - 4) / 4.0
        grade_w = {4: 1.0 - w, 8: w}
        f_u = 1.0 + (1.0 - w) ** 2 + w**2
    f_v = 1.0 + sum((gw * yw) ** 2 for g, gw in grade_w.items() for yw in year_weights[g].values())
    return float(f_u), float(f_v)


def _pooled(blocks: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float, int]:
    """Pooled moment estimate over blocks of (values, sampling variances): (theta, raw, df)."""
    num = den = raw_num = 0.0
    df = 0
    for z, q in blocks:
        s = len(z)
        ss = float(((z - z.mean()) ** 2).sum())
        num += ss / (1 - 1 / s) - float(q.sum())
        raw_num += ss / (1 - 1 / s)
        den += s
        df += s - 1
    if df == 0:
        return np.nan, np.nan, 0
    return num / den, raw_num / den, df


def omega_interval(raw: float, sampling: float, df: int, k: float, level: float) -> tuple[float, float]:
    """Chi-square interval for one ``omega`` (NAEP points) from its pooled moments (see the module notes).

    Examples
    --------
    >>> lo, hi = omega_interval(4.0, 1.0, 40, 2.0, 0.95)
    >>> bool(0 < lo < (3.0 / 2) ** 0.5 < hi)
    True
    """
    if not df:
        return float("nan"), float("nan")
    lo_q, hi_q = stats.chi2.ppf([0.5 + level / 2, 0.5 - level / 2], df)
    lo, hi = max((df * raw / lo_q - sampling) / k, 0.0), max((df * raw / hi_q - sampling) / k, 0.0)
    return float(np.sqrt(lo)), float(np.sqrt(hi))


def estimate_interpolation_error(naep: pd.DataFrame, level: float = 0.95) -> InterpolationErrorResult:
    """Estimate the error of state NAEP means and SDs interpolated to untested grades and years.

    Parameters
    ----------
    naep : pandas.DataFrame
        ``naep_state``-shaped table: state, year, grade, subject, mean, sd, and optionally
        mean_se, sd_se (missing standard errors count as 0). Rows of ``national`` and of
        grades other than 4 and 8 are left out; a state-subject-year is used when both
        grades are present.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    InterpolationErrorResult
        ``estimates``: one row per quantity (``mean``, ``sd``) and component
        (``persistent`` omega_u, ``transient`` omega_v) in NAEP points, with standard
        errors, intervals and degrees of freedom; pass the result to
        ``link_to_naep(interpolation_error=...)``.

    Raises
    ------
    ModelSpecificationError
        Missing columns, or fewer than 2 states with grades 4 and 8 in every NAEP year of
        a subject.
    DataValidationError
        More than one row for a state, year, grade and subject.

    Notes
    -----
    The persistent contrast uses the states tested in both grades in *every* NAEP year of
    the subject, the transient one each pair of consecutive years in which a state has
    both grades; ``n_state_subjects`` in ``estimates`` counts the state-subjects each
    component used. With one NAEP year the transient part cannot be estimated (``df``
    0): it is set to 0 and the persistent part absorbs it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(3)
    >>> rows = []
    >>> for s in range(40):
    ...     u = {4: rng.normal(0, 2), 8: rng.normal(0, 2)}
    ...     for y in (2005, 2007, 2009):
    ...         for g in (4, 8):
    ...             rows.append({"state": f"S{s}", "year": y, "grade": g, "subject": "math",
    ...                          "mean": 240 + 5 * (g - 4) + u[g] + rng.normal(0, 1), "sd": 30.0})
    >>> ie = pds.harmonize.estimate_interpolation_error(pd.DataFrame(rows))
    >>> round(ie.omega("mean", "persistent"), 1), round(ie.omega("mean", "transient"), 1)  # truth: 2, 1
    (2.2, 1.0)
    """
    level = check_level(level)
    require_columns(naep, ["state", "year", "grade", "subject", "mean", "sd"], "naep", "naep")
    naep = naep.reset_index(drop=True)
    d = naep.copy()
    for c, rule in (("year", {"lower": 0, "integer": True}), ("grade", {"lower": 0, "integer": True}),
                    ("mean", {}), ("sd", {"lower": 0, "lower_open": True}), ("mean_se", {"lower": 0}),
                    ("sd_se", {"lower": 0})):
        if c in d.columns:
            d[c] = as_numeric(naep, c, "naep", **rule)
    log = SampleLog(n_in=len(naep), unit="NAEP rows")
    d, log = drop_missing(d, ["state", "year", "grade", "subject"], "naep", log)
    keep = (d["state"] != "national") & d["grade"].isin(TESTED_GRADES)
    log.drop("national or not grade 4/8", int((~keep).sum()))
    d = d[keep].copy()
    for c in ("mean_se", "sd_se"):
        d[c] = d[c].fillna(0.0) if c in d.columns else 0.0
    d, log = drop_missing(d, ["mean", "sd"], "naep", log)
    d = d.astype({"year": int, "grade": int})
    key = ["state", "year", "grade", "subject"]
    dup = d.duplicated(key, keep=False)
    if dup.any():
        raise DataValidationError("naep", failures_frame([
            {"table": "naep", "column": ", ".join(key), "rule": "one row per state, year, grade and subject",
             "row": int(i), "key": "/".join(str(d.loc[i, c]) for c in key), "value": None}
            for i in d.index[dup]]))
    wide = d.pivot_table(index=["subject", "year", "state"], columns="grade",
                         values=["mean", "sd", "mean_se", "sd_se"], aggfunc="first")
    # a grade with no usable rows at all still needs its columns (every state then lacks it)
    wide = wide.reindex(columns=pd.MultiIndex.from_product([["mean", "sd", "mean_se", "sd_se"], TESTED_GRADES]))
    complete = wide.dropna()
    log.drop("state-year without both grades 4 and 8", len(wide) - len(complete))
    rows, moments = [], []
    used_states: set[str] = set()
    for quantity in ("mean", "sd"):
        gap = complete[(quantity, 8)] - complete[(quantity, 4)]
        qvar = complete[(f"{quantity}_se", 8)] ** 2 + complete[(f"{quantity}_se", 4)] ** 2
        trans_blocks, pers_blocks, t_years = [], [], []
        trans_states: set[str] = set()
        pers_states: set[str] = set()
        for subject, sub in gap.groupby(level="subject"):
            years = sorted(sub.index.get_level_values("year").unique())
            per_year = {y: sub.xs((subject, y), level=["subject", "year"]) for y in years}
            qv = {y: qvar.xs((subject, y), level=["subject", "year"]) for y in years}
            for y0, y1 in zip(years, years[1:], strict=False):
                both = per_year[y0].index.intersection(per_year[y1].index)
                if len(both) >= 2:
                    trans_states |= {f"{subject}/{x}" for x in both}
                    trans_blocks.append(((per_year[y1][both] - per_year[y0][both]).to_numpy(float),
                                         (qv[y1][both] + qv[y0][both]).to_numpy(float)))
            states = sorted(set.intersection(*[set(per_year[y].index) for y in years]))
            if len(states) >= 2:
                t = len(years)
                dz = np.mean([per_year[y][states].to_numpy(float) for y in years], axis=0)
                dq = np.sum([qv[y][states].to_numpy(float) for y in years], axis=0) / t**2
                pers_blocks.append((dz, dq))
                t_years.append(t)
                used_states |= set(states)
                pers_states |= {f"{subject}/{x}" for x in states}
        if not pers_blocks:
            raise ModelSpecificationError(
                "table 'naep': fewer than 2 states have grades 4 and 8 in every NAEP year of a subject "
                "(rule: the interpolation error is estimated from differences between states)")
        tv, tv_raw, tv_df = _pooled(trans_blocks) if trans_blocks else (np.nan, np.nan, 0)
        omega_v2 = max(tv / 4.0, 0.0) if tv_df else 0.0
        pv, pv_raw, pv_df = _pooled(pers_blocks)
        t_mean = float(np.mean(t_years))
        omega_u2 = max((pv - 2 * omega_v2 / t_mean) / 2.0, 0.0)
        for comp, om2, raw, theta, df, k, extra, used in (
                ("persistent", omega_u2, pv_raw, pv, pv_df, 2.0, 2 * omega_v2 / t_mean, pers_states),
                ("transient", omega_v2, tv_raw, tv, tv_df, 4.0, 0.0, trans_states)):
            sampling = raw - theta + extra if df else np.nan
            lo, hi = omega_interval(raw, sampling, df, k, level)
            se = np.sqrt(2.0 / df) * raw / k / (2 * np.sqrt(om2)) if df and om2 > 0 else np.nan
            moments.append({"raw": raw, "sampling": sampling, "df": int(df), "k": k})
            rows.append({"quantity": quantity, "component": comp, "estimate": float(np.sqrt(om2)),
                         "std_error": se, "ci_lower": lo, "ci_upper": hi, "df": int(df),
                         "flag": not (np.isfinite(se) and se > 0), "n_state_subjects": len(used),
                         "unit": "NAEP points"})
    est = pd.DataFrame(rows)
    if est["flag"].any():
        bad = est[est["flag"]]
        warnings.warn("estimate_interpolation_error: no standard error (omega at its bound 0 or no degrees of "
                      "freedom) for " + ", ".join(bad["quantity"] + "/" + bad["component"])
                      + "; standard error NaN, flagged", EstimationWarning, stacklevel=2)
    return InterpolationErrorResult(est, log, n_states=len(used_states), level=level,
                                    moments=pd.DataFrame(moments))
