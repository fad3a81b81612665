"""The linear mixed model: specification and fit (the pipeline's front end).

``LMM(formula, data, ...)`` parses the formula and builds the model matrices;
``.fit()`` minimizes the profiled deviance and returns an
:class:`~pdstats.multilevel.results.LMMResult`.  :func:`lmm` does both in one call and is
exposed as ``pds.lmm``.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from pdstats.errors import ConvergenceError, EstimationWarning, ModelSpecificationError
from pdstats.multilevel._checks import check_design, response_offset
from pdstats.multilevel.design import Design, build_design
from pdstats.multilevel.deviance import (
    DevianceEvaluator,
    theta_lower_bounds,
    theta_moment_start,
)
from pdstats.multilevel.formula import ParsedFormula, parse_formula
from pdstats.multilevel.optimize import OptimizationResult, is_singular, minimize_theta
from pdstats.multilevel.results import LMMResult

__all__ = ["LMM", "lmm"]

_DDF = ("satterthwaite", "kenward-roger", "residual", "z")


class LMM:
    """A linear mixed-effects model in lme4's formulation.

    Parameters
    ----------
    formula : str
        lme4-style formula, e.g. ``"math ~ year + (year | childid) + (year | schoolid)"``.
    data : pandas.DataFrame
        One row per observation.
    weights : str or array-like, optional
        Prior weights (column name or values): residual variance ``sigma^2 / w``.
    known_variance : str or array-like, optional
        Known residual variance per row (the V-known model; ``sigma`` fixed at 1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(30), 6)
    >>> df = pd.DataFrame({"g": g, "x": rng.normal(size=180)})
    >>> df["y"] = 1 + 0.5 * df.x + rng.normal(size=30)[g] + rng.normal(size=180)
    >>> res = LMM("y ~ x + (1 | g)", df).fit()
    >>> res.fe.index.tolist()
    ['Intercept', 'x']
    """

    def __init__(
        self,
        formula: str,
        data: pd.DataFrame,
        weights: object = None,
        known_variance: object = None,
    ) -> None:
        self.formula = formula
        self.parsed = parse_formula(formula)
        self._attach(build_design(formula, self.parsed, data, weights=weights,
                                  known_variance=known_variance))

    def _attach(self, design: Design) -> None:
        """Check the design and build the deviance of its response net of a least-squares fit.

        The deviance is invariant to subtracting ``X @ offset`` from the response and the
        fixed effects shift by ``offset`` exactly, so a response far from zero (``y + 1e8``)
        does not cancel catastrophically in the penalized residual sum of squares.
        """
        offset = response_offset(design)
        check_design(design, offset)
        self.design = design
        self._offset = offset
        centred = dataclasses.replace(design, y=design.y - design.X @ offset)
        self.evaluator = DevianceEvaluator(centred)

    @classmethod
    def from_design(cls, formula: str, parsed: ParsedFormula, design: Design) -> LMM:
        """A model on an already built design (used to refit a new response)."""
        model = object.__new__(cls)
        model.formula, model.parsed = formula, parsed
        model._attach(design)
        return model

    def fit(
        self,
        reml: bool = True,
        ddf: str = "satterthwaite",
        optimizer: str = "auto",
        start: np.ndarray | None = None,
        on_nonconvergence: str = "warn",
    ) -> LMMResult:
        """Estimate the model.

        Parameters
        ----------
        reml : bool
            REML (default) or maximum likelihood.
        ddf : {"satterthwaite", "kenward-roger", "residual", "z"}
            Denominator df used by ``.fe`` (Satterthwaite by default; ``"z"`` gives
            normal-theory intervals; ``"residual"`` uses n - p).
        optimizer : {"auto", "bobyqa", "lbfgsb"}
            ``"auto"``: L-BFGS-B with the analytic gradient of the deviance where it is
            available (nested designs, and crossed or multiple-membership designs whose
            Schur complement is factored densely), falling back to BOBYQA if it stops
            abnormally; BOBYQA (lme4's optimizer) elsewhere.  See
            :func:`~pdstats.multilevel.optimize.minimize_theta`.
        start : numpy.ndarray, optional
            Starting theta (default: lme4's identity start; in crossed designs fitted with
            the gradient optimizer random intercepts start at a moment estimate, see
            :func:`~pdstats.multilevel.deviance.theta_moment_start`).
        on_nonconvergence : {"warn", "raise"}
            What to do when the convergence check fails.

        Returns
        -------
        LMMResult
        """
        ddf = ddf.lower() if isinstance(ddf, str) else ddf
        if ddf not in _DDF:
            raise ModelSpecificationError(f"ddf={ddf!r}; choose one of {_DDF}")
        terms = self.design.terms
        lower = theta_lower_bounds(terms)
        ev = self.evaluator
        # the moment start was measured with the gradient optimizer (which a sparse Schur
        # complement does not have): lme4's identity start elsewhere
        identity = ev.nested or not (ev.has_gradient and optimizer in ("auto", "lbfgsb"))
        if start is None:
            # the moment start works on least-squares residuals (the documented input), not y
            X, y = ev.design.X, ev.design.y
            resid = y if identity else y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
            x0 = theta_moment_start(terms, resid, identity)
        else:
            x0 = np.asarray(start, dtype=float)
        if x0.shape != lower.shape:
            raise ModelSpecificationError(f"start has {x0.size} values; the model has {lower.size}")
        try:
            return self._fit(reml, ddf, optimizer, x0, lower, on_nonconvergence)
        except (np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError) as exc:
            raise ConvergenceError(
                f"lmm {self.formula!r}: the penalized least-squares system could not be "
                f"factored ({type(exc).__name__}: {exc}); the model is not estimable from "
                f"these {self.design.n} rows as specified") from exc

    def _fit(self, reml: bool, ddf: str, optimizer: str, x0: np.ndarray, lower: np.ndarray,
             on_nonconvergence: str) -> LMMResult:
        ev = self.evaluator
        grad = (lambda th: ev.deviance_gradient(th, reml)) if ev.has_gradient else None
        opt = minimize_theta(lambda th: ev.deviance(th, reml), x0, lower, method=optimizer,
                             grad=grad)
        theta = opt.theta
        # tiny negative zero / round-off at the bound
        theta = np.where(np.isfinite(lower), np.maximum(theta, lower), theta)
        converged, message = self._check_convergence(theta, lower, reml, opt)
        if not converged:
            text = f"lmm {self.formula!r} may not have converged: {message}"
            if on_nonconvergence == "raise":
                raise ConvergenceError(text)
            warnings.warn(text, EstimationWarning, stacklevel=3)
        singular = is_singular(theta, lower)
        if singular:
            warnings.warn(
                f"lmm {self.formula!r}: singular fit (a random-effect variance is estimated at "
                "or near zero, or a correlation at +/-1); consider simplifying the random part",
                EstimationWarning,
                stacklevel=3,
            )
        sol = ev.solve(theta)
        sol = dataclasses.replace(sol, beta=sol.beta + self._offset)
        if not (np.isfinite(sol.beta).all() and np.isfinite(sol.RXinv).all()
                and np.isfinite(ev.objective(sol, reml))):
            raise ConvergenceError(
                f"lmm {self.formula!r}: the fit ended in non-finite numbers (overflow or a "
                "degenerate design); the model is not estimable from these data as specified")
        return LMMResult(
            model=self,
            solution=sol,
            reml=reml,
            ddf=ddf,
            optimization=opt,
            converged=converged,
            convergence_message=message,
            singular=singular,
        )

    def _check_convergence(
        self, theta: np.ndarray, lower: np.ndarray, reml: bool, opt: OptimizationResult
    ) -> tuple[bool, str]:
        """Newton-step check: each free theta would move by < 1e-3 (relative) per coordinate.

        The step is gradient / curvature per coordinate from finite differences of step
        ``h = 1e-4 max(1, |theta|)``: central ones for both, or -- when the optimizer
        returned the analytic gradient at theta -- that gradient and the curvature
        ``2 (f(theta + h) - f(theta) - h g) / h^2`` (one evaluation per coordinate).
        """
        if not opt.converged:
            return False, opt.message
        ev = self.evaluator
        same = np.array_equal(theta, opt.theta)
        f0 = (opt.deviance if same and np.isfinite(opt.deviance)
              else ev.deviance(theta, reml))
        grad = opt.gradient if same else None
        worst = 0.0
        for i in range(len(theta)):
            h = 1e-4 * max(1.0, abs(theta[i]))
            if np.isfinite(lower[i]) and theta[i] - h < lower[i]:
                continue  # on or near the bound: the gradient need not vanish
            e = np.zeros_like(theta)
            e[i] = h
            fp = ev.deviance(theta + e, reml)
            if grad is not None:
                g = grad[i]
                curv = 2.0 * (fp - f0 - h * g) / h**2
            else:
                fm = ev.deviance(theta - e, reml)
                g = (fp - fm) / (2 * h)
                curv = (fp - 2 * f0 + fm) / h**2
            if curv <= 0:
                continue
            worst = max(worst, abs(g / curv) / max(1.0, abs(theta[i])))
        if worst > 1e-3:
            return False, f"a Newton step from the optimum would move theta by {worst:.2g} (relative)"
        return True, opt.message


def lmm(
    formula: str,
    data: pd.DataFrame,
    reml: bool = True,
    weights: object = None,
    known_variance: object = None,
    ddf: str = "satterthwaite",
    optimizer: str = "auto",
) -> LMMResult:
    """Fit a linear mixed-effects model with an lme4-style formula.

    Parameters
    ----------
    formula : str
        ``"y ~ fixed + (expr | group) + ..."``; grouping may be nested (``g1/g2``),
        an interaction (``g1:g2``) or crossed (separate terms); ``(expr || g)`` gives
        uncorrelated effects; ``(1 | mm(t1 + t2, w1 + w2))`` gives multiple-membership
        intercepts (see :mod:`pdstats.multilevel.membership` for what it supports).
    data : pandas.DataFrame
        One row per observation; rows with missing values in used variables are dropped
        and counted in ``result.sample_log``.
    reml : bool
        REML (default) or maximum likelihood.
    weights : str or array-like, optional
        Prior weights: residual variance of row i is ``sigma^2 / weights[i]``.
    known_variance : str or array-like, optional
        Known residual variance of each row (V-known model, e.g. estimated district means
        with their squared standard errors); ``sigma`` is then fixed at 1.
    ddf : {"satterthwaite", "kenward-roger", "residual", "z"}
        Denominator degrees of freedom for the fixed-effects table.
    optimizer : {"auto", "bobyqa", "lbfgsb"}
        Optimizer of the profiled deviance: ``"auto"`` is L-BFGS-B with the analytic
        gradient where available, else BOBYQA (see :meth:`LMM.fit`).

    Returns
    -------
    LMMResult

    Examples
    --------
    >>> import pdstats as pds
    >>> from pdstats.data.datasets import load_rdataset
    >>> eg = load_rdataset("mlmRev", "egsingle")
    >>> res = pds.lmm("math ~ year + (year | childid) + (year | schoolid)", eg)
    >>> res.fe["estimate"].round(4).tolist()
    [-0.7792, 0.7631]
    """
    res = LMM(formula, data, weights=weights, known_variance=known_variance).fit(
        reml=reml, ddf=ddf, optimizer=optimizer
    )
    if res.ddf == "kenward-roger":  # its adjusted covariance can fail to be positive definite:
        res.estimates  # noqa: B018 - then it fails here, at the public edge
    return res
