"""HonestDiD sensitivity (Rambachan & Roth 2023) of any event study: ``honest_did``.

The robust confidence sets come from ``moderndid``'s port of the R HonestDiD package
(relative magnitudes: conditional least-favourable hybrid; smoothness: FLCI), checked
against the HonestDiD README's documented example (see ``pdstats/evaluate/README.md``).
pdstats supplies the event-time coefficients and their covariance from any of its
event studies, and the result contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError
from pdstats.evaluate.results import AggregateResult, DiDResultBase, EventStudyResult
from pdstats.results import SampleLog, check_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["honest_did", "HonestDiDResult", "event_study_moments"]


class HonestDiDResult(DiDResultBase):
    """Robust confidence sets for a post-treatment effect as the restriction loosens.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per restriction value: ``restriction`` (``"relative_magnitude"``:
        Mbar; ``"smoothness"``: M), ``m``, ``ci_lower``, ``ci_upper``, ``method``; the
        first row (``m`` missing, method ``"original"``) is the usual interval.
        ``estimate`` is the event-study point estimate of the target, ``std_error``
        its SE; the intervals are not estimate +- q x SE.
    breakdown : float
        Smallest restriction value whose interval contains 0 (NaN if none).
    """

    title = "HonestDiD sensitivity analysis"

    def __init__(self, estimates: pd.DataFrame, target: str, log: SampleLog) -> None:
        self.estimates = estimates
        self.target = target
        self.sample_log = log
        robust = estimates[estimates["method"] != "original"]
        covers = robust[(robust["ci_lower"] <= 0) & (robust["ci_upper"] >= 0)]
        self.breakdown = float(covers["m"].min()) if len(covers) else float("nan")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """The robust intervals (computed at the level of the call only)."""
        check_level(level)
        return self.estimates[["restriction", "m", "method", "ci_lower", "ci_upper"]].copy()

    def _info(self) -> dict[str, object]:
        return {"Target": self.target, "Breakdown value": f"{self.breakdown:.4g}",
                **super()._info()}

    def plot(self, ax: Axes | None = None) -> Axes:
        """Robust intervals against the restriction value, beside the original interval."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        e = self.estimates.reset_index(drop=True)
        x = np.arange(len(e))
        ax.vlines(x, e["ci_lower"], e["ci_upper"], lw=3)
        ax.set_xticks(x, ["original" if m == "original" else f"{v:g}"
                          for m, v in zip(e["method"], e["m"], strict=False)])
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel("M" if e["restriction"].iloc[-1] == "smoothness" else "Mbar")
        ax.set_ylabel(self.target)
        return ax


def event_study_moments(es: EventStudyResult | AggregateResult
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event times, coefficients and covariance of an event study (reference period left out).

    Examples
    --------
    >>> est = pd.DataFrame({"event_time": [-2, 0], "estimate": [0.1, 1.0], "std_error": [0.1, 0.2]})
    >>> r = EventStudyResult("es", est, est.iloc[:0], np.diag([0.01, 0.04]), SampleLog(4), {})
    >>> [a.tolist() for a in event_study_moments(r)][:2]
    [[-2, 0], [0.1, 1.0]]
    """
    if isinstance(es, AggregateResult):
        if es.kind not in ("event", "dynamic"):
            raise ModelSpecificationError("honest_did needs an event-study aggregation "
                                          "(result.aggregate('event'))")
        inf = es.influence
        n = inf.shape[0]
        vcov = inf.T @ inf / n**2
        # the correlations of the influence functions, the variances the result reports
        # (the small-sample ones by default)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = es.estimates["std_error"].to_numpy(dtype=float) / np.sqrt(np.diag(vcov))
        vcov = vcov * np.outer(scale, scale)
    elif isinstance(es, EventStudyResult):
        if es.vcov is None:
            raise ModelSpecificationError(f"{es.title} carries no covariance of its coefficients")
        vcov = es.vcov
    else:
        raise ModelSpecificationError("honest_did takes an EventStudyResult or an event-study "
                                      f"AggregateResult, not {type(es).__name__}")
    e = es.estimates["event_time"].to_numpy(dtype=int)
    beta = es.estimates["estimate"].to_numpy(dtype=float)
    keep = np.isfinite(beta) & np.isfinite(np.diag(vcov))
    return e[keep], beta[keep], np.asarray(vcov, dtype=float)[np.ix_(keep, keep)]


def honest_did(event_study: Any, restriction: str = "relative_magnitude",
               m: Sequence[float] | None = None, event_time: int | Sequence[float] = 0,
               level: float = 0.95, grid_points: int = 1000,
               betahat: np.ndarray | None = None, sigma: np.ndarray | None = None,
               num_pre: int | None = None) -> HonestDiDResult:
    """Sensitivity of an event-study effect to violations of parallel trends.

    Parameters
    ----------
    event_study : EventStudyResult or AggregateResult or None
        ``sun_abraham``, ``imputation`` or ``staggered_did(...).aggregate("event")``
        output; None with ``betahat``/``sigma``/``num_pre`` given directly.
    restriction : {"relative_magnitude", "smoothness"}
        Post-treatment violations at most Mbar times the largest pre-treatment one, or
        a slope change of at most M per period.
    m : sequence of float, optional
        Values of Mbar (default 0.5, 1, 1.5, 2) or M (default 0 to 5 pre-period SEs).
    event_time : int or sequence of float
        Target: the effect at this event time, or weights over the post periods.
    level : float
        Confidence level.
    grid_points : int
        Grid of the test inversion (relative magnitudes).
    betahat, sigma, num_pre : optional
        Raw coefficients (pre then post, reference left out), covariance and number of
        pre-periods, instead of ``event_study``.

    Returns
    -------
    HonestDiDResult

    Examples
    --------
    >>> import numpy as np, pdstats as pds
    >>> b = np.array([0.01, -0.01, 0.0, 0.5, 0.6])
    >>> S = np.diag([0.02, 0.02, 0.02, 0.05, 0.05]) ** 2
    >>> r = pds.evaluate.honest_did(None, "smoothness", m=[0, 0.05], betahat=b, sigma=S, num_pre=3)
    >>> r.estimates["method"].tolist()
    ['original', 'FLCI', 'FLCI']
    """
    import warnings

    from moderndid import (
        construct_original_cs,
        create_sensitivity_results_rm,
        create_sensitivity_results_sm,
    )

    level = check_level(level)
    if restriction not in ("relative_magnitude", "smoothness"):
        raise ModelSpecificationError(
            f"restriction={restriction!r}; choose 'relative_magnitude' or 'smoothness'")
    if event_study is None:
        if betahat is None or sigma is None or num_pre is None:
            raise ModelSpecificationError("give an event study or betahat, sigma and num_pre")
        beta = np.asarray(betahat, dtype=float)
        vcov = np.asarray(sigma, dtype=float)
        n_pre = int(num_pre)
        post_times = np.arange(len(beta) - n_pre)
        log = SampleLog(n_in=len(beta), unit="coefficients")
    else:
        e, beta, vcov = event_study_moments(event_study)
        pre = e < 0
        if not pre.any() or pre.all():
            raise ModelSpecificationError("honest_did needs pre- and post-treatment coefficients")
        order = np.argsort(e)
        e, beta, vcov = e[order], beta[order], vcov[np.ix_(order, order)]
        n_pre = int(pre.sum())
        post_times = e[e >= 0]
        log = event_study.sample_log
    n_post = len(beta) - n_pre
    if np.ndim(event_time) == 0:
        if int(event_time) not in set(post_times.tolist()):
            raise ModelSpecificationError(
                f"event_time={event_time} is not a post-treatment period {post_times.tolist()}")
        l_vec = (post_times == int(event_time)).astype(float)
        target = f"effect at event time {int(event_time)}"
    else:
        l_vec = np.asarray(event_time, dtype=float)
        if l_vec.shape != (n_post,):
            raise ModelSpecificationError(f"event_time weights need {n_post} values")
        target = "weighted post-treatment effect"
    se_pre = float(np.sqrt(np.mean(np.diag(vcov)[:n_pre])))
    if m is None:
        m = [0.5, 1.0, 1.5, 2.0] if restriction == "relative_magnitude" else \
            list(np.linspace(0, 5 * se_pre, 6))
    m = [float(v) for v in m]
    if any(v < 0 or not np.isfinite(v) for v in m):
        raise ModelSpecificationError("restriction values m must be finite and >= 0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        orig = construct_original_cs(beta, vcov, n_pre, n_post, l_vec=l_vec, alpha=1 - level)
        if restriction == "relative_magnitude":
            out = create_sensitivity_results_rm(beta, vcov, n_pre, n_post, m_bar_vec=m,
                                                l_vec=l_vec, alpha=1 - level,
                                                grid_points=int(grid_points))
        else:
            out = create_sensitivity_results_sm(beta, vcov, n_pre, n_post, m_vec=m, l_vec=l_vec,
                                                alpha=1 - level)
    out = out.to_pandas() if hasattr(out, "to_pandas") else pd.DataFrame(out)
    mcol = next(c for c in out.columns if c.lower() in ("m_bar", "mbar", "m"))  # RM: "Mbar"
    point = float(l_vec @ beta[n_pre:])
    se = float(np.sqrt(l_vec @ vcov[n_pre:, n_pre:] @ l_vec))
    rows = [{"restriction": restriction, "m": np.nan, "method": "original", "estimate": point,
             "std_error": se, "ci_lower": float(orig.lb), "ci_upper": float(orig.ub)}]
    rows += [{"restriction": restriction, "m": float(r[mcol]), "method": str(r["method"]),
              "estimate": point, "std_error": se, "ci_lower": float(r["lb"]),
              "ci_upper": float(r["ub"])} for _, r in out.iterrows()]
    return HonestDiDResult(pd.DataFrame(rows), target, log)
