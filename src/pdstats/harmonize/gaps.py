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

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.errors import ModelSpecificationError
from pdstats.harmonize.cell import fit_cell
from pdstats.harmonize.checks import require_columns
from pdstats.harmonize.results import GapResult
from pdstats.results import SampleLog

__all__ = ["smd", "v_statistic", "gaps"]


def smd(estimates: pd.DataFrame, a: str, b: str, group: str = "unit_id",
        subgroup: str = "subgroup", by: Sequence[str] = ("state", "year", "grade", "subject")) -> GapResult:
    """Standardized mean differences between subgroups ``a`` and ``b`` of each unit.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Tidy estimates (mean, se_mean, sd, se_sd, n) with a ``subgroup`` column.
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
    require_columns(estimates, [group, subgroup, *by, "mean", "se_mean", "sd", "se_sd", "n"],
                    "estimates", "group/subgroup/by")
    log = SampleLog(n_in=len(estimates), unit="subgroup estimates")
    keys = [group, *by]
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
    out = pd.DataFrame({"statistic": "smd", "estimate": d, "se": np.sqrt(var),
                        "n_a": both["n_a"], "n_b": both["n_b"]}).reset_index()
    out["a"], out["b"] = a, b
    return GapResult(out, log, group=group, by=by)


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
    ca, cb = np.asarray(counts_a, float), np.asarray(counts_b, float)
    if ca.shape != cb.shape or ca.ndim != 1 or len(ca) < 2:
        raise ModelSpecificationError("counts_a and counts_b must be equal-length level counts (2+ levels)")
    if ca.sum() <= 0 or cb.sum() <= 0:
        raise ModelSpecificationError("each group needs at least one student")
    if method == "trapezoid":
        return _v_trapezoid(ca, cb)
    if method != "binormal":
        raise ModelSpecificationError(f"method must be 'binormal' or 'trapezoid', got {method!r}")
    keep = (ca + cb) > 0  # levels nobody reached carry no information: merged away
    ca, cb = ca[keep], cb[keep]
    if len(ca) < 2:
        return float("nan"), float("nan")
    model = "hetop" if len(ca) >= 3 and min((ca > 0).sum(), (cb > 0).sum()) >= 3 else "homop"
    fit = fit_cell(np.vstack([ca, cb]), model)
    return _v_binormal(fit)


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
    log = SampleLog(n_in=len(counts), unit="subgroup rows")
    keep = counts[counts[subgroup].isin([a, b])]
    log.drop(f"subgroup not {a!r} or {b!r}", len(counts) - len(keep))
    rows = []
    for key, unit in keep.groupby([group, *by], sort=True):
        ra, rb = unit[unit[subgroup] == a], unit[unit[subgroup] == b]
        if len(ra) != 1 or len(rb) != 1:
            log.drop("unit lacks the other subgroup", len(unit))
            continue
        ca = ra[lev].fillna(0).to_numpy(float).ravel()
        cb = rb[lev].fillna(0).to_numpy(float).ravel()
        try:
            v, se = v_statistic(ca, cb, method)
        except ModelSpecificationError:
            log.drop("no students in a subgroup", 2)
            continue
        rows.append({**dict(zip([group, *by], key, strict=True)), "statistic": "V", "method": method,
                     "estimate": v, "se": se, "n_a": int(ca.sum()), "n_b": int(cb.sum()), "a": a, "b": b})
    return GapResult(pd.DataFrame(rows), log, group=group, by=by)
