"""``pds.vam.value_added``: one front door to the value-added estimators.

The pipeline: check the input and log dropped rows -> build the control matrix
(:mod:`~pdstats.vam.residualize`) -> optional errors-in-variables correction
(:mod:`~pdstats.vam.measurement_error`) -> residualize -> the method's estimator
(:mod:`~pdstats.vam.eb`, :mod:`~pdstats.vam.cfr`, :mod:`~pdstats.vam.fe`,
:mod:`~pdstats.vam.re`) -> :class:`~pdstats.vam.results.VAResult`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pdstats._parallel import check_backend, map_pieces, raise_failures, seed_of
from pdstats.errors import ModelSpecificationError, PdstatsError
from pdstats.results import SampleLog, add_ci, check_level, flag_unestimated
from pdstats.vam._checks import clean_rows, positive_int, require_roles
from pdstats.vam.measurement_error import error_moment
from pdstats.vam.residualize import control_matrix, residualize
from pdstats.vam.results import VAResult, moment_table
from pdstats.vam.source import group_keys, is_source, read_group, source_columns, source_counts

__all__ = ["METHODS", "value_added"]

METHODS = ("ols", "eb", "cfr", "fe", "re")
_TABLE = "value_added data"
# residualize within unit (unit fixed effects absorbed) by default?
_WITHIN_DEFAULT = {"ols": False, "eb": True, "cfr": True, "fe": True, "re": False}
_PIECE_NAMES = {
    "total": "total residual",
    "individual": "individual (student)",
    "between": "unit (between-class covariance)",
    "same_year": "unit-year effect (same-year covariance)",
    "class": "class shock",
}


def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _drop_zero_dosage(data: pd.DataFrame, log: SampleLog, dosage: str | None
                      ) -> pd.DataFrame:
    if dosage is None:
        return data
    zero = data[dosage].to_numpy(dtype=float) == 0
    log.drop(f"zero dosage {dosage!r}", int(zero.sum()))
    return data.loc[~zero]


def value_added(
    data: pd.DataFrame,
    outcome: str,
    prior: str | Sequence[str] = (),
    controls: str | Sequence[str] = (),
    unit: str = "teacher",
    year: str | None = None,
    classroom: str | None = None,
    method: str = "eb",
    *,
    degree: int = 3,
    class_means: bool = False,
    year_effects: bool = True,
    absorb_unit: bool | None = None,
    by: str | Sequence[str] | None = None,
    by_year: bool = False,
    dosage: str | None = None,
    reliability: Mapping[str, float] | None = None,
    csem: Mapping[str, str] | None = None,
    drift_limit: int | None = None,
    cfr_draws: int = 50,
    random_state: int | np.random.Generator | None = 0,
    level: float = 0.95,
    progress: bool = True,
    backend: str = "local",
    client: Any = None,
) -> VAResult:
    """Estimate value-added of teachers, schools or districts.

    Parameters
    ----------
    data : pandas.DataFrame or path
        One row per student-year (or student-unit-year link, with ``dosage``). A path
        (or glob) of Parquet files reads one ``by`` group at a time with DuckDB instead
        of the whole table (:mod:`pdstats.vam.source`): memory holds the largest group,
        and each dask piece reads its own group. ``by`` is then required.
    outcome : str
        Current score.
    prior : str or list of str
        Prior scores (both subjects, several years); entered as polynomials of ``degree``.
    controls : str or list of str
        Other student controls (categorical ones become dummies).
    unit : str
        Column identifying the unit (teacher, school or district id).
    year : str, optional
        Year column (integer years; needed for ``cfr`` and ``by_year``).
    classroom : str, optional
        Classroom within unit-year; without it each unit-year is one class.
    method : {"ols", "eb", "cfr", "fe", "re"}
        ``"ols"`` covariate-adjusted unit means of residuals; ``"eb"`` Kane-Staiger
        empirical Bayes; ``"cfr"`` Chetty-Friedman-Rockoff drift-adjusted leave-year-out
        forecasts (one estimate per unit-year); ``"fe"`` unit fixed effects from an
        absorbed regression (linearmodels); ``"re"`` BLUPs of a random-intercept model
        fitted by ``pds.lmm``.
    degree : int
        Polynomial degree of the priors (standardized first).
    class_means : bool
        Add classroom (unit-year) means of the priors as controls.
    year_effects : bool
        Add year dummies (when ``year`` is given).
    absorb_unit : bool, optional
        Estimate the control coefficients within unit (unit fixed effects); default
        True for ``eb``, ``cfr``, ``fe`` and False for ``ols`` (``re`` fits jointly).
    by : str or list of str, optional
        Fit separately by these columns (e.g. subject, grade) and stack the results.
    by_year : bool
        For ``ols``, ``eb``, ``fe``, ``re``: one estimate per unit-year instead of pooling
        the unit's years.
    dosage : str, optional
        Share of the year the student spent with the unit; rows are weighted by it and
        ``n_students`` counts student-years.
    reliability, csem : mapping, optional
        Measurement-error correction of prior scores: ``{prior: reliability}`` or
        ``{prior: CSEM column}`` (needs ``degree=1``).
    drift_limit : int, optional
        ``cfr``: lags beyond this use the covariance at ``drift_limit``.
    cfr_draws : int
        ``cfr``: draws of the estimated autocovariances whose spread of forecasts is added
        to each forecast's variance (0: treat them as known, as the BLP formula does).
    random_state : int or numpy.random.Generator, optional
        Seeds those draws.
    level : float
        Confidence level of ``ci_lower``/``ci_upper``.
    progress : bool
        Progress bar over ``by`` groups.
    backend : {"local", "dask"}
        Fit the ``by`` groups one after another here, or as tasks on a
        ``dask.distributed`` cluster (the current client, or ``client``); the result is
        identical. A ``random_state`` Generator gives one integer seed used by every
        group (as an integer ``random_state`` is).
    client : distributed.Client, optional
        The dask client for ``backend="dask"``.

    Returns
    -------
    VAResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> t = np.repeat(np.arange(60), 25); yr = np.tile(np.repeat([1, 2], 25 // 2 + 1)[:25], 60)
    >>> df = pd.DataFrame({"teacher": t, "year": yr, "prior": rng.normal(size=1500)})
    >>> df["score"] = 0.7 * df.prior + rng.normal(0, .3, 60)[t] + rng.normal(size=1500)
    >>> res = pds.vam.value_added(df, "score", prior="prior", unit="teacher", year="year",
    ...                           method="eb", degree=1)
    >>> res.effects.shape[0], list(res.effects.columns[:4])
    (60, ['unit', 'year', 'estimate', 'std_error'])
    """
    method = method.lower() if isinstance(method, str) else method
    if method not in METHODS:
        raise ModelSpecificationError(f"method={method!r}; choose one of {METHODS}")
    level = check_level(level)
    check_backend(backend, client)
    random_state = seed_of(random_state)
    degree = positive_int(degree, "degree")
    cfr_draws = positive_int(cfr_draws, "cfr_draws", minimum=0)
    prior_l, controls_l, by_l = _as_list(prior), _as_list(controls), _as_list(by)
    if method == "cfr" and year is None:
        raise ModelSpecificationError("method='cfr' needs a year column (year=...)")
    if by_year and year is None:
        raise ModelSpecificationError("by_year=True needs a year column (year=...)")
    if (reliability or csem) and degree != 1:
        raise ModelSpecificationError(
            "the measurement-error correction applies to linear prior terms: use degree=1 "
            f"(got degree={degree})"
        )
    roles = {"outcome": [outcome], "prior": prior_l, "controls": controls_l, "unit": [unit],
             "year": _as_list(year), "classroom": _as_list(classroom), "by": by_l,
             "dosage": _as_list(dosage), "csem": list((csem or {}).values())}
    checks = dict(outcome=outcome, prior=prior_l, controls=controls_l, unit=unit, year=year,
                  classroom=classroom, by=by_l, dosage=dosage, csem=csem, roles=roles)
    opts = dict(outcome=outcome, prior=prior_l, controls=controls_l, unit=unit, year=year,
                classroom=classroom, method=method, degree=degree, class_means=class_means,
                year_effects=year_effects,
                absorb_unit=_WITHIN_DEFAULT[method] if absorb_unit is None else absorb_unit,
                by_year=by_year, dosage=dosage, reliability=reliability, csem=csem,
                drift_limit=drift_limit, cfr_draws=cfr_draws, random_state=random_state,
                level=level)
    if is_source(data):
        parts, log = _fit_source(data, checks, opts, backend, client, progress)
    else:
        require_roles(data, _TABLE, roles)
        clean, log = _clean(data, **checks)
        _refuse_empty(len(clean), log)
        if not by_l:
            parts = [(None, _fit_checked(clean, (), opts))]
        else:
            groups = [(key if isinstance(key, tuple) else (key,), g)
                      for key, g in clean.groupby(by_l, sort=True, observed=True)]
            keys = [k for k, _ in groups]
            outcome_ = map_pieces(_fit_group, keys, [(g, k) for k, g in groups], backend=backend,
                                  client=client, progress=progress, desc="value_added by group",
                                  shared=(opts,), capture_warnings=True)
            raise_failures(outcome_, "value_added groups", by_l)
            parts = [(k, outcome_[k]) for k in keys]
    tables = {}
    for name in ("effects", "varcomp", "coef", "acov", "rows"):
        frames = []
        for key, part in parts:
            f = part[name]
            if f is None:
                continue
            if key is not None:
                f = f.copy()
                for col, v in reversed(list(zip(by_l, key, strict=True))):
                    f.insert(0, col, v)
            frames.append(f)
        tables[name] = pd.concat(frames) if frames else None
    for name in ("effects", "varcomp", "coef", "acov"):
        if tables[name] is not None and name != "coef":
            tables[name] = tables[name].reset_index(drop=True)
    flag_unestimated(tables["effects"], f"value_added(method={method!r})")
    _flag_components(tables["varcomp"], method)
    options = {"Outcome": outcome, "Priors": ", ".join(prior_l) or "none"}
    if method == "cfr":
        options["Drift limit"] = drift_limit if drift_limit is not None else "none"
    if reliability or csem:
        options["Measurement-error correction"] = "yes"
    return VAResult(method=method, unit=unit, effects=tables["effects"],
                    variance_components=tables["varcomp"], coefficients=tables["coef"],
                    sample_log=log, autocovariance=tables["acov"], rows=tables["rows"],
                    by=by_l, options=options)


def _clean(data: pd.DataFrame, *, outcome: str, prior: list[str], controls: list[str], unit: str,
           year: str | None, classroom: str | None, by: list[str], dosage: str | None,
           csem: Mapping[str, str] | None, roles: dict) -> tuple[pd.DataFrame, SampleLog]:
    """The input rule on the used columns: numeric checks, missing rows dropped and logged."""
    numeric: dict[str, dict] = {c: {} for c in [outcome, *prior]}
    numeric.update({c: {} for c in controls if pd.api.types.is_numeric_dtype(data[c])
                    and not pd.api.types.is_bool_dtype(data[c])})
    numeric.update({c: {"lower": 0.0} for c in (csem or {}).values()})
    if year is not None:
        numeric[year] = {"integer": True}
    if dosage is not None:  # the share of the year the student spent with the unit
        numeric[dosage] = {"lower": 0.0, "upper": 1.0}
    other = [c for c in [*controls, unit, *_as_list(classroom), *by] if c not in numeric]
    clean, log = clean_rows(data, _TABLE, numeric, other, roles=roles, stacklevel=5)
    return _drop_zero_dosage(clean, log, dosage), log


def _refuse_empty(n_rows: int, log: SampleLog) -> None:
    if n_rows == 0:
        raise ModelSpecificationError(
            f"table {_TABLE!r}: no rows left after dropping rows with missing values ({log})")


def _fit_group(opts: dict, df: pd.DataFrame, key: tuple) -> dict[str, pd.DataFrame | None]:
    """One ``by`` group (a piece of :func:`value_added`)."""
    return _fit_checked(df, key, opts)


def _fit_source_group(path: object, checks: dict, opts: dict, key: tuple
                      ) -> tuple[dict[str, pd.DataFrame | None] | None, SampleLog]:
    """One ``by`` group read from Parquet, checked and fitted (a piece; memory: this group)."""
    used = [c for cols in checks["roles"].values() for c in cols]
    frame = read_group(path, used, checks["by"], key)
    clean, log = _clean(frame, **checks)
    # a group whose rows all lack a used value is absent, as after groupby in memory
    return (_fit_checked(clean, key, opts) if len(clean) else None), log


def _fit_source(path: object, checks: dict, opts: dict, backend: str, client: Any, progress: bool
                ) -> tuple[list, SampleLog]:
    """Every ``by`` group of a Parquet source, each read by its own piece."""
    by = checks["by"]
    if not by:
        raise ModelSpecificationError(
            f"value_added on Parquet data ({str(path)!r}) reads one by= group at a time: give by=")
    have = set(source_columns(path))
    for role, cols in checks["roles"].items():
        missing = [c for c in cols if c not in have]
        if missing:
            raise ModelSpecificationError(
                f"table {_TABLE!r} ({str(path)!r}): column(s) {missing} named by argument {role!r} not found")
    keys = group_keys(path, by)
    outcome = map_pieces(_fit_source_group, keys, [(k,) for k in keys], backend=backend, client=client,
                         progress=progress, desc="value_added by group (Parquet)",
                         shared=(path, checks, opts), capture_warnings=True)
    raise_failures(outcome, "value_added groups", by)
    n_total, n_missing_by = source_counts(path, by)
    log = SampleLog(n_in=n_total, unit="rows")
    for b, n in n_missing_by.items():
        log.drop(f"missing {b!r}", n)
    for k in keys:
        for reason, n in outcome[k][1].dropped.items():
            log.drop(reason, n)
    _refuse_empty(log.n_used, log)
    return [(k, outcome[k][0]) for k in keys if outcome[k][0] is not None], log


def _fit_checked(df: pd.DataFrame, key: object, opts: dict) -> dict[str, pd.DataFrame | None]:
    """:func:`_fit_one` with its sample checked first and numerical failures translated."""
    where = f" (group {key})" if key != () else ""
    n_units = df[opts["unit"]].nunique()
    if n_units < 2:
        raise ModelSpecificationError(
            f"table {_TABLE!r}{where}: {n_units} unit(s) in column {opts['unit']!r}; rule: "
            "value-added compares units, so at least 2 are needed")
    try:
        return _fit_one(df, **opts)
    except PdstatsError:
        raise
    except (ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError, ValueError) as exc:
        raise ModelSpecificationError(
            f"value_added(method={opts['method']!r}){where}: {len(df)} rows in {n_units} units "
            f"cannot support this model ({type(exc).__name__}: {str(exc).strip()[:160]}); "
            "use more data or fewer controls") from exc


def _flag_components(vc: pd.DataFrame, method: str) -> None:
    """Variance components without a usable SE get NaN + flag; a structural zero (the class
    shock without classroom ids, set to 0 rather than estimated) is flagged without a warning."""
    structural = ((vc["estimate"] == 0) & (vc["std_error"] == 0)).to_numpy()
    if (~structural & ~(vc["std_error"] > 0).to_numpy()).any():
        flag_unestimated(vc, f"value_added(method={method!r}) variance components", stacklevel=4)
    vc.loc[structural, ["std_error", "ci_lower", "ci_upper"]] = np.nan
    vc["flag"] = (vc["flag"].to_numpy(dtype=bool) if "flag" in vc else False) | structural


def _codes(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    if len(cols) == 1:
        return pd.factorize(df[cols[0]], sort=True)[0].astype(np.int64)
    return df.groupby(cols, sort=True, observed=True).ngroup().to_numpy(dtype=np.int64)


def _with_ci(eff: pd.DataFrame, level: float) -> pd.DataFrame:
    pos = eff.columns.get_loc("std_error") + 1
    ci = add_ci(eff[["estimate", "std_error"]].copy(), level, df=None)
    eff.insert(pos, "ci_lower", ci["ci_lower"])
    eff.insert(pos + 1, "ci_upper", ci["ci_upper"])
    return eff


def _fit_one(df: pd.DataFrame, *, outcome: str, prior: list[str], controls: list[str],
             unit: str, year: str | None, classroom: str | None, method: str, degree: int,
             class_means: bool, year_effects: bool, absorb_unit: bool, by_year: bool,
             dosage: str | None, reliability, csem, drift_limit: int | None,
             cfr_draws: int, random_state, level: float) -> dict[str, pd.DataFrame | None]:
    unit_codes = _codes(df, [unit])
    unit_labels = pd.factorize(df[unit], sort=True)[1]
    years = df[year].to_numpy(dtype=np.int64) if year is not None else np.zeros(
        len(df), dtype=np.int64)
    class_cols = [unit] + ([year] if year is not None else []) + (
        [classroom] if classroom is not None else [])
    class_codes = _codes(df, class_cols)
    w = (df[dosage].to_numpy(dtype=float) if dosage is not None else np.ones(len(df)))
    X, names, linear = control_matrix(df, prior, controls, degree=degree,
                                      class_codes=class_codes, class_means=class_means,
                                      year=year, year_effects=year_effects)
    y = df[outcome].to_numpy(dtype=float)
    within = unit_codes if absorb_unit else None
    D = None
    if reliability or csem:
        D = error_moment(df, prior, linear, X.shape[1], reliability=reliability, csem=csem,
                         weights=w, unit_codes=within)
    if method == "re":
        from pdstats.vam.re import re_effects

        key_cols = [unit, year] if by_year else [unit]
        return re_effects(df, y, X, names, key_cols, class_codes if classroom else None,
                          level=level)
    res = residualize(y, X, names, unit_codes=within, weights=w, error_variance=D)
    coef = res.table(level)
    rows = pd.DataFrame({"unit": df[unit].to_numpy(), "resid": res.resid}, index=df.index)
    if year is not None:
        rows.insert(1, "year", years)
    acov = None
    if method == "cfr":
        from pdstats.vam.cfr import cfr_fit

        fit = cfr_fit(res.resid, w, unit_codes, years, class_codes, res.n_params, drift_limit,
                      n_draws=cfr_draws, random_state=random_state)
        uy, fc = fit.unit_years, fit.forecasts
        eff = pd.DataFrame({"unit": unit_labels[uy["unit"].to_numpy()],
                            "year": uy["year"].to_numpy(), "estimate": fc["estimate"],
                            "std_error": np.sqrt(fc["prediction_var"] + fc["parameter_var"]),
                            "reliability": fc["reliability"], "n_students": uy["n_students"],
                            "n_classes": uy["n_classes"],
                            "n_other_years": fc["n_other_years"]})
        eff.loc[eff["estimate"].isna(), "std_error"] = np.nan
        varcomp = moment_table(fit.pieces, _PIECE_NAMES, level)
        acov = _acov_table(fit)
        rows["va"] = fc["estimate"].to_numpy()[fit.row_unit_year]
    else:
        key_cols = [unit, year] if by_year else [unit]
        key_codes = _codes(df, key_cols)
        if method == "fe":
            from pdstats.vam.fe import fe_effects

            eff, varcomp = fe_effects(y, X, names, key_codes, unit_codes, w, level,
                                      class_codes=class_codes)
        else:
            from pdstats.vam.eb import eb_effects, ks_pieces, ols_effects

            classes, pieces = ks_pieces(res.resid, w, key_codes, years, class_codes,
                                        unit_codes, res.n_params)
            eff = (eb_effects if method == "eb" else ols_effects)(classes, pieces)
            varcomp = moment_table(pieces, _PIECE_NAMES, level)
        first = pd.Series(np.arange(len(df))).groupby(key_codes).first().to_numpy()
        eff.insert(0, "unit", df[unit].to_numpy()[first])
        eff.insert(1, "year", years[first].astype(float) if by_year else np.nan)
        eff = eff.reset_index(drop=True)
        rows["va"] = eff["estimate"].to_numpy()[key_codes]
    return {"effects": _with_ci(eff, level), "varcomp": varcomp, "coef": coef, "acov": acov,
            "rows": rows}


def _acov_table(fit) -> pd.DataFrame:
    m0 = fit.pieces["same_year"]
    rows = []
    for lag, m in fit.acov.items():
        corr = m.estimate / m0.estimate
        corr_se = float(np.sqrt(np.sum(((m.psi - corr * m0.psi) / m0.estimate) ** 2)))
        rows.append((lag, m.estimate, m.std_error, corr, corr_se, m.n, fit.M[lag]))
    return pd.DataFrame(rows, columns=["lag", "covariance", "std_error", "correlation",
                                       "corr_se", "n_pairs", "used"])
