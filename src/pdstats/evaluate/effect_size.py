"""Effect sizes of any ``pds.evaluate`` result: student-SD units, Hedges' g, improvement index.

For each row of a result's ``estimates`` (an effect ``b`` in outcome points with standard
error ``se``, interval ``[l, u]`` and ``df``), with ``N = n_T + n_C`` students:

* **student-SD units** (``scale = "student SD"``): ``b / SD`` with ``se / SD`` and the
  interval ``[l, u] / SD``, where ``SD`` is a named student-level SD of the outcome's
  scale (e.g. the NAEP national SD of the grade and subject on the harmonized scale), or
  by default the pooled within-arm SD of the trial. The SD is treated as known.
* **Hedges' g** (``"Hedges' g"``): ``g = omega b / S`` with ``S`` the pooled within-arm
  SD of the sample and the small-sample correction ``omega = 1 - 3 / (4N - 9)`` (Hedges
  1981, J. Educ. Statist. 6:107-128; What Works Clearinghouse Procedures and Standards
  Handbook v5.0, 2022, Appendix E). Its variance ``(se / S)^2 + g^2 / (2N)`` puts the
  design's own variance of ``b`` (so clustering and covariate adjustment carry over) in
  place of ``1/n_T + 1/n_C`` in the WWC formula ``(n_T + n_C) / (n_T n_C) + g^2 / (2N)``,
  which it equals for an unadjusted comparison of two equal arms. Interval
  ``g +- t(df) SE``.
* **WWC improvement index** (``"improvement index"``): ``100 (Phi(g) - 0.5)``, the
  expected change in percentile rank of an average control student (WWC Handbook v5.0,
  Appendix F), with the delta-method SE ``100 phi(g) SE(g)`` and the interval
  ``100 (Phi(g bounds) - 0.5)`` (monotone in ``g``).

A result supplies ``n_treated``, ``n_control`` and ``outcome_sd`` where it knows them
(:class:`~pdstats.evaluate.randomized_results.RandomizedResult`); otherwise pass them.
Rows that are not on the outcome's scale (a take-up first stage) are left out.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.results import IntervalResultsBase, SampleLog, critical_value

__all__ = ["EffectSizeResult", "effect_size", "hedges_correction"]

SCALES = ("student SD", "Hedges' g", "improvement index")


def hedges_correction(n: float) -> float:
    """Small-sample correction ``omega = 1 - 3 / (4N - 9)`` of Hedges (1981) / WWC v5.0.

    Examples
    --------
    >>> round(hedges_correction(40), 4)
    0.9801
    """
    if not np.isfinite(n) or n <= 3:
        raise ModelSpecificationError(f"Hedges' correction needs more than 3 students, got {n!r}")
    return 1.0 - 3.0 / (4.0 * n - 9.0)


def _positive(name: str, value: Any) -> float:
    ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value <= 0:
        raise ModelSpecificationError(f"argument {name!r} must be a positive number, got {value!r}")
    return float(value)


class EffectSizeResult(IntervalResultsBase):
    """Effect sizes of a ``pds.evaluate`` result (see :mod:`pdstats.evaluate.effect_size`).

    Attributes
    ----------
    estimates : pandas.DataFrame
        The source's key columns, ``scale`` (``"student SD"``, ``"Hedges' g"``,
        ``"improvement index"``), ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``,
        ``df``, and ``sd``/``sd_name`` (the SD divided by and what it is).
    """

    title = "Effect sizes"

    def __init__(self, estimates: pd.DataFrame, g: pd.DataFrame, sample_log: SampleLog,
                 info: dict[str, object]) -> None:
        self.estimates = estimates
        self._g = g
        self.sample_log = sample_log
        self._facts = info

    def _intervals(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        est = self.estimates
        q = critical_value(level, est["df"].to_numpy(dtype=float))
        lo = np.array(est["estimate"] - q * est["std_error"], dtype=float)
        hi = np.array(est["estimate"] + q * est["std_error"], dtype=float)
        ii = est["scale"].eq("improvement index").to_numpy()
        g = self._g.loc[ii]
        qg = critical_value(level, g["df"].to_numpy(dtype=float))
        lo[ii] = 100 * (stats.norm.cdf(g["estimate"] - qg * g["std_error"]) - 0.5)
        hi[ii] = 100 * (stats.norm.cdf(g["estimate"] + qg * g["std_error"]) - 0.5)
        return lo, hi

    def _info(self) -> dict[str, object]:
        return {**self._facts, **super()._info()}


def effect_size(result: Any, sd: float | None = None, sd_name: str | None = None,
                n_treated: int | None = None, n_control: int | None = None,
                pooled_sd: float | None = None) -> EffectSizeResult:
    """Effect sizes of every effect row of a ``pds.evaluate`` result.

    Parameters
    ----------
    result : pdstats result
        Any result with ``.estimates`` in outcome points (``estimate``, ``std_error``,
        optionally ``df``), e.g. :func:`~pdstats.evaluate.randomized`,
        :func:`~pdstats.evaluate.twfe`, ``staggered_did(...).aggregate(...)``.
    sd : float, optional
        Student-level SD for the SD-unit rows (e.g. the NAEP national SD of the grade and
        subject). Default: the result's pooled within-arm SD (``result.outcome_sd``).
    sd_name : str, optional
        What ``sd`` is (required with ``sd``), shown with every row.
    n_treated, n_control : int, optional
        Students per arm for Hedges' g (default from the result).
    pooled_sd : float, optional
        Pooled within-arm SD of the sample for Hedges' g (default ``result.outcome_sd``).

    Returns
    -------
    EffectSizeResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(3)
    >>> d = pd.DataFrame({"treated": np.tile([0, 1], 50)})
    >>> d["score"] = 250 + 10 * d["treated"] + rng.normal(0, 30, size=100)
    >>> r = pds.evaluate.randomized(d, "score", "treated", methods=["difference in means"])
    >>> es = pds.evaluate.effect_size(r, sd=32.0, sd_name="NAEP national SD, grade 8 math")
    >>> es.estimates["scale"].tolist()
    ['student SD', "Hedges' g", 'improvement index']
    """
    est = getattr(result, "estimates", None)
    if not isinstance(est, pd.DataFrame) or not {"estimate", "std_error"} <= set(est.columns):
        raise ModelSpecificationError("effect_size needs a pdstats result with .estimates "
                                      "(estimate, std_error)")
    keep = np.asarray(getattr(result, "outcome_scale", np.ones(len(est), bool)), dtype=bool)
    est = est.loc[keep].reset_index(drop=True)
    keys = [c for c in getattr(result, "key_columns", ["term"]) if c in est.columns
            and c not in ("design", "scale") and not c.startswith("cband_")]
    s_pool = pooled_sd if pooled_sd is not None else getattr(result, "outcome_sd", None)
    if sd is None:
        if s_pool is None:
            raise ModelSpecificationError(
                "pass sd= (a student-level SD of the outcome's scale) and sd_name=; this "
                "result does not carry the outcome's SD")
        sd, sd_name = s_pool, sd_name or "pooled within-arm SD of the outcome in the sample"
    sd = _positive("sd", sd)
    if not isinstance(sd_name, str) or not sd_name.strip():
        raise ModelSpecificationError("sd_name must say what the SD is (e.g. 'NAEP national "
                                      "student SD, grade 4 math 2007')")
    b = est["estimate"].to_numpy(dtype=float)
    se = est["std_error"].to_numpy(dtype=float)
    df = est["df"].to_numpy(dtype=float) if "df" in est else np.full(len(est), np.inf)
    base = est[keys].copy()
    frames = [base.assign(scale="student SD", estimate=b / sd, std_error=se / sd, df=df, sd=sd,
                          sd_name=sd_name)]
    n1 = n_treated if n_treated is not None else getattr(result, "n_treated", None)
    n0 = n_control if n_control is not None else getattr(result, "n_control", None)
    g = pd.DataFrame({"estimate": [], "std_error": [], "df": []})
    info: dict[str, object] = {"SD for student-SD units": f"{sd_name} = {sd:.4g}"}
    if n1 is None or n0 is None or s_pool is None:
        warnings.warn("Hedges' g and the improvement index need the students per arm and the "
                      "pooled within-arm SD (n_treated=, n_control=, pooled_sd=); only "
                      "student-SD units are reported", EstimationWarning, stacklevel=2)
    else:
        s_pool = _positive("pooled_sd", s_pool)
        n = _positive("n_treated", n1) + _positive("n_control", n0)
        omega = hedges_correction(n)
        gv = omega * b / s_pool
        gse = np.sqrt((se / s_pool) ** 2 + gv**2 / (2 * n))
        g = pd.DataFrame({"estimate": gv, "std_error": gse, "df": df})
        frames.append(base.assign(scale="Hedges' g", estimate=gv, std_error=gse, df=df,
                                  sd=s_pool, sd_name="pooled within-arm SD of the sample"))
        frames.append(base.assign(scale="improvement index",
                                  estimate=100 * (stats.norm.cdf(gv) - 0.5),
                                  std_error=100 * stats.norm.pdf(gv) * gse, df=df, sd=s_pool,
                                  sd_name="pooled within-arm SD of the sample"))
        info["Hedges' correction (omega)"] = f"{omega:.5f} (N = {n:g})"
    out = pd.concat(frames, ignore_index=True)
    out = out[[*keys, "scale", "estimate", "std_error", "df", "sd", "sd_name"]]
    n_rows = len(frames)
    g_all = pd.concat([g] * n_rows, ignore_index=True) if len(g) else \
        pd.DataFrame({"estimate": np.full(len(out), np.nan), "std_error": np.nan, "df": np.nan})
    res = EffectSizeResult(out, g_all, getattr(result, "sample_log", SampleLog(n_in=0)), info)
    lo, hi = res._intervals(0.95)
    out.insert(out.columns.get_loc("df"), "ci_lower", lo)
    out.insert(out.columns.get_loc("df"), "ci_upper", hi)
    return res
