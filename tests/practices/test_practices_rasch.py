"""Rasch / partial-credit CML against R's eRm, simulated truth, and real data (LSAT-6)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.datasets import load_rdataset
from pdstats.practices.rasch import fit_pcm, person_estimates

REF = Path(__file__).resolve().parents[1] / "reference" / "practices"


@pytest.mark.parametrize("name", ["cells", "counts", "sim_pcm"])
def test_cml_matches_erm(name):
    """Reference values: tests/reference/practices/make_reference.R (eRm 1.0.2, CML, sum0)."""
    x = pd.read_csv(REF / f"input_{name}.csv")
    res = fit_pcm(x, person_method="ml")
    items = pd.read_csv(REF / f"erm_{name}_items.csv")
    np.testing.assert_allclose(res.items["beta"], items["beta"], atol=1e-3)
    np.testing.assert_allclose(res.items["se"], items["se"], atol=1e-3)
    fits = pd.read_csv(REF / "erm_fits.csv").set_index("data")
    assert res.loglik == pytest.approx(fits.loc[name, "loglik"], abs=1e-5)
    persons = pd.read_csv(REF / f"erm_{name}_persons.csv")
    ok = ~res.persons["extreme"].to_numpy()
    np.testing.assert_allclose(res.persons["theta"].to_numpy()[ok], persons["theta"].to_numpy()[ok],
                               atol=1e-3)
    np.testing.assert_allclose(res.persons["se"].to_numpy()[ok], persons["se"].to_numpy()[ok],
                               atol=1e-3)


def test_lsat6_real_data_matches_erm():
    x = load_rdataset("psych", "lsat6")
    res = fit_pcm(x, person_method="ml")
    ref = pd.read_csv(REF / "erm_lsat6_items.csv")
    np.testing.assert_allclose(res.items["beta"], ref["beta"], atol=1e-4)
    np.testing.assert_allclose(res.items["se"], ref["se"], atol=1e-4)
    assert res.loglik == pytest.approx(pd.read_csv(REF / "erm_lsat6_fit.csv")["loglik"][0], abs=1e-5)
    pref = pd.read_csv(REF / "erm_lsat6_persons.csv")
    est = person_estimates(pref["raw_score"].to_numpy(), res.betas, method="ml")
    np.testing.assert_allclose(est["theta"], pref["theta"], atol=1e-4)
    np.testing.assert_allclose(est["se"], pref["se"], atol=1e-4)


def test_simulated_pcm_recovers_truth():
    x = pd.read_csv(REF / "input_sim_pcm.csv")
    steps = pd.read_csv(REF / "input_sim_pcm_truth.csv").to_numpy()
    true_beta = -np.cumsum(steps, axis=1)  # beta_ih = -sum of the first h steps
    h = np.tile(np.arange(1, 4), len(steps))
    flat = true_beta.ravel()
    shift = flat.sum() / h.sum()  # same sum-zero normalisation as the estimates
    target = flat - shift * h
    res = fit_pcm(x)
    err = res.items["beta"].to_numpy() - target
    assert np.sqrt(np.mean(err ** 2)) < 0.2
    assert np.mean(np.abs(err) <= 1.96 * res.items["se"].to_numpy()) >= 0.8


def test_rasch_simulation_bias_rmse_coverage():
    """30 replicates, 300 persons, 5 items: item estimates unbiased with ~95% coverage."""
    rng = np.random.default_rng(11)
    b = np.array([-1.2, -0.4, 0.0, 0.5, 1.1])
    est, cover = [], []
    for _ in range(30):
        theta = rng.normal(size=300)
        x = (rng.random((300, 5)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
        res = fit_pcm(pd.DataFrame(x))
        beta = res.items["beta"].to_numpy()
        truth = -(b - b.mean())  # eRm-style easiness, sum zero
        est.append(beta - truth)
        cover.append(np.abs(beta - truth) <= 1.96 * res.items["se"].to_numpy())
    est = np.array(est)
    assert np.abs(est.mean(axis=0)).max() < 0.06
    assert np.sqrt((est ** 2).mean()) < 0.2
    assert 0.88 <= np.mean(cover) <= 0.99


def test_wle_is_finite_and_between_ml_scores():
    betas = [np.array([0.5]), np.array([0.0]), np.array([-0.5])]
    wle = person_estimates(np.array([0, 1, 2, 3]), betas, method="wle")
    ml = person_estimates(np.array([0, 1, 2, 3]), betas, method="ml")
    assert np.isfinite(wle["theta"]).all()
    assert ml["theta"].isna().tolist() == [True, False, False, True]
    assert np.all(np.diff(wle["theta"]) > 0)
    # WLE shrinks non-extreme ML estimates toward the centre
    assert abs(wle["theta"][1]) < abs(ml["theta"][1])


def test_fit_pcm_drops_constant_items_and_logs_missing():
    x = pd.DataFrame({"a": [0, 1, 1, 0, 1], "b": [1, 1, 1, 1, 1], "c": [0, 0, 1, 1, np.nan],
                      "d": [1, 0, 1, 0, 0]})
    res = fit_pcm(x)
    assert res.dropped_items == ["b"]
    assert res.sample_log.n_used == 4
    assert "missing 'c'" in res.summary()
    with pytest.raises(pds.DataValidationError, match="range|integer"):
        fit_pcm(pd.DataFrame({"a": [0, 1.5, 1], "b": [1, 0, 1]}))


def test_score_new_responses_uses_fixed_items():
    d = pds.practices.reconstruct_year1(0)
    res = pds.practices.score(d["practice_ratings"], method="pcm")
    counts = pds.practices.score(d["practice_ratings"], method="count").wide
    again = res.model.score(counts.iloc[:3][list(pds.practices.PRACTICES)])
    np.testing.assert_allclose(again["theta"], res.wide["theta"].iloc[:3])


def test_person_wle_coverage_simulation():
    """WLE +- 1.96 SE covers the true ability about 95% of the time (20 items, 1000 persons)."""
    rng = np.random.default_rng(21)
    b = np.linspace(-2, 2, 20)
    theta = rng.normal(size=1000)
    x = (rng.random((1000, 20)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
    res = fit_pcm(pd.DataFrame(x))
    # put the estimates on the generating scale: eRm-style sum-zero easiness = -(b - mean b)
    p = res.persons
    inside = np.abs(p["theta"].to_numpy() - theta) <= 1.96 * p["se"].to_numpy()
    assert 0.92 <= inside.mean() <= 0.98
    assert abs(np.mean(p["theta"].to_numpy() - theta)) < 0.08
