"""Move a fitted cell to the star scale, with delta-method standard errors.

The star scale (Reardon, Shear, Castellano & Ho 2017) standardizes the population of
students in the cell: with group shares ``p_g = n_g / N``,

``M = sum_g p_g mu_g``, ``V = sum_g p_g (mu_g - M)^2 + sum_g p_g sigma_g^2``, ``S = sqrt(V)``,

``mu*_g = (mu_g - M) / S``, ``sigma*_g = sigma_g / S``, ``c*_k = (c_k - M) / S``,

so that ``sum p_g mu*_g = 0`` and ``sum p_g (mu*_g^2 + sigma*_g^2) = 1``.

Bias correction (``bias_correct=True``; Reardon et al. 2017, also in Lockwood's HETOP R
package): with ``n~ = 1 / mean_g(1 / (n_g - 1))`` and ``l = n~ / (1 + n~)``, the
total variance is estimated as

``V' = sum_g p_g l sigma_g^2 + sum_g p_g (mu_g - M)^2 - sum_g l (1 - p_g) sigma_g^2 / N``:

the within-group part uses the ``(n - 1) / n`` factor of a finite group, and the
between-group part removes the variance that sampling error in the estimated means adds.
Then ``S = sqrt(V')`` in the formulas above. It needs every ``n_g >= 2``.

Standard errors: every star-scale quantity ``f(theta)`` is a smooth function of the
fitted parameters, so ``Var f = J Cov J'`` with ``Cov`` the inverse (penalized)
information. Because ``M`` and ``S`` depend on all groups, ``J = a e_own + alpha dM +
beta dS``; with the arrowhead inverse only ``Cov dM``, ``Cov dS`` and the own diagonal
entries are needed, which keeps the cost ``O(G)``. Means fixed at a bound (groups with all
students in an extreme level) get no standard error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pdstats.harmonize.cell import CellFit

__all__ = ["StarEstimates", "to_star"]


@dataclass
class StarEstimates:
    """Star-scale means, SDs and cuts of one cell with their standard errors."""

    mean: np.ndarray
    se_mean: np.ndarray
    sd: np.ndarray
    se_sd: np.ndarray
    cuts: np.ndarray
    se_cuts: np.ndarray
    location: float
    spread: float
    icc: float
    bias_corrected: bool


def to_star(fit: CellFit, bias_correct: bool = True) -> StarEstimates:
    """Transform a :class:`~pdstats.harmonize.cell.CellFit` to the star scale.

    Parameters
    ----------
    fit : CellFit
        A fitted cell.
    bias_correct : bool
        Use the bias-corrected total variance (see the module notes). Falls back to
        the plain star scale when a group has fewer than two students.

    Returns
    -------
    StarEstimates

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.harmonize.cell import fit_cell
    >>> fit = fit_cell(np.array([[10, 20, 15, 5], [2, 10, 20, 18], [20, 15, 10, 5]]))
    >>> st = to_star(fit, bias_correct=False)
    >>> p = fit.counts.sum(1) / fit.counts.sum()
    >>> abs(round(float(p @ st.mean), 10)), round(float(p @ (st.mean**2 + st.sd**2)), 10)
    (0.0, 1.0)
    """
    lay, h = fit.layout, fit.hessian
    n = fit.counts.sum(axis=1)
    total = n.sum()
    p = n / total
    mu, sig = fit.mu, np.exp(fit.s)
    bc = bias_correct and bool(np.all(n >= 2))
    if bc:
        ntilde = 1.0 / np.mean(1.0 / (n - 1.0))
        lam = ntilde / (1.0 + ntilde)
        wv = p * lam - lam * (1.0 - p) / total
    else:
        wv = p
    m_loc = float(p @ mu)
    dev = mu - m_loc
    v = float(p @ dev**2 + wv @ sig**2)
    spread = float(np.sqrt(v))
    mean = dev / spread
    sd = sig / spread
    cuts = (fit.cuts - m_loc) / spread
    between = float(p @ dev**2)
    icc = between / v if bc else between / float(p @ dev**2 + p @ sig**2)

    g, m = len(mu), lay.m
    nfc = len(lay.free_cuts)
    if h is None:
        nan = np.full(g, np.nan)
        return StarEstimates(mean, nan, sd, nan.copy(), cuts, np.full(len(cuts), np.nan),
                             m_loc, spread, icc, bc)
    mf, sf, st = lay.mu_free, lay.s_free, lay.s_tied
    # gradients of M and S in parameter space (group-local part, border part)
    dm_loc = np.column_stack([p * mf, np.zeros(g)])
    dm_b = np.zeros(m)
    ws = 2.0 * sig**2 * wv
    dv_loc = np.column_stack([2.0 * p * dev * mf, ws * sf])
    dv_b = np.zeros(m)
    if lay.gamma_free:
        dv_b[nfc] = float(np.sum(ws[st]))
    ds_loc, ds_b = dv_loc / (2 * spread), dv_b / (2 * spread)
    cm_loc, cm_b = h.solve(dm_loc, dm_b)
    cs_loc, cs_b = h.solve(ds_loc, ds_b)
    mm = float(np.sum(dm_loc * cm_loc) + dm_b @ cm_b)
    ms = float(np.sum(dm_loc * cs_loc) + dm_b @ cs_b)
    ss = float(np.sum(ds_loc * cs_loc) + ds_b @ cs_b)
    gcov = h.group_cov()
    bcov = h.border_cov()

    # means: own direction is the group's mu parameter
    a = mf / spread
    alpha = -1.0 / spread
    beta = -dev / spread**2
    var_mean = (a**2 * gcov[:, 0, 0] + 2 * a * alpha * cm_loc[:, 0] + 2 * a * beta * cs_loc[:, 0]
                + alpha**2 * mm + 2 * alpha * beta * ms + beta**2 * ss)
    se_mean = np.where(mf, np.sqrt(np.maximum(var_mean, 0.0)), np.nan)

    # SDs: own direction is the group's log-SD, the pooled gamma, or nothing (fixed)
    own_var = np.where(sf, gcov[:, 1, 1], 0.0)
    own_cs = np.where(sf, cs_loc[:, 1], 0.0)
    has_own = sf.copy()
    if lay.gamma_free:
        own_var = np.where(st, bcov[nfc, nfc], own_var)
        own_cs = np.where(st, cs_b[nfc], own_cs)
        has_own = has_own | st
    a_s = sd * has_own
    b_s = -sd / spread
    var_sd = a_s**2 * own_var + 2 * a_s * b_s * own_cs + b_s**2 * ss
    se_sd = np.sqrt(np.maximum(var_sd, 0.0))

    # cuts: own direction is the cut parameter when it was estimated
    kc = len(cuts)
    own_c = np.zeros(kc)
    own_cm = np.zeros(kc)
    own_csc = np.zeros(kc)
    has_c = np.zeros(kc, bool)
    has_c[lay.free_cuts] = True
    own_c[lay.free_cuts] = np.diag(bcov)[:nfc]
    own_cm[lay.free_cuts] = cm_b[:nfc]
    own_csc[lay.free_cuts] = cs_b[:nfc]
    a_c = has_c / spread
    beta_c = -(fit.cuts - m_loc) / spread**2
    var_c = (a_c**2 * own_c + 2 * a_c * alpha * own_cm + 2 * a_c * beta_c * own_csc
             + alpha**2 * mm + 2 * alpha * beta_c * ms + beta_c**2 * ss)
    se_cuts = np.sqrt(np.maximum(var_c, 0.0))
    return StarEstimates(mean, se_mean, sd, se_sd, cuts, se_cuts, m_loc, spread, icc, bc)
