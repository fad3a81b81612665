"""Validity diagnostics of value-added estimates.

* :func:`forecast_bias` - regress students' outcome residuals on their unit's
  leave-year-out VA (``cfr``): an unbiased forecast has coefficient 1 (CFR 2014a, sec. IV);
* :func:`placebo_test` - regress a pre-determined variable (e.g. a lagged score not
  used as a control) on the same VA: the coefficient should be 0;
* :func:`stability` - correlation of a unit's estimates ``s`` years apart, with Fisher-z
  intervals, and the quintile transition matrix between consecutive years.

Standard errors are clustered by unit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from pdstats._inputs import as_numeric, require_columns
from pdstats.errors import DroppedRowsWarning, ModelSpecificationError
from pdstats.results import add_ci, check_level, critical_value, flag_unestimated
from pdstats.vam._checks import positive_int
from pdstats.vam.results import VAResult

__all__ = ["forecast_bias", "placebo_test", "stability", "transition_matrix"]


def _clustered_slope(y: np.ndarray, x: np.ndarray, groups: np.ndarray, null: float,
                     name: str, level: float) -> pd.DataFrame:
    level = check_level(level)
    n_units = len(np.unique(groups))
    if len(y) < 3 or n_units < 2 or np.ptp(x) <= 0:
        raise ModelSpecificationError(
            f"{name}: {len(y)} row(s) in {n_units} unit(s); rule: the slope needs at least 3 "
            "rows, 2 units and VA that varies")
    fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="cluster",
                                            cov_kwds={"groups": pd.factorize(groups)[0]})
    b, se = float(fit.params[1]), float(fit.bse[1])
    out = pd.DataFrame([{"test": name, "estimate": b, "std_error": se, "null": null,
                         "n": len(y), "n_units": n_units}])
    add_ci(out, level, df=None)
    z = (b - null) / se if se > 0 else np.nan
    out["statistic"], out["p_value"] = z, 2 * stats.norm.sf(abs(z))
    flag_unestimated(out, name, stacklevel=4)
    return out[["test", "estimate", "std_error", "ci_lower", "ci_upper", "null", "statistic",
                "p_value", "n", "n_units", "flag"]]


def _rows_with_va(result) -> pd.DataFrame:
    if not isinstance(result, VAResult):
        raise ModelSpecificationError(f"expected a value_added result, got {type(result).__name__}")
    if result.method != "cfr":
        raise ModelSpecificationError(
            f"forecast-bias and placebo tests need leave-year-out VA (method='cfr'); this "
            f"result is method={result.method!r}, whose VA uses the student's own year"
        )
    rows = result.rows
    return rows[rows["va"].notna()]


def forecast_bias(result: VAResult, level: float = 0.95) -> pd.DataFrame:
    """Forecast-bias test: coefficient of the outcome residual on leave-year-out VA.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> t = np.repeat(np.arange(80), 60); yr = np.tile(np.repeat([1, 2, 3], 20), 80)
    >>> df = pd.DataFrame({"t": t, "yr": yr, "y": rng.normal(0, .3, 80)[t]
    ...                    + rng.normal(size=4800)})
    >>> res = pds.vam.value_added(df, "y", unit="t", year="yr", method="cfr")
    >>> fb = forecast_bias(res)
    >>> fb.columns.tolist()[:3]
    ['test', 'estimate', 'std_error']
    """
    rows = _rows_with_va(result)
    return _clustered_slope(rows["resid"].to_numpy(), rows["va"].to_numpy(),
                            rows["unit"].to_numpy(), 1.0, "forecast bias (coef = 1)", level)


def placebo_test(result: VAResult, data: pd.DataFrame, placebo: str, level: float = 0.95) -> pd.DataFrame:
    """Regress a pre-determined variable on leave-year-out VA (coefficient ~ 0).

    Parameters
    ----------
    result : VAResult
        A ``cfr`` result.
    data : pandas.DataFrame
        The data the result was fitted on (rows are matched by index).
    placebo : str
        Column of a variable determined before the unit could affect it (a lagged score
        that was not a control, a parental characteristic).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> t = np.repeat(np.arange(80), 60); yr = np.tile(np.repeat([1, 2, 3], 20), 80)
    >>> df = pd.DataFrame({"t": t, "yr": yr, "lag2": rng.normal(size=4800),
    ...                    "y": rng.normal(0, .3, 80)[t] + rng.normal(size=4800)})
    >>> res = pds.vam.value_added(df, "y", unit="t", year="yr", method="cfr")
    >>> bool(abs(placebo_test(res, df, "lag2")["statistic"].iloc[0]) < 3)
    True
    """
    rows = _rows_with_va(result)
    require_columns(data, [placebo], "placebo data", "placebo")
    if not rows.index.isin(data.index).all():
        raise ModelSpecificationError(
            "placebo_test: data must be the table the result was fitted on (rows are matched "
            "by index); some fitted rows are not in it")
    v = as_numeric(data.loc[rows.index], placebo, "placebo data")
    ok = v.notna().to_numpy()
    if not ok.all():
        warnings.warn(f"table 'placebo data': dropped {int((~ok).sum())} row(s) with a missing "
                      f"{placebo!r}", DroppedRowsWarning, stacklevel=2)
    return _clustered_slope(v.to_numpy(dtype=float)[ok], rows["va"].to_numpy()[ok],
                            rows["unit"].to_numpy()[ok], 0.0, f"placebo: {placebo} (coef = 0)",
                            level)


def _wide(result) -> pd.DataFrame:
    if not isinstance(result, VAResult):
        raise ModelSpecificationError(f"expected a value_added result, got {type(result).__name__}")
    e = result.effects
    if "year" not in e.columns or e["year"].isna().all():
        raise ModelSpecificationError(
            "stability needs one estimate per unit-year (method='cfr' or by_year=True)")
    keys = [*getattr(result, "by", []), "unit"]
    w = e.dropna(subset=["estimate"]).pivot_table(index=keys, columns="year", values="estimate")
    if w.shape[1] < 2:
        raise ModelSpecificationError(
            f"stability needs estimates in at least two years; this result has {w.shape[1]}")
    return w


def stability(result: VAResult, level: float = 0.95) -> pd.DataFrame:
    """Correlation of unit estimates ``s`` years apart (all pairs of years ``s`` apart).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(1)
    >>> t = np.repeat(np.arange(50), 60); yr = np.tile(np.repeat([1, 2, 3], 20), 50)
    >>> df = pd.DataFrame({"t": t, "yr": yr, "y": rng.normal(0, .4, 50)[t]
    ...                    + rng.normal(size=3000)})
    >>> st = stability(pds.vam.value_added(df, "y", unit="t", year="yr", method="cfr"))
    >>> st["lag"].tolist()
    [1, 2]
    """
    q = critical_value(level)
    w = _wide(result)
    years = sorted(w.columns)
    out = []
    for lag in range(1, int(max(years) - min(years)) + 1):
        xs, ys = [], []
        for y0 in years:
            if y0 + lag in w.columns:
                pair = w[[y0, y0 + lag]].dropna()
                xs.append(pair[y0].to_numpy())
                ys.append(pair[y0 + lag].to_numpy())
        if not xs:
            continue
        x, y = np.concatenate(xs), np.concatenate(ys)
        if len(x) < 4:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        z, s = np.arctanh(r), 1 / np.sqrt(len(x) - 3)
        out.append({"lag": lag, "correlation": r, "ci_lower": float(np.tanh(z - q * s)),
                    "ci_upper": float(np.tanh(z + q * s)), "n_pairs": len(x)})
    return pd.DataFrame(out)


def transition_matrix(result: VAResult, groups: int = 5) -> pd.DataFrame:
    """Share of units moving between VA quintiles (or ``groups``) in consecutive years.

    Rows: group in year t; columns: group in year t+1; rows sum to 1.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(1)
    >>> t = np.repeat(np.arange(50), 40); yr = np.tile(np.repeat([1, 2], 20), 50)
    >>> df = pd.DataFrame({"t": t, "yr": yr, "y": rng.normal(0, .5, 50)[t]
    ...                    + rng.normal(size=2000)})
    >>> res = pds.vam.value_added(df, "y", unit="t", year="yr", method="ols", by_year=True)
    >>> transition_matrix(res, groups=2).shape
    (2, 2)
    """
    groups = positive_int(groups, "groups", minimum=2)
    w = _wide(result)
    years = sorted(w.columns)
    frames = []
    for y0 in years:
        if y0 + 1 in w.columns:
            pair = w[[y0, y0 + 1]].dropna()
            try:
                a = pd.qcut(pair[y0], groups, labels=False) + 1
                b = pd.qcut(pair[y0 + 1], groups, labels=False) + 1
            except ValueError as exc:  # too few distinct estimates for the quantile groups
                raise ModelSpecificationError(
                    f"transition_matrix: years {y0} and {y0 + 1} have {len(pair)} units with "
                    f"estimates in both, too few distinct values for {groups} groups") from exc
            frames.append(pd.DataFrame({"from": a.to_numpy(), "to": b.to_numpy()}))
    if not frames:
        raise ModelSpecificationError("no unit has estimates in two consecutive years")
    f = pd.concat(frames)
    return pd.crosstab(f["from"], f["to"], normalize="index")
