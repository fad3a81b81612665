"""Least squares with cluster-robust inference: ``pds.ols``.

The regressions researchers run beside the multilevel models (district-level
regressions, balance checks) with CR2 standard errors and Bell-McCaffrey df by default.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix

from pdstats._inputs import as_numeric, drop_missing, refuse, require_columns, require_frame
from pdstats.errors import ModelSpecificationError
from pdstats.inference.covariance import (
    VCOV_TYPES,
    LinearFit,
    identity_target_blocks,
    robust_covariance,
    split_clusters,
)
from pdstats.inference.results import OLSResult
from pdstats.results import SampleLog, check_level

__all__ = ["ols", "ols_fit"]

_TABLE = "ols data"


def ols_fit(formula: str, data: pd.DataFrame, weights: str | None = None,
            cluster: Any = None) -> tuple[LinearFit, dict[str, Any]]:
    """Checked design and the :class:`~pdstats.inference.covariance.LinearFit` of a (W)LS fit.

    Parameters
    ----------
    formula, data, weights, cluster
        As :func:`ols`.

    Returns
    -------
    (LinearFit, dict)
        The fit (one cluster per row when ``cluster`` is None) and ``X``, ``y``,
        ``weights``, ``codes``, ``sample_log``, ``data`` (rows used).

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1.0, 2, 4, 3], "x": [0.0, 1, 2, 3]})
    >>> fit, info = ols_fit("y ~ x", d)
    >>> np.round(fit.beta, 2).tolist(), fit.n_clusters
    ([1.3, 0.8], 4)
    """
    require_frame(data, _TABLE)
    if not isinstance(formula, str) or "~" not in formula:
        raise ModelSpecificationError(f"formula must be a string 'y ~ x + ...', got {formula!r}")
    try:
        spec = Formula(formula)
        variables = sorted(spec.required_variables)
    except Exception as exc:
        raise ModelSpecificationError(f"cannot parse formula {formula!r}: {exc}") from exc
    require_columns(data, variables, _TABLE, "formula")
    work = data[variables].copy()
    cols = list(variables)
    for v in variables:
        if pd.api.types.is_numeric_dtype(work[v]) or pd.api.types.is_bool_dtype(work[v]):
            if not pd.api.types.is_bool_dtype(work[v]):
                work[v] = as_numeric(data, v, _TABLE)
    if weights is not None:
        if not isinstance(weights, str):
            raise ModelSpecificationError("weights must name a column of the data")
        work[weights] = as_numeric(data, weights, _TABLE, lower=0.0, lower_open=True)
        cols.append(weights)
    cname = cluster if isinstance(cluster, str) else "cluster"
    if cluster is not None:
        if isinstance(cluster, str):
            require_columns(data, [cluster], _TABLE, "cluster")
            work[cname] = data[cluster].to_numpy()
        else:
            arr = np.asarray(cluster)
            if arr.shape != (len(data),):
                raise ModelSpecificationError(
                    f"cluster must name a column or have one value per row ({len(data)})")
            work[cname] = arr
        cols.append(cname)
    log = SampleLog(n_in=len(data))
    work, log = drop_missing(work, cols, _TABLE, log, stacklevel=4)
    if len(work) == 0:
        raise ModelSpecificationError(f"no rows left to fit {formula!r} after dropping missing values")
    try:
        y_mm, x_mm = model_matrix(spec, work, na_action="raise")
    except Exception as exc:
        raise ModelSpecificationError(f"cannot build the design of {formula!r}: {exc}") from exc
    X = np.asarray(x_mm, dtype=float)
    y = np.asarray(y_mm, dtype=float)
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise ModelSpecificationError(f"formula {formula!r} must have one response")
        y = y[:, 0]
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if len(bad):
        raise refuse(_TABLE, "design", "finite (the formula produced +-inf or NaN)", bad)
    names = [str(c) for c in x_mm.columns]
    n, p = X.shape
    if p == 0 or np.linalg.matrix_rank(X) < p:
        raise ModelSpecificationError(
            f"the design of {formula!r} is rank deficient (columns {names})")
    if n <= p:
        raise ModelSpecificationError(f"{n} rows cannot estimate {p} coefficients")
    w = work[weights].to_numpy(dtype=float) if weights is not None else None
    if w is not None:
        w = w / w.mean()  # scale-free, as clubSandwich
    if cluster is not None:
        codes, _ = pd.factorize(work[cname], sort=True)
    else:
        codes = np.arange(n)
    Xw = X if w is None else X * w[:, None]
    bread = np.linalg.inv(X.T @ Xw)
    beta = bread @ (Xw.T @ y)
    wsq = (Xw.T @ Xw)
    fit = LinearFit(beta, bread, identity_target_blocks(X, y, w, split_clusters(codes)),
                    inverse_var=False, wsq=wsq, n=n, names=names,
                    rows=None if cluster is not None else
                    {"X": X, "y": y, "w": np.ones(n) if w is None else w})
    info = {"X": X, "y": y, "weights": w, "codes": codes, "sample_log": log,
            "data": work, "formula": formula}
    return fit, info


def ols(formula: str, data: pd.DataFrame, weights: str | None = None, cluster: Any = None,
        vcov: str | None = None, level: float = 0.95) -> OLSResult:
    """Least squares (or weighted least squares) with cluster-robust inference.

    Parameters
    ----------
    formula : str
        Formulaic formula, e.g. ``"score ~ treated + C(state)"``.
    data : pandas.DataFrame
        One row per observation. Rows missing any variable (or the weight or cluster)
        are dropped and logged; ``+-inf`` is refused.
    weights : str, optional
        Column of analytic weights (WLS; the working model for CR2 is homoskedastic,
        as clubSandwich's default for weighted ``lm``).
    cluster : str or array-like, optional
        Cluster variable (any column, or one value per row).
    vcov : {"CR2", "CR1", "CR0", "HC2", "HC1", "HC0"}, optional
        Default ``"CR2"`` with ``cluster``, ``"HC2"`` without. CR2/HC2 use the
        Bell-McCaffrey adjustment and Satterthwaite df (Pustejovsky & Tipton 2018);
        CR0/CR1 (Stata's small-sample factor) use ``G - 1`` df; HC0/HC1 ``n - p``.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    OLSResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"district": np.repeat(np.arange(12), 20), "x": rng.normal(size=240)})
    >>> d["y"] = 0.5 * d.x + rng.normal(size=12)[d.district] + rng.normal(size=240)
    >>> res = pds.ols("y ~ x", d, cluster="district")
    >>> res.estimates[["term", "estimate"]].round(2).to_numpy().tolist()
    [['Intercept', 0.29], ['x', 0.4]]
    >>> bool(res.estimates["df"].iloc[0] < 11)
    True
    """
    level = check_level(level)
    kind = vcov if vcov is not None else ("CR2" if cluster is not None else "HC2")
    if kind not in VCOV_TYPES:
        raise ModelSpecificationError(f"vcov={kind!r}; choose one of {list(VCOV_TYPES)}")
    if kind.startswith("CR") and cluster is None:
        raise ModelSpecificationError(f"vcov={kind!r} needs cluster=; use HC{kind[2]} without")
    if kind.startswith("HC") and cluster is not None:
        raise ModelSpecificationError(f"vcov={kind!r} ignores clusters; use CR{kind[2]}")
    fit, info = ols_fit(formula, data, weights=weights, cluster=cluster)
    if fit.n_clusters < 2:
        raise ModelSpecificationError("cluster-robust inference needs at least 2 clusters")
    rc = robust_covariance(fit, "CR" + kind[2])
    df = rc.df if kind[2] == "2" else (
        np.full(fit.p, float(fit.n - fit.p)) if kind.startswith("HC") else rc.df)
    return OLSResult(fit, rc, df, kind, info, level)
