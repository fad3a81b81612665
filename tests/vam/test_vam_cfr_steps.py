"""CFR / vam, step by step: each intermediate quantity against a direct numpy computation.

The data are small and hand-built (uneven class sizes, a teacher missing a year, a
teacher with one class in some years, a two-year gap) so that each formula of
Stepner's algorithm is exercised; the expected values are computed below with plain
loops over the formulas, independently of the package's vectorized code.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.vam import cfr as C
from pdstats.vam.residualize import control_matrix, residualize

SEED = 3  # chosen so that no variance piece needs clipping (checked in _direct)


@pytest.fixture(scope="module")
def hand_data() -> pd.DataFrame:
    return build_hand_data()


def build_hand_data() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    rows = []
    # teacher -> {year: [class sizes]}
    plan = {
        "a": {2001: [4, 3], 2002: [5, 2], 2003: [3, 3]},
        "b": {2001: [3], 2002: [4, 4], 2004: [5, 3]},
        "c": {2002: [6, 2, 3], 2003: [4]},
        "d": {2001: [2, 2], 2003: [3, 5], 2004: [4]},
        "e": {2001: [5, 4], 2002: [3], 2003: [2, 6], 2004: [3, 3]},
        "f": {2003: [4, 4]},
    }
    effect = {"a": 0.3, "b": -0.2, "c": 0.1, "d": -0.4, "e": 0.5, "f": 0.0}
    for t, years in plan.items():
        for yr, sizes in years.items():
            for k, n in enumerate(sizes):
                shock = rng.normal(0, 0.5)
                for _ in range(n):
                    x = rng.normal()
                    rows.append((t, yr, k, x, 0.5 * x + effect[t] + shock + rng.normal()))
    return pd.DataFrame(rows, columns=["teacher", "year", "classroom", "prior", "score"])


def _direct(df: pd.DataFrame, drift_limit=None):
    """The algorithm written out with loops over the formulas."""
    X = df[["prior"]].to_numpy()
    X = (X - X.mean()) / X.std()
    y = df["score"].to_numpy()
    # step 1: within-teacher regression, residual keeps the teacher effect
    g = df["teacher"].to_numpy()
    Xd = X.copy()
    yd = y.copy()
    for t in np.unique(g):
        m = g == t
        Xd[m] -= X[m].mean(axis=0)
        yd[m] -= y[m].mean()
    beta = np.linalg.lstsq(Xd, yd, rcond=None)[0]
    r = y - X @ beta
    r = r - r.mean()
    N, p = len(r), 1
    var_total = np.sum((r - r.mean()) ** 2) / (N - p - 1)
    cls = df.groupby(["teacher", "year", "classroom"], sort=True)
    n_cls = cls.ngroups
    cm = pd.Series(r, index=df.index).groupby([df.teacher, df.year, df.classroom]).mean()
    e = r - cm.loc[list(zip(df.teacher, df.year, df.classroom, strict=True))].to_numpy()
    var_ind = np.sum(e**2) / (N - n_cls - p)
    sizes = cls.size()

    def aw_cov(pairs):
        w = np.array([wi for _, _, wi in pairs], dtype=float)
        xs = np.array([a for a, _, _ in pairs])
        ys = np.array([b for _, b, _ in pairs])
        xb, yb = (w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()
        n = len(pairs)
        return n / (n - 1) * (w * (xs - xb) * (ys - yb)).sum() / w.sum()

    pairs = []
    for (t, yr), grp in cm.groupby(level=[0, 1]):
        vals = grp.to_numpy()
        ns = sizes.loc[(t, yr)].to_numpy()
        for k in range(len(vals) - 1):
            pairs.append((vals[k], vals[k + 1], ns[k] + ns[k + 1]))
    cov_same = aw_cov(pairs)
    var_class = var_total - var_ind - cov_same
    assert var_class > 0   # the data are built so that no clipping happens
    # step 3: unit-year precision-weighted means
    uy = {}
    for (t, yr), grp in cm.groupby(level=[0, 1]):
        ns = sizes.loc[(t, yr)].to_numpy()
        h = 1 / (var_class + var_ind / ns)
        uy[(t, yr)] = ((h * grp.to_numpy()).sum() / h.sum(), h.sum(), ns.sum())
    # step 4: autocovariances by lag
    acov = {}
    for lag in (1, 2, 3):
        pr = [(uy[(t, yr)][0], uy[(t, yr + lag)][0], uy[(t, yr)][2] + uy[(t, yr + lag)][2])
              for (t, yr) in uy if (t, yr + lag) in uy]
        acov[lag] = aw_cov(pr)
    M = [cov_same] + [acov[k] if drift_limit is None or k <= drift_limit else acov[drift_limit]
                      for k in (1, 2, 3)]
    # step 5: BLP from the other years
    out = {}
    for (t, yr) in uy:
        others = sorted(y2 for (t2, y2) in uy if t2 == t and y2 != yr)
        if not others:
            out[(t, yr)] = (np.nan, M[0], None)
            continue
        S = np.array([[M[abs(a - b)] + (1 / uy[(t, a)][1] if a == b else 0) for b in others]
                      for a in others])
        phi = np.array([M[abs(yr - a)] for a in others])
        wts = np.linalg.solve(S, phi)
        abar = np.array([uy[(t, a)][0] for a in others])
        out[(t, yr)] = (wts @ abar, M[0] - wts @ phi, wts)
    return dict(r=r, beta=beta, var_total=var_total, var_ind=var_ind, cov_same=cov_same,
                var_class=var_class, uy=uy, acov=acov, M=np.array(M), blp=out)


def _package_steps(df: pd.DataFrame, drift_limit=None):
    unit = pd.factorize(df["teacher"], sort=True)[0]
    cls = df.groupby(["teacher", "year", "classroom"], sort=True).ngroup().to_numpy()
    X, names, _ = control_matrix(df, ["prior"], [], degree=1)
    res = residualize(df["score"].to_numpy(), X, names, unit_codes=unit)
    return res, C.cfr_fit(res.resid, np.ones(len(df)), unit, df["year"].to_numpy(), cls,
                          res.n_params, drift_limit)


@pytest.mark.parametrize("drift_limit", [None, 1])
def test_each_intermediate_quantity(hand_data, drift_limit):
    d = _direct(hand_data, drift_limit)
    res, fit = _package_steps(hand_data, drift_limit)
    np.testing.assert_allclose(res.beta.to_numpy(), d["beta"], rtol=1e-10)
    np.testing.assert_allclose(res.resid, d["r"], atol=1e-12)
    p = fit.pieces
    assert p["total"].estimate == pytest.approx(d["var_total"], rel=1e-10)
    assert p["individual"].estimate == pytest.approx(d["var_ind"], rel=1e-10)
    assert p["same_year"].estimate == pytest.approx(d["cov_same"], rel=1e-10)
    assert p["class"].estimate == pytest.approx(d["var_class"], rel=1e-10)
    labels = np.array(sorted(hand_data["teacher"].unique()))
    uy = fit.unit_years
    for row in uy.itertuples():
        mean, h, n = d["uy"][(labels[row.unit], row.year)]
        assert row.mean == pytest.approx(mean, rel=1e-10)
        assert row.h == pytest.approx(h, rel=1e-10)
        assert row.n_students == n
    for lag in (1, 2, 3):
        assert fit.acov[lag].estimate == pytest.approx(d["acov"][lag], rel=1e-10)
    np.testing.assert_allclose(fit.M, d["M"], rtol=1e-10)
    fc = fit.forecasts
    for i, row in enumerate(uy.itertuples()):
        est, pvar, _ = d["blp"][(labels[row.unit], row.year)]
        if np.isnan(est):
            assert np.isnan(fc["estimate"].iloc[i])
        else:
            assert fc["estimate"].iloc[i] == pytest.approx(est, rel=1e-9)
            assert fc["prediction_var"].iloc[i] == pytest.approx(pvar, rel=1e-9)


def test_forecast_weights_by_hand():
    """A three-year unit: the weights on the two other years solve Sigma w = phi."""
    M = np.array([0.05, 0.04, 0.03])
    uy = pd.DataFrame({"unit": [0, 0, 0], "year": [1, 2, 3], "mean": [0.2, -0.1, 0.4],
                       "h": [20.0, 50.0, 10.0]})
    fc = C.forecast(uy, M)
    S = np.array([[M[0] + 1 / 20, M[2]], [M[2], M[0] + 1 / 10]])   # years 1 and 3
    w = np.linalg.solve(S, np.array([M[1], M[1]]))
    assert fc["estimate"].iloc[1] == pytest.approx(w @ np.array([0.2, 0.4]), rel=1e-12)
    assert fc["reliability"].iloc[1] == pytest.approx(w @ [M[1], M[1]] / M[0], rel=1e-12)
    assert fc["n_other_years"].tolist() == [2, 2, 2]


def test_front_door_matches_steps(hand_data):
    res = pds.vam.value_added(hand_data, "score", prior="prior", unit="teacher", year="year",
                              classroom="classroom", method="cfr", degree=1,
                              year_effects=False)
    _, fit = _package_steps(hand_data)
    np.testing.assert_allclose(res.effects["estimate"].to_numpy(),
                               fit.forecasts["estimate"].to_numpy(), rtol=1e-12)
    single = res.effects[res.effects["unit"] == "f"]
    assert single["estimate"].isna().all()           # one year only: no leave-year-out VA
    acov = res.autocovariance.set_index("lag")
    assert (acov["std_error"] > 0).all()
    assert (res.variance_components["std_error"] > 0).all()


def test_without_classrooms_class_variance_is_zero(hand_data):
    """No classroom id: class shocks cannot be separated; M[0] = var_total - var_ind."""
    res = pds.vam.value_added(hand_data, "score", prior="prior", unit="teacher", year="year",
                              method="cfr", degree=1, year_effects=False)
    vc = res.variance_components.set_index("component")["estimate"]
    assert vc["class shock"] == 0.0
    assert vc["unit-year effect (same-year covariance)"] == pytest.approx(
        vc["total residual"] - vc["individual (student)"], rel=1e-12)


def test_pairs_are_consecutive_classes():
    a, b = C.consecutive_pairs(np.array([5, 5, 5, 7, 7, 9]))
    assert list(itertools.zip_longest(a, b)) == [(0, 1), (1, 2), (3, 4)]


def test_autocorrelation_above_one_is_held_at_one():
    """An estimated lag covariance above M[0] would make M no covariance: uncapped, the
    prediction variance of the BLP goes negative (an SE of 0); the cap keeps it valid."""
    uy = pd.DataFrame({"unit": [0, 0], "year": [1, 2], "mean": [0.3, 0.1], "h": [20.0, 20.0]})
    raw = C.forecast(uy, np.array([0.05, 0.08]))
    assert (raw["prediction_var"] == 0).all()          # 0.05 - 0.08^2 / 0.1 < 0, clipped
    M = C.drift_vector(0.05, {1: 0.08})
    assert M.tolist() == [0.05, 0.05]
    fc = C.forecast(uy, M)
    np.testing.assert_allclose(fc["prediction_var"], 0.05 - 0.05**2 / (0.05 + 1 / 20))


def test_cfr_fit_warns_and_caps_an_autocorrelation_above_one():
    """Two classes a year whose means are a_j (1 +- c): same-year covariance (1 - c^2) var a,
    lag-1 covariance var a, so the estimated autocorrelation is 1 / (1 - c^2) > 1."""
    rng = np.random.default_rng(0)
    J, c, n = 60, 0.5, 10
    a = rng.normal(size=J)
    unit = np.repeat(np.arange(J), 4 * n)
    year = np.tile(np.repeat([1, 1, 2, 2], n), J)
    sign = np.tile(np.repeat([1.0, -1.0, 1.0, -1.0], n), J)
    cls = np.repeat(np.arange(4 * J), n)
    r = a[unit] * (1 + c * sign) + rng.normal(0, 0.1, len(unit))
    with pytest.warns(pds.EstimationWarning, match="no valid covariance"):
        fit = C.cfr_fit(r, np.ones(len(r)), unit, year, cls, n_params=0, n_draws=0)
    assert fit.acov[1].estimate > fit.M[0]
    assert fit.M[1] == fit.M[0]
    assert (fit.forecasts["prediction_var"] > 0).all()


def test_lags_that_are_not_jointly_valid_are_shrunk():
    """Each autocorrelation within [-1, 1] but no valid covariance together (0.9 at lag 1,
    -0.9 at lag 2): shrunk by one factor to the PSD boundary; valid lags are untouched."""
    M = C.drift_vector(1.0, {1: 0.9, 2: -0.9})
    T = np.array([[M[abs(i - j)] for j in range(3)] for i in range(3)])
    assert np.linalg.eigvalsh(T).min() == pytest.approx(0.0, abs=1e-8)
    assert M[1] / 0.9 == pytest.approx(M[2] / -0.9, rel=1e-12)
    assert 0 < M[1] < 0.9
    assert C.drift_vector(1.0, {1: 0.8, 2: 0.6}).tolist() == [1.0, 0.8, 0.6]
