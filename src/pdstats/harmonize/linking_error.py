"""``estimate_linking_error()``: linking error from districts with NAEP results of their own.

Reardon, Kalogrides & Ho (2021, JEBS 46(2), "Validation methods for aggregate-level test
scale linking") validate a linking by comparing, for the districts that take part in the
NAEP Trial Urban District Assessment (TUDA), the linked district mean with the district's
own NAEP mean. This module turns that comparison into the linking-error term of
:func:`pdstats.harmonize.link_to_naep`.

Model
-----
For district-cell ``j`` (district x year x grade x subject) with linked mean ``L_j``
(linked with no linking-error term), its standard error ``s_j`` (estimation and state
NAEP sampling error: ``se_estimation`` and ``se_naep``), the district's NAEP mean ``N_j``
with standard error ``t_j``, and the state NAEP SD ``S_j`` of the cell, the discrepancy in
state NAEP SDs

    ``d_j = (L_j - N_j) / S_j = b + u_j + e_j``,  ``u_j ~ N(0, tau^2)``,
    ``e_j ~ N(0, v_j)``,  ``v_j = (s_j^2 + t_j^2) / S_j^2`` known,

is a precision-adjusted random-effects (V-known) model: ``b`` is the linking bias and
``tau`` the SD of the linking error beyond what the sampling errors explain. It is
fitted by REML with :func:`pdstats.lmm` (``d ~ 1 + (1 | cell)``, ``known_variance=v``):
``b`` with its standard error and Satterthwaite interval from ``pds.lmm``, ``tau`` from
its variance component. The interval for ``tau`` inverts the REML likelihood-ratio test
(profile of the restricted log-likelihood ``l(tau^2) = -1/2 [sum log(v_j + tau^2) +
log sum w_j + sum w_j (d_j - b(tau^2))^2]``, ``w_j = 1 / (v_j + tau^2)``, with ``b(tau^2)``
the weighted mean; the bound is 0 when ``tau^2 = 0`` is not rejected), and its standard
error is the delta-method one from the REML information ``I(tau^2) = 1/2 tr(P P)``,
``P = W - W 1 1' W / sum w_j``: ``se(tau) = se(tau^2) / (2 tau)``. The RMSE
``sqrt(b^2 + tau^2)`` gets the delta-method SE ``sqrt(b^2 se(b)^2 + se(tau^2)^2 / 4) / rmse``
and a Wald interval truncated at 0.

Linking-error term
------------------
The linked means are *not* corrected by ``b``: the bias found in the largest (TUDA)
districts need not hold elsewhere, and the correction would move every estimate on the
strength of a few districts. A district's linking error ``b + u_j`` is then treated as a
random error with mean square ``b^2 + tau^2``, so the default term is
``linking_error = sqrt(b^2 + tau^2)`` state NAEP SDs (the precision-adjusted RMSE of the
linking); ``include_bias=False`` gives ``tau`` alone (appropriate when ``b`` is
negligible or the means are bias-corrected by the user). The term enters every linked
district's standard error as ``se_linking = linking_error * S`` (see
:mod:`pdstats.harmonize.linking`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from pdstats._inputs import as_numeric, drop_missing, require_columns
from pdstats.data.validate import failures_frame
from pdstats.errors import DataValidationError, EstimationWarning, ModelSpecificationError
from pdstats.harmonize.results import LinkingErrorResult, LinkResult
from pdstats.results import SampleLog, check_level

__all__ = ["estimate_linking_error", "reml_tau2", "parameter_intervals"]

KEYS = ["year", "grade", "subject"]
MIN_CELLS = 5


def _restricted_loglik(tau2: float, d: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    b = float(w @ d / w.sum())
    return float(-0.5 * (np.log(v + tau2).sum() + np.log(w.sum()) + w @ (d - b) ** 2))


def reml_tau2(d: np.ndarray, v: np.ndarray) -> float:
    """REML estimate of ``tau^2`` in ``d_j = b + u_j + e_j``, ``Var(e_j) = v_j`` known.

    A one-dimensional maximization of the restricted log-likelihood (see the module
    notes); used for the profile interval and to cross-check :func:`pdstats.lmm`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v = rng.uniform(0.5, 1.5, 400)
    >>> d = 1.0 + rng.normal(0, 1.0, 400) + rng.normal(0, np.sqrt(v))
    >>> round(reml_tau2(d, v), 2)  # true tau^2: 1
    0.89
    """
    d, v = np.asarray(d, float), np.asarray(v, float)
    hi = max(float(np.var(d)) * 4.0, 1e-8)
    res = optimize.minimize_scalar(lambda t: -_restricted_loglik(t, d, v), bounds=(0.0, hi), method="bounded",
                                   options={"xatol": 1e-10 * hi})
    at0 = _restricted_loglik(0.0, d, v)
    return 0.0 if at0 >= -res.fun else float(res.x)


def _tau_interval(tau2: float, d: np.ndarray, v: np.ndarray, level: float) -> tuple[float, float]:
    """Interval for tau from the REML likelihood-ratio test (see the module notes)."""
    crit = stats.chi2.ppf(level, 1) / 2.0
    top = _restricted_loglik(tau2, d, v)

    def gap(t: float) -> float:
        return top - _restricted_loglik(t, d, v) - crit

    lower = 0.0 if gap(0.0) <= 0 else optimize.brentq(gap, 0.0, tau2)
    hi = max(tau2, float(np.var(d)), 1e-6)
    while gap(hi) < 0:
        hi *= 4.0
    upper = optimize.brentq(gap, tau2, hi)
    return float(np.sqrt(lower)), float(np.sqrt(upper))


def parameter_intervals(fit: Any, discrepancies: pd.DataFrame, estimates: pd.DataFrame,
                        level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds for bias, tau and RMSE at ``level`` (rows in that order).

    The bias gets the Satterthwaite t interval of ``fit``, tau the interval inverting the
    REML likelihood-ratio test, the RMSE a Wald interval truncated at 0 (see the module notes).
    """
    d = discrepancies["discrepancy"].to_numpy(float)
    v = discrepancies["known_variance"].to_numpy(float)
    e = estimates.set_index("parameter")
    fe = fit.fixed_effects(level=level).iloc[0]
    tau_lo, tau_hi = _tau_interval(float(e.loc["tau", "estimate"]) ** 2, d, v, level)
    rmse, se_rmse = float(e.loc["rmse", "estimate"]), float(e.loc["rmse", "std_error"])
    z = float(stats.norm.ppf(0.5 + level / 2))
    lower = np.array([float(fe["ci_lower"]), tau_lo, max(rmse - z * se_rmse, 0.0)])
    upper = np.array([float(fe["ci_upper"]), tau_hi, rmse + z * se_rmse])
    return lower, upper


def _numeric(df: pd.DataFrame, table: str, columns: list[str]) -> pd.DataFrame:
    """A copy with ``columns`` parsed as numbers (missing -> NaN; +-inf and text refused)."""
    out = df.copy()
    for c in columns:
        out[c] = as_numeric(df, c, table)
    for c in ("year", "grade"):
        out[c] = as_numeric(df, c, table, lower=0, integer=True)
    return out


def _tau2_se(tau2: float, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    p = np.diag(w) - np.outer(w, w) / w.sum()
    return float(np.sqrt(2.0 / np.trace(p @ p)))


def estimate_linking_error(
    linked: LinkResult | pd.DataFrame,
    naep_district: pd.DataFrame,
    group: str | None = None,
    include_bias: bool = True,
    level: float = 0.95,
) -> LinkingErrorResult:
    """Estimate the linking error from districts with their own NAEP (TUDA) results.

    Parameters
    ----------
    linked : LinkResult or pandas.DataFrame
        Output of :func:`pdstats.harmonize.link_to_naep` *without* a linking-error term
        (a DataFrame must hold the NAEP-scale rows: the group column, year, grade,
        subject, mean, se_estimation, se_naep, naep_sd, and state).
    naep_district : pandas.DataFrame
        ``naep_district``-shaped table: district_id, year, grade, subject, mean, mean_se.
    group : str, optional
        Group column of ``linked`` holding district ids (default: the LinkResult's group,
        or ``unit_id``).
    include_bias : bool, default True
        Linking-error term ``sqrt(b^2 + tau^2)`` (True) or ``tau`` (False); see the
        module notes for why the bias is folded in by default.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    LinkingErrorResult
        ``estimates`` (bias and tau in state NAEP SDs with SEs and intervals, and the
        linking-error term), ``discrepancies`` (one row per matched district-cell),
        ``linking_error`` (the term, a float for ``link_to_naep``), ``sample_log``
        (NAEP district-cells without a linked estimate, or whose linked estimate has no
        standard error, are dropped and counted).

    Raises
    ------
    ModelSpecificationError
        Missing columns, or fewer than 5 matched district-cells.
    DataValidationError
        Non-positive or missing standard errors in the matched rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(1)
    >>> n = 60
    >>> truth = rng.normal(250, 10, n)
    >>> linked = pd.DataFrame({"unit_id": [f"{i:07d}" for i in range(n)], "state": "CA", "year": 2005,
    ...                        "grade": 4, "subject": "math", "se_estimation": 2.0, "se_naep": 1.0,
    ...                        "naep_sd": 30.0})
    >>> linked["mean"] = truth + rng.normal(0, 6.0, n) + rng.normal(0, np.sqrt(5.0), n)
    >>> tuda = pd.DataFrame({"district_id": linked["unit_id"], "year": 2005, "grade": 4,
    ...                      "subject": "math", "mean_se": 1.5})
    >>> tuda["mean"] = truth + rng.normal(0, 1.5, n)
    >>> le = pds.harmonize.estimate_linking_error(linked, tuda)
    >>> round(le.tau, 2), le.n_cells  # true tau: 6 / 30 = 0.2
    (0.17, 60)
    """
    from pdstats.multilevel.model import lmm

    level = check_level(level)
    if isinstance(linked, LinkResult):
        group = group or linked.group
        lk = linked.scale("naep")
    else:
        lk = linked
        group = group or ("unit_id" if "unit_id" in lk.columns else None)
        if group is None:
            raise ModelSpecificationError("argument 'group' is required when linked is a DataFrame")
        if "scale" in lk.columns:
            lk = lk[lk["scale"] == "naep"]
    require_columns(lk, [group, "state", *KEYS, "mean", "se_estimation", "se_naep", "naep_sd"], "linked",
                    "linked")
    require_columns(naep_district, ["district_id", *KEYS, "mean", "mean_se"], "naep_district", "naep_district")
    if "subgroup" in lk.columns:
        lk = lk[lk["subgroup"] == "all"]
    lk = _numeric(lk, "linked", ["mean", "se_estimation", "se_naep", "naep_sd"])
    lk, _ = drop_missing(lk, [group, *KEYS], "linked")
    lk = lk.astype({"year": int, "grade": int, group: str})
    nd = naep_district[["district_id", *KEYS, "mean", "mean_se"]]
    nd = _numeric(nd, "naep_district", ["mean", "mean_se"])
    log = SampleLog(n_in=len(nd), unit="NAEP district-cells")
    nd, log = drop_missing(nd, ["district_id", *KEYS, "mean"], "naep_district", log)
    nd = nd.rename(columns={"district_id": group, "mean": "naep_district_mean", "mean_se": "naep_district_se"})
    nd = nd.astype({"year": int, "grade": int, group: str})
    m = nd.merge(lk[[group, "state", *KEYS, "mean", "se_estimation", "se_naep", "naep_sd"]],
                 on=[group, *KEYS], how="left")
    missing = m["mean"].isna()
    log.drop("no linked estimate for the district-cell", int(missing.sum()))
    m = m[~missing]
    no_se = ~np.isfinite(m["se_estimation"].to_numpy(float))
    log.drop("linked estimate without a standard error (e.g. a HETOP bound)", int(no_se.sum()))
    m = m[~no_se].reset_index(drop=True)
    se_cols = ["se_estimation", "se_naep", "naep_district_se", "naep_sd"]
    failures = []
    for col in se_cols:
        x = m[col].to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(x) | (x <= 0 if col == "naep_sd" else x < 0))
        rule = "must be > 0" if col == "naep_sd" else "standard error must be known and >= 0"
        failures += [{"table": "naep_district" if col == "naep_district_se" else "linked", "column": col,
                      "rule": rule, "row": int(i), "key": f"{m.loc[i, group]} {m.loc[i, 'year']} "
                      f"grade {m.loc[i, 'grade']} {m.loc[i, 'subject']}", "value": str(x[i])} for i in bad]
    if failures:
        raise DataValidationError("linked/naep_district", failures_frame(failures))
    if len(m) < MIN_CELLS:
        raise ModelSpecificationError(
            f"table 'naep_district': only {len(m)} district-cells match a linked estimate "
            f"(rule: at least {MIN_CELLS} are needed to estimate the linking error)")
    s = m["naep_sd"].to_numpy(float)
    m["discrepancy"] = (m["mean"] - m["naep_district_mean"]) / s
    m["known_variance"] = (m["se_estimation"] ** 2 + m["se_naep"] ** 2 + m["naep_district_se"] ** 2) / s**2
    if (m["known_variance"] <= 0).any():
        rows = np.flatnonzero(m["known_variance"].to_numpy() <= 0).tolist()
        raise ModelSpecificationError(f"tables 'linked'/'naep_district': matched rows {rows[:10]} have zero total "
                                      "standard error; rule: the known variance v_j must be positive")
    m["cell"] = np.arange(len(m)).astype(str)
    with warnings.catch_warnings():  # tau = 0 is a legitimate answer here (reported, flagged, with its interval)
        warnings.filterwarnings("ignore", message=".*singular fit.*")
        fit = lmm("discrepancy ~ 1 + (1 | cell)", m, known_variance="known_variance")
    v = m["known_variance"].to_numpy(float)
    tau2 = float(fit.varcomp["estimate"].iloc[0])
    fe = fit.fixed_effects(level=level).iloc[0]
    tau = float(np.sqrt(tau2))
    se_tau2 = _tau2_se(tau2, v)
    se_tau = se_tau2 / (2 * tau) if tau > 0 else np.nan
    bias, se_bias = float(fe["estimate"]), float(fe["std_error"])
    rmse = float(np.sqrt(bias**2 + tau2))
    se_rmse = float(np.sqrt(bias**2 * se_bias**2 + se_tau2**2 / 4.0) / rmse) if rmse > 0 else np.nan
    term = rmse if include_bias else tau
    mean_s = float(s.mean())
    est = pd.DataFrame({"parameter": ["bias", "tau", "rmse"], "estimate": [bias, tau, rmse],
                        "std_error": [se_bias, se_tau, se_rmse]})
    est["std_error"] = est["std_error"].where(est["std_error"] > 0)
    est["ci_lower"], est["ci_upper"] = parameter_intervals(fit, m, est, level)
    est["flag"] = est["std_error"].isna()
    if est["flag"].any():
        warnings.warn("estimate_linking_error: no standard error for "
                      + ", ".join(est.loc[est["flag"], "parameter"])
                      + " (tau at its bound 0: the sampling errors explain the discrepancies); "
                      "standard error NaN, flagged; the likelihood-ratio interval is reported",
                      EstimationWarning, stacklevel=2)
    est["unit"] = "state NAEP SDs"
    est["estimate_points"] = est["estimate"] * mean_s
    est["std_error_points"] = est["std_error"] * mean_s
    return LinkingErrorResult(est, m.drop(columns=["cell"]), log, linking_error=term, include_bias=include_bias,
                              group=group, level=level, fit=fit)
