"""Reliabilities of group-level coefficients (HLM style).

CR2 cluster-robust standard errors of the fixed effects live in
:mod:`pdstats.inference.mixed` (``LMMResult.cr2``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from pdstats.multilevel.results import LMMResult

__all__ = ["reliability_table"]


def reliability_table(res: LMMResult) -> pd.DataFrame:
    """HLM-style reliabilities, per grouping factor and random coefficient (see LMMResult)."""
    d = res._design
    rows = []
    s2 = res.sigma**2
    for i, (t, T) in enumerate(zip(d.terms, res._sol.factors, strict=True)):
        tau = s2 * np.diag(T @ T.T)
        order = np.argsort(t.codes, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(t.codes[order])) + 1)
        rel = []
        for idx in groups:
            Xj = t.Xr[idx]
            if Xj.shape[0] < t.k:
                continue
            V = _within_cov(res, idx, i)
            info = Xj.T @ np.linalg.solve(V, Xj)
            if np.linalg.cond(info) > 1e10:
                continue
            v = np.diag(np.linalg.inv(info))
            rel.append(tau / (tau + v))
        rel_arr = np.array(rel)
        for a in range(t.k):
            rows.append((t.group, t.names[a],
                         float(rel_arr[:, a].mean()) if len(rel_arr) else np.nan, len(rel_arr)))
    return pd.DataFrame(rows, columns=["group", "term", "reliability", "n_groups"])


def _within_cov(res: LMMResult, idx: np.ndarray, term: int) -> np.ndarray:
    """Covariance of a group's rows from the residual and from finer, nested terms only."""
    d = res._design
    s2 = res.sigma**2
    V = np.diag(s2 / d.prior_weights[idx])
    for h in range(term):
        t, T = d.terms[h], res._sol.factors[h]
        # only terms nested in this one contribute within-group variance
        codes = t.codes[idx]
        S = s2 * (T @ T.T)
        Xr = t.Xr[idx]
        V += (Xr @ S @ Xr.T) * (codes[:, None] == codes[None, :])
    return V
