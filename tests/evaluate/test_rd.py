"""pds.evaluate.rd: the Senate example against the published rdrobust output, fuzzy RD,
balance, the manipulation test, the plot and bad input."""

import json
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest
from contract.checks import assert_contract, assert_safe_outcome
from hypothesis import given, settings
from hypothesis import strategies as st

import pdstats as pds

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"RDResult"}

REF = json.loads((pathlib.Path(__file__).parents[1] / "reference" / "evaluate"
                  / "rdrobust_senate_published.json").read_text())


@pytest.fixture(scope="module")
def senate():
    from rdrobust.datasets import rdrobust_RDsenate

    return rdrobust_RDsenate()


@pytest.fixture(scope="module")
def senate_fit(senate):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pds.evaluate.rd(senate, "vote", "margin", 0.0,
                               covariates=["presdemvoteshlag1", "population"])


def test_senate_reproduces_the_published_output(senate_fit):
    r = senate_fit
    assert r.sample_log.n_used == REF["n_obs"]
    assert r.sample_log.dropped == {"missing 'vote'": 1390 - REF["n_obs"]}
    bw = r.bandwidths.iloc[0]
    assert (bw["n_left"], bw["n_right"]) == (REF["n_left"], REF["n_right"])
    assert (bw["n_eff_left"], bw["n_eff_right"]) == (REF["n_eff_left"], REF["n_eff_right"])
    assert round(bw["h_left"], 3) == REF["h"] and round(bw["h_right"], 3) == REF["h"]
    assert round(bw["b_left"], 3) == REF["b"]
    assert round(bw["h_left"] / bw["b_left"], 3) == REF["rho"]
    est = r.estimates.set_index("method")
    conv = est.loc["conventional"]
    for ours, key in ((conv["estimate"], "coef"), (conv["std_error"], "se"),
                      (conv["statistic"], "z"), (conv["ci_lower"], "ci_lower"),
                      (conv["ci_upper"], "ci_upper")):
        assert round(ours, 4) == pytest.approx(REF["conventional"][key], abs=1e-12), key
    rob = est.loc["robust"]
    assert round(rob["ci_lower"], 4) == pytest.approx(REF["robust"]["ci_lower"], abs=1e-12)
    assert round(rob["ci_upper"], 4) == pytest.approx(REF["robust"]["ci_upper"], abs=1e-12)
    # the printed z 4.3110 is rounded from 4.31096...: one unit in the last printed digit
    assert rob["statistic"] == pytest.approx(REF["robust"]["z"], abs=1.01e-4)


def test_senate_contract_balance_density_and_plot(senate_fit):
    r = senate_fit
    assert_contract(r)
    assert r.estimates["method"].tolist() == ["conventional", "bias-corrected", "robust"]
    # bias-corrected and robust share the estimate; conventional and bias-corrected the SE
    e = r.estimates
    assert e["estimate"].iloc[1] == e["estimate"].iloc[2]
    assert e["std_error"].iloc[0] == e["std_error"].iloc[1] < e["std_error"].iloc[2]
    assert r.balance["covariate"].tolist() == ["presdemvoteshlag1", "population"]
    assert (r.balance["p_value"] > 0.05).all()  # pre-election covariates: no jump
    p = r.density_test["p_value"].iloc[0]
    assert 0.05 < p < 1
    ax = r.plot()
    assert len(ax.collections) == 2 and len(ax.lines) >= 3
    import matplotlib.pyplot as plt

    plt.close("all")


def _fuzzy_data(n=3000, seed=0, effect=2.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    t = (rng.uniform(size=n) < np.where(x >= 0, 0.8, 0.1)).astype(int)
    return pd.DataFrame({"x": x, "t": t, "z": rng.normal(size=n),
                         "y": 0.7 * x + effect * t + rng.normal(0, 0.5, n)})


def test_fuzzy_rd_recovers_the_effect_on_the_treated():
    d = _fuzzy_data()
    r = pds.evaluate.rd(d, "y", "x", 0.0, treatment="t", covariates=["z"], density=False)
    assert_contract(r)
    rob = r.robust
    assert rob["ci_lower"] < 2.0 < rob["ci_upper"]
    fs = r.first_stage.set_index("method")
    assert fs.loc["conventional", "estimate"] == pytest.approx(0.7, abs=0.12)
    # the sharp analysis of the same data estimates the diluted intention-to-treat jump
    itt = pds.evaluate.rd(d, "y", "x", 0.0, density=False).robust["estimate"]
    assert itt == pytest.approx(2.0 * 0.7, abs=0.35)


def test_missing_rows_dropped_and_logged_inf_refused():
    d = _fuzzy_data(n=800)
    d.loc[[3, 5], "y"] = np.nan
    d.loc[7, "x"] = None
    with pytest.warns(pds.DroppedRowsWarning, match="missing 'y'"):
        r = pds.evaluate.rd(d, "y", "x", 0.0, density=False)
    assert r.sample_log.dropped == {"missing 'y'": 2, "missing 'x'": 1}
    assert r.sample_log.n_used == 797
    d.loc[9, "x"] = np.inf
    with pytest.raises(pds.DataValidationError, match="finite"):
        pds.evaluate.rd(d, "y", "x", 0.0, density=False)


@pytest.mark.parametrize("cutoff", [-5.0, 1.5, float("nan")])
def test_cutoff_outside_the_running_variable_is_refused(cutoff):
    d = _fuzzy_data(n=500)
    with pytest.raises(pds.ModelSpecificationError, match="cutoff"):
        pds.evaluate.rd(d, "y", "x", cutoff, density=False)


def test_too_few_observations_on_one_side_is_refused():
    d = _fuzzy_data(n=500)
    with pytest.raises(pds.ModelSpecificationError, match=r"'x' has \d+ observation\(s\) below"):
        pds.evaluate.rd(d, "y", "x", 0.97, density=False)
    with pytest.raises(pds.ModelSpecificationError, match="lacks column"):
        pds.evaluate.rd(d, "y", "score", 0.0)
    with pytest.raises(pds.DataValidationError, match="range"):
        pds.evaluate.rd(d.assign(t=d["t"] * 2), "y", "x", 0.0, treatment="t")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 60), cut=st.floats(-2, 2, allow_nan=False),
       nan_share=st.floats(0, 1), const=st.booleans())
def test_generated_bad_input_is_safe(n, cut, nan_share, const):
    rng = np.random.default_rng(n)
    x = rng.uniform(-1, 1, n)
    y = np.zeros(n) if const else rng.normal(size=n)
    y[rng.uniform(size=n) < nan_share] = np.nan
    d = pd.DataFrame({"x": x, "y": y})
    assert_safe_outcome("evaluate.rd", lambda: pds.evaluate.rd(d, "y", "x", cut, density=False,
                                                              min_per_side=5))


def test_cluster_robust_variance_by_state(senate):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = pds.evaluate.rd(senate, "vote", "margin", 0.0, cluster="state", density=False)
    assert r.settings["Variance"] == "cluster-robust by state"
    nn = REF["conventional"]["se"]
    assert r.estimates["std_error"].iloc[0] > nn  # states' elections are correlated
    assert r.bandwidths["h_left"].iloc[0] != pytest.approx(REF["h"], abs=1e-3)


@pytest.mark.parametrize("bad", [{"h": 0.0}, {"h": float("nan")}, {"h": -1.0}, {"min_per_side": 0}])
def test_bandwidth_and_side_minimum_are_checked(bad):
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"x": rng.uniform(-1, 1, 400)})
    d["y"] = d.x + (d.x >= 0) + rng.normal(size=400)
    with pytest.raises(pds.ModelSpecificationError, match=next(iter(bad))):
        pds.evaluate.rd(d, "y", "x", cutoff=0.0, **bad)
