"""Estimators against a known-truth world (pds.vam.known_truth.simulate_va): bias, RMSE, coverage.

Fast versions run one large world; ``@pytest.mark.slow`` versions repeat over 200 worlds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import pdstats as pds
from pdstats.vam.known_truth import simulate_va


def _fit(df, method, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        return pds.vam.value_added(df, "score", prior="prior", unit="teacher", year="year",
                                   classroom=kw.pop("classroom", "classroom"), method=method,
                                   degree=1, progress=False, **kw)


def _pooled_truth(truth):
    return truth.groupby("teacher")["effect"].mean()


def _cfr_stats(df, truth):
    res = _fit(df, "cfr")
    e = res.effects.merge(truth, left_on=["unit", "year"], right_on=["teacher", "year"])
    r = res.rows
    slope = sm.OLS(r["resid"], sm.add_constant(r["va"])).fit().params["va"]
    cover = np.mean((e.ci_lower <= e.effect) & (e.effect <= e.ci_upper))
    return {"corr": np.corrcoef(e.estimate, e.effect)[0, 1], "bias": (e.estimate - e.effect).mean(),
            "rmse": np.sqrt(np.mean((e.estimate - e.effect) ** 2)), "coverage": cover,
            "slope": slope}


def _pooled_stats(df, truth, method):
    res = _fit(df, method)
    e = res.effects.set_index("unit").join(_pooled_truth(truth))
    cover = np.mean((e.ci_lower <= e.effect) & (e.effect <= e.ci_upper))
    return {"rmse": np.sqrt(np.mean((e.estimate - e.effect) ** 2)), "coverage": cover,
            "corr": np.corrcoef(e.estimate, e.effect)[0, 1]}


def test_cfr_recovers_drifting_effects():
    df, truth = simulate_va(n_teachers=1500, random_state=11)
    s = _cfr_stats(df, truth)
    assert s["corr"] > 0.7
    assert abs(s["bias"]) < 0.01
    assert 0.92 <= s["coverage"] <= 0.975
    assert 0.93 <= s["slope"] <= 1.07     # forecast-unbiased: coefficient ~ 1


def test_cfr_autocorrelation_matches_ar1_drift():
    df, _ = simulate_va(n_teachers=1500, rho=0.7, random_state=12)
    a = _fit(df, "cfr").autocovariance.set_index("lag")
    np.testing.assert_allclose(a["correlation"], [0.7, 0.49, 0.343], atol=0.08)


def test_eb_and_re_beat_ols_in_rmse():
    df, truth = simulate_va(n_teachers=150, years=(1, 2), class_size=8, random_state=13)
    ols = _pooled_stats(df, truth, "ols")
    eb = _pooled_stats(df, truth, "eb")
    re = _pooled_stats(df, truth, "re")
    assert eb["rmse"] < ols["rmse"]
    assert re["rmse"] < ols["rmse"]
    assert 0.88 <= eb["coverage"] <= 1.0


def test_measurement_error_correction_removes_attenuation():
    """Sorting on the true prior + an unreliable prior: naive VA absorbs the prior gap."""
    df, truth = simulate_va(n_teachers=400, sorting=0.8, reliability=0.6, sd_class=0.0,
                            random_state=14)
    naive = _fit(df, "eb")
    fixed = _fit(df, "eb", reliability={"prior": 0.6})
    # priors enter standardized: the true slope per SD of the observed prior is 0.7 sd(prior)
    true_beta = 0.7 * df["prior"].std(ddof=0)
    b_naive = naive.coefficients.loc["prior", "estimate"]
    b_fixed = fixed.coefficients.loc["prior", "estimate"]
    assert b_fixed == pytest.approx(true_beta, rel=0.04)
    assert b_naive < 0.75 * true_beta                 # attenuated (within-teacher, below 0.6)
    # the naive VA is biased towards teachers of high scorers; the corrected is not
    tm = _pooled_truth(truth)
    prior_mean = df.groupby("teacher")["true_prior"].mean()

    def slope_on_prior(res):
        e = res.effects.set_index("unit")
        err = e["estimate"] / e["reliability"] - tm.loc[e.index]
        return sm.OLS(err, sm.add_constant(prior_mean.loc[e.index])).fit().params.iloc[1]

    assert abs(slope_on_prior(naive)) > 3 * abs(slope_on_prior(fixed))


def _cfr_rows(world, rng):
    """Runner estimator: every teacher-year effect against its truth, and the forecast slope."""
    df, truth = world
    res = _fit(df, "cfr")
    e = res.effects.merge(truth, left_on=["unit", "year"], right_on=["teacher", "year"])
    fit = sm.OLS(res.rows["resid"], sm.add_constant(res.rows["va"])).fit()
    teachers = e[["unit", "year", "estimate", "std_error", "ci_lower", "ci_upper"]].assign(
        term="teacher effect", truth=e["effect"])
    slope = pd.DataFrame({"term": ["forecast slope"], "estimate": [fit.params["va"]],
                          "std_error": [fit.bse["va"]], "truth": [1.0]})
    return pd.concat([teachers, slope], ignore_index=True)


def _pooled_rows(world, rng):
    df, truth = world
    parts = []
    for m in ("ols", "eb"):
        e = _fit(df, m).effects.set_index("unit").join(_pooled_truth(truth)).reset_index()
        parts.append(e[["unit", "estimate", "std_error", "ci_lower", "ci_upper"]].assign(
            term=f"teacher mean effect, {m}", truth=e["effect"]))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.slow
def test_cfr_coverage_over_200_worlds():
    res = pds.simulate.run(_cfr_rows, lambda rng: simulate_va(n_teachers=200, random_state=rng),
                           seeds=range(1000, 1200), progress=False)
    s = res.estimates.set_index(["term", "quantity"])["estimate"]
    print(res.table().to_string())
    assert 0.93 <= s[("teacher effect", "coverage")] <= 0.97
    assert 0.95 <= s[("forecast slope", "mean")] <= 1.05
    assert abs(s[("teacher effect", "bias")]) < 0.005


@pytest.mark.slow
def test_eb_coverage_and_rmse_over_200_worlds():
    res = pds.simulate.run(_pooled_rows, lambda rng: simulate_va(n_teachers=100, years=(1, 2), class_size=10,
                                                                 random_state=rng),
                           seeds=range(2000, 2200), progress=False)
    d = res.draws
    rmse = ((d["estimate"] - d["truth"]) ** 2).groupby([d["world"], d["term"]]).mean().unstack() ** 0.5
    print(res.table().to_string())
    assert (rmse["teacher mean effect, eb"] < rmse["teacher mean effect, ols"]).mean() > 0.9
    s = res.estimates.set_index(["term", "quantity"])["estimate"]
    assert 0.93 <= s[("teacher mean effect, eb", "coverage")] <= 0.97
