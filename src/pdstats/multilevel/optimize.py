"""Step 4 of a fit: minimize the profiled deviance over the bounded covariance parameters.

The covariance parameters ``theta`` are the lower-triangular elements of the relative
covariance factors; their diagonal elements are bounded below by zero (lme4's
parametrization).  The default minimizer is Powell's BOBYQA from
NLopt, the optimizer lme4 uses (``nloptwrap``); scipy's L-BFGS-B with central-difference
gradients is the fallback when ``nlopt`` is not installed.
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
        optimizer); ``"lbfgsb"`` is scipy's L-BFGS-B with central-difference gradients.
        ``"auto"`` uses BOBYQA when the ``nlopt`` package is installed.
    maxeval : int
        Limit on deviance evaluations.
    xtol, ftol : float
        Absolute tolerances on theta and on the deviance.
    upper : numpy.ndarray, optional
        Upper bounds (default none).

    Returns
    -------
    OptimizationResult

    Examples
    --------
    >>> r = minimize_theta(lambda t: float((t[0] - 2) ** 2 + 1), np.array([1.0]), np.array([0.0]))
    >>> round(float(r.theta[0]), 4)
    2.0
    """
    count = [0]

    best: list = [np.inf, None]

    def f(x: np.ndarray) -> float:
        count[0] += 1
        val = fun(np.asarray(x, dtype=float))
        val = float(val) if np.isfinite(val) else 1e300
        if val < best[0]:
            best[0], best[1] = val, np.array(x, dtype=float)
        return val

    start = np.asarray(start, dtype=float)
    upper = np.full(len(start), np.inf) if upper is None else np.asarray(upper, dtype=float)
    if method == "auto":
        method = "bobyqa" if _nlopt_available() else "lbfgsb"
    if method == "bobyqa":
        import nlopt

        opt = nlopt.opt(nlopt.LN_BOBYQA, len(start))
        opt.set_min_objective(lambda x, grad: f(x))
        opt.set_lower_bounds(np.where(np.isfinite(lower), lower, -np.inf))
        opt.set_upper_bounds(upper)
        opt.set_xtol_abs(xtol)
        opt.set_ftol_abs(ftol)
        opt.set_maxeval(maxeval)
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
    if method != "lbfgsb":
        raise ModelSpecificationError(
            f"unknown optimizer {method!r}; use 'auto', 'bobyqa' or 'lbfgsb'")
    bounds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
              for lo, hi in zip(lower, upper, strict=True)]
    res = optimize.minimize(
        f,
        start,
        method="L-BFGS-B",
        jac="3-point",
        bounds=bounds,
        options={"maxfun": maxeval, "ftol": 1e-14, "gtol": 1e-9, "maxls": 50},
    )
    return OptimizationResult(
        np.asarray(res.x, dtype=float), float(res.fun), count[0], bool(res.success), str(res.message)
    )
