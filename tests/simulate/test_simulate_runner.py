"""The validation runner (pds.simulate.run): seeds, backends, failures, Monte Carlo SEs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from contract.checks import assert_contract
from scipy import stats

import pdstats as pds
from pdstats._parallel import map_pieces, piece_seeds, piece_streams


def normal_world(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.3, 1.0, 30)


def t_interval(x: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(x)
    se = x.std(ddof=1) / np.sqrt(n)
    q = stats.t.ppf(0.975, n - 1)
    t = x.mean() / se
    return pd.DataFrame({"term": ["mean", "jitter"], "estimate": [x.mean(), rng.normal()],
                         "std_error": [se, 1.0], "ci_lower": [x.mean() - q * se, np.nan],
                         "ci_upper": [x.mean() + q * se, np.nan],
                         "p_value": [2 * stats.t.sf(abs(t), n - 1), np.nan]})


@pytest.mark.filterwarnings("ignore::pdstats.errors.EstimationWarning")  # two worlds: coverage 1
def test_worlds_get_their_own_streams_independent_of_count():
    assert piece_seeds(5, 4) == piece_seeds(5, 9)[:4]
    assert len(set(piece_seeds(5, 200))) == 200
    assert piece_seeds(5, 3) != piece_seeds(6, 3)
    a, b = piece_streams(11)
    assert a.random() != b.random()
    res = pds.simulate.run(t_interval, normal_world, n_worlds=6, truth={"mean": 0.3}, progress=False)
    assert_contract(res)
    again = pds.simulate.run(t_interval, normal_world, seeds=res.draws["seed"].unique()[2:4], truth={"mean": 0.3},
                             progress=False)
    sub = res.draws[res.draws["world"].isin([2, 3])].reset_index(drop=True)
    pd.testing.assert_frame_equal(again.draws.drop(columns="world"), sub.drop(columns="world"))


def test_summary_formulas_against_the_draws():
    res = pds.simulate.run(t_interval, normal_world, n_worlds=50, truth={"mean": 0.3}, random_state=3,
                           progress=False)
    d = res.draws[res.draws["term"] == "mean"]
    s = res.estimates[res.estimates["term"] == "mean"].set_index("quantity")
    err = d["estimate"] - 0.3
    assert s.loc["bias", "estimate"] == pytest.approx(err.mean())
    assert s.loc["bias", "std_error"] == pytest.approx(err.std(ddof=1) / np.sqrt(50))
    assert s.loc["rmse", "estimate"] == pytest.approx(np.sqrt((err**2).mean()))
    assert s.loc["sd_estimate", "std_error"] == pytest.approx(d["estimate"].std() / np.sqrt(98))
    cov = ((d["ci_lower"] <= 0.3) & (0.3 <= d["ci_upper"])).mean()
    assert s.loc["coverage", "estimate"] == pytest.approx(cov)
    assert s.loc["rejection", "estimate"] == pytest.approx((d["p_value"] < 0.05).mean())
    assert (s["n_worlds"] == 50).all()
    # the jitter term has no truth (no bias, RMSE, coverage); its missing interval comes from its SE
    j = set(res.estimates.loc[res.estimates["term"] == "jitter", "quantity"])
    assert j == {"rejection", "mean", "mean_se", "sd_estimate"}
    jd = res.draws[res.draws["term"] == "jitter"]
    assert np.allclose(jd["ci_upper"] - jd["estimate"], stats.norm.ppf(0.975))
    assert np.allclose(jd["p_value"], 2 * stats.norm.sf(jd["estimate"].abs()))  # p from estimate / SE


def test_monte_carlo_se_of_coverage_is_binomial():
    """A 90% z interval with known sigma covers with probability exactly 0.9: the runner's
    MC SE is sqrt(p(1-p)/W), and over 400 worlds the coverage lands within 3 of its MC SEs."""
    def z90(x, rng):
        se = 1 / np.sqrt(len(x))
        return pd.DataFrame({"term": ["mean"], "estimate": [x.mean()], "std_error": [se],
                             "ci_lower": [x.mean() - 1.6449 * se], "ci_upper": [x.mean() + 1.6449 * se]})

    res = pds.simulate.run(z90, normal_world, n_worlds=400, truth={"mean": 0.3}, random_state=1, progress=False)
    row = res.estimates.set_index("quantity").loc["coverage"]
    p = row["estimate"]
    assert row["std_error"] == pytest.approx(np.sqrt(p * (1 - p) / 400), rel=1e-12)
    assert abs(p - 0.9) < 3 * np.sqrt(0.9 * 0.1 / 400)
    lo, hi = stats.norm.ppf([0.025, 0.975], p, row["std_error"])
    assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((lo, hi))


def test_several_rows_per_world_are_pooled_within_world():
    def units(rng):
        return rng.normal(size=(2 + int(rng.integers(3)), 2))

    def est(w, rng):
        return pd.DataFrame({"term": "u", "unit": np.arange(len(w)), "estimate": w[:, 0], "std_error": 1.0,
                             "truth": 0.0})

    res = pds.simulate.run(est, units, n_worlds=30, progress=False)
    per_world = res.draws.assign(c=res.draws["covered"]).groupby("world")["c"].mean()
    s = res.estimates.set_index("quantity")
    assert s.loc["coverage", "estimate"] == pytest.approx(per_world.mean())
    assert s.loc["coverage", "std_error"] == pytest.approx(per_world.std(ddof=0) / np.sqrt(30))
    assert "unit" in res.draws


def test_truth_callable_and_result_objects():
    def world(rng):
        return {"mu": rng.normal(), "x": rng.normal(size=20)}

    class Fit(pds.ResultsBase):
        def __init__(self, m, se):
            self.estimates = pds.results.add_ci(
                pd.DataFrame({"term": ["mu"], "estimate": [m], "std_error": [se]}))
            self.sample_log = pds.SampleLog(20)

    res = pds.simulate.run(lambda w, rng: Fit(w["x"].mean() + w["mu"], 1 / np.sqrt(20)), world, n_worlds=20,
                           truth=lambda w: {"mu": w["mu"]}, progress=False)
    assert res.draws["truth"].nunique() == 20
    assert set(res.table().columns) >= {"bias", "coverage", "rmse"}


def _fragile(w, rng):
    if w[0] > 1.0:
        raise ValueError("world too hot")
    return pd.DataFrame({"term": ["a"], "estimate": [w[0]], "std_error": [1.0]})


def test_failed_worlds_are_reported_by_index_and_seed():
    with pytest.raises(pds.WorldsFailedError) as info:
        pds.simulate.run(_fragile, lambda rng: rng.normal(size=1), n_worlds=30, progress=False)
    f = info.value.failures
    assert len(f) > 0 and set(f["error"]) == {"ValueError"}
    assert f"world {f['world'].iloc[0]} (seed {f['seed'].iloc[0]})" in str(info.value)
    res = pds.simulate.run(_fragile, lambda rng: rng.normal(size=1), n_worlds=30, progress=False,
                           errors="record")
    pd.testing.assert_frame_equal(res.failures, f)
    assert res.sample_log.n_used == 30 - len(f)
    assert res.sample_log.dropped == {"failed: ValueError": len(f)}
    assert not set(res.draws["world"]) & set(f["world"])
    # rerunning a failed world by its seed fails the same way
    with pytest.raises(pds.WorldsFailedError):
        pds.simulate.run(_fragile, lambda rng: rng.normal(size=1), seeds=[f["seed"].iloc[0]], progress=False)


def test_bad_arguments_are_refused():
    with pytest.raises(pds.ModelSpecificationError, match="n_worlds"):
        pds.simulate.run(_fragile, normal_world, n_worlds=0)
    with pytest.raises(pds.ModelSpecificationError, match="backend"):
        pds.simulate.run(_fragile, normal_world, n_worlds=2, backend="spark")
    with pytest.raises(pds.ModelSpecificationError, match="errors"):
        pds.simulate.run(_fragile, normal_world, n_worlds=2, errors="ignore")
    with pytest.raises(pds.WorldsFailedError, match="'term' and 'estimate'"):
        pds.simulate.run(lambda w, rng: pd.DataFrame({"x": [1]}), normal_world, n_worlds=2, progress=False)


def test_zero_monte_carlo_se_is_flagged_not_reported():
    def exact(w, rng):
        return pd.DataFrame({"term": ["a"], "estimate": [0.0], "std_error": [1.0]})

    with pytest.warns(pds.EstimationWarning, match="at 0 or 1 in every world"):
        res = pds.simulate.run(exact, normal_world, n_worlds=5, truth={"a": 0.0}, progress=False)
    cov = res.estimates.set_index("quantity").loc["coverage"]
    assert cov["estimate"] == 1.0 and np.isnan(cov["std_error"]) and cov["flag"]


def test_map_pieces_keeps_failures_by_key():
    out = map_pieces(lambda x: 10 // x, ["p", "q", "r"], [(5,), (0,), (2,)], progress=False)
    assert out["p"] == 2 and out["r"] == 5 and out["q"].error == "ZeroDivisionError"
    assert "ZeroDivisionError" in out["q"].traceback


def test_plot_draws_coverage_against_nominal():
    import matplotlib.pyplot as plt

    res = pds.simulate.run(t_interval, normal_world, n_worlds=10, truth={"mean": 0.3}, progress=False)
    ax = res.plot()
    assert "coverage" in ax.get_xlabel()
    with pytest.raises(pds.ModelSpecificationError):
        res.plot("nothing")
    plt.close("all")


def test_dask_backend_gives_identical_numbers():
    distributed = pytest.importorskip("distributed")
    local = pds.simulate.run(t_interval, normal_world, n_worlds=12, truth={"mean": 0.3}, random_state=9,
                             progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            remote = pds.simulate.run(t_interval, normal_world, n_worlds=12, truth={"mean": 0.3}, random_state=9,
                                      backend="dask", progress=False)
            explicit = pds.simulate.run(_fragile, lambda rng: rng.normal(size=1), n_worlds=30, backend="dask",
                                        client=client, errors="record", progress=False)
    pd.testing.assert_frame_equal(local.draws, remote.draws)
    pd.testing.assert_frame_equal(local.estimates, remote.estimates)
    rec = pds.simulate.run(_fragile, lambda rng: rng.normal(size=1), n_worlds=30, errors="record", progress=False)
    pd.testing.assert_frame_equal(explicit.failures.drop(columns="traceback"), rec.failures.drop(columns="traceback"))


def test_dask_backend_without_a_client_is_refused():
    pytest.importorskip("distributed")
    with pytest.raises(pds.ModelSpecificationError, match="Client"):
        pds.simulate.run(t_interval, normal_world, n_worlds=2, backend="dask", progress=False)
