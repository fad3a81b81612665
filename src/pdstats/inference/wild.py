"""The wild cluster bootstrap for one coefficient of a linear estimator.

For a linear estimator ``b = M sum_g X_g' W_g y_g`` (OLS, WLS, or GLS with ``W`` fixed,
e.g. mixed-model fixed effects with the variance components held at a fit) the
bootstrap responses are ``y* = X b0 + v_g u_g`` with one weight ``v_g`` per cluster and
residuals ``u`` from the restricted fit (null imposed, "WCR") or the unrestricted fit
("WCU"). Every bootstrap t statistic is a ratio of a linear and the square root of a
quadratic function of the weight vector ``v`` (Roodman et al. 2019, "Fast and wild",
Stata Journal 19(1)), so all draws cost ``O(G^2 B)`` after ``O(n)`` set-up, and under
the restricted bootstrap both are affine in the null value: the p-value of any null is
O(B) and the interval inverts the test exactly (bisection on the same draws).

Weights: Rademacher (+-1), Mammen (two-point) and Webb (six-point). With Rademacher
weights and ``2^G <= n_boot`` all sign vectors are enumerated (as boottest and
fwildclusterboot do). Two-sided symmetric p-values: ``P(|t*| >= |t|)``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import numpy as np
from tqdm.auto import tqdm

from pdstats.errors import ModelSpecificationError
from pdstats.inference.covariance import LinearFit, robust_covariance
from pdstats.inference.results import WildBootstrapResult, coef_table
from pdstats.results import SampleLog, check_level

__all__ = ["WEIGHT_TYPES", "draw_weights", "wild_bootstrap"]

WEIGHT_TYPES = ("rademacher", "mammen", "webb")


def draw_weights(kind: str, n_clusters: int, n_boot: int, rng: np.random.Generator
                 ) -> np.ndarray:
    """(G, B) matrix of wild-bootstrap weights with mean 0 and variance 1.

    Examples
    --------
    >>> v = draw_weights("webb", 4, 20000, np.random.default_rng(0))
    >>> round(float(v.mean()), 2), round(float(v.var()), 2)
    (0.0, 1.0)
    """
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n_clusters, n_boot))
    if kind == "mammen":
        s5 = np.sqrt(5.0)
        lo, hi = -(s5 - 1) / 2, (s5 + 1) / 2
        return np.where(rng.random((n_clusters, n_boot)) < (s5 + 1) / (2 * s5), lo, hi)
    if kind == "webb":
        pts = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
        return rng.choice(pts, size=(n_clusters, n_boot))
    raise ModelSpecificationError(f"weights={kind!r}; choose one of {list(WEIGHT_TYPES)}")


def _all_signs(G: int) -> np.ndarray:
    return np.array(list(product((-1.0, 1.0), repeat=G))).T


def _cluster_terms(fit: LinearFit, kind: str, resid: list[np.ndarray], c: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per residual vector: sigma_g = c's_g, alpha_g = c'T_g u_g and the G x G Gamma."""
    M = fit.bread
    G = fit.n_clusters
    sig = np.empty((len(resid), G))
    alpha = np.empty((len(resid), G))
    cb = np.empty((G, fit.p))
    S = np.empty((len(resid), fit.p, G))
    for g, blk in enumerate(fit.blocks):
        b = blk.basis
        A = fit.adjustment(blk, kind)
        u = np.column_stack([r[g] for r in resid])  # U'u for each residual vector
        if fit.inverse_var:
            s = b.form_vec(blk.cx, blk.weight, u)
            WA = b.mul(blk.weight, A)
            a = b.form_vec(blk.cx, WA, u)
            TX = b.form(blk.cx, WA, blk.cx)
        else:
            s = b.form_vec(blk.cwx, b.identity(), u)
            a = b.form_vec(blk.cwx, A, u)
            TX = b.form(blk.cwx, A, blk.cx)
        S[:, :, g] = s.T
        sig[:, g] = c @ s
        alpha[:, g] = c @ a
        cb[g] = c @ TX @ M
    gamma = np.einsum("gp,rph->rgh", cb, S)
    return sig, alpha, gamma


def wild_bootstrap(fit: LinearFit, term: str, null: float = 0.0, restricted: bool = True,
                   weights: str = "rademacher", n_boot: int = 9999, vcov: str = "CR1",
                   level: float = 0.95, random_state: int | np.random.Generator | None = None,
                   progress: bool = True, sample_log: SampleLog | None = None
                   ) -> WildBootstrapResult:
    """Wild cluster bootstrap test of ``coefficient = null`` and interval by inversion.

    Parameters
    ----------
    fit : LinearFit
        The estimator (``pds.ols(...)`` results call this through ``.wild_bootstrap``).
    term : str
        Coefficient to test.
    null : float
        Value under the null hypothesis.
    restricted : bool
        Impose the null on the bootstrap data-generating process (WCR, the default and
        the better choice with few clusters) or not (WCU).
    weights : {"rademacher", "mammen", "webb"}
        Weight distribution (Webb's six points for fewer than about 12 clusters).
    n_boot : int
        Draws; with Rademacher weights and ``2^G <= n_boot`` all ``2^G`` are used.
    vcov : {"CR1", "CR0", "CR2"}
        Covariance in the t statistics (CR0/CR1 give the same p-values).
    level : float
        Confidence level of the interval.
    random_state : int or numpy.random.Generator, optional
        Seed.
    progress : bool
        tqdm progress bar over the draws.

    Returns
    -------
    WildBootstrapResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(3)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(14), 10), "x": rng.normal(size=140)})
    >>> d["y"] = 0.4 * d.x + rng.normal(size=14)[d.g] + rng.normal(size=140)
    >>> wb = pds.ols("y ~ x", d, cluster="g").wild_bootstrap("x", n_boot=999,
    ...                                                      random_state=1, progress=False)
    >>> bool(wb.p_value < 0.01), wb.n_boot
    (True, 999)
    """
    level = check_level(level)
    if term not in fit.names:
        raise ModelSpecificationError(f"term {term!r} is not a coefficient ({fit.names})")
    if vcov not in ("CR0", "CR1", "CR2"):
        raise ModelSpecificationError(f"vcov={vcov!r}; choose CR1, CR0 or CR2")
    if weights not in WEIGHT_TYPES:
        raise ModelSpecificationError(f"weights={weights!r}; choose one of {list(WEIGHT_TYPES)}")
    if int(n_boot) < 19:
        raise ModelSpecificationError("n_boot must be at least 19")
    G = fit.n_clusters
    if G < 2:
        raise ModelSpecificationError("the wild cluster bootstrap needs at least 2 clusters")
    k = fit.names.index(term)
    M, beta = fit.bread, fit.beta
    c = M[:, k]
    rc = robust_covariance(fit, vcov)
    se_obs = float(np.sqrt(rc.vcov[k, k]))
    scale = G / (G - 1) * (fit.n - 1) / (fit.n - fit.p) if vcov == "CR1" else 1.0
    # restricted estimate b(null) = b0 + null * h; residual cross-products U'u
    h = c / c[k]
    b0 = beta - h * beta[k]
    if restricted:
        res0 = [blk.uy - blk.basis.gram @ (blk.cx @ b0) for blk in fit.blocks]
        res1 = [-(blk.basis.gram @ (blk.cx @ h)) for blk in fit.blocks]
        resid = [res0, res1]
    else:
        resid = [[blk.uy - blk.basis.gram @ (blk.cx @ beta) for blk in fit.blocks]]
    sig, alpha, gamma = _cluster_terms(fit, vcov, resid, c)
    K = [np.diag(alpha[r]) - gamma[r] for r in range(len(resid))]

    rng = np.random.default_rng(random_state)
    enumerated = weights == "rademacher" and G <= 30 and 2**G <= n_boot
    B = 2**G if enumerated else int(n_boot)
    chunk = max(1, min(B, 2000))
    num = np.empty((len(resid), B))
    quad = np.empty((3 if restricted else 1, B))
    all_v = _all_signs(G) if enumerated else None
    with tqdm(total=B, desc="wild bootstrap", disable=not progress) as bar:
        for start in range(0, B, chunk):
            stop = min(B, start + chunk)
            v = all_v[:, start:stop] if enumerated else draw_weights(weights, G, stop - start, rng)
            P = [Kr @ v for Kr in K]
            for r in range(len(resid)):
                num[r, start:stop] = sig[r] @ v
            quad[0, start:stop] = np.sum(P[0] ** 2, axis=0)
            if restricted:
                quad[1, start:stop] = 2 * np.sum(P[0] * P[1], axis=0)
                quad[2, start:stop] = np.sum(P[1] ** 2, axis=0)
            bar.update(stop - start)

    def t_boot(value: float) -> np.ndarray:
        if restricted:
            n_ = num[0] + value * num[1]
            q_ = quad[0] + value * quad[1] + value**2 * quad[2]
        else:
            n_, q_ = num[0], quad[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            return n_ / np.sqrt(scale * np.maximum(q_, 0.0))

    def pvalue_at(value: float) -> float:
        t_obs = (beta[k] - value) / se_obs
        tb = t_boot(value)
        return float(np.mean(np.abs(tb[np.isfinite(tb)]) >= abs(t_obs) - 1e-12 * abs(t_obs)))

    def interval(lev: float) -> tuple[float, float]:
        lev = check_level(lev)
        if not restricted:
            tb = np.abs(t_boot(0.0))
            qq = float(np.quantile(tb[np.isfinite(tb)], lev))
            return beta[k] - qq * se_obs, beta[k] + qq * se_obs
        return (_invert(pvalue_at, beta[k], se_obs, 1 - lev, -1.0),
                _invert(pvalue_at, beta[k], se_obs, 1 - lev, 1.0))

    p = pvalue_at(float(null))
    est = coef_table([term], beta[[k]], np.array([se_obs]), np.array([np.nan]), level)
    est["statistic"] = (beta[k] - null) / se_obs
    est["p_value"] = p
    est["ci_lower"], est["ci_upper"] = interval(level)
    est = est.drop(columns=["df"])
    settings: dict[str, object] = {
        "Null": f"{term} = {null:g}", "Bootstrap": "restricted (WCR)" if restricted
        else "unrestricted (WCU)", "Weights": weights, "Covariance": vcov, "Clusters": G}
    return WildBootstrapResult(est, t_boot(float(null)), enumerated, pvalue_at, interval,
                               settings, sample_log if sample_log is not None
                               else SampleLog(n_in=fit.n))


def _invert(pvalue_at: Callable[[float], float], centre: float, se: float, alpha: float,
            side: float) -> float:
    """The null value on ``side`` of ``centre`` where the p-value falls to ``alpha``."""
    inside = centre
    step = se
    outside = centre + side * step
    for _ in range(60):
        if pvalue_at(outside) < alpha:
            break
        inside, step = outside, step * 2
        outside = centre + side * step
    else:
        return side * np.inf
    for _ in range(60):
        mid = (inside + outside) / 2
        if pvalue_at(mid) < alpha:
            outside = mid
        else:
            inside = mid
        if abs(outside - inside) <= 1e-10 * max(1.0, abs(centre)) + 1e-8 * se:
            break
    return (inside + outside) / 2
