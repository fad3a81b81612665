"""Student growth percentiles: R quantreg reference, uniformity, unit medians, targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.vam.growth_percentiles import bs_basis, unit_growth
from pdstats.vam.quantreg import rq_fit, rq_objective

REF = Path(__file__).resolve().parents[1] / "reference" / "vam"


@pytest.fixture(scope="module")
def reference_fit():
    d = pd.read_csv(REF / "sgp_data.csv")
    return d, pds.vam.sgp(d, "score", ["prior1", "prior2"], progress=False)


def test_coefficients_match_quantreg_rq_br(reference_fit):
    """All 100 x 15 coefficients equal R's rq(method = "br") to 1e-5 (sgp_rq.R)."""
    _, res = reference_fit
    ref = pd.read_csv(REF / "sgp_rq_coefficients.csv").set_index("term")
    assert list(res.coefficients.index) == list(ref.index)
    np.testing.assert_allclose(res.coefficients.to_numpy(), ref.to_numpy(), atol=1e-5, rtol=0)


def test_knots_and_sgps_match_r(reference_fit):
    _, res = reference_fit
    k = pd.read_csv(REF / "sgp_knots.csv")
    for p in ("prior1", "prior2"):
        knots, bnd = res.knots[p]
        kp = k[k.prior == p]
        np.testing.assert_allclose(knots, kp[kp.kind == "knot"]["value"], atol=1e-9)
        np.testing.assert_allclose(bnd, kp[kp.kind != "knot"]["value"], atol=1e-9)
    s = pd.read_csv(REF / "sgp_rq_sgp.csv")["sgp"].to_numpy()
    assert (res.students["sgp"].to_numpy() == s).all()


def test_bspline_basis_is_a_partition_of_unity():
    x = np.linspace(0, 10, 50)
    B = bs_basis(x, np.array([2.0, 4, 6, 8]), np.array([-1.0, 11]))
    # with the dropped first column, rows sum to 1 minus that column's value
    assert B.shape == (50, 7)
    assert np.all(B.sum(axis=1) <= 1 + 1e-12) and np.all(B >= 0)


def test_solver_reaches_the_lp_optimum():
    """The interior point + vertex polish equals the LP optimum (HiGHS), incl. preprocessing."""
    from scipy.optimize import linprog

    rng = np.random.default_rng(3)
    n, p = 300, 4
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    y = X @ rng.normal(size=p) + rng.standard_t(2, n)
    for tau in (0.05, 0.5, 0.9):
        c = np.r_[np.zeros(p), tau * np.ones(n), (1 - tau) * np.ones(n)]
        lp = linprog(c, A_eq=np.hstack([X, np.eye(n), -np.eye(n)]), b_eq=y,
                     bounds=[(None, None)] * p + [(0, None)] * (2 * n), method="highs")
        for pre in (False, True):
            b = rq_fit(y, X, tau, preprocess=pre)
            assert rq_objective(y, X, b, tau) == pytest.approx(lp.fun, rel=1e-9)
            np.testing.assert_allclose(b, lp.x[:p], atol=1e-7)


def test_sgps_are_uniform_on_simulated_data():
    rng = np.random.default_rng(7)
    n = 6000
    p1 = rng.normal(size=n)
    p2 = 0.6 * p1 + 0.8 * rng.normal(size=n)
    y = 0.5 * p1 + 0.3 * p2 + 0.2 * p1**2 + (0.6 + 0.3 * np.abs(p1)) * rng.normal(size=n)
    df = pd.DataFrame({"p1": p1, "p2": p2, "y": y})
    res = pds.vam.sgp(df, "y", ["p1", "p2"], taus=np.arange(0.05, 1, 0.1), progress=False)
    # 10 quantiles: counts 0..10 -> SGP 1..99 clipped; share below each tau ~ tau
    below = (res.students["sgp"] <= 5).mean()
    assert below == pytest.approx(0.55, abs=0.03)
    full = pds.vam.sgp(df.iloc[:3000], "y", ["p1", "p2"], progress=False)
    share = full.distribution()["share"].to_numpy()
    assert np.all(np.abs(share - 0.1) < 0.025)
    assert full.students["sgp"].mean() == pytest.approx(50, abs=1.5)
    # uniform within prior-score deciles too (conditional calibration)
    dec = pd.qcut(df["p1"].iloc[:3000], 5, labels=False)
    assert full.students["sgp"].groupby(dec.to_numpy()).mean().between(45, 55).all()


def test_unit_medians_with_bootstrap_ses():
    rng = np.random.default_rng(1)
    units = np.repeat(["a", "b", "c", "d"], [30, 31, 200, 400])
    s = np.clip(rng.integers(1, 100, len(units)) + np.where(units == "c", 20, 0), 1, 99)
    g = unit_growth(s, units, n_boot=400, random_state=0, progress=False).set_index("unit")
    for u in "abcd":
        v = s[units == u]
        assert g.loc[u, "median_sgp"] == np.median(v)
        assert g.loc[u, "mean_sgp"] == pytest.approx(v.mean())
        # bootstrap SE of the mean ~ sd / sqrt(n)
        assert g.loc[u, "mean_se"] == pytest.approx(v.std() / np.sqrt(len(v)), rel=0.15)
    assert g.loc["a", "median_se"] > g.loc["d", "median_se"]
    again = unit_growth(s, units, n_boot=400, random_state=0, progress=False)
    assert again["median_se"].tolist() == g["median_se"].tolist()


def test_growth_to_target_and_result(reference_fit):
    d, _ = reference_fit
    d = d.assign(school=np.arange(len(d)) % 12, goal=d["prior1"] + 10)
    res = pds.vam.sgp(d, "score", ["prior1"], unit="school", target="goal", n_boot=50,
                      taus=np.linspace(0.05, 0.95, 19), progress=False)
    st = res.students
    assert st["sgp_target"].between(1, 99).all()
    assert (st["on_track"] == (st["sgp"] >= st["sgp_target"])).all()
    # a higher target needs more growth
    hi = pds.vam.sgp(d.assign(goal=d["goal"] + 30), "score", ["prior1"], target="goal",
                     taus=np.linspace(0.05, 0.95, 19), progress=False)
    assert (hi.students["sgp_target"] >= st["sgp_target"]).all()
    assert len(res.by_unit["school"]) == 12
    assert "SGP distribution" in res.summary()
    ax = res.plot(kind="units")
    assert ax.get_xlabel().startswith("median") and ax.get_ylabel().startswith("school")
    with pytest.raises(pds.ModelSpecificationError, match="one to three"):
        pds.vam.sgp(d, "score", ["prior1", "prior2", "goal", "school"])


def test_prior_orders_give_each_student_the_highest_order_their_priors_allow():
    # the SGP package's orders: order 1 on every student with the latest prior, order 2 on
    # those with both; a student's SGP is the highest order's, and nothing else is dropped
    rng = np.random.default_rng(3)
    n = 3000
    df = pd.DataFrame({"p1": rng.normal(size=n), "p2": rng.normal(size=n)})
    df["y"] = 0.6 * df.p1 + 0.3 * df.p2 + rng.normal(size=n)
    df.loc[rng.random(n) < 0.3, "p2"] = np.nan
    df.loc[rng.random(n) < 0.02, "p1"] = np.nan
    taus = [0.1, 0.3, 0.5, 0.7, 0.9]
    res = pds.vam.sgp(df, "y", ["p1", "p2"], taus=taus, orders=True, progress=False)
    assert res.sample_log.n_used == int(df.p1.notna().sum())
    assert dict(res.sample_log.dropped) == {"missing 'p1'": int(df.p1.isna().sum())}
    both = df.p1.notna() & df.p2.notna()
    st = res.students
    assert (st["order"] == 2).sum() == both.sum()
    one = pds.vam.sgp(df, "y", "p1", taus=taus, progress=False).students["sgp"]
    two = pds.vam.sgp(df, "y", ["p1", "p2"], taus=taus, progress=False).students["sgp"]
    o1, o2 = st.index[st["order"] == 1], st.index[st["order"] == 2]
    pd.testing.assert_series_equal(st.loc[o1, "sgp"], one.loc[o1])
    pd.testing.assert_series_equal(st.loc[o2, "sgp"], two.loc[o2])
    assert res.coefficients.index.names == ["order", "term"]
    assert sorted(res.knots) == [1, 2]
    # without orders, the students missing p2 are dropped and logged
    plain = pds.vam.sgp(df, "y", ["p1", "p2"], taus=taus, progress=False)
    assert plain.sample_log.n_used == int(both.sum())


def test_prior_orders_with_too_few_students_for_an_order_keep_the_lower_one():
    rng = np.random.default_rng(4)
    n = 800
    df = pd.DataFrame({"p1": rng.normal(size=n), "p2": np.nan})
    df.loc[:100, "p2"] = rng.normal(size=101)     # 101 rows < 10 x 15 coefficients
    df["y"] = 0.6 * df.p1 + rng.normal(size=n)
    res = pds.vam.sgp(df, "y", ["p1", "p2"], taus=[0.25, 0.5, 0.75], orders=True, progress=False)
    assert (res.students["order"] == 1).all() and len(res.students) == n


def test_prior_orders_an_order_that_cannot_be_fitted_keeps_the_lower_one_with_a_warning():
    rng = np.random.default_rng(5)
    n = 600
    df = pd.DataFrame({"p1": rng.normal(size=n), "p2": np.nan})
    df.loc[:299, "p2"] = 1.0          # the second prior takes one value: order 2 has no spread
    df["y"] = 0.6 * df.p1 + rng.normal(size=n)
    with pytest.warns(pds.EstimationWarning, match="order 2 not fitted"):
        res = pds.vam.sgp(df, "y", ["p1", "p2"], taus=[0.25, 0.5, 0.75], orders=True, progress=False)
    assert (res.students["order"] == 1).all() and len(res.students) == n
