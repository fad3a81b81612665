"""Step 1 of every value-added method: the control matrix and the residualized outcome.

:func:`control_matrix` builds the covariates (prior scores with polynomial terms,
student controls with categorical ones as dummies, classroom means of the priors, year
dummies); :func:`residualize` regresses the outcome on them, optionally *within unit*
(unit fixed effects absorbed, as Chetty-Friedman-Rockoff and Stepner's ``vam``), and
returns residuals that still contain the unit effect (Stata's ``dresiduals``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pdstats._inputs import refuse
from pdstats.errors import ModelSpecificationError
from pdstats.results import add_ci

__all__ = ["Residualization", "control_matrix", "group_mean", "residualize"]


def group_mean(x: np.ndarray, codes: np.ndarray, weights: np.ndarray | None = None,
               n_groups: int | None = None) -> np.ndarray:
    """Weighted mean of ``x`` (1-D or 2-D by columns) within integer group ``codes``.

    Examples
    --------
    >>> import numpy as np
    >>> group_mean(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 1])).tolist()
    [2.0, 5.0]
    """
    n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
    w = np.ones(len(codes)) if weights is None else weights
    den = np.bincount(codes, weights=w, minlength=n_groups)
    if x.ndim == 1:
        return np.bincount(codes, weights=w * x, minlength=n_groups) / den
    out = np.empty((n_groups, x.shape[1]))
    for k in range(x.shape[1]):
        out[:, k] = np.bincount(codes, weights=w * x[:, k], minlength=n_groups) / den
    return out


def control_matrix(
    data: pd.DataFrame,
    prior: list[str],
    controls: list[str],
    degree: int = 3,
    class_codes: np.ndarray | None = None,
    class_means: bool = False,
    year: str | None = None,
    year_effects: bool = True,
) -> tuple[np.ndarray, list[str], list[int]]:
    """The covariate matrix (no constant) of the residualizing regression.

    Parameters
    ----------
    data : pandas.DataFrame
        Rows already cleaned of missing values.
    prior, controls : list of str
        Prior-score columns (standardized to mean 0, SD 1, then entered as polynomials of
        ``degree``, so their coefficients are per SD) and other student controls
        (numeric as is, categorical/boolean/text as dummies, first level dropped).
    degree : int
        Polynomial degree of each prior score (CFR use cubics).
    class_codes : numpy.ndarray, optional
        Classroom codes; with ``class_means`` the classroom means of the priors are added.
    year : str, optional
        Year column; with ``year_effects`` year dummies are added.

    Returns
    -------
    X : numpy.ndarray
    names : list of str
    linear_prior_cols : list of int
        Positions of the linear prior terms (for the measurement-error correction).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"p": [0.0, 1.0, 2.0], "g": ["a", "b", "a"]})
    >>> X, names, lin = control_matrix(df, ["p"], ["g"], degree=2)
    >>> names, lin
    (['p', 'p^2', 'g[b]'], [0])
    """
    if degree < 1:
        raise ModelSpecificationError(f"degree={degree}: the polynomial degree must be >= 1")
    cols: list[np.ndarray] = []
    names: list[str] = []
    linear: list[int] = []
    for p in prior:
        x = data[p].to_numpy(dtype=float)
        sd = x.std()
        x = (x - x.mean()) / (sd if sd > 0 else 1.0)
        for d in range(1, degree + 1):
            if d == 1:
                linear.append(len(cols))
            cols.append(x**d)
            names.append(p if d == 1 else f"{p}^{d}")
    for c in controls:
        s = data[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            dummies = pd.get_dummies(s.astype(str), drop_first=True, dtype=float)
            for lev in dummies.columns:
                cols.append(dummies[lev].to_numpy())
                names.append(f"{c}[{lev}]")
        else:
            cols.append(s.to_numpy(dtype=float))
            names.append(c)
    if class_means and class_codes is not None:
        for p in prior:
            x = data[p].to_numpy(dtype=float)
            cols.append(group_mean(x, class_codes)[class_codes])
            names.append(f"class_mean({p})")
    if year is not None and year_effects:
        dummies = pd.get_dummies(data[year].astype(str), drop_first=True, dtype=float)
        for lev in dummies.columns:
            cols.append(dummies[lev].to_numpy())
            names.append(f"year[{lev}]")
    if not cols:
        return np.empty((len(data), 0)), names, linear
    return np.column_stack(cols), names, linear


@dataclass
class Residualization:
    """Result of :func:`residualize`.

    Attributes
    ----------
    resid : numpy.ndarray
        ``y - X beta`` centred to (weighted) mean zero; it still holds the unit effect.
    beta : pandas.Series
        Coefficients of the controls (constant and absorbed effects excluded).
    within : bool
        Whether unit fixed effects were absorbed when estimating ``beta``.
    n_params : int
        Number of estimated slopes (the ``e(df_m)`` of Stata's ``areg``).
    cov : numpy.ndarray
        Classical covariance matrix of ``beta`` (``s^2 (X'X)^{-1}``; errors taken as
        independent, so it understates uncertainty under class shocks).
    """

    resid: np.ndarray
    beta: pd.Series
    within: bool
    n_params: int
    cov: np.ndarray

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficients with classical standard errors and normal intervals."""
        se = np.sqrt(np.diag(self.cov)) if len(self.beta) else np.empty(0)
        table = pd.DataFrame({"estimate": self.beta.to_numpy(), "std_error": se},
                             index=self.beta.index)
        return add_ci(table, level, df=None)


def _checked_arrays(y: object, X: object, names: list[str], unit_codes: np.ndarray | None,
                    weights: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refuse non-finite or misshapen input of :func:`residualize` (no missing values here)."""
    table = "residualize input"
    try:
        y = np.asarray(y, dtype=float).ravel()
        X = np.asarray(X, dtype=float)
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ModelSpecificationError(f"{table}: y, X and weights must be numeric ({exc})") from exc
    if X.ndim != 2 or X.shape[0] != len(y) or len(w) != len(y) or X.shape[1] != len(names):
        raise ModelSpecificationError(
            f"{table}: y has {len(y)} rows, X has shape {X.shape}, weights {len(w)} rows and "
            f"{len(names)} names; rule: one row per observation, one name per column of X")
    if len(y) == 0:
        raise ModelSpecificationError(f"{table}: no rows")
    if unit_codes is not None and len(unit_codes) != len(y):
        raise ModelSpecificationError(f"{table}: unit_codes has {len(unit_codes)} rows, y {len(y)}")
    for name, arr in (("y", y), ("weights", w)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise refuse(table, name, "finite (no missing or infinite values)", bad)
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad.size:
        raise refuse(table, "X", "finite (no missing or infinite values)", bad)
    bad = np.flatnonzero(w < 0)
    if bad.size or w.sum() <= 0:
        raise refuse(table, "weights", "range [0, inf) with a positive total", bad)
    return y, X, w


def residualize(
    y: np.ndarray,
    X: np.ndarray,
    names: list[str],
    unit_codes: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    error_variance: np.ndarray | None = None,
) -> Residualization:
    """Regress ``y`` on ``X`` (with a constant, or within ``unit_codes``) and residualize.

    Parameters
    ----------
    y : numpy.ndarray
        Outcome.
    X : numpy.ndarray
        Controls without a constant (see :func:`control_matrix`).
    names : list of str
        Column names of ``X``.
    unit_codes : numpy.ndarray, optional
        Integer unit codes; when given, unit fixed effects are absorbed (within
        estimator) and the residual keeps the unit effect (``y - X beta``).
    weights : numpy.ndarray, optional
        Row weights (dosage).
    error_variance : numpy.ndarray, optional
        ``(k, k)`` matrix subtracted from the (weighted, per-row averaged x N) moment matrix:
        the errors-in-variables correction of
        :func:`~pdstats.vam.measurement_error.error_moment`.

    Returns
    -------
    Residualization

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(200, 1)); y = 2 * x[:, 0] + rng.normal(size=200)
    >>> r = residualize(y, x, ["x"])
    >>> round(float(r.beta["x"]), 1), abs(float(r.resid.mean())) < 1e-12
    (2.0, True)
    """
    y, X, w = _checked_arrays(y, X, names, unit_codes, weights)
    k = X.shape[1]
    if unit_codes is not None:
        Xc = X - group_mean(X, unit_codes, w)[unit_codes] if k else X
        yc = y - group_mean(y, unit_codes, w)[unit_codes]
    else:
        Xc = X - (w @ X) / w.sum() if k else X
        yc = y - (w @ y) / w.sum()
    if k:
        flat = np.flatnonzero(Xc.std(axis=0) <= 1e-9 * np.maximum(X.std(axis=0), 1e-300))
        if len(flat):
            where = "within unit (absorbed by the unit fixed effects)" if unit_codes is not None \
                else "over the sample"
            raise ModelSpecificationError(
                f"control(s) {[names[i] for i in flat]} are constant {where}; drop them "
                "(e.g. class_means=False, or absorb_unit=False)"
            )
        Xw = Xc * w[:, None]
        XtX = Xw.T @ Xc
        if error_variance is not None:
            XtX = XtX - error_variance
        Xty = Xw.T @ yc
        try:
            beta = np.linalg.solve(XtX, Xty)
        except np.linalg.LinAlgError as exc:
            raise ModelSpecificationError(
                f"controls {names} are collinear (singular moment matrix); drop a column"
            ) from exc
        if np.linalg.cond(XtX) > 1e12:
            raise ModelSpecificationError(
                f"controls {names} are (nearly) collinear; drop or rescale a column"
            )
        fit = X @ beta
        e = yc - Xc @ beta
        n_abs = int(unit_codes.max()) + 1 if unit_codes is not None else 1
        s2 = float(w @ e**2) / max(len(y) - k - n_abs, 1)
        cov = s2 * np.linalg.inv(XtX)
    else:
        beta = np.empty(0)
        fit = np.zeros(len(y))
        cov = np.empty((0, 0))
    resid = y - fit
    resid = resid - (w @ resid) / w.sum()
    return Residualization(resid=resid, beta=pd.Series(beta, index=pd.Index(names, name="term"),
                                                       name="estimate"),
                           within=unit_codes is not None, n_params=k, cov=cov)
