"""Informant agreement and internal consistency of the stage matrix.

* Fleiss' kappa (Fleiss 1971) for a fixed number of raters per subject, with the
  large-sample standard error under the null of chance agreement (Fleiss, Nee & Landis
  1979), and a cluster-bootstrap CI when used through :func:`agreement`.
* Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's alpha-reliability")
  for nominal, ordinal, interval or ratio data with missing values, via the coincidence
  matrix.
* Cronbach's alpha (= KR-20 for 0/1 items) with Feldt's (1965) F-based CI.
* McDonald's omega (total) from a one-factor maximum-likelihood factor analysis of the
  item correlations, with a bootstrap percentile CI.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize, stats
from tqdm.auto import tqdm

from pdstats._inputs import require_columns
from pdstats.errors import (
    ConvergenceError,
    DataValidationError,
    EstimationWarning,
    ModelSpecificationError,
)
from pdstats.practices.instrument import PRACTICES, ROLES, STAGES, item_ids
from pdstats.practices.tables import checked_ratings
from pdstats.results import IntervalResultsBase, SampleLog, check_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "fleiss_kappa",
    "krippendorff_alpha",
    "cronbach_alpha",
    "omega_total",
    "agreement",
    "reliability",
    "AgreementResult",
]


def fleiss_kappa(counts: np.ndarray) -> tuple[float, float]:
    """Fleiss' kappa and its standard error under the null hypothesis.

    Parameters
    ----------
    counts : array (subjects, categories)
        Number of raters assigning each subject to each category; every row must sum to
        the same number of raters ``m >= 2``.

    Returns
    -------
    (kappa, se0)

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import fleiss_kappa
    >>> round(fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]]))[0], 4)
    0.3333
    """
    c = _matrix(counts, "counts")
    if c.ndim != 2 or len(c) == 0 or (c < 0).any():
        raise ModelSpecificationError("counts must be a non-empty subjects x categories array of counts >= 0")
    m = c.sum(axis=1)
    if len(np.unique(m)) != 1 or m[0] < 2:
        raise ModelSpecificationError("every subject needs the same number (>= 2) of ratings")
    m = m[0]
    n = len(c)
    p = c.sum(axis=0) / (n * m)
    p_i = ((c * (c - 1)).sum(axis=1)) / (m * (m - 1))
    pbar = p_i.mean()
    pe = (p ** 2).sum()
    kappa = (pbar - pe) / (1 - pe)
    q = 1 - p
    s = (p * q).sum()
    if s <= 0:  # every rating in one category: chance agreement is 1, kappa undefined
        return float("nan"), float("nan")
    se0 = np.sqrt(2 / (n * m * (m - 1))) * np.sqrt(s ** 2 - (p * q * (q - p)).sum()) / s
    return float(kappa), float(se0)


def _matrix(x: object, name: str) -> np.ndarray:
    """A finite float array, or a :class:`ModelSpecificationError` naming the argument."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelSpecificationError(f"argument {name!r} must be numeric") from exc
    if np.isinf(a).any():
        raise ModelSpecificationError(f"argument {name!r} contains +-inf")
    return a


def _delta2(values: np.ndarray, n_v: np.ndarray, level: str) -> np.ndarray:
    v = values.astype(float)
    if level == "nominal":
        return (v[:, None] != v[None, :]).astype(float)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        s = v[:, None] + v[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            d = ((v[:, None] - v[None, :]) / s) ** 2
        return np.nan_to_num(d)
    if level == "ordinal":
        k = len(v)
        d = np.zeros((k, k))
        cum = np.cumsum(n_v)
        for a in range(k):
            for b in range(a + 1, k):
                between = cum[b] - (cum[a - 1] if a > 0 else 0)
                d[a, b] = d[b, a] = (between - (n_v[a] + n_v[b]) / 2) ** 2
        return d
    raise ModelSpecificationError("level must be 'nominal', 'ordinal', 'interval' or 'ratio'")


def krippendorff_alpha(data: np.ndarray, level: str = "ordinal") -> float:
    """Krippendorff's alpha for a units x coders array (NaN = missing).

    Parameters
    ----------
    data : array (units, coders)
    level : {"nominal", "ordinal", "interval", "ratio"}

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import krippendorff_alpha
    >>> krippendorff_alpha(np.array([[1, 1], [2, 2], [3, 3.]]), "ordinal")
    1.0
    """
    x = _matrix(data, "data")
    if x.ndim != 2:
        raise ModelSpecificationError("argument 'data' must be a units x coders array")
    values = np.unique(x[~np.isnan(x)])
    k = len(values)
    if k < 2:
        raise ModelSpecificationError("alpha needs at least two distinct values")
    # units x values count matrix, then the coincidence matrix in one product
    cnt = np.stack([(x == v).sum(axis=1) for v in values], axis=1).astype(float)
    mu = cnt.sum(axis=1)
    keep = mu >= 2
    cnt, mu = cnt[keep], mu[keep]
    w = 1.0 / (mu - 1)
    o = (cnt * w[:, None]).T @ cnt - np.diag((cnt * w[:, None]).sum(axis=0))
    n_v = o.sum(axis=1)
    n = n_v.sum()
    d2 = _delta2(values, n_v, level)
    d_o = (o * d2).sum()
    d_e = (np.outer(n_v, n_v) * d2).sum() / (n - 1)
    return float(1 - d_o / d_e)


def cronbach_alpha(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Cronbach's alpha (KR-20 for 0/1 items) with Feldt's CI.

    NaN (alpha and interval) when the total score does not vary or there are fewer than
    2 items or 2 persons.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import cronbach_alpha
    >>> x = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    >>> round(cronbach_alpha(x)[0], 4)
    0.75
    """
    x = _matrix(x, "x")
    level = check_level(level)
    if x.ndim != 2 or np.isnan(x).any():
        raise ModelSpecificationError("argument 'x' must be a complete persons x items array")
    n, k = x.shape
    if n < 2 or k < 2:
        return float("nan"), float("nan"), float("nan")
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return float("nan"), float("nan"), float("nan")
    a = k / (k - 1) * (1 - item_var / total_var)
    g = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - a) * stats.f.ppf(1 - g / 2, df1, df2)
    hi = 1 - (1 - a) * stats.f.ppf(g / 2, df1, df2)
    return float(a), float(lo), float(hi)


def _one_factor_ml(r: np.ndarray, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One-factor ML factor analysis of a correlation matrix (analytic gradient)."""
    p = len(r)
    _, logdet_r = np.linalg.slogdet(r)

    def f(par: np.ndarray) -> tuple[float, np.ndarray]:
        lam, psi = par[:p], np.exp(par[p:])
        sigma = np.outer(lam, lam) + np.diag(psi)
        sign, logdet = np.linalg.slogdet(sigma)
        if sign <= 0:
            return 1e10, np.zeros_like(par)
        inv = np.linalg.inv(sigma)
        val = float(logdet + np.trace(r @ inv) - logdet_r - p)
        m = inv @ (sigma - r) @ inv
        grad = np.concatenate([2 * m @ lam, np.diag(m) * psi])
        return val, grad

    if start is None:
        w, v = np.linalg.eigh(r)
        lam0 = v[:, -1] * np.sqrt(w[-1]) * 0.9
        lam0 *= np.sign(lam0.sum()) or 1.0
        start = np.concatenate([lam0, np.log(np.clip(1 - lam0 ** 2, 0.05, None))])
    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B",
                            bounds=[(-1.5, 1.5)] * p + [(np.log(0.005), 0.5)] * p,
                            options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-8})
    if not np.isfinite(res.fun):
        raise ConvergenceError("one-factor ML factor analysis failed")
    lam, psi = res.x[:p], np.exp(res.x[p:])
    if lam.sum() < 0:
        lam = -lam
    return lam, psi


def omega_total(x: np.ndarray) -> float:
    """McDonald's omega total from a one-factor ML factor analysis of the correlations.

    ``omega = (sum lambda)^2 / ((sum lambda)^2 + sum psi)`` on the standardized items
    (the same quantity as R ``psych::fa(x, 1, fm = "ml")`` loadings give).

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import omega_total
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(2000, 1))
    >>> x = 0.8 * f + 0.6 * rng.normal(size=(2000, 4))
    >>> round(omega_total(x), 1)
    0.9
    """
    x = _matrix(x, "x")
    if x.ndim != 2 or x.shape[1] < 2 or len(x) < 3 or np.isnan(x).any() or (x.std(axis=0) == 0).any():
        raise ModelSpecificationError("omega needs a complete persons x items array (3+ persons, 2+ items, "
                                      "every item varying)")
    r = np.corrcoef(x, rowvar=False)
    try:
        lam, psi = _one_factor_ml(r)
    except np.linalg.LinAlgError as exc:
        raise ConvergenceError(f"one-factor ML factor analysis failed ({exc})") from exc
    s = lam.sum() ** 2
    return float(s / (s + psi.sum()))


class AgreementResult(IntervalResultsBase):
    """Agreement or reliability coefficients with standard errors and CIs.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per ``coefficient``: ``estimate``, ``std_error`` (cluster-bootstrap),
        ``ci_lower``/``ci_upper`` (bootstrap percentile, or Feldt's F interval for
        alpha / KR-20; :meth:`conf_int` recomputes them at another level), ``flag`` (no
        estimate or standard error), and the ``method``.
    table : pandas.DataFrame
        Alias of ``estimates`` (the name used before the result contract).
    by_practice : pandas.DataFrame or None
        For :func:`agreement`: Fleiss' kappa (with null SE) and the share of cells on
        which all four informants agree, per practice.
    """

    def __init__(self, title: str, estimates: pd.DataFrame, sample_log: SampleLog,
                 intervals: Callable[[float], tuple[np.ndarray, np.ndarray]],
                 by_practice: pd.DataFrame | None = None) -> None:
        self.title = title
        estimates["std_error"] = estimates["std_error"].where(estimates["std_error"] > 0)
        estimates["flag"] = ~(np.isfinite(estimates["estimate"]) & np.isfinite(estimates["std_error"]))
        self.estimates = estimates
        self.sample_log = sample_log
        self.by_practice = by_practice
        self._intervals = intervals
        if estimates["flag"].any():
            warnings.warn(f"{title}: no estimate or standard error for "
                          + ", ".join(estimates.loc[estimates["flag"], "coefficient"])
                          + " (too little variation in the data or bootstrap); flagged",
                          EstimationWarning, stacklevel=3)

    @property
    def table(self) -> pd.DataFrame:
        """Alias of :attr:`estimates`."""
        return self.estimates

    def plot(self, ax: Axes | None = None) -> Axes:
        """The coefficients with their intervals."""
        from pdstats.figures.estimates import coefplot

        return coefplot(self.estimates, term="coefficient", ax=ax, title=self.title, centre=None)

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        blocks = [("Coefficients", self.estimates)]
        if self.by_practice is not None:
            blocks.append(("By practice", self.by_practice))
        return blocks


def _informant_array(ratings: pd.DataFrame) -> tuple[pd.DataFrame, SampleLog]:
    ratings, log = checked_ratings(ratings)
    inf = ratings[ratings["informant_role"].isin(ROLES)]
    log.drop("consensus or unknown informant role (not an informant's rating)",
             len(ratings) - len(inf))
    if inf["informant_role"].nunique() < 2:
        raise DataValidationError(
            "practice_ratings",
            pd.DataFrame({"table": ["practice_ratings"], "column": ["informant_role"],
                          "rule": ["agreement needs rows from at least two informants "
                                   f"({', '.join(ROLES)})"],
                          "row": [None], "key": [""], "value": [None]}),
        )
    wide = inf.pivot_table(index=["district_id", "practice", "stage"], columns="informant_role",
                           values="evidence", aggfunc="max", observed=True)
    return wide.reindex(columns=list(ROLES)), log


def check_bootstrap(n_boot: int, random_state: int | None) -> None:
    """Refuse a bootstrap size that is not an integer >= 2 or a seed that is not an integer or None."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ModelSpecificationError(f"argument 'n_boot' must be an integer >= 2, got {n_boot!r}")
    if random_state is not None and (isinstance(random_state, bool)
                                     or not isinstance(random_state, (int, np.integer))):
        raise ModelSpecificationError(f"argument 'random_state' must be an integer or None, got {random_state!r}")


def bootstrap_summary(boot: np.ndarray) -> tuple[np.ndarray, Callable[[float], tuple[np.ndarray, np.ndarray]]]:
    """Bootstrap standard errors (columns of ``boot``, NaN replicates ignored) and percentile intervals."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a coefficient undefined in every replicate
        ok = np.isfinite(boot).sum(axis=0) >= 2
        se = np.where(ok, np.nanstd(np.where(np.isfinite(boot), boot, np.nan), axis=0, ddof=1), np.nan)

    def intervals(level: float) -> tuple[np.ndarray, np.ndarray]:
        g = (1 - level) / 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanquantile(boot, g, axis=0), np.nanquantile(boot, 1 - g, axis=0)

    return se, intervals


def _safe(fn: Callable[..., float], *args: object) -> float:
    """A coefficient, or NaN where the data do not define it (e.g. a single category)."""
    try:
        return float(fn(*args))
    except (ModelSpecificationError, ConvergenceError):
        return float("nan")


def agreement(
    ratings: pd.DataFrame,
    n_boot: int = 500,
    level: float = 0.95,
    random_state: int | None = 0,
    progress: bool = True,
) -> AgreementResult:
    """Agreement of the four informants per district.

    Fleiss' kappa on the 0/1 evidence of every district x cell (complete quadruples
    only) and Krippendorff's ordinal alpha on each informant's highest stage per
    district x practice (0-4; missing informants allowed). CIs come from a bootstrap that
    resamples districts (the cells of one district are not independent).

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``practice_ratings`` with informant rows (checked by
        :func:`~pdstats.practices.tables.checked_ratings`: missing rows dropped and
        logged, evidence other than 0/1 refused).
    n_boot, level, random_state, progress
        Bootstrap settings (``n_boot`` >= 2, confidence ``level``).

    Returns
    -------
    AgreementResult
        A coefficient the data do not define (e.g. every rating in one category) is NaN
        with ``flag`` True and an :class:`~pdstats.EstimationWarning`.

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> res = pds.practices.agreement(data["practice_ratings"], n_boot=20, progress=False)
    >>> res.estimates["coefficient"].tolist()
    ['fleiss_kappa', 'krippendorff_alpha_ordinal']
    """
    check_bootstrap(n_boot, random_state)
    level = check_level(level)
    wide, log = _informant_array(ratings)
    complete = wide.dropna()
    log.drop("district x cell without all four informants (excluded from kappa only)",
             len(wide) - len(complete))
    dist = complete.index.get_level_values("district_id").to_numpy()

    def kappa_of(frame: pd.DataFrame) -> float:
        v = frame.to_numpy()
        return _safe(lambda c: fleiss_kappa(c)[0], np.column_stack([(v == 0).sum(axis=1), (v == 1).sum(axis=1)]))

    stage_vals = np.asarray(wide.index.get_level_values("stage"), dtype=float)
    highest = (wide.mul(stage_vals, axis=0)
               .groupby(level=["district_id", "practice"], observed=True).max())
    hdist = highest.index.get_level_values("district_id").to_numpy()

    def alpha_of(frame: pd.DataFrame) -> float:
        return _safe(krippendorff_alpha, frame.to_numpy(dtype=float), "ordinal")

    k_hat = kappa_of(complete)
    k_se0 = _safe(lambda c: fleiss_kappa(c)[1], np.column_stack([(complete.to_numpy() == 0).sum(axis=1),
                                                                 (complete.to_numpy() == 1).sum(axis=1)]))
    a_hat = alpha_of(highest)
    ids = np.unique(hdist)
    rng = np.random.default_rng(random_state)
    boot = np.full((n_boot, 2), np.nan)
    groups_k = {d: np.flatnonzero(dist == d) for d in ids}
    groups_a = {d: np.flatnonzero(hdist == d) for d in ids}
    for b in tqdm(range(n_boot), disable=not progress, desc="bootstrap"):
        pick = rng.choice(ids, len(ids))
        boot[b, 0] = kappa_of(complete.iloc[np.concatenate([groups_k[d] for d in pick])])
        boot[b, 1] = alpha_of(highest.iloc[np.concatenate([groups_a[d] for d in pick])])
    se, intervals = bootstrap_summary(boot)
    lo, hi = intervals(level)
    table = pd.DataFrame({
        "coefficient": ["fleiss_kappa", "krippendorff_alpha_ordinal"],
        "estimate": [k_hat, a_hat],
        "std_error": se,
        "ci_lower": lo,
        "ci_upper": hi,
        "se_null": [k_se0, np.nan],
        "units": [len(complete), len(highest)],
        "method": ["district x cell, 0/1, 4 informants; cluster bootstrap CI",
                   "district x practice, highest stage 0-4; cluster bootstrap CI"],
    })
    rows = []
    for p in PRACTICES:
        sub_p = complete[complete.index.get_level_values("practice") == p].to_numpy()
        if len(sub_p) == 0:
            continue
        cnt = np.column_stack([(sub_p == 0).sum(axis=1), (sub_p == 1).sum(axis=1)])
        k_p, se_p = fleiss_kappa(cnt)  # NaN when every rating is in one category
        rows.append((p, len(sub_p), k_p, se_p, float((cnt.max(axis=1) == cnt.sum(axis=1)).mean())))
    by_practice = pd.DataFrame(rows, columns=["practice", "cells", "fleiss_kappa", "se_null",
                                              "share_unanimous"])
    return AgreementResult("Informant agreement", table, log, intervals, by_practice)


def reliability(
    data: pd.DataFrame,
    rule: str = "any",
    n_boot: int = 500,
    level: float = 0.95,
    random_state: int | None = 0,
    progress: bool = True,
) -> AgreementResult:
    """Internal consistency: KR-20 on the 48 cells, alpha and omega on the 12 practices.

    Parameters
    ----------
    data : pandas.DataFrame
        ``practice_ratings`` (combined by ``rule``) or a districts x cells 0/1 matrix
        with ``<practice>_s<stage>`` columns (rows with a missing cell are dropped and
        logged; values other than 0/1 are refused).
    rule, n_boot, level, random_state, progress
        Informant rule and bootstrap settings. Standard errors are bootstrap standard
        errors over districts; omega's interval is the bootstrap percentile one, alpha's
        and KR-20's Feldt's.

    Returns
    -------
    AgreementResult

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> rel = pds.practices.reliability(data["practice_ratings"], n_boot=20, progress=False)
    >>> rel.estimates["coefficient"].tolist()
    ['kr20_cells', 'alpha_practices', 'omega_practices']
    """
    from pdstats.practices._scalability import matrix_from

    check_bootstrap(n_boot, random_state)
    level = check_level(level)
    mat, log = matrix_from(data, rule)
    require_columns(mat, item_ids(), "data", "data (the 48 stage-matrix cells)")
    var = (mat.std() > 0).to_numpy()
    cells_all = mat.to_numpy(dtype=float)
    counts = np.column_stack([mat[[f"{p}_s{s}" for s in STAGES]].sum(axis=1) for p in PRACTICES])
    cvar = counts.std(axis=0) > 0

    def coefficients(rows: np.ndarray) -> tuple[float, float, float]:
        c, x = cells_all[rows], counts[rows]
        omega = (_safe(omega_total, x[:, cvar])
                 if cvar.sum() >= 2 and (x[:, cvar].std(axis=0) > 0).all() else np.nan)
        return cronbach_alpha(c[:, var], 0.95)[0], cronbach_alpha(x, 0.95)[0], omega

    every = np.arange(len(mat))
    est = coefficients(every)
    rng = np.random.default_rng(random_state)
    n = len(mat)
    boot = np.full((n_boot, 3), np.nan)
    for b in tqdm(range(n_boot), disable=not progress, desc="bootstrap"):
        boot[b] = coefficients(rng.integers(0, n, n)) if n else np.nan
    se, percentile = bootstrap_summary(boot)

    def intervals(lv: float) -> tuple[np.ndarray, np.ndarray]:
        kr = cronbach_alpha(cells_all[:, var], lv)
        al = cronbach_alpha(counts, lv)
        p_lo, p_hi = percentile(lv)
        return np.array([kr[1], al[1], p_lo[2]]), np.array([kr[2], al[2], p_hi[2]])

    lo, hi = intervals(level)
    table = pd.DataFrame({
        "coefficient": ["kr20_cells", "alpha_practices", "omega_practices"],
        "estimate": est,
        "std_error": se,
        "ci_lower": lo,
        "ci_upper": hi,
        "items": [int(var.sum()), counts.shape[1], int(cvar.sum())],
        "method": ["KR-20, Feldt CI", "Cronbach alpha, Feldt CI",
                   "one-factor ML omega total, bootstrap percentile CI"],
    })
    res = AgreementResult("Internal consistency", table, log, intervals)
    res.dropped_items = [str(c) for c, v in zip(mat.columns, var, strict=True) if not v]
    return res


#: Former name, kept so existing code keeps working.
AgreementResults = AgreementResult
