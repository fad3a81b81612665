"""Wald tests of several coefficients with the Hotelling-T^2 small-sample approximation.

For CR2 covariances the statistic ``Q = (R b - r)' (R V R')^{-1} (R b - r)`` is referred
to a Hotelling T^2 with ``nu`` df, i.e. ``F = (nu - q + 1) / (nu q) Q ~ F(q, nu - q + 1)``,
where ``nu`` matches the total variance of ``R V R'`` under the working model (the
"HTZ" test of Tipton & Pustejovsky 2015, clubSandwich's ``Wald_test(test = "HTZ")``).
CR0/CR1 use ``F = Q / q`` on ``(q, G - 1)`` df.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.errors import ModelSpecificationError
from pdstats.inference.covariance import RobustCovariance
from pdstats.inference.results import WaldTestResult, coef_table
from pdstats.results import SampleLog

__all__ = ["constraint_matrix", "wald_test"]


def constraint_matrix(names: list[str], constraints: Any, rhs: Any = None
                      ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(R, r, labels)`` from term names, a ``{term: value}`` dict, or a q x p matrix.

    Examples
    --------
    >>> R, r, lab = constraint_matrix(["a", "b", "c"], ["b", "c"])
    >>> R.tolist(), r.tolist(), lab
    ([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [0.0, 0.0], ['b', 'c'])
    """
    p = len(names)
    if isinstance(constraints, str):
        constraints = [constraints]
    if isinstance(constraints, dict):
        rhs = list(constraints.values())
        constraints = list(constraints)
    if isinstance(constraints, (list, tuple)) and all(isinstance(c, str) for c in constraints):
        unknown = [c for c in constraints if c not in names]
        if unknown or not constraints:
            raise ModelSpecificationError(f"constraints name unknown terms {unknown}; terms: {names}")
        R = np.zeros((len(constraints), p))
        for i, c in enumerate(constraints):
            R[i, names.index(c)] = 1.0
        labels = list(constraints)
    else:
        R = np.atleast_2d(np.asarray(constraints, dtype=float))
        if R.shape[1] != p:
            raise ModelSpecificationError(f"constraint matrix needs {p} columns, got {R.shape[1]}")
        labels = [" + ".join(f"{v:g}*{n}" for v, n in zip(row, names, strict=True) if v != 0)
                  for row in R]
    r = np.zeros(len(R)) if rhs is None else np.broadcast_to(
        np.asarray(rhs, dtype=float), (len(R),)).copy()
    if np.linalg.matrix_rank(R) < len(R):
        raise ModelSpecificationError("the constraints are linearly dependent")
    if rhs is not None:
        labels = [f"{lab} = {v:g}" for lab, v in zip(labels, r, strict=True)]
    return R, r, labels


def wald_test(rc: RobustCovariance, constraints: Any, rhs: Any = None,
              sample_log: SampleLog | None = None) -> WaldTestResult:
    """Test ``R beta = r`` with a cluster-robust covariance.

    Parameters
    ----------
    rc : RobustCovariance
        From :func:`~pdstats.inference.covariance.robust_covariance`.
    constraints : list of str, dict or array
        Terms that are jointly zero, ``{term: value}``, or a q x p matrix ``R``.
    rhs : array-like, optional
        ``r`` for a matrix ``R`` (default zero).

    Returns
    -------
    WaldTestResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(10), 6), "a": rng.normal(size=60),
    ...                   "b": rng.normal(size=60)})
    >>> d["y"] = d.a + rng.normal(size=60)
    >>> w = pds.ols("y ~ a + b", d, cluster="g").wald_test(["a", "b"])
    >>> w.test, w.df_num, bool(w.p_value < 0.01)
    ('HTZ', 2.0, True)
    """
    fit = rc.fit
    R, r, labels = constraint_matrix(fit.names, constraints, rhs)
    q = len(R)
    est = R @ fit.beta - r
    Vr = R @ rc.vcov @ R.T
    Q = float(est @ np.linalg.solve(Vr, est))
    if rc.kind == "CR2":
        g = rc.gram(R)
        omega = np.array([[g.trace(s, t) for t in range(q)] for s in range(q)])
        lam, vec = np.linalg.eigh((omega + omega.T) / 2)
        root = (vec / np.sqrt(lam)) @ vec.T
        gt = rc.gram(root @ R)
        total = sum(gt.frob(s, t, t, s) + gt.frob(s, s, t, t) for s in range(q) for t in range(q))
        nu = q * (q + 1) / total
        df_den = nu - q + 1
        F = max((nu - q + 1) / nu, 0.0) * Q / q
        row_df = np.array([g.trace(s, s) ** 2 / g.frob(s, s, s, s) for s in range(q)])
        test = "HTZ"
    else:
        df_den = float(fit.n_clusters - 1)
        F = Q / q
        row_df = np.full(q, df_den)
        test = "F"
    p = float(stats.f.sf(F, q, df_den)) if df_den > 0 else np.nan
    table = coef_table(labels, est, np.sqrt(np.diag(Vr)), row_df)
    log = sample_log if sample_log is not None else SampleLog(n_in=fit.n)
    return WaldTestResult(table.rename(columns={"term": "constraint"}).pipe(pd.DataFrame),
                          F, q, df_den, p, test, log)
