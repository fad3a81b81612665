"""Step 4 of a fit: minimize the profiled deviance over the bounded covariance parameters.

The covariance parameters ``theta`` are the lower-triangular elements of the relative
covariance factors; their diagonal elements are bounded below by zero (lme4's
parametrization).  When the analytic gradient of the deviance is available
(:meth:`~pdstats.multilevel.deviance.DevianceEvaluator.deviance_gradient`: nested designs
and crossed designs with a dense Schur complement) the default minimizer is scipy's
L-BFGS-B with that gradient and the bounds; it needs far fewer deviance evaluations than a
derivative-free method (InstEval: about 20 gradient evaluations against 120 deviance
evaluations).  Otherwise -- and as a fallback when L-BFGS-B stops abnormally -- it is
Powell's derivative-free BOBYQA from NLopt, the optimizer lme4 uses (``nloptwrap``);
without ``nlopt`` installed, L-BFGS-B with central-difference gradients.  Either way the
fit's convergence check (``LMM._check_convergence``) is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from pdstats.errors import ModelSpecificationError

__all__ = ["OptimizationResult", "minimize_theta", "is_singular"]


@dataclass(frozen=True)
class OptimizationResult:
    """Outcome of the theta optimization."""

    theta: np.ndarray
    deviance: float
    n_evaluations: int
    converged: bool
    message: str
    gradient: np.ndarray | None = None  # at theta, when the optimizer had the analytic one


def is_singular(theta: np.ndarray, lower: np.ndarray, tol: float = 1e-4) -> bool:
    """lme4's ``isSingular`` rule: a bounded (diagonal) theta element within ``tol`` of 0.

    Examples
    --------
    >>> is_singular(np.array([0.5, 0.0]), np.array([0.0, 0.0]))
    True
    """
    bounded = np.isfinite(lower)
    return bool(np.any(theta[bounded] - lower[bounded] < tol))


def _nlopt_available() -> bool:
    try:
        import nlopt  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


def minimize_theta(
    fun: Callable[[np.ndarray], float],
    start: np.ndarray,
    lower: np.ndarray,
    method: str = "auto",
    maxeval: int = 100_000,
    xtol: float = 1e-8,
    ftol: float = 1e-10,
    upper: np.ndarray | None = None,
    grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> OptimizationResult:
    """Minimize ``fun(theta)`` subject to ``theta >= lower``.

    Parameters
    ----------
    fun : callable
        Deviance as a function of theta (returns ``inf`` where undefined).
    start : numpy.ndarray
        Starting value.
    lower : numpy.ndarray
        Lower bounds (``-inf`` for unbounded elements).
    method : {"auto", "bobyqa", "lbfgsb"}
        ``"bobyqa"`` is Powell's derivative-free BOBYQA from NLopt (lme4's default
        optimizer); ``"lbfgsb"`` is scipy's L-BFGS-B, with the analytic gradient ``grad``
        when given, else with central-difference gradients.  ``"auto"`` uses L-BFGS-B
        when ``grad`` is given (falling back to BOBYQA from its end point when it stops
        abnormally or ends where the projected gradient is not small), else BOBYQA when
        the ``nlopt`` package is installed.
    maxeval : int
        Limit on deviance evaluations.
    xtol, ftol : float
        Absolute tolerances on theta and on the deviance (BOBYQA).
    upper : numpy.ndarray, optional
        Upper bounds (default none).
    grad : callable, optional
        ``grad(theta) -> (deviance, gradient)``.

    Returns
    -------
    OptimizationResult
        ``n_evaluations`` counts deviance evaluations, a gradient evaluation as one.

    Examples
    --------
    >>> r = minimize_theta(lambda t: float((t[0] - 2) ** 2 + 1), np.array([1.0]), np.array([0.0]))
    >>> round(float(r.theta[0]), 4)
    2.0
    >>> r = minimize_theta(lambda t: float((t[0] - 2) ** 2 + 1), np.array([1.0]), np.array([0.0]),
    ...                    grad=lambda t: (float((t[0] - 2) ** 2 + 1), 2 * (t - 2)))
    >>> round(float(r.theta[0]), 4), r.message.startswith("L-BFGS-B")
    (2.0, True)
    """
    count = [0]
    best: list = [np.inf, None]

    def track(x: np.ndarray, val: float) -> float:
        count[0] += 1
        val = float(val) if np.isfinite(val) else 1e300
        if val < best[0]:
            best[0], best[1] = val, np.array(x, dtype=float)
        return val

    def f(x: np.ndarray) -> float:
        return track(x, fun(np.asarray(x, dtype=float)))

    memo: dict = {}

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        key = np.asarray(x, dtype=float).tobytes()
        if key not in memo:  # the start is evaluated once, for the scale of the tolerance
            val, g = grad(np.asarray(x, dtype=float))
            val = track(x, val)
            memo.clear()
            memo[key] = val, (np.asarray(g, dtype=float) if val < 1e300 else np.zeros(len(x)))
        return memo[key]

    start = np.asarray(start, dtype=float)
    upper = np.full(len(start), np.inf) if upper is None else np.asarray(upper, dtype=float)
    if method == "auto":
        method = "lbfgsb" if grad is not None or not _nlopt_available() else "bobyqa"
    if method == "bobyqa":
        return _bobyqa(f, start, lower, upper, maxeval, xtol, ftol, count, best)
    if method != "lbfgsb":
        raise ModelSpecificationError(
            f"unknown optimizer {method!r}; use 'auto', 'bobyqa' or 'lbfgsb'")
    bounds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
              for lo, hi in zip(lower, upper, strict=True)]
    if grad is None:
        res = optimize.minimize(f, start, method="L-BFGS-B", jac="3-point", bounds=bounds,
                                options={"maxfun": maxeval, "ftol": 1e-14, "gtol": 1e-9,
                                         "maxls": 50})
        return OptimizationResult(np.asarray(res.x, dtype=float), float(res.fun), count[0],
                                  bool(res.success), str(res.message))
    # projected-gradient tolerance relative to the deviance at the start: gradients are
    # only as exact as the deviance's rounding, so an absolute one can leave the line
    # search probing round-off (Penicillin: 58 wasted evaluations at gtol 1e-6)
    gtol = _LBFGSB_GTOL * max(1.0, abs(fg(start)[0]))

    def lbfgsb(x0: np.ndarray) -> optimize.OptimizeResult:
        return optimize.minimize(fg, x0, method="L-BFGS-B", jac=True, bounds=bounds,
                                 options={"maxfun": max(1, maxeval - count[0]),
                                          "ftol": _LBFGSB_FTOL, "gtol": gtol, "maxls": 20})

    res = lbfgsb(start)
    restarts = 0
    while res.success and restarts < _MAX_RESTARTS:
        # A variance parameter on its bound is a stationary point whatever the data say
        # (the deviance is even in it), so a gradient method cannot leave it: probe just
        # off the bound and restart from there when that is lower (lme4's restart_edge).
        probe = _off_edge(f, np.asarray(res.x, dtype=float), float(res.fun), lower)
        if probe is None:
            break
        restarts += 1
        again = lbfgsb(probe)
        if again.fun < res.fun:
            res = again
    note = f", restarted off the bound {restarts} time(s)" if restarts else ""
    pg = np.where((res.x - lower <= 0) & (res.jac > 0), 0.0, res.jac)  # projected gradient
    if res.success and np.max(np.abs(pg), initial=0.0) > _FINAL_GRAD * max(1.0, abs(res.fun)):
        res.success, res.message = False, f"gradient {np.max(np.abs(pg)):.2g} at the end"
    if res.success or not _nlopt_available():
        return OptimizationResult(np.asarray(res.x, dtype=float), float(res.fun), count[0],
                                  bool(res.success), f"L-BFGS-B: {res.message}{note}",
                                  np.asarray(res.jac, dtype=float))
    # abnormal stop (line search failure near a kink or a bound): BOBYQA from the best point
    out = _bobyqa(f, best[1], lower, upper, maxeval, xtol, ftol, count, best)
    return OptimizationResult(out.theta, out.deviance, out.n_evaluations, out.converged,
                              f"L-BFGS-B ({res.message}), then {out.message}")


def _off_edge(f: Callable[[np.ndarray], float], x: np.ndarray, fx: float,
              lower: np.ndarray) -> np.ndarray | None:
    """The best point ``_EDGE_STEP`` off the bound along one bounded coordinate that sits
    on it, if its deviance is lower than ``fx``; else None."""
    best, where = fx, None
    for j in np.flatnonzero(np.isfinite(lower) & (x - lower < _EDGE)):
        xp = x.copy()
        xp[j] = lower[j] + _EDGE_STEP
        fp = f(xp)
        if fp < best:
            best, where = fp, xp
    return where


#: A bounded theta element within ``_EDGE`` of its bound is probed ``_EDGE_STEP`` off it;
#: at most ``_MAX_RESTARTS`` restarts.
_EDGE = 1e-4
_EDGE_STEP = 1e-3
_MAX_RESTARTS = 3

#: L-BFGS-B stops when the relative reduction of the deviance falls below ``_LBFGSB_FTOL``
#: or every projected gradient element below ``_LBFGSB_GTOL`` times the deviance at the start.
_LBFGSB_FTOL = 1e-14
_LBFGSB_GTOL = 1e-8
#: An end point whose projected gradient exceeds ``_FINAL_GRAD * max(1, |deviance|)`` is
#: not accepted from L-BFGS-B (BOBYQA continues from it).
_FINAL_GRAD = 1e-5


def _bobyqa(f: Callable[[np.ndarray], float], start: np.ndarray, lower: np.ndarray,
            upper: np.ndarray, maxeval: int, xtol: float, ftol: float, count: list,
            best: list) -> OptimizationResult:
    """NLopt's BOBYQA; at NLopt's roundoff limit the best point is kept (as lme4)."""
    import nlopt

    opt = nlopt.opt(nlopt.LN_BOBYQA, len(start))
    opt.set_min_objective(lambda x, grad: f(x))
    opt.set_lower_bounds(np.where(np.isfinite(lower), lower, -np.inf))
    opt.set_upper_bounds(upper)
    opt.set_xtol_abs(xtol)
    opt.set_ftol_abs(ftol)
    opt.set_maxeval(max(1, maxeval - count[0]))
    try:
        x = opt.optimize(start)
    except nlopt.RoundoffLimited:
        # as lme4's nloptwrap: keep the best point; the caller's convergence check judges it
        if best[1] is None:
            raise
        return OptimizationResult(best[1], best[0], count[0], True,
                                  "NLopt BOBYQA stopped at the roundoff limit (best point kept)")
    code = opt.last_optimize_result()
    converged = code > 0 and code != nlopt.MAXEVAL_REACHED
    return OptimizationResult(
        np.asarray(x, dtype=float), float(opt.last_optimum_value()), count[0], converged,
        f"NLopt BOBYQA return code {code}",
    )
