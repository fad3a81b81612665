"""Random-effects value-added: BLUPs of unit intercepts from ``pds.lmm``.

``y = X beta + u_unit [+ c_class] + e`` is fitted by REML through the public
``pds.lmm`` engine (the class term only when some unit has two classes); the variance
components get large-sample one-way ANOVA standard errors; each unit's estimate is the conditional mode of ``u`` and its
``std_error`` the conditional SD (lme4's ``condVar``).  Reliability is
``1 - sd^2 / var(u)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import pdstats as pds
from pdstats.vam.results import moment_table
from pdstats.vam.variance import Moment

__all__ = ["re_effects"]


def _anova_ses(vc: pd.DataFrame, key: np.ndarray, cls: pd.Series | None) -> dict[str, Moment]:
    """Variance components with large-sample SEs from the one-way ANOVA formulas.

    ``var(s2_e) = 2 s2_e^2 / (N - K)`` and ``var(s2_u) = 2 / n0^2 [(s2_e + n0 s2_u)^2 /
    (K - 1) + s2_e^2 / (N - K)]`` with ``n0 = (N - sum n_j^2 / N) / (K - 1)`` (Searle,
    Casella & McCulloch 1992, sec. 3.6), applied to each grouping factor in turn.
    """
    est = {r.group: float(r.estimate) for r in vc.itertuples()
           if r.term2 is None or pd.isna(r.term2)}
    N = len(key)
    s2e = est.get("Residual", 0.0)
    out: dict[str, Moment] = {}
    groups = {"va_key": key}
    if cls is not None:
        groups["va_class"] = cls.to_numpy()
    total_groups = 0
    for name, g in groups.items():
        n = pd.Series(g).value_counts().to_numpy(dtype=float)
        K = len(n)
        total_groups += K
        n0 = (N - np.sum(n**2) / N) / max(K - 1, 1)
        var = 2 / n0**2 * ((s2e + n0 * est.get(name, 0.0)) ** 2 / max(K - 1, 1)
                           + s2e**2 / max(N - K, 1))
        out[name] = Moment(est.get(name, 0.0), np.array([np.sqrt(var)]), K)
    out["Residual"] = Moment(s2e, np.array([s2e * np.sqrt(2 / max(N - total_groups, 1))]), N)
    return out


def re_effects(df: pd.DataFrame, y: np.ndarray, X: np.ndarray, names: list[str],
               key_cols: list[str], class_codes: np.ndarray | None, level: float = 0.95
               ) -> dict[str, pd.DataFrame | None]:
    """Fit the random-intercept model and return the pieces of a ``VAResult``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(30), 20)
    >>> df = pd.DataFrame({"u": g})
    >>> y = rng.normal(0, .5, 30)[g] + rng.normal(size=600)
    >>> out = re_effects(df, y, np.empty((600, 0)), [], ["u"], None)
    >>> out["effects"].shape[0]
    30
    """
    key = (df[key_cols[0]].astype(str) if len(key_cols) == 1
           else df[key_cols].astype(str).agg(":".join, axis=1)).to_numpy()
    frame = pd.DataFrame({"y": y, "va_key": key}, index=df.index)
    xs = [f"x{i}" for i in range(X.shape[1])]
    for i, c in enumerate(xs):
        frame[c] = X[:, i]
    formula = "y ~ " + (" + ".join(xs) if xs else "1") + " + (1 | va_key)"
    if class_codes is not None and len(np.unique(class_codes)) == len(np.unique(key)):
        class_codes = None   # one class per unit: class and unit effects are the same term
    if class_codes is not None:
        frame["va_class"] = class_codes.astype(str)
        formula += " + (1 | va_class)"
    fit = pds.lmm(formula, frame)
    re = fit.ranef()
    u = re[re["group"] == "va_key"].set_index("level")
    labels = pd.Index(pd.unique(key))
    first = pd.Series(np.arange(len(df)), index=key).groupby(level=0, sort=False).first()
    order = first.sort_values().index
    vc = fit.varcomp.set_index("group")["estimate"]
    var_u = float(vc.get("va_key", 0.0))
    n = pd.Series(1.0, index=key).groupby(level=0).sum()
    eff = pd.DataFrame({"estimate": u.loc[order, "mode"].to_numpy(),
                        "std_error": u.loc[order, "sd"].to_numpy()})
    eff["reliability"] = 1.0 - eff["std_error"] ** 2 / var_u if var_u > 0 else 0.0
    eff["n_students"] = n.loc[order].to_numpy()
    if class_codes is not None:
        ncls = pd.Series(class_codes, index=key).groupby(level=0).nunique()
        eff["n_classes"] = ncls.loc[order].to_numpy().astype(float)
    else:
        eff["n_classes"] = np.nan
    firstpos = first.loc[order].to_numpy()
    eff.insert(0, "unit", df[key_cols[0]].to_numpy()[firstpos])
    eff.insert(1, "year", df[key_cols[1]].to_numpy()[firstpos].astype(float)
               if len(key_cols) > 1 else np.nan)
    from pdstats.vam.model import _with_ci

    varcomp = moment_table(_anova_ses(fit.varcomp, key, frame.get("va_class")),
                           {"va_key": "unit", "va_class": "class shock",
                            "Residual": "individual (student)"}, level)
    coef = fit.fe.iloc[1:][["estimate", "std_error", "ci_lower", "ci_upper"]].copy()
    coef.index = pd.Index(names, name="term")
    rows = pd.DataFrame({"unit": df[key_cols[0]].to_numpy(), "resid": fit.resid}, index=df.index)
    rows["va"] = u.loc[key, "mode"].to_numpy()
    del labels
    return {"effects": _with_ci(eff.reset_index(drop=True), level), "varcomp": varcomp,
            "coef": coef, "acov": None, "rows": rows}
