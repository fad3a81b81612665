"""Achievement gaps: standardized mean differences and Ho & Reardon's V from level counts.

* :func:`smd` - ``d = (mu_a - mu_b) / sqrt((sigma_a^2 + sigma_b^2) / 2)`` from two
  subgroups' estimated means and SDs (e.g. HETOP on the star scale), with the
  delta-method standard error for independent estimates:
  ``Var d = (se_mu_a^2 + se_mu_b^2) / sp^2 + d^2 (sigma_a^2 se_sigma_a^2 + sigma_b^2 se_sigma_b^2) / (4 sp^4)``
  with ``sp^2 = (sigma_a^2 + sigma_b^2) / 2``.
* :func:`v_statistic` - the metric-free gap of Ho & Reardon (2012):
  ``V = sqrt(2) Phi^-1(P(a > b))``, where ``P(a > b)`` is the probability that a random
  member of ``a`` outscores a random member of ``b``; it equals the SMD when both groups
  are normal on some monotone transformation of the scale. From ordered level counts
  ``P`` is the area under the ROC curve of the two cumulative distributions, estimated

  - ``"binormal"`` (default; recommended by Ho & Reardon for coarsened data): a two-group
    heteroskedastic ordered probit fitted to the counts, so
    ``V = (mu_a - mu_b) / sqrt((sigma_a^2 + sigma_b^2) / 2)``, with a delta-method SE
    from the fit's information matrix (needs 3 or more levels; with 2 levels the
    common-SD model is used);
  - ``"trapezoid"``: the nonparametric area ``sum_k p_ak (F_b,k-1 + p_bk / 2)``, with a
    delta-method SE from the two multinomial sampling variances. Coarse levels bias it
    toward 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from pdstats._inputs import as_numeric, drop_missing, refuse, require_columns
from pdstats.errors import (
    ConvergenceError,
    DroppedRowsWarning,
    EstimationWarning,
    ModelSpecificationError,
)
from pdstats.harmonize.cell import fit_cell
from pdstats.harmonize.results import GapResult, HetopResult, warn_flagged
from pdstats.results import SampleLog

__all__ = ["smd", "v_statistic", "gaps"]


def smd(estimates: pd.DataFrame | HetopResult, a: str, b: str, group: str = "unit_id",
        subgroup: str = "subgroup", by: Sequence[str] = ("state", "year", "grade", "subject")) -> GapResult:
    """Standardized mean differences between subgroups ``a`` and ``b`` of each unit.

    Parameters
    ----------
    estimates : pandas.DataFrame or HetopResult
        Wide group estimates (mean, se_mean, sd, se_sd, n) with a ``subgroup`` column,
        e.g. ``hetop(...).groups`` (a HetopResult is read through its ``groups``). Rows
        missing a mean, SD or key are dropped (logged, with a warning); ``+-inf``,
        negative standard errors and SDs <= 0 are refused.
    a, b : str
        Subgroup labels; the gap is ``a - b``.
    group, subgroup : str
        Unit and subgroup columns.
    by : sequence of str
        Cell columns.

    Returns
    -------
    GapResult

    Examples
    --------
    >>> import pandas as pd
    >>> e = pd.DataFrame({"unit_id": ["d1", "d1"], "state": "CA", "year": 2005, "grade": 4,
    ...                   "subject": "math", "subgroup": ["white", "black"], "n": [100, 80],
    ...                   "mean": [0.3, -0.4], "se_mean": [0.1, 0.1], "sd": [1.0, 1.0], "se_sd": [0.07, 0.08]})
    >>> round(float(smd(e, "white", "black").estimates["estimate"].iloc[0]), 3)
    0.7
    """
    by = list(by)
    if isinstance(estimates, HetopResult):
        estimates = estimates.groups
    require_columns(estimates, [group, subgroup, *by, "mean", "se_mean", "sd", "se_sd", "n"],
                    "estimates", "group/subgroup/by")
    log = SampleLog(n_in=len(estimates), unit="subgroup estimates")
    estimates = estimates.reset_index(drop=True)
    for c, rule in (("mean", {}), ("se_mean", {"lower": 0}), ("sd", {"lower": 0, "lower_open": True}),
                    ("se_sd", {"lower": 0}), ("n", {"lower": 0})):
        estimates[c] = as_numeric(estimates, c, "estimates", **rule)
    keys = [group, *by]
    estimates, log = drop_missing(estimates, [*keys, subgroup, "mean", "sd"], "estimates", log)
    dup = estimates.duplicated([*keys, subgroup], keep=False)
    if dup.any():
        raise refuse("estimates", subgroup, f"one row per {group}, cell and subgroup",
                     np.flatnonzero(dup.to_numpy()))
    ea = estimates[estimates[subgroup] == a].set_index(keys)
    eb = estimates[estimates[subgroup] == b].set_index(keys)
    log.drop(f"subgroup not {a!r} or {b!r}", int((~estimates[subgroup].isin([a, b])).sum()))
    both = ea.add_suffix("_a").join(eb.add_suffix("_b"), how="inner")
    log.drop("unit lacks the other subgroup", len(ea) + len(eb) - 2 * len(both))
    sp2 = (both["sd_a"] ** 2 + both["sd_b"] ** 2) / 2
    d = (both["mean_a"] - both["mean_b"]) / np.sqrt(sp2)
    var = ((both["se_mean_a"] ** 2 + both["se_mean_b"] ** 2) / sp2
           + d**2 * (both["sd_a"] ** 2 * both["se_sd_a"] ** 2 + both["sd_b"] ** 2 * both["se_sd_b"] ** 2)
           / (4 * sp2**2))
    out = pd.DataFrame({"quantity": "smd", "estimate": d, "std_error": np.sqrt(var),
                        "n_a": both["n_a"], "n_b": both["n_b"]}).reset_index()
    out["a"], out["b"] = a, b
    res = GapResult(out, log, group=group, by=by)
    warn_flagged(res.estimates.assign(status="no standard error"), "smd")
    return res


def v_statistic(counts_a: Sequence[float], counts_b: Sequence[float],
                method: str = "binormal") -> tuple[float, float]:
    """Ho & Reardon's V gap between two groups from their level counts.

    Parameters
    ----------
    counts_a, counts_b : sequence of float
        Students per level (lowest first) in groups ``a`` and ``b``.
    method : {"binormal", "trapezoid"}
        Estimator of the area under the ROC curve (see the module notes).

    Returns
    -------
    (float, float)
        ``V`` (positive when ``a`` scores higher) and its standard error.

    Examples
    --------
    >>> v, se = v_statistic([10, 30, 40, 20], [30, 40, 20, 10])
    >>> round(v, 2), round(se, 2)
    (0.69, 0.16)
    """
    ca, cb = _counts(counts_a, "counts_a"), _counts(counts_b, "counts_b")
    if ca.shape != cb.shape or len(ca) < 2:
        raise ModelSpecificationError("counts_a and counts_b must be equal-length level counts (2+ levels)")
    if ca.sum() <= 0 or cb.sum() <= 0:
        raise ModelSpecificationError("each group needs at least one student")
    if method not in ("binormal", "trapezoid"):
        raise ModelSpecificationError(f"method must be 'binormal' or 'trapezoid', got {method!r}")
    keep = (ca + cb) > 0  # levels nobody reached carry no information: merged away
    if keep.sum() < 2:
        warnings.warn("v_statistic: every student is in one level; V is not estimable (NaN)",
                      EstimationWarning, stacklevel=2)
        return float("nan"), float("nan")
    if method == "trapezoid":
        v, se = _v_trapezoid(ca, cb)
    else:
        ca, cb = ca[keep], cb[keep]
        model = "hetop" if len(ca) >= 3 and min((ca > 0).sum(), (cb > 0).sum()) >= 3 else "homop"
        try:
            fit = fit_cell(np.vstack([ca, cb]), model)
        except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError) as exc:
            raise ConvergenceError(f"v_statistic: the binormal fit failed ({type(exc).__name__})") from exc
        v, se = _v_binormal(fit)
    if not np.isfinite(v) or not (np.isfinite(se) and se > 0):
        warnings.warn(f"v_statistic: no standard error for V = {v:.4g} (the groups are separated or the "
                      "fit is at a bound); standard error NaN", EstimationWarning, stacklevel=2)
        se = float("nan")
    return v, se


def _counts(counts: Sequence[float], name: str) -> np.ndarray:
    """Level counts as a float vector: whole numbers >= 0, refused otherwise."""
    try:
        c = np.asarray(counts, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelSpecificationError(f"argument {name!r} must be numbers (level counts)") from exc
    if c.ndim != 1:
        raise ModelSpecificationError(f"argument {name!r} must be one sequence of level counts")
    bad = np.flatnonzero(~np.isfinite(c) | (c < 0) | (c != np.round(c)))
    if len(bad):
        raise refuse(name, "counts", "whole numbers >= 0 (no missing or infinite counts)", bad)
    return c


def _v_trapezoid(ca: np.ndarray, cb: np.ndarray) -> tuple[float, float]:
    pa, pb = ca / ca.sum(), cb / cb.sum()
    below_b = np.concatenate([[0.0], np.cumsum(pb)[:-1]])
    auc = float(pa @ (below_b + pb / 2))
    above_a = np.concatenate([np.cumsum(pa[::-1])[::-1][1:], [0.0]])
    ga = below_b + pb / 2
    gb = above_a + pa / 2
    var = ((ga**2 @ pa - (ga @ pa) ** 2) / ca.sum() + (gb**2 @ pb - (gb @ pb) ** 2) / cb.sum())
    auc = min(max(auc, 1e-6), 1 - 1e-6)
    q = stats.norm.ppf(auc)
    v = float(np.sqrt(2) * q)
    return v, float(np.sqrt(2) / stats.norm.pdf(q) * np.sqrt(var))


def _v_binormal(fit) -> tuple[float, float]:
    mu, sig = fit.mu, np.exp(fit.s)
    sp = np.sqrt((sig[0] ** 2 + sig[1] ** 2) / 2)
    v = float((mu[0] - mu[1]) / sp)
    h, lay = fit.hessian, fit.layout
    if h is None:
        return v, float("nan")
    # gradient of V in (mu_a, s_a, mu_b, s_b) and border (gamma for the common-SD model)
    g_loc = np.zeros((2, 2))
    g_b = np.zeros(lay.m)
    g_loc[0, 0], g_loc[1, 0] = 1 / sp, -1 / sp
    dsp = np.array([sig[0] ** 2, sig[1] ** 2]) / (2 * sp)  # d sp / d s_g
    if lay.s_free.all():
        g_loc[:, 1] = -v / sp * dsp
    elif lay.gamma_free:
        g_b[-1] = -v / sp * dsp.sum()
    x_loc, x_b = h.solve(g_loc, g_b)
    return v, float(np.sqrt(max(np.sum(g_loc * x_loc) + g_b @ x_b, 0.0)))


def gaps(
    counts: pd.DataFrame,
    a: str,
    b: str,
    group: str = "unit_id",
    subgroup: str = "subgroup",
    by: Sequence[str] = ("state", "year", "grade", "subject"),
    levels: Sequence[str] | None = None,
    method: str = "binormal",
) -> GapResult:
    """V gaps between subgroups ``a`` and ``b`` of every unit, from level counts.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per unit, cell and subgroup with level count columns.
    a, b : str
        Subgroup labels (gap ``a - b``).
    group, subgroup : str
        Unit and subgroup columns.
    by : sequence of str
        Cell columns.
    levels : sequence of str, optional
        Level columns (default ``level_1, level_2, ...``).
    method : {"binormal", "trapezoid"}
        See :func:`v_statistic`.

    Returns
    -------
    GapResult

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"unit_id": ["d1", "d1"], "state": "CA", "year": 2005, "grade": 4,
    ...                   "subject": "math", "subgroup": ["white", "black"],
    ...                   "level_1": [10, 30], "level_2": [30, 40], "level_3": [40, 20], "level_4": [20, 10]})
    >>> round(float(gaps(c, "white", "black").estimates["estimate"].iloc[0]), 2)
    0.69
    """
    by = list(by)
    lev = list(levels) if levels is not None else sorted(
        (c for c in counts.columns if str(c).startswith("level_")), key=lambda c: int(str(c).split("_")[1]))
    require_columns(counts, [group, subgroup, *by, *lev], "counts", "group/subgroup/by/levels")
    if len(lev) < 2:
        raise ModelSpecificationError("table 'counts': gaps need at least 2 level columns (level_1, level_2, ...)")
    if method not in ("binormal", "trapezoid"):
        raise ModelSpecificationError(f"method must be 'binormal' or 'trapezoid', got {method!r}")
    log = SampleLog(n_in=len(counts), unit="subgroup rows")
    counts = counts.reset_index(drop=True)
    values = pd.DataFrame({c: as_numeric(counts, c, "counts", lower=0, integer=True) for c in lev})
    data, log = drop_missing(counts, [group, subgroup, *by], "counts", log)
    keep = data[data[subgroup].isin([a, b])]
    log.drop(f"subgroup not {a!r} or {b!r}", len(data) - len(keep))
    rows, n_missing = [], 0
    for key, unit in keep.groupby([group, *by], sort=True):
        ra, rb = unit[unit[subgroup] == a], unit[unit[subgroup] == b]
        if len(ra) != 1 or len(rb) != 1:
            log.drop("unit lacks the other subgroup", len(unit))
            continue
        va = values.loc[ra.index[0]].to_numpy(float)
        vb = values.loc[rb.index[0]].to_numpy(float)
        present = ~np.isnan(va) & ~np.isnan(vb)
        if (np.isnan(va) != np.isnan(vb)).any() or present.sum() < 2:
            log.drop("a missing level count", 2)
            n_missing += 2
            continue
        ca, cb = va[present], vb[present]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EstimationWarning)  # counted once below
                v, se = v_statistic(ca, cb, method)
        except ModelSpecificationError as exc:
            log.drop(f"V not estimable ({exc})", 2)
            continue
        except ConvergenceError:
            v, se = float("nan"), float("nan")
        rows.append({**dict(zip([group, *by], key, strict=True)), "quantity": "V", "method": method,
                     "estimate": v, "std_error": se, "n_a": int(ca.sum()), "n_b": int(cb.sum()), "a": a, "b": b})
    if n_missing:
        warnings.warn(f"table 'counts': dropped {n_missing} row(s) with a missing level count",
                      DroppedRowsWarning, stacklevel=2)
    res = GapResult(pd.DataFrame(rows), log, group=group, by=by)
    warn_flagged(res.estimates.assign(status="no standard error"), "gaps")
    return res
