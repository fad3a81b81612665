"""``link_to_naep()``: star-scale estimates onto the NAEP scale, with combined standard errors.

Linear linking (as in the Stanford Education Data Archive, SEDA; Reardon, Kalogrides & Ho
2021) assumes that a state's test and NAEP rank the state's students alike, so a group's
position in the state's student distribution maps onto the state's NAEP distribution.

Formulas
--------
For a group with star-scale mean ``m*`` and SD ``s*`` (observed state-test scores,
total variance 1), state test reliability ``r``, and state NAEP mean ``M`` and SD ``S``
for that grade, year and subject:

* reliability adjustment: measurement error inflates the observed-score variance, so
  in true-score SD units the group mean is ``m* / sqrt(r)`` and the group's true-score
  variance is ``(s*^2 - (1 - r)) / r``;
* NAEP scale: ``mean = M + S m* / sqrt(r)``, ``sd = S sqrt((s*^2 + r - 1) / r)``
  (missing, and flagged, when ``s*^2 < 1 - r``);
* standard error of the linked mean, four independent parts:
  ``se_estimation^2 = S^2 se(m*)^2 / r`` (HETOP estimation),
  ``se_naep^2 = se(M)^2 + (m*^2 / r) se(S)^2`` (NAEP sampling error), and
  ``se_linking^2 = (linking_error S)^2`` (error of the linking assumption, in state NAEP
  SDs; 0 unless given; estimated from districts with NAEP results of their own by
  :func:`pdstats.harmonize.estimate_linking_error`, whose result can be passed directly:
  then ``linking_error = sqrt(b^2 + tau^2)``, or ``tau``, see
  :mod:`pdstats.harmonize.linking_error`), and
  ``se_interpolation^2 = var_M + (m*^2 / r) var_S`` (error of interpolating the state's
  NAEP mean and SD to an untested grade or year: ``var_M = omega_u^2 f_u + omega_v^2
  f_v`` and likewise ``var_S``, 0 in NAEP-tested cells and unless ``interpolation_error``
  is given; estimated by :func:`pdstats.harmonize.estimate_interpolation_error`, see
  :mod:`pdstats.harmonize.interpolation_error`); ``se_mean^2`` is their sum;
* estimand: by default (``estimand="population"``) the target is the mean of the group's
  student population, so ``se_estimation`` includes student sampling error. With
  ``estimand="students"`` the target is the mean true score of the students actually
  tested; their sampling variance of true scores, ``(s*^2 + r - 1) / n`` in star units,
  is removed: ``se_estimation^2 = S^2 max(se(m*)^2 - (s*^2 + r - 1) / n, 0) / r``,
  leaving coarsening and measurement error (needs the ``n`` column);
* standard error of the linked SD: ``(S^2 s* / (r sd))^2 se(s*)^2 + (sd / S)^2 (se(S)^2 + var_S)``.

Untested grades and years: NAEP tests grades 4 and 8 in some years. State NAEP means and
SDs are first interpolated linearly across years within grade (held at the nearest
year outside the tested range), then linearly across grades:
``X_g = X_4 + (g - 4) (X_8 - X_4) / 4`` (grades 3, 5, 6, 7; grade 3 extrapolated). The
standard error of an interpolated value is that of the same linear combination of
independent published values. Interpolated values are flagged.

Other scales, relative to the national reference (the ``national`` rows of ``naep``,
averaged over ``reference_years``, interpolated across grades the same way):

* cohort-standardized: ``(mean - R_g) / D_g`` with reference mean ``R_g`` and SD ``D_g``
  of grade ``g``: national student SDs from the reference average;
* grade-equivalent (grade-cohort) scale: ``4 + 4 (mean - R_4) / (R_8 - R_4)``: one unit is
  the national average growth per grade between grades 4 and 8.
Both are linear in the NAEP-scale value; their standard errors scale accordingly
(reference values treated as fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, drop_missing, require_columns, require_frame
from pdstats.errors import ModelSpecificationError
from pdstats.harmonize.interpolation_error import interpolation_factors
from pdstats.harmonize.results import (
    HetopResult,
    InterpolationErrorResult,
    LinkingErrorResult,
    LinkResult,
    warn_flagged,
)
from pdstats.results import SampleLog

__all__ = ["link_to_naep", "interpolate_naep"]

KEYS = ["state", "year", "grade", "subject"]
#: Columns rescaled (not shifted) on the cohort-standardized and grade-equivalent scales.
SE_COLUMNS = ("se_mean", "se_estimation", "se_naep", "se_linking", "se_interpolation", "sd", "se_sd")


def _interp_years(rows: pd.DataFrame, year: int) -> tuple[dict[str, float], dict[int, float], bool]:
    """Linear interpolation in year of one state/grade/subject's NAEP rows: values, year weights, flag."""
    r = rows.sort_values("year")
    years = r["year"].to_numpy(int)
    if year in set(r["year"]):
        j, weights, flagged = [int(np.flatnonzero(years == year)[0])], [1.0], False
    elif year < years[0] or year > years[-1]:  # held at the nearest NAEP year
        j, weights, flagged = [0 if year < years[0] else len(years) - 1], [1.0], True
    else:
        hi = int(np.searchsorted(years, year))
        w = (year - years[hi - 1]) / (years[hi] - years[hi - 1])
        j, weights, flagged = [hi - 1, hi], [1 - w, w], True
    out = {}
    for k in ("mean", "sd"):
        out[k] = sum(w * float(r.iloc[i][k]) for i, w in zip(j, weights, strict=True))
        out[f"{k}_var"] = sum(w**2 * float(r.iloc[i][f"{k}_se"]) ** 2 for i, w in zip(j, weights, strict=True))
    return out, {int(years[i]): float(w) for i, w in zip(j, weights, strict=True)}, flagged


def interpolate_naep(naep: pd.DataFrame, state: str, year: int, grade: int, subject: str) -> dict[str, object]:
    """NAEP mean/SD (with sampling variances) for any grade 3-8 and year, by interpolation.

    Parameters
    ----------
    naep : pandas.DataFrame
        ``naep_state``-shaped table: state, year, grade (4/8), subject, mean, sd and
        optionally mean_se, sd_se (missing standard errors count as 0).
    state, year, grade, subject
        The target cell.

    Returns
    -------
    dict
        mean, sd, mean_se, sd_se, interpolated (bool), and the interpolation-error
        variance multipliers ``f_u``, ``f_v`` (see
        :mod:`pdstats.harmonize.interpolation_error`).

    Raises
    ------
    ModelSpecificationError
        When the state has no NAEP rows for a needed grade, or their SD is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> naep = pd.DataFrame({"state": "CA", "year": [2003, 2003, 2005, 2005], "grade": [4, 8, 4, 8],
    ...                      "subject": "math", "mean": [227.0, 267.0, 230.0, 269.0],
    ...                      "sd": [29.0, 37.0, 29.0, 37.0]})
    >>> v = interpolate_naep(naep, "CA", 2004, 6, "math")
    >>> round(v["mean"], 2), v["interpolated"]
    (248.25, True)
    """
    d = naep[(naep["state"] == state) & (naep["subject"] == subject)].copy()
    for c in ("mean_se", "sd_se"):
        d[c] = d[c].fillna(0.0) if c in d.columns else 0.0
    at, year_weights = {}, {}
    flagged = False
    grades = [grade] if grade in (4, 8) else [4, 8]
    for g in grades:
        rows = d[(d["grade"] == g)].dropna(subset=["mean"])
        if rows.empty:
            raise ModelSpecificationError(
                f"table 'naep': no rows for state {state!r}, grade {g}, subject {subject!r} "
                f"(needed to link year {year}, grade {grade})"
            )
        if rows["sd"].isna().any():
            bad = rows.loc[rows["sd"].isna(), "year"].tolist()
            raise ModelSpecificationError(
                f"table 'naep', column 'sd': missing for state {state!r}, grade {g}, years {bad}; "
                "state SDs are required for linking (state the assumption used to fill them)"
            )
        at[g], year_weights[g], f = _interp_years(rows, year)
        flagged |= f
    if grade in (4, 8):
        v = at[grade]
    else:
        w = (grade - 4) / 4.0
        v = {k: (1 - w) * at[4][k] + w * at[8][k] for k in ("mean", "sd")}
        for k in ("mean", "sd"):
            v[f"{k}_var"] = (1 - w) ** 2 * at[4][f"{k}_var"] + w**2 * at[8][f"{k}_var"]
        flagged = True
    f_u, f_v = interpolation_factors(grade, year_weights, tested=not flagged)
    return {"mean": float(v["mean"]), "sd": float(v["sd"]), "mean_se": float(np.sqrt(v["mean_var"])),
            "sd_se": float(np.sqrt(v["sd_var"])), "interpolated": bool(flagged), "f_u": f_u, "f_v": f_v}


def _reference(naep: pd.DataFrame, subject: str, years: Sequence[int] | None) -> dict[int, tuple[float, float]]:
    nat = naep[(naep["state"] == "national") & (naep["subject"] == subject)].dropna(subset=["mean", "sd"])
    if years is not None:
        nat = nat[nat["year"].isin(list(years))]
    ref = nat.groupby("grade")[["mean", "sd"]].mean()
    if not {4, 8} <= set(ref.index):
        return {}
    out = {}
    for g in range(3, 9):
        w = (g - 4) / 4.0
        out[g] = tuple((1 - w) * ref.loc[4] + w * ref.loc[8])
    return out


def _reliability_lookup(reliability: float | pd.DataFrame | None):
    if reliability is None:
        return lambda key: 1.0, "not adjusted (reliability = 1)"
    if isinstance(reliability, (int, float, np.number)) and not isinstance(reliability, bool):
        r = float(reliability)
        if not 0 < r <= 1:
            raise ModelSpecificationError(f"argument 'reliability' must be in (0, 1], got {r}")
        return lambda key: r, f"{r:g} for every test"
    if not isinstance(reliability, pd.DataFrame):
        raise ModelSpecificationError(
            f"argument 'reliability' must be a number in (0, 1] or a table, got {type(reliability).__name__}")
    require_columns(reliability, [*KEYS, "reliability"], "reliability", "reliability")
    rel = _checked(reliability, "reliability", {"reliability": {"lower": 0, "lower_open": True, "upper": 1}})
    rel = rel.dropna(subset=[*KEYS, "reliability"]).astype({"year": int, "grade": int})
    table = {tuple(row[KEYS]): float(row["reliability"]) for _, row in rel.iterrows()}
    return lambda key: table.get(tuple(key), np.nan), "per test (table)"


def link_to_naep(
    estimates: HetopResult | pd.DataFrame,
    naep: pd.DataFrame,
    reliability: float | pd.DataFrame | None = None,
    linking_error: float | LinkingErrorResult = 0.0,
    interpolation_error: InterpolationErrorResult | None = None,
    group: str | None = None,
    reference_years: Sequence[int] | None = None,
    estimand: str = "population",
) -> LinkResult:
    """Link star-scale group estimates to NAEP; also the cohort-standardized and grade scales.

    Parameters
    ----------
    estimates : HetopResult or pandas.DataFrame
        Star-scale estimates, wide, with state, year, grade, subject, the group column,
        n, mean, se_mean, sd, se_sd (a ``hetop(...)`` result is read through its
        ``groups``; or ``standardize(...)`` output). Rows missing a key or the mean are
        dropped (logged, with a warning); ``+-inf`` and negative SDs or standard errors
        are refused, as are NAEP SDs <= 0 and reliabilities outside (0, 1].
    naep : pandas.DataFrame
        ``naep_state``-shaped table (state, year, grade, subject, mean, sd, mean_se,
        sd_se). The state's rows give the linking; ``national`` rows the reference for the
        cohort-standardized and grade-equivalent scales.
    reliability : float or pandas.DataFrame, optional
        State test reliability, one value or a table keyed by state/year/grade/subject
        with a ``reliability`` column (e.g. ``cut_scores``). None: no adjustment.
    linking_error : float or LinkingErrorResult
        SD of the linking error of a group mean, in units of the state's NAEP SD (see the
        module notes); 0 leaves the term out. A
        :func:`~pdstats.harmonize.estimate_linking_error` result gives its
        ``linking_error`` (``sqrt(bias^2 + tau^2)`` by default).
    interpolation_error : InterpolationErrorResult, optional
        Error SDs of state NAEP values interpolated to untested grades and years
        (:func:`~pdstats.harmonize.estimate_interpolation_error`); None leaves the term out.
    group : str, optional
        Group column (taken from a HetopResult by default).
    reference_years : sequence of int, optional
        National NAEP years averaged for the reference (default: all).
    estimand : {"population", "students"}
        Target of the standard errors: the group's student population, or the students
        tested (see the module notes).

    Returns
    -------
    LinkResult
        ``estimates`` long (group x cell x scale x quantity, flagged where the standard
        error or the SD cannot be estimated, with an :class:`~pdstats.EstimationWarning`),
        ``groups`` wide (one row per group, cell and scale).

    Examples
    --------
    >>> import pandas as pd
    >>> import pdstats as pds
    >>> est = pd.DataFrame({"unit_id": ["a", "b"], "state": "CA", "year": 2005, "grade": 4,
    ...                     "subject": "math", "n": [100, 80], "mean": [0.2, -0.3],
    ...                     "se_mean": [0.05, 0.06], "sd": [0.9, 1.0], "se_sd": [0.04, 0.05]})
    >>> naep = pd.DataFrame({"state": ["CA", "CA", "national", "national"], "year": 2005,
    ...                      "grade": [4, 8, 4, 8], "subject": "math", "mean": [230.0, 269.0, 237.0, 278.0],
    ...                      "sd": [29.0, 37.0, 29.0, 36.0], "mean_se": [0.6, 0.7, 0.2, 0.2]})
    >>> out = pds.harmonize.link_to_naep(est, naep, reliability=0.9)
    >>> out.scale("naep")["mean"].round(1).tolist()
    [236.1, 220.8]
    """
    if isinstance(estimates, HetopResult):
        group = group or estimates.group
        est = estimates.groups
    else:
        est = require_frame(estimates, "estimates")
        if group is None and "unit_id" in est.columns:
            group = "unit_id"
        if group is None:
            raise ModelSpecificationError("argument 'group' is required when estimates is a DataFrame")
    require_columns(est, [*KEYS, group, "mean", "se_mean", "sd", "se_sd"], "estimates", "estimates")
    require_columns(naep, [*KEYS, "mean", "sd"], "naep", "naep")
    if isinstance(linking_error, LinkingErrorResult):
        linking_error = linking_error.linking_error
    if isinstance(linking_error, bool) or not isinstance(linking_error, (int, float, np.number)) \
            or not np.isfinite(float(linking_error)) or float(linking_error) < 0:
        raise ModelSpecificationError(f"argument 'linking_error' must be a finite value >= 0, got {linking_error!r}")
    if interpolation_error is not None and not isinstance(interpolation_error, InterpolationErrorResult):
        raise ModelSpecificationError("argument 'interpolation_error' must be the result of "
                                      "estimate_interpolation_error() or None")
    if estimand not in ("population", "students"):
        raise ModelSpecificationError(f"argument 'estimand' must be 'population' or 'students', got {estimand!r}")
    if estimand == "students":
        require_columns(est, ["n"], "estimates", "estimand='students'")
    log = SampleLog(n_in=len(est), unit="group estimates")
    est = _checked(est, "estimates", {"mean": {}, "se_mean": {"lower": 0}, "sd": {"lower": 0},
                                      "se_sd": {"lower": 0}, "n": {"lower": 0}})
    est, log = drop_missing(est, [group, *KEYS, "mean"], "estimates", log)
    est = est.astype({"year": int, "grade": int})
    naep = _checked(naep, "naep", {"mean": {}, "sd": {"lower": 0, "lower_open": True},
                                   "mean_se": {"lower": 0}, "sd_se": {"lower": 0}})
    naep, _ = drop_missing(naep, KEYS, "naep", warn=True)
    naep = naep.astype({"year": int, "grade": int})
    for c in ("mean_se", "sd_se"):
        naep[c] = naep[c].fillna(0.0) if c in naep.columns else 0.0
    rel_for, rel_note = _reliability_lookup(reliability)
    pieces, naep_rows = [], []
    refs: dict[str, dict[int, tuple[float, float]]] = {}
    by_state = {k: g for k, g in naep.groupby(["state", "subject"], sort=False)}
    extra = [c for c in est.columns if c in ("subgroup", "n", "mean_status", "sd_status", "converged", "source")]
    for key, cell in est.groupby(KEYS, sort=True):
        state, year, grade, subject = key
        try:
            rows = by_state.get((state, subject), naep.iloc[:0])
            v = interpolate_naep(rows, state, int(year), int(grade), subject)
        except ModelSpecificationError as exc:
            if "no rows" not in str(exc):
                raise
            log.drop(f"no NAEP values for {state} grade {grade} {subject}", len(cell))
            continue
        r = rel_for(key)
        if not np.isfinite(r):
            log.drop(f"no reliability for {state} {year} grade {grade} {subject}", len(cell))
            continue
        naep_rows.append({**dict(zip(KEYS, key, strict=True)), "naep_mean": v["mean"], "naep_sd": v["sd"],
                          "naep_mean_se": v["mean_se"], "naep_sd_se": v["sd_se"],
                          "naep_interpolated": v["interpolated"], "reliability": r})
        m, s = cell["mean"].to_numpy(float), cell["sd"].to_numpy(float)
        se_m, se_s = cell["se_mean"].to_numpy(float), cell["se_sd"].to_numpy(float)
        big_m, big_s = v["mean"], v["sd"]
        mean = big_m + big_s * m / np.sqrt(r)
        var_true = (s**2 + r - 1) / r
        with np.errstate(invalid="ignore"):
            sd = np.where(var_true > 0, big_s * np.sqrt(np.maximum(var_true, 0)), np.nan)
            var_m = se_m**2
            if estimand == "students":
                var_m = np.maximum(var_m - (s**2 + r - 1) / cell["n"].to_numpy(float), 0.0)
            se_est = big_s * np.sqrt(var_m / r)
            se_naep = np.sqrt(v["mean_se"] ** 2 + (m**2 / r) * v["sd_se"] ** 2)
            se_link = np.full(len(m), abs(linking_error) * big_s)
            var_im = var_is = 0.0
            if interpolation_error is not None:
                var_im = interpolation_error.variance("mean", v["f_u"], v["f_v"])
                var_is = interpolation_error.variance("sd", v["f_u"], v["f_v"])
            se_interp = np.sqrt(var_im + (m**2 / r) * var_is)
            se_sd = np.sqrt((big_s**2 * s / (r * sd)) ** 2 * se_s**2
                            + (sd / big_s) ** 2 * (v["sd_se"] ** 2 + var_is))
        base = cell[[group, *KEYS, *extra]].reset_index(drop=True)
        naep_frame = pd.DataFrame({
            "mean": mean, "se_mean": np.sqrt(se_est**2 + se_naep**2 + se_link**2 + se_interp**2),
            "se_estimation": se_est, "se_naep": se_naep, "se_linking": se_link, "se_interpolation": se_interp,
            "sd": sd, "se_sd": se_sd, "naep_mean": big_m, "naep_sd": big_s,
            "naep_interpolated": v["interpolated"], "sd_below_error": ~(var_true > 0),
        })
        pieces.append(pd.concat([base, naep_frame.assign(scale="naep")], axis=1))
        if subject not in refs:
            refs[subject] = _reference(naep, subject, reference_years)
        ref = refs[subject]
        if ref and int(grade) in ref:
            rg_mean, rg_sd = ref[int(grade)]
            cs = naep_frame.copy()
            for c in ("mean",):
                cs[c] = (cs[c] - rg_mean) / rg_sd
            for c in SE_COLUMNS:
                cs[c] = cs[c] / rg_sd
            pieces.append(pd.concat([base, cs.assign(scale="cohort_standardized")], axis=1))
            per_grade = (ref[8][0] - ref[4][0]) / 4.0
            ge = naep_frame.copy()
            ge["mean"] = 4.0 + (ge["mean"] - ref[4][0]) / per_grade
            for c in SE_COLUMNS:
                ge[c] = ge[c] / per_grade
            pieces.append(pd.concat([base, ge.assign(scale="grade_equivalent")], axis=1))
    out = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()
    res = LinkResult(out, pd.DataFrame(naep_rows), log, group=group, by=KEYS, reliability_note=rel_note)
    warn_flagged(res.estimates, "link_to_naep")
    return res


def _checked(df: pd.DataFrame, table: str, rules: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """A copy with the numeric columns parsed (missing -> NaN) and checked (+-inf, range refused)."""
    out = df.copy()
    for c in ("year", "grade"):
        if c in out.columns:
            out[c] = as_numeric(out, c, table, lower=0, integer=True)
    for c, rule in rules.items():
        if c in out.columns:
            out[c] = as_numeric(out, c, table, **rule)
    return out
