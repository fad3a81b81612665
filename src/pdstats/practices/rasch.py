"""Rasch and partial-credit models by conditional maximum likelihood (CML).

The partial-credit model (PCM) for item ``i`` with categories ``0..m_i``::

    P(X_vi = h | theta_v) = exp(h * theta_v + beta_ih) / sum_k exp(k * theta_v + beta_ik),

with ``beta_i0 = 0``; the dichotomous Rasch model is the case ``m_i = 1``. Item
parameters are estimated by CML (persons' raw scores are sufficient, so the likelihood
conditional on them is free of ``theta``), computed with elementary symmetric functions
(polynomial products). Parameters are normalised to ``sum(beta) = 0``, the default of R's
eRm (``PCM(X, sum0 = TRUE)``), so ``beta`` here equals eRm's ``betapar``. Person
parameters are estimated with item parameters fixed, by maximum likelihood (``"ml"``,
infinite for extreme raw scores, which get NaN) or by Warm's weighted likelihood (``"wle"``,
finite for every raw score); standard errors are ``1 / sqrt(test information)``.

References: Andersen (1972) for CML; Masters (1982) for the PCM; Warm (1989) for WLE;
Mair & Hatzinger (2007), *J. Stat. Software* 20(9), for eRm.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize

from pdstats._inputs import as_numeric, drop_missing, refuse, require_frame
from pdstats.errors import (
    ConvergenceError,
    DataValidationError,
    EstimationWarning,
    ModelSpecificationError,
)
from pdstats.results import ResultsBase, SampleLog, add_ci, check_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["fit_pcm", "PCMResult", "person_estimates"]


def _esf(eps: list[np.ndarray]) -> np.ndarray:
    """Elementary symmetric functions: coefficients of prod_i (1 + sum_h eps_ih t^h)."""
    g = np.ones(1)
    for e in eps:
        g = np.convolve(g, np.concatenate([[1.0], e]))
    return g


def _unpack(phi: np.ndarray, m: np.ndarray) -> list[np.ndarray]:
    beta = np.concatenate([phi, [-phi.sum()]])
    out, k = [], 0
    for mi in m:
        out.append(beta[k:k + mi])
        k += mi
    return out


def _negll_grad(phi: np.ndarray, m: np.ndarray, counts: list[np.ndarray],
                score_freq: np.ndarray) -> tuple[float, np.ndarray]:
    betas = _unpack(phi, m)
    # rescale for stability: eps_ih = exp(beta_ih), centred per call
    eps = [np.exp(b) for b in betas]
    g = _esf(eps)
    used = score_freq > 0
    ll = sum(float((c * b).sum()) for c, b in zip(counts, betas, strict=False))
    ll -= float((score_freq[used] * np.log(g[used])).sum())
    grad_beta = []
    for i, e in enumerate(eps):
        gi = _esf([eps[j] for j in range(len(eps)) if j != i])
        gi = np.concatenate([gi, np.zeros(len(g) - len(gi))])
        expected = np.zeros(len(e))
        for h in range(1, len(e) + 1):
            shifted = np.zeros(len(g))
            shifted[h:] = gi[: len(g) - h]
            p = np.where(used, e[h - 1] * shifted / np.where(g > 0, g, 1.0), 0.0)
            expected[h - 1] = float((score_freq * p).sum())
        grad_beta.append(counts[i] - expected)
    gb = np.concatenate(grad_beta)
    grad_phi = gb[:-1] - gb[-1]
    return -ll, -grad_phi


@dataclass
class _Fit:
    beta: np.ndarray
    cov: np.ndarray
    loglik: float
    n_iter: int


#: A category parameter (or its SE) beyond this many logits means the CML estimate does not exist.
_DIVERGED = 25.0


def _not_identified(params: np.ndarray, m: np.ndarray, names: list[str]) -> str:
    item = sorted({names[i] for i in np.repeat(np.arange(len(m)), m)[params]})
    return ("CML estimates do not exist for these responses (not identified): the category parameters of "
            f"item(s) {item} run off "
            f"(beyond {_DIVERGED:g} logits or with such SEs): the conditional likelihood has no maximum, as when "
            "a sparse category is separated by the raw score; collapse sparse categories or add persons")


def _cml(x: np.ndarray, m: np.ndarray, names: list[str]) -> _Fit:
    n_items = x.shape[1]
    counts = [np.array([(x[:, i] == h).sum() for h in range(1, m[i] + 1)], float)
              for i in range(n_items)]
    raw = x.sum(axis=1).astype(int)
    score_freq = np.bincount(raw, minlength=int(m.sum()) + 1).astype(float)
    k = int(m.sum())
    phi0 = np.zeros(k - 1)
    res = optimize.minimize(_negll_grad, phi0, args=(m, counts, score_freq), jac=True,
                            method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
    phi = res.x
    if not np.all(np.isfinite(phi)) or (not res.success and np.max(np.abs(res.jac)) > 1e-5):
        big = np.flatnonzero(np.abs(np.concatenate([phi, [-phi.sum()]])) > _DIVERGED)
        if big.size:
            raise ConvergenceError(_not_identified(big, m, names))
        raise ConvergenceError(f"CML estimation did not converge: {res.message}")
    # numerical Hessian from the analytic gradient
    h = 1e-5
    hess = np.empty((k - 1, k - 1))
    for j in range(k - 1):
        d = np.zeros(k - 1)
        d[j] = h
        gp = _negll_grad(phi + d, m, counts, score_freq)[1]
        gm = _negll_grad(phi - d, m, counts, score_freq)[1]
        hess[:, j] = (gp - gm) / (2 * h)
    hess = (hess + hess.T) / 2
    cov_phi = np.linalg.pinv(hess)
    p = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))])
    cov = p @ cov_phi @ p.T
    beta = np.concatenate([phi, [-phi.sum()]])
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    diverged = np.flatnonzero(~np.isfinite(se) | (se > _DIVERGED))
    if diverged.size:
        raise ConvergenceError(_not_identified(diverged, m, names))
    return _Fit(beta=beta, cov=cov, loglik=-float(res.fun), n_iter=int(res.nit))


def _grid_moments(t: np.ndarray, betas: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Log-likelihood kernel ``-sum_i log sum_h exp(h t + beta_ih)``, E[R], Var[R] and the
    third central moment of the raw score, at every ``t`` of an array."""
    t = np.asarray(t, float)
    kern, e, v, k3 = (np.zeros(len(t)) for _ in range(4))
    for b in betas:
        h = np.arange(len(b) + 1)
        z = t[:, None] * h + np.concatenate([[0.0], b])
        zmax = z.max(axis=1, keepdims=True)
        p = np.exp(z - zmax)
        tot = p.sum(axis=1, keepdims=True)
        kern -= (zmax + np.log(tot)).ravel()
        p /= tot
        mu = (p * h).sum(axis=1)
        dev = h - mu[:, None]
        e += mu
        v += (p * dev**2).sum(axis=1)
        k3 += (p * dev**3).sum(axis=1)
    return kern, e, v, k3


def _estimating_equation(t: np.ndarray, r: int, betas: list[np.ndarray], method: str, top: int) -> np.ndarray:
    """ML (``r - E[R]``) or Warm's WLE (``+ third moment / (2 variance)``) equation at ``t``.

    Where the test information underflows (``t`` far outside the item parameters) the WLE
    term takes its limit, +1/2 below every category and -1/2 above, so the sign stays right.
    """
    _, e, v, k3 = _grid_moments(np.atleast_1d(t), betas)
    if method == "ml":
        return r - e
    tiny = v <= 1e-250
    return r - e + np.where(tiny, np.where(e < top / 2, 0.5, -0.5), k3 / (2 * np.where(tiny, 1.0, v)))


def _criterion(t: float, r: int, betas: list[np.ndarray], method: str) -> float:
    """Log-likelihood (ML) or log-likelihood plus half the log test information (WLE)."""
    kern, _, v, _ = _grid_moments(np.array([t]), betas)
    return float(r * t + kern[0] + (0.5 * np.log(v[0]) if method == "wle" else 0.0))


def _person_root(r: int, betas: list[np.ndarray], method: str) -> float:
    """The person estimate for raw score ``r``.

    The estimating equation is positive far below every category threshold (``r + 1/2`` in
    the limit for the WLE) and negative far above (``r - max - 1/2``), so a bracket around
    the thresholds, widened until the signs differ, contains every root - for any item
    parameters, and for the extreme raw scores 0 and the maximum under WLE. With extreme
    item parameters the WLE equation can have several roots (the weighted likelihood is
    then multimodal): every sign change on a grid of step 0.05 over the bracket is refined
    by Brent's method and the root with the largest criterion is returned (for ML, whose
    equation is monotone, there is one).
    """
    top = int(sum(len(b) for b in betas))
    steps = np.concatenate([-np.diff(np.concatenate([[0.0], b])) for b in betas])
    lo, hi = float(steps.min()) - 10.0, float(steps.max()) + 10.0
    width = 10.0
    for _ in range(60):
        f_lo, f_hi = _estimating_equation(np.array([lo, hi]), r, betas, method, top)
        if f_lo > 0 and f_hi < 0:
            break
        width *= 2
        lo, hi = (lo if f_lo > 0 else lo - width), (hi if f_hi < 0 else hi + width)
    else:  # pragma: no cover - the limits above make this unreachable for finite parameters
        raise ConvergenceError(f"person estimate for raw score {r}: no sign change of the "
                               f"{method.upper()} equation in [{lo:.3g}, {hi:.3g}]")
    grid = np.linspace(lo, hi, max(int((hi - lo) / 0.05), 2) + 1)
    f = _estimating_equation(grid, r, betas, method, top)
    change = np.flatnonzero((f[:-1] > 0) & (f[1:] <= 0))

    def eq(t: float) -> float:
        return float(_estimating_equation(np.array([t]), r, betas, method, top)[0])

    roots = [grid[i + 1] if f[i + 1] == 0 else optimize.brentq(eq, grid[i], grid[i + 1], xtol=1e-12,
                                                                  rtol=4 * np.finfo(float).eps, maxiter=500)
             for i in change]
    return float(max(roots, key=lambda t: _criterion(t, r, betas, method)))


def person_estimates(
    raw: np.ndarray, betas: list[np.ndarray], method: str = "wle"
) -> pd.DataFrame:
    """Person parameters and standard errors for raw scores, with item parameters fixed.

    Parameters
    ----------
    raw : array of int
        Raw scores (sum of item scores over the items in ``betas``).
    betas : list of arrays
        Category parameters per item (``beta_i1..beta_im``).
    method : {"wle", "ml"}
        Warm's weighted likelihood (finite for all scores) or maximum likelihood (NaN
        for the extreme scores 0 and the maximum).

    Returns
    -------
    pandas.DataFrame
        Columns ``raw_score``, ``theta``, ``se``, ``extreme``.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices.rasch import person_estimates
    >>> est = person_estimates(np.array([1]), [np.array([0.0]), np.array([0.0])], method="ml")
    >>> abs(round(float(est["theta"].iloc[0]), 6))
    0.0
    """
    if method not in ("wle", "ml"):
        raise ModelSpecificationError(f"argument 'method' must be 'wle' or 'ml', got {method!r}")
    if not all(np.all(np.isfinite(b)) for b in betas):
        raise ModelSpecificationError("person_estimates: item parameters must be finite")
    max_score = int(sum(len(b) for b in betas))
    cache: dict[int, tuple[float, float]] = {}
    for r in np.unique(raw):
        r = int(r)
        if method == "ml" and (r <= 0 or r >= max_score):
            cache[r] = (np.nan, np.nan)
            continue
        t = _person_root(r, betas, method)
        v = float(_grid_moments(np.array([t]), betas)[2][0])
        cache[r] = (t, 1.0 / np.sqrt(v) if v > 0 else np.nan)
    theta = np.array([cache[int(r)][0] for r in raw])
    se = np.array([cache[int(r)][1] for r in raw])
    return pd.DataFrame({"raw_score": raw.astype(int), "theta": theta, "se": se,
                         "extreme": (raw <= 0) | (raw >= max_score)})


class PCMResult(ResultsBase):
    """Results of a Rasch / partial-credit model fitted by CML.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Long and tidy: one row per item category (``item``, ``category``) with
        ``estimate`` (eRm's ``betapar``), ``std_error``, 95% ``ci_lower``/``ci_upper`` and
        ``flag`` (no standard error).
    items : pandas.DataFrame
        One row per item category: ``item``, ``category``, ``beta`` (eRm's ``betapar``),
        ``se``, ``threshold`` (Andrich-Masters step ``beta_i,h-1 - beta_ih``) and CI.
    persons : pandas.DataFrame
        Person estimates (``theta``, ``se``, ``ci_lower``, ``ci_upper``, ``raw_score``,
        ``extreme``, and ``flag``: no finite estimate or standard error, e.g. an
        extreme raw score under ML).
    recode : pandas.DataFrame
        Category recoding applied to items with unobserved categories.
    """

    title = "Partial-credit model (conditional ML)"

    def __init__(self, items: pd.DataFrame, persons: pd.DataFrame, recode: pd.DataFrame,
                 loglik: float, sample_log: SampleLog, person_method: str,
                 dropped_items: list[str]) -> None:
        self.items = items
        self.persons = persons
        self.recode = recode
        self.loglik = loglik
        self.sample_log = sample_log
        self.person_method = person_method
        self.dropped_items = dropped_items
        est = items[["item", "category", "beta", "se"]].rename(columns={"beta": "estimate", "se": "std_error"})
        est["std_error"] = est["std_error"].where(est["std_error"] > 0)
        est["flag"] = est["std_error"].isna()
        self.estimates = add_ci(est, 0.95, df=None)

    @property
    def betas(self) -> list[np.ndarray]:
        """Category parameters per item, in item order."""
        return [g["beta"].to_numpy() for _, g in self.items.groupby("item", sort=False)]

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Items"] = self.items["item"].nunique()
        info["Conditional log-likelihood"] = round(self.loglik, 4)
        info["Person estimates"] = self.person_method.upper()
        if self.dropped_items:
            info["Items dropped (no variance)"] = ", ".join(self.dropped_items)
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Item parameters", self.items), ("Person parameters", self.persons)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Item category parameters (``beta``) with 95% intervals."""
        from pdstats.figures.estimates import coefplot

        d = self.estimates.assign(term=self.estimates["item"] + " / " + self.estimates["category"].astype(str))
        return coefplot(d, ax=ax, title=self.title)

    def score(self, responses: pd.DataFrame, method: str | None = None) -> pd.DataFrame:
        """Person estimates for new response rows (same item columns, fixed item parameters).

        Items dropped or recoded in the fit are treated the same way.
        """
        cols = list(dict.fromkeys(self.items["item"]))
        missing = [c for c in cols if c not in responses.columns]
        if missing:
            raise DataValidationError(
                "responses",
                pd.DataFrame({"table": "responses", "column": missing, "rule": "item missing",
                              "row": None, "key": "", "value": None}),
            )
        x = np.array(responses[cols].to_numpy(dtype=float), copy=True)
        for j, c in enumerate(cols):
            rec = self.recode[self.recode["item"] == c]
            mapping = dict(zip(rec["original"], rec["recoded"], strict=False))
            x[:, j] = [mapping.get(v, np.nan) for v in x[:, j]]
        if np.isnan(x).any():
            raise refuse("responses", "*", "categories seen when the model was fitted",
                         np.flatnonzero(np.isnan(x).any(axis=1)))
        est = person_estimates(x.sum(axis=1).astype(int), self.betas,
                               method or self.person_method)
        est.index = responses.index
        return est


#: Minimum counts of a category (among informative persons) tried in turn when the CML does not exist.
_COLLAPSE_STEPS = (1, 2, 3, 5)


def _category_map(x: pd.Series, informative: np.ndarray, min_count: int) -> dict[int, int]:
    """Observed categories to 0..m, merging those seen fewer than ``min_count`` times.

    Counts are over informative persons only (raw score neither 0 nor the maximum): persons
    with an extreme raw score carry no information in the conditional likelihood, so a
    category seen only among them is as good as unobserved. A sparse category is merged into
    its lower neighbour (the lowest into the one above).
    """
    values = np.sort(x.unique().astype(int))
    seen = x[informative].value_counts()
    groups = [[int(v)] for v in values]
    n = [int(seen.get(v, 0)) for v in values]
    i = 0
    while len(groups) > 2 and i < len(groups):
        if n[i] >= min_count:
            i += 1
            continue
        j = i - 1 if i > 0 else 1
        lo, hi = min(i, j), max(i, j)
        groups[lo] = groups[lo] + groups[hi]
        n[lo] += n[hi]
        del groups[hi], n[hi]
        i = 0
    return {v: k for k, g in enumerate(groups) for v in g}


def _recoded(d: pd.DataFrame, keep: list, min_count: int) -> tuple[np.ndarray, list[tuple]]:
    """Responses recoded by :func:`_category_map` until the informative persons stop changing."""
    informative = np.ones(len(d), bool)
    for _ in range(20):
        maps = {c: _category_map(d[c].astype(int), informative, min_count) for c in keep}
        x = np.column_stack([d[c].astype(int).map(maps[c]).to_numpy() for c in keep])
        raw, top = x.sum(axis=1), int(x.max(axis=0).sum())
        now = (raw > 0) & (raw < top)
        if np.array_equal(now, informative):
            break
        informative = now
    rows = [(str(c), int(v), k) for c in keep for v, k in maps[c].items()]
    return x, rows


def fit_pcm(
    data: pd.DataFrame, person_method: str = "wle", level: float = 0.95
) -> PCMResult:
    """Fit a Rasch (0/1 items) or partial-credit model (0..m items) by conditional ML.

    Parameters
    ----------
    data : pandas.DataFrame
        Persons (districts) in rows, items in columns, non-negative integer scores.
        Rows with missing values (NaN, empty, ``'*'``) are dropped (logged, with a
        :class:`~pdstats.DroppedRowsWarning`); negative, fractional, infinite or
        non-numeric scores are refused. Items without variance are dropped
        (logged); categories never observed are collapsed so each item's observed
        categories are consecutive from 0 (table ``recode``); a category seen only among
        persons with an extreme raw score (who carry no information in the conditional
        likelihood) counts as never observed. Where the conditional likelihood then has no
        maximum (a sparse category separated by the raw score), categories observed fewer
        than 2, then 3, then 5 times are merged into their neighbour, the usual remedy for
        sparse rating categories, with an :class:`~pdstats.EstimationWarning` (the merge is
        in ``recode``); if none of these identifies the model, :class:`~pdstats.ConvergenceError`.
    person_method : {"wle", "ml"}
        Person estimator (see :func:`person_estimates`).
    level : float
        Level of the Wald intervals.

    Returns
    -------
    PCMResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pdstats.practices.rasch import fit_pcm
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=200)
    >>> b = np.array([-1.0, 0.0, 1.0])
    >>> x = (rng.random((200, 3)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
    >>> res = fit_pcm(pd.DataFrame(x, columns=["a", "b", "c"]))
    >>> res.items["beta"].round(1).tolist()[0] > 0
    True
    """
    require_frame(data, "responses")
    level = check_level(level)
    if person_method not in ("wle", "ml"):
        raise ModelSpecificationError(f"argument 'person_method' must be 'wle' or 'ml', got {person_method!r}")
    log = SampleLog(n_in=len(data), unit="persons")
    d = pd.DataFrame({c: as_numeric(data, c, "responses", lower=0, integer=True) for c in data.columns},
                     index=data.index)
    if len(d.columns):
        d, log = drop_missing(d, list(d.columns), "responses", log)
    dropped = [str(c) for c in d.columns if d[c].nunique() < 2]
    keep = [c for c in d.columns if str(c) not in dropped]
    if len(keep) < 2:
        raise DataValidationError(
            "responses",
            pd.DataFrame({"table": "responses", "column": "*", "rule": "at least 2 items with variance",
                          "row": None, "key": "", "value": None}, index=[0]),
        )
    collapsed = 0
    for min_count in _COLLAPSE_STEPS:
        x, recode_rows = _recoded(d, keep, min_count)
        m = x.max(axis=0).astype(int)
        try:
            fit = _cml(x, m, [str(c) for c in keep])
            collapsed = min_count
            break
        except (np.linalg.LinAlgError, FloatingPointError, OverflowError) as exc:
            raise ConvergenceError(f"CML estimation failed ({type(exc).__name__}: {exc})") from exc
        except ConvergenceError as exc:
            if "not identified" not in str(exc) or min_count == _COLLAPSE_STEPS[-1]:
                raise
    if collapsed > 1:
        warnings.warn(f"fit_pcm: the CML estimates do not exist with every observed category; "
                      f"categories observed fewer than {collapsed} times among persons with a non-extreme "
                      "raw score were merged into their neighbour (table recode)", EstimationWarning,
                      stacklevel=2)
    se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
    rows, k = [], 0
    for c, mi in zip(keep, m, strict=False):
        prev = 0.0
        for h in range(1, mi + 1):
            b = fit.beta[k]
            rows.append((str(c), h, b, se[k], prev - b))
            prev = b
            k += 1
    items = pd.DataFrame(rows, columns=["item", "category", "beta", "se", "threshold"])
    add_ci(items, level, estimate="beta", std_error="se", df=None)
    betas = [g["beta"].to_numpy() for _, g in items.groupby("item", sort=False)]
    persons = person_estimates(x.sum(axis=1), betas, person_method)
    persons.index = d.index
    add_ci(persons, level, estimate="theta", std_error="se", df=None)
    persons["flag"] = ~(np.isfinite(persons["theta"]) & np.isfinite(persons["se"]))
    recode = pd.DataFrame(recode_rows, columns=["item", "original", "recoded"])
    res = PCMResult(items, persons, recode, fit.loglik, log, person_method, dropped)
    n_flag = int(persons["flag"].sum()) + int(res.estimates["flag"].sum())
    if n_flag:
        warnings.warn(f"fit_pcm: {int(persons['flag'].sum())} person estimate(s) without a finite value "
                      f"(extreme raw scores under {person_method.upper()}) and "
                      f"{int(res.estimates['flag'].sum())} item parameter(s) without a standard error; "
                      "flagged", EstimationWarning, stacklevel=2)
    return res


#: Former name, kept so existing code keeps working.
PCMResults = PCMResult
