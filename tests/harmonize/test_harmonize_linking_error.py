"""estimate_linking_error: the precision-adjusted random-effects model of Reardon, Kalogrides & Ho (2021)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.harmonize.linking_error import reml_tau2

IDS = [f"{i:07d}" for i in range(400)]


def _discrepancies(n: int, tau_points: float, bias_points: float, seed: int, sd: float = 30.0):
    """Linked and NAEP district means with known linking error (tau, bias in NAEP points)."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(250, 10, n)
    se_est = rng.uniform(1.0, 4.0, n)
    se_naep, se_tuda = 1.0, rng.uniform(1.0, 2.0, n)
    linked = pd.DataFrame({"unit_id": IDS[:n], "state": "CA", "year": 2005, "grade": 4, "subject": "math",
                           "se_estimation": se_est, "se_naep": se_naep, "naep_sd": sd})
    linked["mean"] = (truth + bias_points + rng.normal(0, tau_points, n)
                      + rng.normal(0, np.sqrt(se_est**2 + se_naep**2)))
    tuda = pd.DataFrame({"district_id": IDS[:n], "year": 2005, "grade": 4, "subject": "math",
                         "mean": truth + rng.normal(0, se_tuda), "mean_se": se_tuda})
    return linked, tuda


def test_tau_and_bias_are_recovered_with_covering_intervals():
    hits_tau, hits_bias, taus = 0, 0, []
    for seed in range(20):
        linked, tuda = _discrepancies(150, tau_points=3.0, bias_points=1.5, seed=seed)
        le = pds.harmonize.estimate_linking_error(linked, tuda)
        est = le.estimates.set_index("parameter")
        taus.append(le.tau)
        hits_tau += est.loc["tau", "ci_lower"] <= 0.1 <= est.loc["tau", "ci_upper"]
        hits_bias += est.loc["bias", "ci_lower"] <= 0.05 <= est.loc["bias", "ci_upper"]
    assert abs(np.mean(taus) - 0.1) < 0.01  # 3 points / 30
    assert hits_tau >= 16 and hits_bias >= 16
    assert le.linking_error == pytest.approx(np.hypot(le.bias, le.tau))
    assert le.n_cells == 150 and le.n_districts == 150


def test_no_linking_error_gives_tau_near_zero_and_tau_only_option():
    linked, tuda = _discrepancies(300, tau_points=0.0, bias_points=0.0, seed=3)
    le = pds.harmonize.estimate_linking_error(linked, tuda, include_bias=False)
    est = le.estimates.set_index("parameter")
    assert est.loc["tau", "ci_lower"] == 0.0 and le.tau < 0.03
    assert le.linking_error == pytest.approx(le.tau)


def test_lmm_fit_agrees_with_the_one_dimensional_reml():
    linked, tuda = _discrepancies(200, tau_points=4.0, bias_points=0.0, seed=7)
    le = pds.harmonize.estimate_linking_error(linked, tuda)
    d = le.discrepancies
    assert np.sqrt(reml_tau2(d["discrepancy"], d["known_variance"])) == pytest.approx(le.tau, rel=1e-3)
    w = 1 / (d["known_variance"] + le.tau**2)
    assert le.bias == pytest.approx(float((w * d["discrepancy"]).sum() / w.sum()), abs=1e-6)


def test_result_object_and_link_to_naep_accepts_it():
    linked, tuda = _discrepancies(40, tau_points=3.0, bias_points=0.0, seed=1)
    le = pds.harmonize.estimate_linking_error(linked, tuda.iloc[:-5].pipe(
        lambda t: pd.concat([t, t.iloc[:2].assign(district_id=["9999998", "9999999"])])))
    assert le.sample_log.dropped == {"no linked estimate for the district-cell": 2}
    le2 = pds.harmonize.estimate_linking_error(linked.assign(se_estimation=[np.nan] + [2.0] * 39), tuda)
    assert le2.sample_log.dropped == {"linked estimate without a standard error (e.g. a HETOP bound)": 1}
    assert "Linking-error term" in le.summary() and "<table>" in le._repr_html_()
    assert le.plot() is not None
    est = pd.DataFrame({"unit_id": ["a"], "state": "CA", "year": 2005, "grade": 4, "subject": "math", "n": 100,
                        "mean": 0.2, "se_mean": 0.05, "sd": 0.9, "se_sd": 0.04})
    naep = pd.DataFrame({"state": ["CA", "CA"], "year": 2005, "grade": [4, 8], "subject": "math",
                         "mean": [230.0, 269.0], "sd": [29.0, 37.0], "mean_se": [0.6, 0.7]})
    out = pds.harmonize.link_to_naep(est, naep, linking_error=le).scale("naep")
    assert out["se_linking"].iloc[0] == pytest.approx(le.linking_error * 29.0)
    with pytest.raises(pds.PdstatsError, match="linking_error"):
        pds.harmonize.link_to_naep(est, naep, linking_error=-0.1)


def test_bad_input_raises():
    linked, tuda = _discrepancies(20, tau_points=1.0, bias_points=0.0, seed=2)
    with pytest.raises(pds.PdstatsError, match="naep_district"):
        pds.harmonize.estimate_linking_error(linked, tuda.drop(columns="mean_se"))
    with pytest.raises(pds.PdstatsError, match="at least 5"):
        pds.harmonize.estimate_linking_error(linked, tuda.iloc[:3])
    bad = tuda.copy()
    bad.loc[4, "mean_se"] = -1.0
    with pytest.raises(pds.DataValidationError, match="naep_district_se") as info:
        pds.harmonize.estimate_linking_error(linked, bad)
    assert info.value.failures["row"].tolist() == [4]
    with pytest.raises(pds.PdstatsError, match="group"):
        pds.harmonize.estimate_linking_error(linked.rename(columns={"unit_id": "x"}), tuda)
