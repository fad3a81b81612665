"""Fit one state-year-grade-subject cell: the HETOP / HOMOP / PHOP engine.

The public entry point is :func:`pdstats.harmonize.hetop`; this module fits the counts
of one cell (``G`` groups x ``K`` levels sharing one set of cut scores).

Parameters and identification
-----------------------------
Each group has a mean ``mu_g`` and a log-SD ``s_g``; cut scores ``c_1..c_{K-1}`` are
shared. The likelihood is unchanged by ``(mu, sigma, c) -> (a + b mu, b sigma, a + b c)``,
so the fit fixes two quantities: the lowest and highest cut at their starting values
(``K >= 3``), or for HOMOP with ``K = 2`` the one cut and the common log-SD. Known cut
scores fix all cuts (then the scale is the cuts' scale). Estimates are then moved to the
star scale (:mod:`pdstats.harmonize.scale`).

Models
------
* ``hetop``: every group has its own SD.
* ``homop``: one common SD (all groups' ``s_g`` tied to one parameter ``gamma``).
* ``phop``: partially pooled SDs (a penalized-likelihood form of the pooling idea behind
  the PHOP model of Reardon et al. 2017 and the Bayesian FH-HETOP of Lockwood,
  Castellano & Shear 2018), maximizing
  ``loglik - sum_g (s_g - gamma)^2 / (2 tau^2)``: log-SDs shrink toward a common
  ``gamma`` by an amount that depends on how informative each group is. ``tau`` (the SD
  of true log-SDs across groups) is given, or estimated by moments from a HETOP fit:
  ``tau^2 = var_g(s_hat_g) - mean_g(se(s_hat_g)^2)`` (floored at ``0.05^2``).

Sparse groups (the documented rule; each is flagged in ``mean_status``/``sd_status``)
------------------------------------------------------------------------------------
1. A group with students in fewer than three levels does not identify its own SD. Under
   ``hetop`` its log-SD is set to the unweighted mean log-SD of the groups that do
   (``sd_status = "pooled"``); under ``phop`` it is tied to ``gamma``; under ``homop``
   nothing changes.
2. A group with every student in the lowest (highest) level has no finite ML mean. Its
   mean is set to the smallest (largest) estimated mean of the other groups
   (``mean_status = "min"``/``"max"``) and its standard error is missing: the value is a
   bound, not an estimate.
Rules 1-2 depend on other groups' estimates; the fit alternates between the Newton fit
and updating these values until they stop changing (at most ``max_outer`` rounds).

Optimization
------------
Newton-Raphson on all parameters with the observed information (falling back to the
expected information when the observed one is not positive definite), an Armijo line
search and step capping; the arrowhead structure (:mod:`pdstats.harmonize.arrowhead`)
makes each step ``O(G)``. Starting values come from a probit of each group's smoothed
cumulative proportions against the pooled cut scores, so well-posed cells converge in
a handful of iterations. Convergence: Newton decrement ``g' H^-1 g < tol``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from pdstats.errors import ModelSpecificationError
from pdstats.harmonize.arrowhead import Arrowhead
from pdstats.harmonize.likelihood import Derivatives, derivatives, loglik

__all__ = ["CellFit", "fit_cell", "MODELS"]

MODELS = ("hetop", "homop", "phop")


@dataclass
class _Layout:
    """Which parameters are free, tied to the pooled log-SD, or fixed."""

    k: int
    mu_free: np.ndarray
    s_free: np.ndarray
    s_tied: np.ndarray
    free_cuts: np.ndarray
    gamma_free: bool
    tau: float | None
    mu_fixed: np.ndarray
    s_fixed: np.ndarray
    cuts_fixed: np.ndarray
    gamma: float = 0.0

    @property
    def m(self) -> int:
        return len(self.free_cuts) + int(self.gamma_free)

    def unpack(self, loc: np.ndarray, border: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        nfc = len(self.free_cuts)
        gamma = float(border[nfc]) if self.gamma_free else self.gamma
        mu = np.where(self.mu_free, loc[:, 0], self.mu_fixed)
        s = np.where(self.s_free, loc[:, 1], np.where(self.s_tied, gamma, self.s_fixed))
        cuts = self.cuts_fixed.copy()
        cuts[self.free_cuts] = border[:nfc]
        return mu, s, cuts, gamma

    def objective(self, counts: np.ndarray, loc: np.ndarray, border: np.ndarray) -> float:
        mu, s, cuts, gamma = self.unpack(loc, border)
        if np.any(np.diff(cuts) <= 0) or np.any(np.abs(s) > 12):
            return -np.inf
        value = loglik(counts, mu, s, cuts)
        if self.tau is not None:
            value -= float(np.sum(((s - gamma) ** 2)[self.s_free])) / (2 * self.tau**2)
        return value

    def system(self, d: Derivatives, s: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray, Arrowhead]:
        """Gradient and negative-Hessian arrowhead of the (penalized) objective."""
        g = len(s)
        mf, sf, st = self.mu_free, self.s_free, self.s_tied
        fc, nfc, m = self.free_cuts, len(self.free_cuts), self.m
        pen = 0.0 if self.tau is None else 1.0 / self.tau**2
        b = np.zeros((g, 2, 2))
        b[:, 0, 0] = np.where(mf, d.h_mumu, 1.0)
        b[:, 0, 1] = b[:, 1, 0] = np.where(mf & sf, d.h_mus, 0.0)
        b[:, 1, 1] = np.where(sf, d.h_ss + pen, 1.0)
        c = np.zeros((g, 2, m))
        c[:, 0, :nfc] = d.h_muc[:, fc] * mf[:, None]
        c[:, 1, :nfc] = d.h_sc[:, fc] * sf[:, None]
        e = np.zeros((m, m))
        e[:nfc, :nfc] = d.h_cc[np.ix_(fc, fc)]
        grad_loc = np.column_stack([np.where(mf, d.g_mu, 0.0), np.zeros(g)])
        dev = (s - gamma) * pen
        grad_loc[:, 1] = np.where(sf, d.g_s - dev, 0.0)
        grad_b = np.zeros(m)
        grad_b[:nfc] = d.g_c[:, fc].sum(axis=0)
        if self.gamma_free:
            c[:, 0, nfc] = np.where(st & mf, d.h_mus, 0.0)
            c[:, 1, nfc] = np.where(sf, -pen, 0.0)
            e[:nfc, nfc] = e[nfc, :nfc] = (d.h_sc[:, fc] * st[:, None]).sum(axis=0)
            e[nfc, nfc] = float(np.sum(d.h_ss[st]) + pen * np.sum(sf))
            grad_b[nfc] = float(np.sum(d.g_s[st]) + np.sum(dev[sf]))
        return grad_loc, grad_b, Arrowhead(b, c, e)


@dataclass
class CellFit:
    """Estimates of one cell on the fit scale, with the information to transform them."""

    model: str
    counts: np.ndarray
    mu: np.ndarray
    s: np.ndarray
    cuts: np.ndarray
    mean_status: np.ndarray
    sd_status: np.ndarray
    converged: bool
    iterations: int
    loglik: float
    information: str
    tau: float | None
    layout: _Layout
    hessian: Arrowhead | None
    message: str = ""
    known_cuts: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def _start(counts: np.ndarray, cuts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probit of smoothed cumulative proportions against pooled (or known) cuts."""
    n = counts.sum(axis=1)
    cum = np.cumsum(counts, axis=1)[:, :-1]
    if cuts is None:
        pooled = np.clip(cum.sum(axis=0) / n.sum(), 1e-4, 1 - 1e-4)
        cuts = ndtri(pooled)
        # keep the start cuts strictly increasing when a level is empty
        cuts = np.maximum.accumulate(cuts + 1e-3 * np.arange(len(cuts)))
    z = ndtri((cum + 0.5) / (n[:, None] + 1.0))
    zc = z - z.mean(axis=1, keepdims=True)
    cc = cuts - cuts.mean()
    denom = (zc * zc).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sig = (zc * cc[None, :]).sum(axis=1) / denom
    ok = np.isfinite(sig) & (sig > 0.05)
    sig = np.where(ok, np.clip(sig, 0.1, 10.0), 1.0)
    mu = (cuts[None, :] - sig[:, None] * z).mean(axis=1)
    return mu, np.log(sig), np.asarray(cuts, float)


def _newton(counts: np.ndarray, lay: _Layout, loc: np.ndarray, border: np.ndarray,
            max_iter: int, tol: float) -> tuple[np.ndarray, np.ndarray, bool, int, str]:
    obj = lay.objective(counts, loc, border)
    for it in range(1, max_iter + 1):
        mu, s, cuts, gamma = lay.unpack(loc, border)
        step = None
        for observed in (True, False):
            d = derivatives(counts, mu, s, cuts, observed=observed)
            try:
                g_loc, g_b, h = lay.system(d, s, gamma)
                dx_loc, dx_b = h.solve(g_loc, g_b)
            except np.linalg.LinAlgError:
                continue
            dec = float(np.sum(g_loc * dx_loc) + g_b @ dx_b)
            if np.isfinite(dec) and dec > 0:
                step = (dx_loc, dx_b, dec)
                break
        if step is None:
            return loc, border, False, it, "information matrix not positive definite"
        dx_loc, dx_b, dec = step
        if dec < tol:
            return loc, border, True, it, "converged"
        biggest = max(np.abs(dx_loc).max(initial=0.0), np.abs(dx_b).max(initial=0.0))
        t = min(1.0, 2.0 / biggest) if biggest > 0 else 1.0
        for _ in range(40):
            new_loc, new_b = loc + t * dx_loc, border + t * dx_b
            new_obj = lay.objective(counts, new_loc, new_b)
            if new_obj >= obj + 1e-4 * t * dec:
                break
            t *= 0.5
        else:
            return loc, border, False, it, "line search failed"
        loc, border, obj = new_loc, new_b, new_obj
    return loc, border, False, max_iter, f"no convergence in {max_iter} iterations"


def fit_cell(
    counts: np.ndarray,
    model: str = "hetop",
    cuts: np.ndarray | None = None,
    tau: float | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
    max_outer: int = 10,
) -> CellFit:
    """Fit HETOP, HOMOP or PHOP to the ``G x K`` level counts of one cell.

    Parameters
    ----------
    counts : numpy.ndarray
        Level counts, lowest level first; rows with zero students are not allowed.
    model : {"hetop", "homop", "phop"}
    cuts : numpy.ndarray, optional
        Known cut scores (length ``K-1``); estimated when omitted.
    tau : float, optional
        PHOP prior SD of log-SDs; estimated by moments when omitted.
    max_iter, tol, max_outer : int, float, int
        Newton iteration limit, Newton-decrement tolerance, sparse-rule rounds.

    Returns
    -------
    CellFit

    Examples
    --------
    >>> import numpy as np
    >>> fit = fit_cell(np.array([[10, 20, 15, 5], [2, 10, 20, 18], [20, 15, 10, 5]]))
    >>> fit.converged, fit.iterations < 15
    (True, True)
    """
    counts = np.asarray(counts, float)
    if model not in MODELS:
        raise ModelSpecificationError(f"model must be one of {MODELS}, got {model!r}")
    g, k = counts.shape
    if k < 2:
        raise ModelSpecificationError("hetop needs at least 2 proficiency levels")
    known = cuts is not None
    if not known and model != "homop" and k < 3:
        raise ModelSpecificationError(
            f"model {model!r} needs at least 3 proficiency levels when cuts are estimated (got {k})"
        )
    if known:
        cuts = np.asarray(cuts, float)
        if cuts.shape != (k - 1,) or np.any(np.diff(cuts) <= 0):
            raise ModelSpecificationError(f"cuts must be {k - 1} increasing numbers, got {cuts.tolist()}")
    empty = np.flatnonzero(counts.sum(axis=0) == 0)
    if not known and len(empty):
        raise ModelSpecificationError(
            f"level(s) {(empty + 1).tolist()} have no students in any group: their cut scores coincide "
            "and cannot be estimated; merge those levels (hetop() does this) or give the cuts"
        )
    nz = (counts > 0).sum(axis=1)
    low = (nz == 1) & (counts[:, 0] > 0)
    high = (nz == 1) & (counts[:, -1] > 0)
    sparse = nz < 3
    mean_status = np.where(low, "min", np.where(high, "max", "est")).astype(object)
    if model == "homop":
        sd_status = np.full(g, "common", dtype=object)
    else:
        sd_status = np.where(sparse, "pooled", "est").astype(object)
    mu_free = mean_status == "est"
    if not mu_free.any():
        raise ModelSpecificationError("every group has all its students in one extreme level")

    if model == "phop" and tau is None:
        base = fit_cell(counts, "hetop", cuts, None, max_iter, tol, max_outer)
        tau = _moment_tau(base)
    mu0, s0, c0 = _start(counts, cuts)
    s_free = sd_status == "est"
    if model != "homop" and not s_free.any():
        raise ModelSpecificationError(
            "no group has students in three or more levels: group SDs are not identified; use model='homop'"
        )
    if known:
        free_cuts = np.array([], dtype=int)
    elif k >= 3:
        free_cuts = np.arange(1, k - 2)
    else:
        free_cuts = np.array([], dtype=int)
    if model == "homop":
        s_tied = np.ones(g, bool)
        gamma_free = known or k >= 3
        s_free = np.zeros(g, bool)
        gamma0 = float(np.average(s0, weights=counts.sum(axis=1)))
    elif model == "phop":
        s_tied = ~s_free
        gamma_free = True
        gamma0 = float(np.mean(s0[s_free]))
    else:
        s_tied = np.zeros(g, bool)
        gamma_free = False
        gamma0 = float(np.mean(s0[s_free]))
    lay = _Layout(
        k=k, mu_free=mu_free, s_free=s_free, s_tied=s_tied, free_cuts=free_cuts,
        gamma_free=gamma_free, tau=tau if model == "phop" else None,
        mu_fixed=np.zeros(g), s_fixed=np.full(g, gamma0), cuts_fixed=c0.copy(), gamma=gamma0,
    )
    loc = np.column_stack([mu0, s0])
    border = np.concatenate([c0[free_cuts], [gamma0] if gamma_free else []])
    total_it, converged, message = 0, False, ""
    for _ in range(max_outer):
        _set_bounds(lay, loc, mean_status, model)
        loc, border, converged, it, message = _newton(counts, lay, loc, border, max_iter, tol)
        total_it += it
        if not converged:
            break
        before = (lay.mu_fixed.copy(), lay.s_fixed.copy())
        _set_bounds(lay, loc, mean_status, model)
        if np.allclose(before[0], lay.mu_fixed, atol=1e-7) and np.allclose(before[1], lay.s_fixed, atol=1e-7):
            break
    mu, s, c, gamma = lay.unpack(loc, border)
    lay.gamma = gamma
    hess, info = _final_information(counts, lay, loc, border)
    return CellFit(
        model=model, counts=counts, mu=mu, s=s, cuts=c, mean_status=mean_status,
        sd_status=sd_status, converged=converged, iterations=total_it,
        loglik=loglik(counts, mu, s, c), information=info, tau=lay.tau, layout=lay,
        hessian=hess, message=message, known_cuts=known,
    )


def _set_bounds(lay: _Layout, loc: np.ndarray, mean_status: np.ndarray, model: str) -> None:
    """Apply the sparse-group rule: pooled log-SD and min/max means from the other groups."""
    est = mean_status == "est"
    lay.mu_fixed = np.where(mean_status == "min", loc[est, 0].min(),
                            np.where(mean_status == "max", loc[est, 0].max(), 0.0))
    if model == "hetop":
        lay.s_fixed = np.full(len(loc), float(np.mean(loc[lay.s_free, 1])))


def _final_information(counts: np.ndarray, lay: _Layout, loc: np.ndarray,
                       border: np.ndarray) -> tuple[Arrowhead | None, str]:
    mu, s, c, gamma = lay.unpack(loc, border)
    for observed, name in ((True, "observed"), (False, "expected")):
        d = derivatives(counts, mu, s, c, observed=observed)
        try:
            return lay.system(d, s, gamma)[2], name
        except np.linalg.LinAlgError:
            continue
    return None, "singular"


def _moment_tau(base: CellFit) -> float:
    """Moment estimate of the SD of true log-SDs from a HETOP fit (floored at 0.05)."""
    est = base.sd_status == "est"
    if base.hessian is None or est.sum() < 3:
        return 0.25
    var_s = base.hessian.group_cov()[:, 1, 1]
    tau2 = float(np.var(base.s[est], ddof=1) - np.mean(var_s[est]))
    return float(np.sqrt(max(tau2, 0.05**2)))
