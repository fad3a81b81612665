"""pds.ols / pdstats.inference: the result contract, input rules, and the low-rank algebra."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.inference.algebra import Basis, Op, inv_sqrt_pinv
from pdstats.inference.covariance import robust_covariance
from pdstats.inference.mixed import cluster_codes, gls_linear_fit

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))
from checks import assert_contract  # noqa: E402

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"OLSResult", "WaldTestResult", "WildBootstrapResult", "RandomizationResult"}


def world(seed: int = 0, G: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), rng.integers(4, 15, size=G))
    d = pd.DataFrame({"g": g, "x": rng.normal(size=len(g)), "w": rng.uniform(0.5, 2, len(g))})
    d["z"] = rng.normal(size=G)[g]
    d["y"] = 1 + 0.5 * d.x + rng.normal(size=G)[g] + rng.normal(size=len(g))
    return d


def test_results_follow_the_contract() -> None:
    d = world()
    res = pds.ols("y ~ x + z", d, cluster="g")
    assert_contract(res)
    assert list(res.estimates.columns) == ["term", "estimate", "std_error", "df", "statistic",
                                           "p_value", "ci_lower", "ci_upper", "flag"]
    assert not res.estimates["flag"].any()
    assert_contract(res.wald_test(["x", "z"]))
    assert_contract(res.wild_bootstrap("x", n_boot=99, random_state=1, progress=False))
    d["t"] = (d.g % 2).astype(int)
    assert_contract(pds.inference.randomization_test(
        "y ~ t", d, "t", scheme="clustered", cluster="g", ci=True, n_perm=99, random_state=1,
        progress=False))


def test_missing_dropped_and_logged_inf_refused() -> None:
    d = world()
    d.loc[[0, 3], "x"] = np.nan
    d.loc[5, "g"] = None
    with pytest.warns(pds.DroppedRowsWarning):
        res = pds.ols("y ~ x", d, cluster="g")
    assert res.sample_log.n_used == len(d) - 3
    assert res.sample_log.dropped == {"missing 'x'": 2, "missing 'g'": 1}
    d2 = world()
    d2.loc[4, "y"] = np.inf
    with pytest.raises(pds.DataValidationError) as err:
        pds.ols("y ~ x", d2, cluster="g")
    assert "row 4" in str(err.value)
    d3 = world()
    d3.loc[2, "w"] = 0.0
    with pytest.raises(pds.DataValidationError):
        pds.ols("y ~ x", d3, cluster="g", weights="w")


@pytest.mark.parametrize("kwargs", [
    {"vcov": "CR2"},  # no cluster
    {"vcov": "HC2", "cluster": "g"},
    {"vcov": "CR3", "cluster": "g"},
    {"cluster": "nope"},
    {"level": 95},
])
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(pds.PdstatsError):
        pds.ols("y ~ x", world(), **kwargs)


def test_rank_deficient_and_one_cluster_refused() -> None:
    d = world()
    d["x2"] = 2 * d.x
    with pytest.raises(pds.ModelSpecificationError, match="rank deficient"):
        pds.ols("y ~ x + x2", d, cluster="g")
    with pytest.raises(pds.ModelSpecificationError, match="2 clusters"):
        pds.ols("y ~ x", d.assign(one=1), cluster="one")


def test_cr1_cr0_scale_and_df() -> None:
    d = world()
    r0 = pds.ols("y ~ x", d, cluster="g", vcov="CR0")
    r1 = pds.ols("y ~ x", d, cluster="g", vcov="CR1")
    G, n, p = 12, len(d), 2
    np.testing.assert_allclose(r1.estimates.std_error ** 2,
                               r0.estimates.std_error ** 2 * G / (G - 1) * (n - 1) / (n - p))
    assert (r1.estimates.df == G - 1).all()
    hc1 = pds.ols("y ~ x", d, vcov="HC1")
    assert (hc1.estimates.df == n - p).all()


def test_ols_cr2_equals_brute_force() -> None:
    """CR2 from the low-rank algebra equals (I - H_gg)^(-1/2) formed densely."""
    d = world(3)
    res = pds.ols("y ~ x + z", d, cluster="g")
    X = np.column_stack([np.ones(len(d)), d.x, d.z])
    y = d.y.to_numpy()
    M = np.linalg.inv(X.T @ X)
    e = y - X @ (M @ X.T @ y)
    meat = np.zeros((3, 3))
    for g in np.unique(d.g):
        i = np.flatnonzero(d.g.to_numpy() == g)
        w, Q = np.linalg.eigh(np.eye(len(i)) - X[i] @ M @ X[i].T)
        u = X[i].T @ ((Q / np.sqrt(w)) @ Q.T) @ e[i]
        meat += np.outer(u, u)
    np.testing.assert_allclose(res.estimates.std_error, np.sqrt(np.diag(M @ meat @ M)), rtol=1e-10)


def test_algebra_functions_match_dense() -> None:
    rng = np.random.default_rng(0)
    U = rng.normal(size=(9, 3))
    b = Basis(U.T @ U, 9)
    S = rng.normal(size=(3, 3))
    A = Op(1.5, S @ S.T / 10)
    dense = 1.5 * np.eye(9) + U @ A.psi @ U.T
    got = b.func(A, inv_sqrt_pinv)
    w, Q = np.linalg.eigh(dense)
    np.testing.assert_allclose(got.scale * np.eye(9) + U @ got.psi @ U.T, (Q / np.sqrt(w)) @ Q.T,
                               atol=1e-12)
    B = Op(0.5, rng.normal(size=(3, 3)))
    prod = b.mul(A, B)
    np.testing.assert_allclose(prod.scale * np.eye(9) + U @ prod.psi @ U.T,
                               dense @ (0.5 * np.eye(9) + U @ B.psi @ U.T), atol=1e-12)


@pytest.mark.parametrize("cluster", [None, "district"])
def test_lmm_low_rank_equals_dense(cluster: str | None) -> None:
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"school": np.repeat(np.arange(30), 12)})
    d["district"] = d.school // 5
    d["x"] = rng.normal(size=len(d))
    d["y"] = (0.5 * d.x + rng.normal(size=6)[d.district] + rng.normal(size=30)[d.school]
              + (0.3 * rng.normal(size=30))[d.school] * d.x + rng.normal(size=len(d)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pds.lmm("y ~ x + (x | school)", d)
    codes, _ = cluster_codes(fit, cluster)
    fast = robust_covariance(gls_linear_fit(fit._design, fit._sol.factors, fit.sigma**2, codes))
    dense = robust_covariance(gls_linear_fit(fit._design, fit._sol.factors, fit.sigma**2, codes,
                                             dense=True))
    np.testing.assert_allclose(fast.vcov, dense.vcov, rtol=1e-8)
    np.testing.assert_allclose(fast.df, dense.df, rtol=1e-8)
    np.testing.assert_allclose(fit.cr2(cluster)["std_error"], np.sqrt(np.diag(dense.vcov)),
                               rtol=1e-8)


def test_lmm_cr2_refuses_cluster_finer_than_a_grouping_factor() -> None:
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"school": np.repeat(np.arange(10), 10), "x": rng.normal(size=100)})
    d["classroom"] = np.arange(100) // 5
    d["y"] = rng.normal(size=10)[d.school] + rng.normal(size=100)
    fit = pds.lmm("y ~ x + (1 | school)", d)
    with pytest.raises(pds.ModelSpecificationError, match="not nested"):
        fit.cr2(cluster="classroom")
    with pytest.raises(pds.ModelSpecificationError, match="not a column"):
        fit.cr2(cluster="state")


@pytest.mark.parametrize("weights", [None, "w"])
def test_one_row_clusters_vectorized_equal_per_cluster_path(weights: str | None) -> None:
    import dataclasses

    from pdstats.inference.ols import ols_fit

    fit, _ = ols_fit("y ~ x + z", world(6), weights=weights)
    for kind in ("CR2", "CR0"):
        fast = robust_covariance(fit, kind)
        slow = robust_covariance(dataclasses.replace(fit, rows=None), kind)
        np.testing.assert_allclose(fast.vcov, slow.vcov, rtol=1e-10)
        np.testing.assert_allclose(fast.df, slow.df, rtol=1e-10)


def test_a_perfect_fit_is_flagged_not_reported_with_zero_standard_error() -> None:
    d = pd.DataFrame({"y": [0.0] * 6, "x": [1.0, 2, 3, 4, 5, 6],
                      "g": [0, 0, 1, 1, 2, 2]})
    with pytest.warns(pds.EstimationWarning, match="no usable standard error"):
        res = pds.ols("y ~ x", d, cluster="g")
    assert res.estimates["flag"].all()
    assert res.estimates[["std_error", "p_value", "ci_lower"]].isna().all().all()
