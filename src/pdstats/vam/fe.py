"""Unit fixed-effects value-added from an absorbed regression (linearmodels ``AbsorbingLS``).

``y = X beta + alpha_unit + e``: ``beta`` and its unit-clustered covariance come from
linearmodels; each unit's effect is its mean of ``y - X beta``, centred at the overall
(weighted) mean, with variance ``s^2 / n_j + (xbar_j - xbar)' V_beta (xbar_j - xbar)``.
Fixed effects are not shrunk: their intervals are about the unit's effect on its own
students in the sample, class shocks included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from linearmodels.iv.absorbing import AbsorbingLS
from linearmodels.panel.utility import AbsorbingEffectError

from pdstats.errors import ModelSpecificationError
from pdstats.vam.residualize import group_mean
from pdstats.vam.results import moment_table
from pdstats.vam.variance import Moment

__all__ = ["fe_effects"]


def fe_effects(y: np.ndarray, X: np.ndarray, names: list[str], key_codes: np.ndarray,
               cluster_codes: np.ndarray, w: np.ndarray, level: float = 0.95,
               class_codes: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fixed effects of the units in ``key_codes`` with their standard errors.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(20), 30); x = rng.normal(size=(600, 1))
    >>> y = x[:, 0] + np.linspace(-1, 1, 20)[g] + rng.normal(size=600)
    >>> eff, _ = fe_effects(y, x, ["x"], g, g, np.ones(600))
    >>> bool(np.corrcoef(eff["estimate"], np.linspace(-1, 1, 20))[0, 1] > 0.9)
    True
    """
    K = int(key_codes.max()) + 1
    absorb = pd.DataFrame({"unit": pd.Categorical(key_codes)})
    if X.shape[1]:
        exog = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        mod = AbsorbingLS(pd.Series(y, name="y"), exog, absorb=absorb, weights=pd.Series(w))
        try:
            fit = mod.fit(cov_type="clustered", clusters=pd.Series(cluster_codes), debiased=True)
        except AbsorbingEffectError as exc:
            raise ModelSpecificationError(
                "fe: the fixed effects absorb a control (it is constant within every unit, or "
                "unit-year with by_year=True); drop it or use another method") from exc
        beta = fit.params.to_numpy()
        V = fit.cov.to_numpy()
        s2 = float(fit.s2) if np.ndim(fit.s2) == 0 else float(np.asarray(fit.s2).ravel()[0])
        fitted = X @ beta
        e = np.asarray(fit.resids).ravel()
    else:
        beta, V, fitted = np.empty(0), np.empty((0, 0)), np.zeros(len(y))
        e = y - group_mean(y, key_codes, w)[key_codes]
        s2 = float(w @ e**2) / (len(y) - K)
    u = y - fitted
    W = w.sum()
    u_bar = (w @ u) / W
    n = np.bincount(key_codes, weights=w, minlength=K)
    est = group_mean(u, key_codes, w, K) - u_bar
    var = s2 / n
    if X.shape[1]:
        dx = group_mean(X, key_codes, w, K) - (w @ X) / W
        var = var + np.einsum("kj,jl,kl->k", dx, V, dx)
    n_cls = (pd.Series(class_codes).groupby(key_codes).nunique().to_numpy(dtype=float)
             if class_codes is not None else np.full(K, np.nan))
    eff = pd.DataFrame({"estimate": est, "std_error": np.sqrt(var),
                        "reliability": np.nan, "n_students": n, "n_classes": n_cls})
    # unit variance: spread of the estimates net of their mean sampling variance
    raw = float(np.var(est) - np.mean(var))
    signal = max(raw, 0.0)
    eff["reliability"] = signal / (signal + var)
    # influence values summed by cluster give sandwich SEs of both pieces
    G = int(cluster_codes.max()) + 1
    key_cluster = np.zeros(K, dtype=np.int64)
    key_cluster[key_codes] = cluster_codes
    psi_u = ((est - est.mean()) ** 2 - var - raw) / K
    psi_e = (w * e**2 - w * s2) / W
    varcomp = moment_table({
        "residual": Moment(s2, np.bincount(cluster_codes, weights=psi_e, minlength=G), len(y)),
        "unit (variance of estimates - mean sampling variance)":
            Moment(signal, np.bincount(key_cluster, weights=psi_u, minlength=G), K)},
        level=level)
    return eff, varcomp
