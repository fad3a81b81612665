"""Profile-likelihood intervals for the variance parameters (lme4's ``confint(method="profile")``).

The variance parameters are put on lme4's standard-deviation / correlation scale: for
every random-effects term its SDs and correlations (in the order of ``theta``), then the
residual SD ``sigma``.  The deviance as a function of these parameters, with the fixed
effects profiled out and ``sigma`` *not* profiled, is lme4's ``devfun2`` (the REML
criterion for REML fits).  For parameter ``phi_i`` the profile deviance
``d_i(c) = min { d(phi) : phi_i = c }`` is minimized over the other parameters, and the
interval is ``{c : d_i(c) - d_min <= chi2_1(level)}``, found by bracketing and Brent's
root finder.  An end sits on the parameter's bound (SD 0, correlation +/-1) when the
profile stays below the cut-off up to the bound.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize, stats

from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.multilevel.optimize import minimize_theta

if TYPE_CHECKING:  # pragma: no cover
    from pdstats.multilevel.results import LMMResult

__all__ = ["VarParScale", "profile_varpar"]


class VarParScale:
    """The SD / correlation parametrization of a fit's variance parameters.

    Parameters
    ----------
    res : LMMResult
        A fitted model.

    Attributes
    ----------
    labels : pandas.DataFrame
        group, term1, term2 and kind (``"sd"`` or ``"corr"``) of every parameter, in order.
    estimate : numpy.ndarray
        The parameters at the fit.
    lower, upper : numpy.ndarray
        Bounds (0 for SDs, -1 / 1 for correlations).

    Examples
    --------
    >>> import numpy as np, pdstats as pds
    >>> from pdstats.data.datasets import load_rdataset
    >>> fit = pds.lmm("Reaction ~ Days + (Days | Subject)", load_rdataset("lme4", "sleepstudy"))
    >>> scale = VarParScale(fit)
    >>> scale.labels["kind"].tolist()
    ['sd', 'corr', 'sd', 'sd']
    >>> theta, sigma = scale.to_theta(scale.estimate)
    >>> bool(np.allclose(theta, fit.theta))
    True
    """

    def __init__(self, res: LMMResult) -> None:
        self.res = res
        self.terms = res._design.terms
        self.sigma_known = res._design.sigma_known
        rows = []
        seen: dict[str, int] = {}
        for t in self.terms:
            group = t.group if t.group not in seen else f"{t.group}.{seen[t.group]}"
            seen[t.group] = seen.get(t.group, 0) + 1
            for j in range(t.k):
                for i in range(j, t.k):
                    if i == j:
                        rows.append((group, t.names[i], None, "sd"))
                    else:
                        rows.append((group, t.names[j], t.names[i], "corr"))
        if not self.sigma_known:
            rows.append(("Residual", None, None, "sd"))
        self.labels = pd.DataFrame(rows, columns=["group", "term1", "term2", "kind"])
        kind = self.labels["kind"].to_numpy()
        self.lower = np.where(kind == "sd", 0.0, -1.0)
        self.upper = np.where(kind == "sd", np.inf, 1.0)
        self.estimate = self.from_theta(res.theta, res.sigma)

    def from_theta(self, theta: np.ndarray, sigma: float) -> np.ndarray:
        """SDs and correlations from ``theta`` and ``sigma``."""
        out: list[float] = []
        pos = 0
        for t in self.terms:
            T = np.zeros((t.k, t.k))
            for j in range(t.k):
                for i in range(j, t.k):
                    T[i, j] = theta[pos]
                    pos += 1
            S = sigma**2 * (T @ T.T)
            sd = np.sqrt(np.diag(S))
            for j in range(t.k):
                for i in range(j, t.k):
                    if i == j:
                        out.append(sd[i])
                    else:
                        ok = sd[i] > 0 and sd[j] > 0
                        out.append(S[i, j] / (sd[i] * sd[j]) if ok else 0.0)
        if not self.sigma_known:
            out.append(sigma)
        return np.array(out)

    def to_theta(self, phi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """``(theta, sigma)`` from SDs and correlations; ``None`` when not a covariance."""
        sigma = 1.0 if self.sigma_known else float(phi[-1])
        if sigma <= 0:
            return None
        theta: list[float] = []
        pos = 0
        for t in self.terms:
            sd = np.zeros(t.k)
            R = np.eye(t.k)
            for j in range(t.k):
                for i in range(j, t.k):
                    if i == j:
                        sd[i] = phi[pos]
                    else:
                        R[i, j] = R[j, i] = phi[pos]
                    pos += 1
            L = _psd_cholesky(R * np.outer(sd, sd))
            if L is None:
                return None
            L /= sigma
            for j in range(t.k):
                for i in range(j, t.k):
                    theta.append(L[i, j])
        return np.array(theta), sigma

    def deviance(self, phi: np.ndarray) -> float:
        """lme4's ``devfun2``: deviance (or REML criterion) at SDs/correlations ``phi``."""
        conv = self.to_theta(phi)
        if conv is None:
            return np.inf
        theta, sigma = conv
        ev, reml = self.res._evaluator, self.res.reml
        try:
            if self.sigma_known:
                return ev.deviance(theta, reml)
            return ev.deviance_varpar(theta, sigma, reml)
        except np.linalg.LinAlgError:
            return np.inf


def _psd_cholesky(S: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor of a positive semi-definite matrix (zero columns allowed)."""
    k = S.shape[0]
    L = np.zeros_like(S)
    scale = max(1.0, float(np.max(np.abs(np.diag(S)))))
    for j in range(k):
        d = S[j, j] - L[j, :j] @ L[j, :j]
        if d < -1e-10 * scale:
            return None
        L[j, j] = np.sqrt(max(d, 0.0))
        for i in range(j + 1, k):
            r = S[i, j] - L[i, :j] @ L[j, :j]
            if L[j, j] > 0:
                L[i, j] = r / L[j, j]
            elif abs(r) > 1e-8 * scale:
                return None
    return L


def profile_varpar(res: LMMResult, level: float = 0.95, criterion: str = "ml") -> pd.DataFrame:
    """Profile-likelihood intervals for the SDs, correlations and residual SD of a fit.

    Parameters
    ----------
    res : LMMResult
        A fitted model.
    level : float
        Confidence level.
    criterion : {"ml", "reml"}
        Deviance that is profiled.  ``"ml"`` (default) profiles the likelihood, as lme4's
        ``confint(method = "profile")`` does for ML *and* REML fits (a REML fit is refitted
        by ML to find the profile's minimum); ``"reml"`` profiles the REML criterion of a
        REML fit instead.  ``estimate`` is always the fit's own estimate.

    Returns
    -------
    pandas.DataFrame
        group, term1, term2, kind (``"sd"`` / ``"corr"``), estimate, ci_lower, ci_upper.

    Examples
    --------
    lme4's ``confint(lmer(Yield ~ 1 + (1 | Batch), Dyestuff))`` gives 12.20 to 84.06 for
    the batch SD and 38.23 to 67.66 for the residual SD:

    >>> import pdstats as pds
    >>> from pdstats.data.datasets import load_rdataset
    >>> fit = pds.lmm("Yield ~ 1 + (1 | Batch)", load_rdataset("lme4", "Dyestuff"))
    >>> profile_varpar(fit)[["ci_lower", "ci_upper"]].round(2).to_numpy().tolist()
    [[12.2, 84.06], [38.23, 67.66]]
    """
    criterion = criterion.lower()
    if criterion not in ("ml", "reml"):
        raise ModelSpecificationError(f"criterion={criterion!r}; use 'ml' or 'reml'")
    if criterion == "reml" and not res.reml:
        raise ModelSpecificationError("criterion='reml' needs a REML fit")
    base = res
    if res.reml and criterion == "ml":
        with warnings.catch_warnings():  # the fit itself already warned about singularity
            warnings.simplefilter("ignore", EstimationWarning)
            base = res.refit_ml()
    scale = VarParScale(base)
    phi0 = scale.estimate
    d0 = scale.deviance(phi0)
    cut = float(stats.chi2.ppf(level, 1))
    wald = _wald_sd(scale, phi0)
    lo_out, hi_out = np.empty(len(phi0)), np.empty(len(phi0))
    for i in range(len(phi0)):
        prof = _Profile(scale, i, d0)
        step = wald[i] if np.isfinite(wald[i]) and wald[i] > 0 else 0.1 * max(abs(phi0[i]), 1.0)
        lo_out[i] = prof.end(-1, step, cut)
        hi_out[i] = prof.end(+1, step, cut)
    out = scale.labels.copy()
    out["estimate"] = VarParScale(res).estimate
    out["ci_lower"] = lo_out
    out["ci_upper"] = hi_out
    return out


def _wald_sd(scale: VarParScale, phi0: np.ndarray) -> np.ndarray:
    """Wald SDs of phi from the Hessian of the deviance (only used to scale the search)."""
    from pdstats.multilevel.inference import _safe_inverse, richardson_hessian

    inside = (phi0 - scale.lower > 1e-3) & (scale.upper - phi0 > 1e-3)
    out = np.full(len(phi0), np.nan)
    if not inside.any():
        return out
    idx = np.flatnonzero(inside)

    def f(v: np.ndarray) -> float:
        phi = phi0.copy()
        phi[idx] = v
        return scale.deviance(phi)

    try:
        H = richardson_hessian(f, phi0[idx], r=2)
        cov = 2.0 * _safe_inverse(H)
        out[idx] = np.sqrt(np.maximum(np.diag(cov), 0.0))
    except (ValueError, np.linalg.LinAlgError):
        pass
    return out


class _Profile:
    """Profile deviance of one parameter.

    Each inner fit starts from the solution at the nearest value already profiled, and
    values are cached, so the root finder sees one consistent function.
    """

    def __init__(self, scale: VarParScale, i: int, d0: float) -> None:
        self.scale, self.i, self.d0 = scale, i, d0
        self.others = np.array([j for j in range(len(scale.estimate)) if j != i], dtype=int)
        self.cache: dict[float, tuple[float, np.ndarray]] = {
            float(scale.estimate[i]): (0.0, scale.estimate[self.others].copy())
        }

    def __call__(self, c: float) -> float:
        """Profile deviance minus the minimum at ``phi_i = c``."""
        c = float(c)
        if c in self.cache:
            return self.cache[c][0]
        s = self.scale
        phi = s.estimate.copy()
        phi[self.i] = c
        if self.others.size == 0:
            val = s.deviance(phi) - self.d0
            self.cache[c] = (val, np.zeros(0))
            return val

        def f(v: np.ndarray) -> float:
            phi[self.others] = v
            return s.deviance(phi)

        nearest = min(self.cache, key=lambda k: abs(k - c))
        x0 = np.clip(self.cache[nearest][1], s.lower[self.others], s.upper[self.others])
        res = minimize_theta(f, x0, s.lower[self.others], method="auto",
                             upper=s.upper[self.others], ftol=1e-9)
        val = res.deviance - self.d0
        self.cache[c] = (val, res.theta if res.deviance < 1e299 else x0)
        return val

    def end(self, direction: int, step: float, cut: float) -> float:
        """Interval end on one side: where the profile crosses ``cut``, or the bound."""
        s, i = self.scale, self.i
        c0 = float(s.estimate[i])
        bound = float(s.lower[i] if direction < 0 else s.upper[i])
        inner, h = c0, step * np.sqrt(cut)
        for _ in range(60):
            c = c0 + direction * h
            if (direction < 0 and c <= bound) or (direction > 0 and c >= bound):
                if self(bound) <= cut:
                    return bound
                c = bound
            if self(c) > cut:
                lo, hi = sorted((inner, c))
                # ends to 1e-6 of the search step (~ the SE): far below lme4's own accuracy
                return float(optimize.brentq(lambda x: self(x) - cut, lo, hi,
                                             xtol=1e-6 * step, rtol=1e-10))
            inner, h = c, 2.0 * h
        return float(np.nan)
