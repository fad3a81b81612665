"""Every harmonize result class follows the one result contract (built from small fits)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from contract.checks import assert_contract
from pdstats.harmonize.recovery import simulate_counts

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"HetopResult", "LinkResult", "GapResult", "LinkingErrorResult", "InterpolationErrorResult"}

CELL = {"state": "CA", "year": 2005, "grade": 4, "subject": "math"}
NAEP = pd.DataFrame({"state": ["CA", "CA", "national", "national"], "year": 2005, "grade": [4, 8, 4, 8],
                     "subject": "math", "mean": [230.0, 269.0, 237.0, 278.0], "sd": [29.0, 37.0, 29.0, 36.0],
                     "mean_se": [0.6, 0.7, 0.2, 0.2]})


@pytest.fixture(scope="module")
def hetop_fit():
    counts, _ = simulate_counts(40, (80, 200), random_state=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        return pds.harmonize.hetop(counts.assign(**CELL), progress=False)


def test_hetop_result(hetop_fit):
    assert_contract(hetop_fit)
    est = hetop_fit.estimates
    assert set(est["quantity"]) == {"mean", "sd"} and len(est) == 2 * len(hetop_fit.groups)
    assert est.columns[:6].tolist() == ["unit_id", "state", "year", "grade", "subject", "quantity"]
    m = est[est["quantity"] == "mean"].reset_index(drop=True)
    np.testing.assert_allclose(m["estimate"], hetop_fit.groups["mean"])
    np.testing.assert_allclose(m["std_error"], hetop_fit.groups["se_mean"])
    assert (est.loc[~est["flag"], "std_error"] > 0).all()


def test_link_result(hetop_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        linked = pds.harmonize.link_to_naep(hetop_fit, NAEP, reliability=0.9)
    assert_contract(linked)
    assert set(linked.estimates["scale"]) == {"naep", "cohort_standardized", "grade_equivalent"}
    assert len(linked.estimates) == 2 * len(linked.groups)
    assert linked.plot().get_xlabel().startswith("estimate")


def test_gap_results():
    c = pd.DataFrame({"unit_id": ["d1", "d1", "d2", "d2"], **CELL, "subgroup": ["a", "b", "a", "b"],
                      "level_1": [10, 30, 12, 25], "level_2": [30, 40, 28, 35], "level_3": [40, 20, 35, 25],
                      "level_4": [20, 10, 25, 15]})
    g = pds.harmonize.gaps(c, "a", "b")
    assert_contract(g)
    assert (g.estimates["quantity"] == "V").all()
    e = pd.DataFrame({"unit_id": ["d1", "d1"], **CELL, "subgroup": ["a", "b"], "n": [100, 80],
                      "mean": [0.3, -0.4], "se_mean": [0.1, 0.1], "sd": [1.0, 1.0], "se_sd": [0.07, 0.08]})
    assert_contract(pds.harmonize.smd(e, "a", "b"))


def test_linking_error_result():
    rng = np.random.default_rng(1)
    n = 40
    truth = rng.normal(250, 10, n)
    linked = pd.DataFrame({"unit_id": [f"{i:07d}" for i in range(n)], **CELL, "se_estimation": 2.0,
                           "se_naep": 1.0, "naep_sd": 30.0})
    linked["mean"] = truth + rng.normal(0, 6.0, n)
    tuda = pd.DataFrame({"district_id": linked["unit_id"], "year": 2005, "grade": 4, "subject": "math",
                         "mean_se": 1.5, "mean": truth + rng.normal(0, 1.5, n)})
    le = pds.harmonize.estimate_linking_error(linked, tuda)
    assert_contract(le)
    ci = le.conf_int(0.95).set_index("parameter")
    est = le.estimates.set_index("parameter")
    np.testing.assert_allclose(ci[["ci_lower", "ci_upper"]], est[["ci_lower", "ci_upper"]])
    assert le.plot() is not None


def test_interpolation_error_result():
    rng = np.random.default_rng(3)
    rows = []
    for s in range(20):
        u = {4: rng.normal(0, 2), 8: rng.normal(0, 2)}
        for y in (2005, 2007, 2009):
            for g in (4, 8):
                rows.append({"state": f"S{s}", "year": y, "grade": g, "subject": "math",
                             "mean": 240 + 5 * (g - 4) + u[g] + rng.normal(0, 1), "sd": 30 + rng.normal(0, 1)})
    ie = pds.harmonize.estimate_interpolation_error(pd.DataFrame(rows))
    assert_contract(ie)
    ci = ie.conf_int(0.95)
    np.testing.assert_allclose(ci[["ci_lower", "ci_upper"]], ie.estimates[["ci_lower", "ci_upper"]])
    assert ie.plot().get_xlabel().startswith("omega")
