"""Student growth percentiles (Betebenner's SGP) with unit medians and bootstrap SEs.

The conventions are those of the R ``SGP`` package (``studentGrowthPercentiles``):

* each prior score enters as a cubic B-spline basis, ``splines::bs(x, knots,
  Boundary.knots)`` without intercept, knots at the 20/40/60/80th percentiles of the
  prior and boundaries at its range extended by 10% on each side (``extendrange(x,
  f = 0.1)``), both rounded to 3 digits (:func:`knots_boundaries`, :func:`bs_basis`);
* 100 quantile regressions at ``tau = 0.005, 0.015, ..., 0.995`` (``rq(method = "br")``,
  solved exactly by :func:`pdstats.vam.quantreg.rq_fit`);
* predicted quantiles of each student sorted (non-crossing, ``isotonize = TRUE``) and
  rounded to 5 digits; the SGP is the number of predicted quantiles below the observed
  score, with 0 -> 1 and 100 -> 99 (``convert.0and100``), so SGPs run 1..99;
* growth to target: the SGP a student would need to reach a target score this year
  (the number of predicted quantiles below the target, same conversion).

Median and mean growth percentiles by unit get bootstrap SEs from resampling students
within unit (exact multinomial resampling of each unit's SGP counts).
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.interpolate import BSpline
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from pdstats._inputs import as_numeric, drop_missing
from pdstats._parallel import check_backend, map_pieces, raise_failures, seed_of
from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.results import ResultsBase, SampleLog, check_level, critical_value
from pdstats.vam._checks import positive_int, require_roles
from pdstats.vam.quantreg import rq_fit
from pdstats.vam.source import group_keys, is_source, read_group, source_columns, source_counts

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SGP_TAUS", "SGPResult", "bs_basis", "knots_boundaries", "sgp", "unit_growth"]

SGP_TAUS = (np.arange(1, 101) - 0.5) / 100
_TABLE = "sgp data"


def knots_boundaries(x: np.ndarray, knot_cuts: Sequence[float] = (0.2, 0.4, 0.6, 0.8)
                     ) -> tuple[np.ndarray, np.ndarray]:
    """SGP knots (prior quantiles) and boundaries (range extended by 10%), 3 digits.

    Examples
    --------
    >>> import numpy as np
    >>> k, b = knots_boundaries(np.arange(11.0))
    >>> k.tolist(), b.tolist()
    ([2.0, 4.0, 6.0, 8.0], [-1.0, 11.0])
    """
    x = np.asarray(x, dtype=float)
    knots = np.round(np.quantile(x, knot_cuts), 3)
    lo, hi = x.min(), x.max()
    ext = 0.1 * (hi - lo)
    return knots, np.round(np.array([lo - ext, hi + ext]), 3)


def bs_basis(x: np.ndarray, knots: np.ndarray, boundary: np.ndarray, degree: int = 3
             ) -> np.ndarray:
    """R's ``splines::bs(x, knots, Boundary.knots, degree)`` (no intercept column).

    Values outside the boundaries are clamped to them.

    Examples
    --------
    >>> import numpy as np
    >>> B = bs_basis(np.array([0.0, 5.0, 10.0]), np.array([2., 4., 6., 8.]),
    ...              np.array([-1., 11.]))
    >>> B.shape, round(float(B[1, 3]), 6)
    ((3, 7), 0.482143)
    """
    x = np.clip(np.asarray(x, dtype=float), boundary[0], boundary[1])
    t = np.r_[[boundary[0]] * (degree + 1), knots, [boundary[1]] * (degree + 1)]
    B = BSpline.design_matrix(x, t, degree).toarray()
    return B[:, 1:]


def _design(data: pd.DataFrame, priors: list[str], kb: dict[str, tuple]) -> np.ndarray:
    cols = [np.ones((len(data), 1))]
    for p in priors:
        cols.append(bs_basis(data[p].to_numpy(dtype=float), *kb[p]))
    return np.hstack(cols)


def _count_below(pred: np.ndarray, values: np.ndarray) -> np.ndarray:
    k = (pred < values[:, None]).sum(axis=1)
    return np.clip(k, 1, 99)


def unit_growth(sgps: np.ndarray, units: np.ndarray, n_boot: int = 200,
                random_state: int | np.random.Generator | None = None, level: float = 0.95,
                progress: bool = True) -> pd.DataFrame:
    """Median and mean growth percentile by unit with bootstrap standard errors.

    Students are resampled within unit (``n_boot`` replications); the median is R's
    (mean of the two middle values for an even count). The median's interval is the
    bootstrap percentile interval, the mean's the normal one. A unit whose bootstrap
    shows no spread (one student, or every student with the same SGP) gets a missing
    standard error and interval, never 0.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = unit_growth(rng.integers(1, 100, 300), np.repeat(["a", "b", "c"], 100),
    ...                 n_boot=50, random_state=0, progress=False)
    >>> g.columns.tolist()[:4]
    ['unit', 'n_students', 'median_sgp', 'median_se']
    """
    return _growth_table(*_growth_draws(sgps, units, n_boot, random_state, progress), level)


def _growth_draws(sgps: np.ndarray, units: np.ndarray, n_boot: int,
                  random_state: int | np.random.Generator | None, progress: bool
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Unit medians/means and their bootstrap draws (``n_boot`` x units, each)."""
    codes, labels = pd.factorize(pd.Series(units), sort=True)
    U = len(labels)
    counts = np.bincount(codes * 99 + (np.asarray(sgps, dtype=int) - 1),
                         minlength=U * 99).reshape(U, 99)
    n = counts.sum(axis=1)
    values = np.arange(1, 100)

    def med_mean(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cum = np.cumsum(c, axis=1)
        tot = cum[:, -1]
        lo = np.argmax(cum >= (tot[:, None] + 1) // 2, axis=1)
        hi = np.argmax(cum >= tot[:, None] // 2 + 1, axis=1)
        return (values[lo] + values[hi]) / 2.0, (c @ values) / tot

    med, mean = med_mean(counts)
    rng = np.random.default_rng(random_state)
    p = counts / n[:, None]
    bm = np.empty((n_boot, U))
    ba = np.empty((n_boot, U))
    for b in tqdm(range(n_boot), disable=not progress, desc="bootstrap unit SGPs"):
        draw = rng.multinomial(n, p)
        bm[b], ba[b] = med_mean(draw)
    base = pd.DataFrame({"unit": labels, "n_students": n, "median_sgp": med, "mean_sgp": mean})
    return base, bm, ba


def _growth_table(base: pd.DataFrame, bm: np.ndarray, ba: np.ndarray, level: float
                  ) -> pd.DataFrame:
    level = check_level(level)
    med_se, mean_se = bm.std(axis=0, ddof=1), ba.std(axis=0, ddof=1)
    med_se, mean_se = np.where(med_se > 0, med_se, np.nan), np.where(mean_se > 0, mean_se, np.nan)
    med_lo = np.where(np.isnan(med_se), np.nan, np.quantile(bm, (1 - level) / 2, axis=0))
    med_hi = np.where(np.isnan(med_se), np.nan, np.quantile(bm, (1 + level) / 2, axis=0))
    mean = base["mean_sgp"].to_numpy()
    q = critical_value(level)
    return pd.DataFrame({"unit": base["unit"], "n_students": base["n_students"],
                         "median_sgp": base["median_sgp"], "median_se": med_se,
                         "median_ci_lower": med_lo, "median_ci_upper": med_hi,
                         "mean_sgp": mean, "mean_se": mean_se,
                         "mean_ci_lower": mean - q * mean_se, "mean_ci_upper": mean + q * mean_se})


class SGPResult(ResultsBase):
    """Student growth percentiles.

    Attributes
    ----------
    students : pandas.DataFrame
        Indexed like the rows used: ``sgp`` (1..99) and, with a target, ``sgp_target``
        (the SGP needed to reach it; missing where the target is) and ``on_track``.
        Student-level: not for sharing.
    coefficients : pandas.DataFrame
        Quantile-regression coefficients, one column per ``tau``.
    knots : dict
        ``{prior: (knots, boundaries)}``.
    estimates : pandas.DataFrame
        The result contract's table, one row per unit and quantity: unit_type (the unit
        column), unit, quantity (``median_sgp`` or ``mean_sgp``), estimate, std_error
        (bootstrap), ci_lower, ci_upper (95%: bootstrap percentile for the median, normal
        for the mean), flag (no bootstrap spread: one student, or all with one SGP).
        Empty without ``unit``.
    by_unit : dict of pandas.DataFrame
        The wide view of ``estimates``: for each unit column, median/mean growth
        percentile with bootstrap SEs and CIs (at the fit's ``level``).
    sample_log : SampleLog
    """

    title = "Student growth percentiles"

    def __init__(self, students: pd.DataFrame, coefficients: pd.DataFrame, knots: dict,
                 draws: dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]],
                 sample_log: SampleLog, priors: list[str], outcome: str,
                 level: float = 0.95) -> None:
        self.students = students
        self.coefficients = coefficients
        self.knots = knots
        self._draws = draws
        self.by_unit = {u: _growth_table(*d, level) for u, d in draws.items()}
        self.sample_log = sample_log
        self.priors = priors
        self.outcome = outcome
        self.estimates = self.conf_int_table(0.95)

    def conf_int_table(self, level: float) -> pd.DataFrame:
        """The long table of unit growth percentiles with intervals at ``level``."""
        frames = []
        for u, d in self._draws.items():
            t = _growth_table(*d, level)
            for q in ("median", "mean"):
                frames.append(pd.DataFrame({
                    "unit_type": u, "unit": t["unit"], "quantity": f"{q}_sgp",
                    "estimate": t[f"{q}_sgp"], "std_error": t[f"{q}_se"],
                    "ci_lower": t[f"{q}_ci_lower"], "ci_upper": t[f"{q}_ci_upper"]}))
        cols = ["unit_type", "unit", "quantity", "estimate", "std_error", "ci_lower", "ci_upper"]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        out["flag"] = out["std_error"].isna().to_numpy(dtype=bool)
        return out

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Intervals at ``level`` (bootstrap percentile for medians, normal for means)."""
        out = self.conf_int_table(check_level(level))
        return out[["unit_type", "unit", "quantity", "estimate", "ci_lower", "ci_upper"]]

    def distribution(self) -> pd.DataFrame:
        """Share of SGPs in each decile band (uniform: about 10% each)."""
        bands = pd.cut(self.students["sgp"], [0, 9.5, 19.5, 29.5, 39.5, 49.5, 59.5, 69.5,
                                              79.5, 89.5, 100], labels=[
            "1-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89",
            "90-99"])
        share = bands.value_counts(normalize=True, sort=False)
        return share.rename("share").rename_axis("sgp_band").reset_index()

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Outcome"] = self.outcome
        info["Priors"] = ", ".join(self.priors)
        info["Quantiles"] = self.coefficients.shape[1]
        info["Mean SGP"] = f"{self.students['sgp'].mean():.2f}"
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        blocks = [("SGP distribution", self.distribution())]
        for k, t in self.by_unit.items():
            num = t.drop(columns="unit")
            blocks.append((f"Growth percentiles by {k} ({len(t)} units)",
                           num.describe().T[["mean", "std", "min", "max"]]))
        return blocks

    def plot(self, kind: str = "histogram", unit: str | None = None, ax: Axes | None = None) -> Axes:
        """Histogram of SGPs, or a caterpillar of unit median SGPs (``kind="units"``)."""
        import matplotlib.pyplot as plt

        from pdstats.figures.estimates import caterpillar

        if kind == "histogram":
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 4))
            ax.hist(self.students["sgp"], bins=np.arange(0.5, 100.5, 1), color="C0")
            ax.axhline(len(self.students) / 99, color="C3", lw=1, label="uniform")
            ax.set_xlabel("student growth percentile")
            ax.set_ylabel("students")
            ax.legend(frameon=False)
            return ax
        if kind != "units":
            raise ModelSpecificationError(f"kind={kind!r}; choose 'histogram' or 'units'")
        if not self.by_unit:
            raise ModelSpecificationError("no unit tables: call sgp(..., unit=...)")
        name = unit or next(iter(self.by_unit))
        e = self.estimates.query("unit_type == @name and quantity == 'median_sgp'")
        ax = caterpillar(e, label="unit", ax=ax, centre=50.0)
        ax.set_xlabel("median SGP (95% bootstrap interval)")
        ax.set_ylabel(f"{name} ({len(e)}, sorted)")
        return ax


def sgp(
    data: pd.DataFrame | str | os.PathLike,
    outcome: str,
    priors: str | Sequence[str],
    unit: str | Sequence[str] | None = None,
    target: str | float | None = None,
    taus: Sequence[float] | None = None,
    n_boot: int = 200,
    random_state: int | np.random.Generator | None = 0,
    level: float = 0.95,
    progress: bool = True,
    by: str | Sequence[str] | None = None,
    orders: bool = False,
    backend: str = "local",
    client: Any = None,
) -> SGPResult:
    """Student growth percentiles by B-spline quantile regression on up to three priors.

    Parameters
    ----------
    data : pandas.DataFrame or path
        One row per student (one cohort, grade and subject, or several with ``by``). A
        path (or glob) of Parquet files is read one ``by`` group at a time with DuckDB
        (:mod:`pdstats.vam.source`): memory holds the largest group; ``by`` is then
        required and ``students`` is indexed by row number in the Parquet data.
    outcome : str
        Current score.
    priors : str or list of str
        One to three prior scores (in any order, unless ``orders=True``).
    unit : str or list of str, optional
        Unit columns (teacher, school, district) for median/mean growth percentiles
        (pooled over the ``by`` groups).
    target : str or float, optional
        Target score (column or constant) for growth-to-target.
    taus : sequence of float, optional
        Quantiles (default the SGP package's 100 values 0.005..0.995).
    n_boot : int
        Bootstrap replications of the unit medians.
    random_state : int or numpy.random.Generator, optional
        Seeds the bootstrap (and the quantile regressions' subsampling, which does not
        change their solution). A Generator gives one integer seed first.
    level : float
        Confidence level of the unit intervals.
    progress : bool
        Progress bars.
    by : str or list of str, optional
        Fit separately within these columns (grade, subject, year): each group has its
        own knots and quantile regressions.
    orders : bool
        The SGP package's prior orders: ``priors`` are then most recent first; the order-k
        model is fitted on the students who have the ``k`` most recent priors, and each
        student's SGP is the one of the highest order their priors allow (column
        ``order`` of ``students``). Only rows without the most recent prior are dropped;
        an order with fewer than 10 rows per coefficient is not fitted (its students keep
        the lower order; so does an order that cannot be fitted, e.g. a prior without spread,
        with an EstimationWarning). ``coefficients`` gains an ``order`` level, ``knots`` an order key.
    backend : {"local", "dask"}
        Run the quantile regressions (one piece per group, prior order and quantile) here or as tasks
        on a ``dask.distributed`` cluster (the current client, or ``client``); a group's
        design matrix is sent to each worker once. The result is identical.
    client : distributed.Client, optional
        The dask client for ``backend="dask"``.

    Returns
    -------
    SGPResult
        With ``by``, ``coefficients`` is indexed by the group columns and ``term``, and
        ``knots`` maps each group key to its ``{prior: (knots, boundaries)}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"p1": rng.normal(size=400)})
    >>> df["y"] = 0.8 * df.p1 + rng.normal(size=400)
    >>> res = pds.vam.sgp(df, "y", "p1", taus=[0.25, 0.5, 0.75], progress=False)
    >>> int(res.students["sgp"].between(1, 99).sum())
    400
    """
    prior_l = [priors] if isinstance(priors, str) else list(priors)
    unit_l = [] if unit is None else ([unit] if isinstance(unit, str) else list(unit))
    by_l = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if not 1 <= len(prior_l) <= 3:
        raise ModelSpecificationError(f"sgp takes one to three prior scores, got {prior_l}")
    level = check_level(level)
    check_backend(backend, client)
    n_boot = positive_int(n_boot, "n_boot", minimum=2)
    if target is not None and not isinstance(target, str):
        if isinstance(target, bool) or not isinstance(target, numbers.Real) \
                or not np.isfinite(target):
            raise ModelSpecificationError(f"target={target!r}: a column name or a finite number")
    if taus is not None:
        t = np.asarray(taus, dtype=float).ravel()
        if t.size == 0 or not np.all((t > 0) & (t < 1)):
            raise ModelSpecificationError(f"taus must be quantiles strictly inside (0, 1), got {taus!r}")
    taus_a = SGP_TAUS if taus is None else np.asarray(taus, dtype=float)
    seed = seed_of(random_state)
    roles = {"outcome": [outcome], "priors": prior_l, "unit": unit_l,
             "target": [target] if isinstance(target, str) else [], "by": by_l}
    keys, frame_of, log = _groups(data, roles, by_l)
    students, coefs, knots, unit_parts = [], [], {}, {u: [] for u in unit_l}
    fit = partial(_fit_orders if orders else _fit_group, outcome=outcome, prior_l=prior_l,
                  target=target, taus_a=taus_a, seed=seed, progress=progress, backend=backend,
                  client=client, by=by_l)
    for key in keys:
        df, group_log = _checked_rows(frame_of(key), outcome, prior_l, target, stacklevel=4,
                                      required=prior_l[:1] if orders else prior_l)
        if log is None:
            log = group_log
        else:
            for reason, n in group_log.dropped.items():
                log.drop(reason, n)
        if not len(df) and by_l:
            continue            # every row of the group lacks a score (as groupby drops it)
        st, coef, kb = fit(df, key=key)
        students.append(st)
        coefs.append(coef)
        knots[key] = kb
        for u in unit_l:
            ok = ~_missing(df[u])   # students without a unit still get an SGP
            unit_parts[u].append((st["sgp"].to_numpy()[ok], df[u].to_numpy()[ok]))
    if not students:
        raise ModelSpecificationError(f"sgp: no group of {by_l} has complete rows ({log})")
    student_df = pd.concat(students) if by_l else students[0]
    coef_df = pd.concat(coefs, keys=list(knots), names=by_l) if by_l else coefs[0]
    draws = {u: _growth_draws(np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts]),
                              n_boot, seed, progress) for u, parts in unit_parts.items()}
    res = SGPResult(student_df, coef_df, knots if by_l else knots[()], draws, log, prior_l, outcome,
                    level=level)
    if res.estimates["flag"].any():
        warnings.warn(f"sgp: {int(res.estimates['flag'].sum())} unit growth percentile(s) have "
                      "no bootstrap spread (one student, or every student with the same SGP); "
                      "their standard error is missing and flag=True", EstimationWarning,
                      stacklevel=2)
    return res


def _groups(data: Any, roles: dict[str, list[str]], by: list[str]
            ) -> tuple[list[tuple], Callable[[tuple], pd.DataFrame], SampleLog | None]:
    """Group keys, how to get a group's rows, and the log of rows missing a ``by`` value."""
    used = list(dict.fromkeys(c for cols in roles.values() for c in cols))
    if is_source(data):
        if not by:
            raise ModelSpecificationError(
                f"sgp on Parquet data ({str(data)!r}) reads one by= group at a time: give by=")
        missing = [c for c in used if c not in set(source_columns(data))]
        if missing:
            raise ModelSpecificationError(f"table {_TABLE!r} ({str(data)!r}): column(s) {missing} not found")
        n_in, no_key = source_counts(data, by)
        log = SampleLog(n_in=n_in)
        for b, n in no_key.items():
            log.drop(f"missing {b!r}", n)
        return group_keys(data, by), lambda k: read_group(data, used, by, k), log
    require_roles(data, _TABLE, roles)
    if not by:
        return [()], lambda k: data, None
    kept, log = drop_missing(data[by].reset_index(drop=True), by, _TABLE, stacklevel=3)
    pos = kept.index.to_numpy()
    groups = {(k if isinstance(k, tuple) else (k,)): pos[idx] for k, idx in
              kept.groupby(by, sort=True, observed=True).indices.items()}
    return list(groups), lambda k: data.iloc[groups[k]], log


def _checked_rows(data: pd.DataFrame, outcome: str, priors: list[str], target: str | float | None,
                  stacklevel: int, required: list[str]) -> tuple[pd.DataFrame, SampleLog]:
    """The input rule on one group: numeric scores, rows missing a score dropped and logged."""
    numeric = [outcome, *priors] + ([target] if isinstance(target, str) else [])
    checked = data.copy()
    for c in numeric:
        checked[c] = as_numeric(data, c, _TABLE)
    # students without a unit (or target) still get an SGP: only outcome and priors must exist
    return drop_missing(checked, [outcome, *required], _TABLE, stacklevel=stacklevel)


def _quantile_piece(y: np.ndarray, X: np.ndarray, seed: Any, tau: float) -> np.ndarray:
    """One quantile regression (a piece of :func:`sgp`)."""
    # arrays that arrive from a dask worker's network buffer can sit at any byte offset:
    # numpy's loops on unaligned doubles run about half as fast, so copy those once
    y = np.require(y, dtype=float, requirements=["A"])
    X = np.require(X, dtype=float, requirements=["A"])
    # p <= 22 columns: threaded BLAS only adds overhead to the interior-point steps
    with threadpool_limits(limits=1, user_api="blas"):
        return rq_fit(y, X, float(tau), random_state=seed)


def _fit_group(df: pd.DataFrame, outcome: str, prior_l: list[str], target: str | float | None,
               taus_a: np.ndarray, seed: Any, progress: bool, backend: str, client: Any, key: tuple,
               by: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """SGPs of one group: knots, the quantile regressions (pieces), predicted quantiles."""
    where = f" (group {dict(zip(by, key, strict=True))})" if by else ""
    p_cols = 1 + 7 * len(prior_l)
    if len(df) < 10 * p_cols:
        raise ModelSpecificationError(
            f"sgp{where}: {len(df)} complete rows for {p_cols} coefficients; need at least {10 * p_cols}"
        )
    flat = [p for p in prior_l if np.ptp(df[p].to_numpy(dtype=float)) == 0]
    if flat:
        raise ModelSpecificationError(
            f"table {_TABLE!r}{where}: prior score(s) {flat} take a single value in the {len(df)} rows "
            "used; rule: a B-spline in a prior needs spread")
    kb = {p: knots_boundaries(df[p].to_numpy(dtype=float)) for p in prior_l}
    X = _design(df, prior_l, kb)
    y = df[outcome].to_numpy(dtype=float)
    pieces = [(*key, float(t)) for t in taus_a]
    outcome_ = map_pieces(_quantile_piece, pieces, [(float(t),) for t in taus_a], backend=backend,
                          client=client, progress=progress, desc=f"quantile regressions{where}",
                          shared=(y, X, seed))
    raise_failures(outcome_, "sgp quantile regressions", [*by, "tau"])
    coefs = np.column_stack([outcome_[k] for k in pieces])
    pred = np.round(np.sort(X @ coefs, axis=1), 5)
    students = pd.DataFrame({"sgp": _count_below(pred, y)}, index=df.index)
    if target is not None:
        tv = (df[target].to_numpy(dtype=float) if isinstance(target, str)
              else np.full(len(df), float(target)))
        has = ~np.isnan(tv)  # a missing target gives a missing growth-to-target
        students["sgp_target"] = pd.array(np.where(has, _count_below(pred, np.nan_to_num(tv)), 0),
                                          dtype="Int64")
        students.loc[~has, "sgp_target"] = pd.NA
        students["on_track"] = (students["sgp"] >= students["sgp_target"]).astype("boolean")
    names = ["(Intercept)"] + [f"bs({p})[{i}]" for p in prior_l for i in range(1, 8)]
    coef_df = pd.DataFrame(coefs, index=pd.Index(names, name="term"),
                           columns=pd.Index(np.round(taus_a, 4), name="tau"))
    return students, coef_df, kb


def _fit_orders(df: pd.DataFrame, outcome: str, prior_l: list[str], target: str | float | None,
                taus_a: np.ndarray, seed: Any, progress: bool, backend: str, client: Any, key: tuple,
                by: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """SGPs of one group by prior order: each student's from the highest order their priors allow."""
    students = None
    coefs, knots = {}, {}
    for k in range(1, len(prior_l) + 1):
        has = df[prior_l[:k]].notna().all(axis=1).to_numpy()
        if k > 1 and has.sum() < 10 * (1 + 7 * k):
            break               # too few students with k priors: they keep order k - 1
        try:
            st, coefs[k], knots[k] = _fit_group(df[has], outcome, prior_l[:k], target, taus_a, seed,
                                                progress, backend, client, (*key, k), [*by, "order"])
        except ModelSpecificationError as exc:
            if k == 1:
                raise
            # e.g. a prior without spread among the students who have it: they keep order k - 1
            warnings.warn(f"sgp: order {k} not fitted ({exc}); its {int(has.sum())} students keep "
                          f"order {k - 1}", EstimationWarning, stacklevel=4)
            break
        st = st.assign(order=k)
        if students is None:
            students = st
        else:
            pos = np.flatnonzero(has)
            for c in students.columns:
                values = students[c].array.copy()
                values[pos] = st[c].array
                students[c] = values
    coef = pd.concat(coefs, names=["order"])
    return students, coef, knots


def _missing(values: pd.Series) -> np.ndarray:
    """Missing unit labels (NaN, None, empty or suppression text), by position."""
    kept, _ = drop_missing(pd.DataFrame({"u": values.to_numpy()}), ["u"], _TABLE, warn=False)
    miss = np.ones(len(values), dtype=bool)
    miss[kept.index.to_numpy()] = False
    return miss
