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

import numpy as np
import pandas as pd
from scipy import optimize, stats
from tqdm.auto import tqdm

from pdstats.errors import ConvergenceError, DataValidationError
from pdstats.practices.instrument import PRACTICES, ROLES, STAGES
from pdstats.results import ResultsBase, SampleLog

__all__ = [
    "fleiss_kappa",
    "krippendorff_alpha",
    "cronbach_alpha",
    "omega_total",
    "agreement",
    "reliability",
    "AgreementResults",
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
    c = np.asarray(counts, dtype=float)
    m = c.sum(axis=1)
    if len(np.unique(m)) != 1 or m[0] < 2:
        raise ValueError("every subject needs the same number (>= 2) of ratings")
    m = m[0]
    n = len(c)
    p = c.sum(axis=0) / (n * m)
    p_i = ((c * (c - 1)).sum(axis=1)) / (m * (m - 1))
    pbar = p_i.mean()
    pe = (p ** 2).sum()
    kappa = (pbar - pe) / (1 - pe)
    q = 1 - p
    s = (p * q).sum()
    se0 = np.sqrt(2 / (n * m * (m - 1))) * np.sqrt(s ** 2 - (p * q * (q - p)).sum()) / s
    return float(kappa), float(se0)


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
    raise ValueError("level must be 'nominal', 'ordinal', 'interval' or 'ratio'")


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
    x = np.asarray(data, dtype=float)
    values = np.unique(x[~np.isnan(x)])
    k = len(values)
    if k < 2:
        raise ValueError("alpha needs at least two distinct values")
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


def cronbach_alpha(x: np.ndarray, conf_level: float = 0.95) -> tuple[float, float, float]:
    """Cronbach's alpha (KR-20 for 0/1 items) with Feldt's CI.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import cronbach_alpha
    >>> x = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
    >>> round(cronbach_alpha(x)[0], 4)
    0.75
    """
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    a = k / (k - 1) * (1 - item_var / total_var)
    g = 1 - conf_level
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
    x = np.asarray(x, dtype=float)
    r = np.corrcoef(x, rowvar=False)
    lam, psi = _one_factor_ml(r)
    s = lam.sum() ** 2
    return float(s / (s + psi.sum()))


class AgreementResults(ResultsBase):
    """Agreement or reliability coefficients with standard errors and CIs.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per coefficient.
    by_practice : pandas.DataFrame or None
        For :func:`agreement`: Fleiss' kappa (with null SE) and the share of cells on
        which all four informants agree, per practice.
    """

    def __init__(self, title: str, table: pd.DataFrame, sample_log: SampleLog,
                 by_practice: pd.DataFrame | None = None) -> None:
        self.title = title
        self.table = table
        self.sample_log = sample_log
        self.by_practice = by_practice

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: estimate, se, ci_lower, ci_upper, method."""
        return self.table

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        blocks = [("Coefficients", self.table)]
        if self.by_practice is not None:
            blocks.append(("By practice", self.by_practice))
        return blocks


def _informant_array(ratings: pd.DataFrame) -> tuple[pd.DataFrame, SampleLog]:
    need = {"district_id", "practice", "stage", "evidence", "informant_role"}
    missing = need - set(ratings.columns)
    if missing:
        raise DataValidationError(
            "practice_ratings",
            pd.DataFrame({"table": "practice_ratings", "column": sorted(missing),
                          "rule": "required column", "row": None, "key": "", "value": None}),
        )
    log = SampleLog(n_in=len(ratings), unit="rating rows")
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


def agreement(
    ratings: pd.DataFrame,
    n_boot: int = 500,
    conf_level: float = 0.95,
    random_state: int | None = 0,
    progress: bool = True,
) -> AgreementResults:
    """Agreement of the four informants per district.

    Fleiss' kappa on the 0/1 evidence of every district x cell (complete quadruples
    only) and Krippendorff's ordinal alpha on each informant's highest stage per
    district x practice (0-4; missing informants allowed). CIs come from a bootstrap that
    resamples districts (the cells of one district are not independent).

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``practice_ratings`` with informant rows.
    n_boot, conf_level, random_state, progress
        Bootstrap settings.

    Returns
    -------
    AgreementResults

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> res = pds.practices.agreement(data["practice_ratings"], n_boot=20, progress=False)
    >>> res.to_frame()["coefficient"].tolist()
    ['fleiss_kappa', 'krippendorff_alpha_ordinal']
    """
    wide, log = _informant_array(ratings)
    complete = wide.dropna()
    log.drop("district x cell without all four informants (excluded from kappa only)",
             len(wide) - len(complete))
    dist = complete.index.get_level_values("district_id").to_numpy()

    def kappa_of(frame: pd.DataFrame) -> float:
        v = frame.to_numpy()
        counts = np.column_stack([(v == 0).sum(axis=1), (v == 1).sum(axis=1)])
        return fleiss_kappa(counts)[0]

    stage_vals = np.asarray(wide.index.get_level_values("stage"), dtype=float)
    highest = (wide.mul(stage_vals, axis=0)
               .groupby(level=["district_id", "practice"], observed=True).max())
    hdist = highest.index.get_level_values("district_id").to_numpy()

    def alpha_of(frame: pd.DataFrame) -> float:
        return krippendorff_alpha(frame.to_numpy(dtype=float), "ordinal")

    k_hat, k_se0 = fleiss_kappa(np.column_stack([(complete.to_numpy() == 0).sum(axis=1),
                                                 (complete.to_numpy() == 1).sum(axis=1)]))
    a_hat = alpha_of(highest)
    ids = np.unique(dist)
    rng = np.random.default_rng(random_state)
    kb, ab = [], []
    groups_k = {d: np.flatnonzero(dist == d) for d in ids}
    groups_a = {d: np.flatnonzero(hdist == d) for d in ids}
    for _ in tqdm(range(n_boot), disable=not progress, desc="bootstrap"):
        pick = rng.choice(ids, len(ids))
        kb.append(kappa_of(complete.iloc[np.concatenate([groups_k[d] for d in pick])]))
        ab.append(alpha_of(highest.iloc[np.concatenate([groups_a[d] for d in pick])]))
    a = (1 - conf_level) / 2
    table = pd.DataFrame({
        "coefficient": ["fleiss_kappa", "krippendorff_alpha_ordinal"],
        "estimate": [k_hat, a_hat],
        "se": [np.std(kb, ddof=1), np.std(ab, ddof=1)],
        "ci_lower": [np.quantile(kb, a), np.quantile(ab, a)],
        "ci_upper": [np.quantile(kb, 1 - a), np.quantile(ab, 1 - a)],
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
        if (cnt.sum(axis=0) == 0).any():  # one category only: kappa undefined
            k_p, se_p = np.nan, np.nan
        else:
            k_p, se_p = fleiss_kappa(cnt)
        rows.append((p, len(sub_p), k_p, se_p, float((cnt.max(axis=1) == cnt.sum(axis=1)).mean())))
    by_practice = pd.DataFrame(rows, columns=["practice", "cells", "fleiss_kappa", "se_null",
                                              "share_unanimous"])
    return AgreementResults("Informant agreement", table, log, by_practice)


def reliability(
    data: pd.DataFrame,
    rule: str = "any",
    n_boot: int = 500,
    conf_level: float = 0.95,
    random_state: int | None = 0,
    progress: bool = True,
) -> AgreementResults:
    """Internal consistency: KR-20 on the 48 cells, alpha and omega on the 12 practices.

    Parameters
    ----------
    data : pandas.DataFrame
        ``practice_ratings`` (combined by ``rule``) or a districts x cells 0/1 matrix
        with ``<practice>_s<stage>`` columns.
    rule, n_boot, conf_level, random_state, progress
        Informant rule and bootstrap settings (omega CIs are bootstrap percentile
        intervals; alpha / KR-20 CIs are Feldt's).

    Returns
    -------
    AgreementResults

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> rel = pds.practices.reliability(data["practice_ratings"], n_boot=20, progress=False)
    >>> rel.to_frame()["coefficient"].tolist()
    ['kr20_cells', 'alpha_practices', 'omega_practices']
    """
    from pdstats.practices._scalability import _matrix_from

    mat = _matrix_from(data, rule)
    log = SampleLog(n_in=mat.shape[1], unit="items")
    var = mat.std() > 0
    log.drop("item without variance", int((~var).sum()))
    cells = mat.loc[:, var].to_numpy(dtype=float)
    counts = np.column_stack([mat[[f"{p}_s{s}" for s in STAGES]].sum(axis=1) for p in PRACTICES])
    kr, kr_lo, kr_hi = cronbach_alpha(cells, conf_level)
    al, al_lo, al_hi = cronbach_alpha(counts, conf_level)
    om = omega_total(counts)
    rng = np.random.default_rng(random_state)
    boots = []
    n = len(counts)
    for _ in tqdm(range(n_boot), disable=not progress, desc="bootstrap"):
        xb = counts[rng.integers(0, n, n)]
        if (xb.std(axis=0) == 0).any():
            continue
        boots.append(omega_total(xb))
    g = (1 - conf_level) / 2
    table = pd.DataFrame({
        "coefficient": ["kr20_cells", "alpha_practices", "omega_practices"],
        "estimate": [kr, al, om],
        "se": [np.nan, np.nan, np.std(boots, ddof=1)],
        "ci_lower": [kr_lo, al_lo, np.quantile(boots, g)],
        "ci_upper": [kr_hi, al_hi, np.quantile(boots, 1 - g)],
        "items": [cells.shape[1], counts.shape[1], counts.shape[1]],
        "method": ["KR-20, Feldt CI", "Cronbach alpha, Feldt CI",
                   "one-factor ML omega total, bootstrap percentile CI"],
    })
    return AgreementResults("Internal consistency", table, log)
