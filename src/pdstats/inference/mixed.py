"""Cluster-robust inference for the fixed effects of ``pds.lmm`` fits.

The fixed effects of a mixed model are GLS with ``W = V^{-1}``; CR2 uses the fitted
marginal covariance ``V`` as working model (clubSandwich's ``vcovCR`` for ``lmer``).
Clusters may be any variable every grouping factor is nested in: a grouping factor of
the model or any coarser column of the data (districts above schools).

Inside a cluster ``V_g = s I + Z_g S Z_g'`` when the residual variance is constant there
(no weights or cluster-constant weights), so all n_g x n_g matrices are handled in the
span of ``[Z_g, X_g]``: the cost is ``O(n_g m^2 + m^3)`` with ``m`` the fixed effects
plus the random effects inside the cluster. With unequal residual variances inside a
cluster (e.g. a meta-regression with known sampling variances), the cluster is handled
densely, which is fine for the small clusters such models have.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from pdstats.errors import ModelSpecificationError
from pdstats.inference.algebra import Basis, Op, inverse, sqrt_psd
from pdstats.inference.covariance import (
    ClusterBlock,
    LinearFit,
    RobustCovariance,
    robust_covariance,
    split_clusters,
)

if TYPE_CHECKING:  # pragma: no cover
    from pdstats.inference.results import WildBootstrapResult
    from pdstats.multilevel.design import Design
    from pdstats.multilevel.results import LMMResult

__all__ = ["cluster_codes", "gls_linear_fit", "lmm_cr2", "lmm_robust_covariance",
           "wild_bootstrap_lmm"]

#: Largest cluster handled densely (unequal residual variances inside the cluster).
DENSE_LIMIT = 6000


def cluster_codes(res: LMMResult, cluster: Any) -> tuple[np.ndarray, str]:
    """Integer cluster codes of the fit's rows: a grouping factor, any column, or values.

    Every grouping factor must be nested in the clusters (clusters independent under
    the model); otherwise :class:`~pdstats.ModelSpecificationError`.
    """
    d = res._design
    if cluster is None:
        if not res._evaluator.nested:
            raise ModelSpecificationError(
                "crossed random effects: give cluster= (a variable every grouping factor is "
                "nested in)")
        codes, name = d.terms[-1].codes, d.terms[-1].group
    elif isinstance(cluster, str):
        if cluster in d.data.columns:
            values = d.data[cluster].to_numpy()
        elif "source" in d.extra and cluster in d.extra["source"].columns:
            values = d.extra["source"][cluster].to_numpy()[d.extra["rows"]]
        else:
            raise ModelSpecificationError(
                f"cluster={cluster!r} is not a column of the data the model was fitted to")
        if pd.isna(values).any():
            raise ModelSpecificationError(
                f"cluster={cluster!r} is missing for {int(pd.isna(values).sum())} rows the "
                "model used; drop them before fitting")
        codes, name = pd.factorize(values, sort=True)[0], cluster
    else:
        values = np.asarray(cluster)
        if values.shape != (d.n,):
            raise ModelSpecificationError(
                f"cluster values must have one entry per row used ({d.n}), got {values.shape}")
        codes, name = pd.factorize(values, sort=True)[0], "cluster"
    for t in d.terms:
        first = np.full(t.nlev, -1, dtype=np.int64)
        first[t.codes] = codes
        if not np.array_equal(first[t.codes], codes):
            raise ModelSpecificationError(
                f"grouping factor {t.group!r} is not nested in cluster {name!r}: CR2 needs "
                "clusters that are independent under the model")
    return np.asarray(codes, dtype=np.int64), name


def _gls_block(d: Design, factors: list[np.ndarray], s2: float, idx: np.ndarray,
               y: np.ndarray, dense: bool) -> ClusterBlock:
    n_g, p = len(idx), d.p
    Xg = d.X[idx]
    resid_var = s2 / d.prior_weights[idx]
    if not dense and np.ptp(resid_var) <= 1e-12 * resid_var.max():
        zs, covs = [], []
        for t, T in zip(d.terms, factors, strict=True):
            uniq, inv = np.unique(t.codes[idx], return_inverse=True)
            k = t.k
            cols = (inv[:, None] * k + np.arange(k)).ravel()
            rows = np.repeat(np.arange(n_g), k)
            zs.append(sparse.csr_matrix((t.Xr[idx].ravel(), (rows, cols)),
                                        shape=(n_g, len(uniq) * k)))
            covs.append(sparse.kron(sparse.identity(len(uniq)), s2 * (T @ T.T)))
        Z = sparse.hstack(zs).tocsr()
        q = Z.shape[1]
        ZX = np.asarray(Z.T @ Xg)
        gram = np.block([[(Z.T @ Z).toarray(), ZX], [ZX.T, Xg.T @ Xg]])
        psi = np.zeros((q + p, q + p))
        psi[:q, :q] = sparse.block_diag(covs).toarray()
        cx = np.vstack([np.zeros((q, p)), np.eye(p)])
        uy = np.concatenate([np.asarray(Z.T @ y[idx]), Xg.T @ y[idx]])
        basis, target = Basis(gram, n_g), Op(float(resid_var[0]), psi)
    else:
        if n_g > DENSE_LIMIT and not dense:
            raise ModelSpecificationError(
                f"a cluster of {n_g} rows with unequal residual variances is too large for "
                f"the dense CR2 computation (limit {DENSE_LIMIT} rows)")
        V = np.diag(resid_var)
        for t, T in zip(d.terms, factors, strict=True):
            codes = t.codes[idx]
            Xr = t.Xr[idx]
            V += (Xr @ (s2 * T @ T.T) @ Xr.T) * (codes[:, None] == codes[None, :])
        basis, target, cx, uy = Basis(np.eye(n_g), n_g, full=True), Op(0.0, V), Xg, y[idx]
    weight, root = basis.funcs(target, [inverse, sqrt_psd])
    return ClusterBlock(basis, cx, cx, uy, weight, target, n_g, root=root)


def gls_linear_fit(d: Design, factors: list[np.ndarray], s2: float, codes: np.ndarray,
                   y: np.ndarray | None = None, dense: bool = False) -> LinearFit:
    """GLS of ``y`` (default the fit's response) on the fixed effects with ``V`` given by
    the random-effect factors ``factors`` and residual variance ``s2``, clustered by ``codes``.

    ``dense=True`` forms every cluster's n_g x n_g covariance (the reference computation
    the low-rank one is checked and benchmarked against).
    """
    y = d.y if y is None else y
    blocks = [_gls_block(d, factors, s2, idx, y, dense) for idx in split_clusters(codes)]
    xwx = sum(b.basis.form(b.cx, b.weight, b.cx) for b in blocks)
    xwy = sum(b.basis.form_vec(b.cx, b.weight, b.uy) for b in blocks)
    bread = linalg.inv((xwx + xwx.T) / 2)
    return LinearFit(bread @ xwy, (bread + bread.T) / 2, blocks, inverse_var=True, wsq=None,
                     n=d.n, names=list(d.fixed_names))


def lmm_robust_covariance(res: LMMResult, cluster: Any = None, kind: str = "CR2"
                          ) -> RobustCovariance:
    """Cluster-robust covariance of an LMM's fixed effects (for :func:`wald_test` and df).

    Parameters
    ----------
    res : LMMResult
        A fitted model.
    cluster : str or array-like, optional
        Any column of the data the model was fitted to (or one value per row used)
        that every grouping factor is nested in; default the coarsest grouping factor.
    kind : {"CR2", "CR1", "CR0"}
        Adjustment (the working model is the fitted marginal covariance).

    Returns
    -------
    RobustCovariance

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> from pdstats.inference.wald import wald_test
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"school": np.repeat(np.arange(40), 10)})
    >>> d["district"] = d.school // 5
    >>> d["x"], d["z"] = rng.normal(size=400), rng.normal(size=400)
    >>> d["y"] = d.x + rng.normal(size=8)[d.district] + rng.normal(size=40)[d.school] + rng.normal(size=400)
    >>> rc = lmm_robust_covariance(pds.lmm("y ~ x + z + (1 | school)", d), "district")
    >>> wald_test(rc, ["x", "z"]).test
    'HTZ'
    """
    codes, _ = cluster_codes(res, cluster)
    fit = gls_linear_fit(res._design, res._sol.factors, res.sigma**2, codes)
    return robust_covariance(fit, kind)


def lmm_cr2(res: LMMResult, cluster: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """CR2 covariance of an LMM's fixed effects and their Bell-McCaffrey df.

    Parameters
    ----------
    res : LMMResult
        A fitted model.
    cluster : str or array-like, optional
        As :func:`lmm_robust_covariance`.

    Returns
    -------
    (vcov, df)

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"school": np.repeat(np.arange(40), 10)})
    >>> d["district"] = d.school // 5
    >>> d["x"] = rng.normal(size=400)
    >>> d["y"] = d.x + rng.normal(size=8)[d.district] + rng.normal(size=40)[d.school] + rng.normal(size=400)
    >>> fit = pds.lmm("y ~ x + (1 | school)", d)
    >>> vc, df = lmm_cr2(fit, "district")
    >>> bool(df[0] < 7)
    True
    """
    rc = lmm_robust_covariance(res, cluster, "CR2")
    return rc.vcov, rc.df


def _restricted_fit(res: LMMResult, k: int, value: float) -> LMMResult:
    """The model refitted (same REML/ML) with fixed effect ``k`` held at ``value``."""
    from pdstats.multilevel.deviance import DevianceEvaluator

    d = res._design
    keep = [j for j in range(d.p) if j != k]
    model = object.__new__(type(res._model))
    model.formula = res._model.formula
    model.parsed = res._model.parsed
    model.design = dataclasses.replace(
        d, X=d.X[:, keep], y=d.y - value * d.X[:, k],
        fixed_names=[d.fixed_names[j] for j in keep])
    model.evaluator = DevianceEvaluator(model.design)
    return model.fit(reml=res.reml, ddf="residual", start=res.theta, on_nonconvergence="warn")


def wild_bootstrap_lmm(res: LMMResult, term: str, null: float = 0.0, cluster: Any = None,
                       **kwargs: Any) -> WildBootstrapResult:
    """Wild cluster bootstrap of one fixed effect of a mixed model.

    The variance components are held at the *restricted* fit (the model refitted with
    ``term`` fixed at ``null``): with that ``V`` the fixed effects are GLS, a linear
    estimator, and the bootstrap re-estimates them by GLS in every draw (for the observed
    statistic too). The interval inverts the test with ``V`` held at that same fit.

    Parameters
    ----------
    res : LMMResult
        The fit.
    term : str
        Fixed effect to test.
    null : float
        Value under the null.
    cluster : str or array-like, optional
        As :func:`lmm_cr2`.
    **kwargs
        Passed to :func:`pdstats.inference.wild.wild_bootstrap`.

    Returns
    -------
    WildBootstrapResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"g": np.repeat(np.arange(12), 15), "x": rng.normal(size=180)})
    >>> d["y"] = 0.3 * d.x + rng.normal(size=12)[d.g] + rng.normal(size=180)
    >>> fit = pds.lmm("y ~ x + (1 | g)", d)
    >>> wb = wild_bootstrap_lmm(fit, "x", progress=False, random_state=1)
    >>> bool(wb.p_value < 0.05), wb.enumerated
    (True, True)
    """
    from pdstats.inference.wild import wild_bootstrap

    names = list(res.fixed_names)
    if term not in names:
        raise ModelSpecificationError(f"term {term!r} is not a fixed effect ({names})")
    codes, _ = cluster_codes(res, cluster)
    restricted = _restricted_fit(res, names.index(term), float(null))
    fit = gls_linear_fit(res._design, restricted._sol.factors, restricted.sigma**2, codes)
    out = wild_bootstrap(fit, term, null=null, sample_log=res.sample_log, **kwargs)
    out.settings["Variance components"] = "held at the restricted (null-imposed) fit"
    return out
