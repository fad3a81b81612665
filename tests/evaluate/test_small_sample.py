"""The default small-sample inference of the heterogeneity-robust estimators.

Each check is against an independent code path: the Callaway-Sant'Anna small-sample
variance equals the CR2 variance (pds.ols, the shared few-cluster code) of the same
contrast in the cohort x period regression with unit effects; Sun-Abraham's equals
pds.ols CR2 with Bell-McCaffrey df on its saturated regression; with large cohorts the
small-sample inference converges to R did's analytic inference (mpdta).
"""

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.evaluate.smallsample import cohort_t
from pdstats.results import critical_value

COHORTS = {0: 5, 3: 3, 4: 3, 5: 2}  # never treated: 5 units; three small adoption cohorts
T = 5


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(12)
    g = np.concatenate([np.full(n, c) for c, n in COHORTS.items()])
    d = pd.DataFrame({"id": np.repeat(np.arange(len(g)), T), "t": np.tile(np.arange(1, T + 1),
                                                                          len(g))})
    d["g"] = np.repeat(g, T)
    scale = np.repeat(rng.uniform(0.5, 2.0, len(g)), T)  # heteroskedastic units
    d["y"] = (rng.normal(size=len(g))[d["id"]] + 0.3 * d["t"] + scale * rng.normal(size=len(d))
              + 1.0 * ((d["g"] > 0) & (d["t"] >= d["g"])))
    return d


def _cell_regression(d):
    """pds.ols of y on unit dummies and cohort x period dummies (period 1 the base)."""
    work = d.copy()
    names = []
    for c in COHORTS:
        for t in range(2, T + 1):
            name = f"D_{c}_{t}"
            work[name] = ((work["g"] == c) & (work["t"] == t)).astype(float)
            names.append(name)
    fit = pds.ols("y ~ 0 + C(id) + " + " + ".join(names), work, cluster="id")
    return fit


def _att_contrast(vcov_index, cells):
    """Contrast of the simple ATT: cohort-size weights over post-treatment cells."""
    c = pd.Series(0.0, index=vcov_index)

    def beta(cohort, t, w):
        if t > 1:
            c[f"D_{cohort}_{t}"] += w

    w = np.array([COHORTS[g] for g, _ in cells], dtype=float)
    w /= w.sum()
    for (g, t), wt in zip(cells, w, strict=True):
        for cohort, sign in ((g, 1.0), (0, -1.0)):
            beta(cohort, t, sign * wt)
            beta(cohort, g - 1, -sign * wt)
    return c.to_numpy()


def test_cs_small_sample_variance_is_cr2_of_the_cohort_period_regression(small):
    res = pds.evaluate.staggered_did(small, "y", "id", "t", "g", n_boot=0)
    agg = res.aggregate("simple").overall.iloc[0]
    fit = _cell_regression(small)
    cells = [(g, t) for g in COHORTS if g > 0 for t in range(g, T + 1)]
    c = _att_contrast(fit.vcov.index, cells)
    assert c @ fit.params.to_numpy() == pytest.approx(agg["estimate"], abs=1e-10)
    assert np.sqrt(c @ fit.vcov.to_numpy() @ c) == pytest.approx(agg["std_error"], rel=1e-9)
    # larger than R did's analytic SE, with a t reference distribution
    analytic = pds.evaluate.staggered_did(small, "y", "id", "t", "g", n_boot=0,
                                          inference="analytic").aggregate("simple").overall
    assert agg["std_error"] > analytic["std_error"].iloc[0]
    assert 2 <= agg["df"] < len(small["id"].unique())
    assert agg["ci_upper"] - agg["estimate"] == pytest.approx(
        critical_value(0.95, agg["df"]) * agg["std_error"])
    # every post-treatment ATT(g,t) likewise
    gt = res.att_gt.set_index(["group", "time"])
    for cell in cells:
        c1 = _att_contrast(fit.vcov.index, [cell])
        assert np.sqrt(c1 @ fit.vcov.to_numpy() @ c1) == pytest.approx(
            gt.loc[cell, "std_error"], rel=1e-9)


def test_cohort_t_reduces_to_cluster_rule_with_clusters():
    psi = np.array([1.0, -2.0, 0.5, 0.5, 3.0, -3.0])
    se, df = cohort_t(psi, np.zeros(6), cluster=np.array([0, 0, 1, 1, 2, 2]))
    sums = np.array([-1.0, 1.0, 0.0])
    assert se == pytest.approx(np.sqrt(1.5 * np.sum(sums**2)) / 6)
    assert df == 2


def test_large_cohorts_converge_to_r_did_analytic():
    import moderndid

    d = moderndid.load_mpdta().to_pandas()
    args = (d, "lemp", "countyreal", "year", "first.treat")
    small = pds.evaluate.staggered_did(*args, n_boot=0).aggregate("event")
    analytic = pds.evaluate.staggered_did(*args, n_boot=0, inference="analytic").aggregate("event")
    np.testing.assert_allclose(small.estimates["std_error"], analytic.estimates["std_error"],
                               rtol=0.03)
    assert (small.estimates["df"] > 20).all()  # hundreds of counties per cohort
    assert "df" not in analytic.estimates  # normal critical values, as R did


def test_sun_abraham_small_sample_is_cr2_bell_mccaffrey(small):
    es = pds.evaluate.sun_abraham(small, "y", "id", "t", "g")
    # saturated regression: unit and period dummies, cohort x relative-period dummies
    work = small.copy()
    names = []
    for c in (3, 4, 5):
        for e in range(1 - c, T + 1 - c):
            if e != -1:
                name = f"S_{c}_{e + 10}"
                work[name] = ((work["g"] == c) & (work["t"] - c == e)).astype(float)
                names.append(name)
    fit = pds.ols("y ~ 0 + C(id) + C(t) + " + " + ".join(names), work, cluster="id")
    row = es.estimates.set_index("event_time").loc[0]
    c = pd.Series(0.0, index=fit.vcov.index)
    n = {3: 3, 4: 3, 5: 2}
    for g in n:
        c[f"S_{g}_10"] = n[g] / sum(n.values())  # interaction weights: cohort shares at e = 0
    assert c @ fit.params == pytest.approx(row["estimate"], abs=1e-10)
    assert np.sqrt(c @ fit.vcov @ c) == pytest.approx(row["std_error"], rel=1e-6)
    wald = fit.wald_test(c.to_numpy()[None, :])
    assert wald.estimates["df"].iloc[0] == pytest.approx(row["df"], rel=1e-6)


def test_imputation_small_sample_is_the_leave_one_out_refinement(small):
    a = pds.evaluate.imputation(small, "y", "id", "t", "g").overall.iloc[0]
    b = pds.evaluate.imputation(small, "y", "id", "t", "g", inference="analytic").overall.iloc[0]
    assert a["estimate"] == pytest.approx(b["estimate"])
    assert a["std_error"] > b["std_error"]
    with pytest.raises(pds.ModelSpecificationError):
        pds.evaluate.imputation(small, "y", "id", "t", "g", inference="bootstrap")


def test_a_one_unit_cohort_keeps_its_analytic_term_with_a_warning():
    # a lone unit's centred influence function is 0; dropping it would claim its cohort mean
    # is known exactly: its uncentred (analytic) term is kept instead
    psi = np.array([1.0, -1.0, 0.0, 2.0])
    with pytest.warns(pds.EstimationWarning, match="one unit"):
        se, _ = cohort_t(psi, np.array([0, 0, 0, 1]))
    assert float(se) == pytest.approx(np.sqrt(1.5 * 2 / 16 + 4 / 16))
