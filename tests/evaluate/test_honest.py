"""honest_did against the HonestDiD package's documented example (README of
asheshrambachan/HonestDiD, Medicaid expansion): printed robust intervals."""

import json
import pathlib

import numpy as np
import pandas as pd
import pytest
from contract.checks import assert_contract

import pdstats as pds

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"HonestDiDResult"}

HERE = pathlib.Path(__file__).parents[1] / "reference" / "evaluate"
EX = json.loads((HERE / "ehec_event_study.json").read_text())
B, S = np.array(EX["betahat"]), np.array(EX["sigma"])

# printed in the README ("delta_sd_results", "delta_rm_results"), lb and ub
README_SD = [(0.0, 0.0259, 0.0607), (0.01, 0.0132, 0.0787), (0.02, 0.00286, 0.0907),
             (0.03, -0.00714, 0.101), (0.04, -0.0171, 0.111), (0.05, -0.0271, 0.121)]
README_RM = [(0.5, 0.0241, 0.0673), (1.0, 0.0171, 0.0720), (1.5, 0.00859, 0.0796),
             (2.0, -0.00107, 0.0883)]


def test_smoothness_reproduces_documented_example():
    r = pds.evaluate.honest_did(None, "smoothness", m=[m for m, _, _ in README_SD],
                                betahat=B, sigma=S, num_pre=5)
    rob = r.estimates[r.estimates["method"] == "FLCI"].reset_index(drop=True)
    ref = pd.DataFrame(README_SD, columns=["m", "lb", "ub"])
    np.testing.assert_allclose(rob["m"], ref["m"])
    # 3 printed significant digits; the event study is re-estimated with pyfixest and the
    # FLCI optimum is found by another solver: within 1e-4 (one unit of the last digit)
    np.testing.assert_allclose(rob["ci_lower"], ref["lb"], atol=1e-4)
    np.testing.assert_allclose(rob["ci_upper"], ref["ub"], atol=5e-4)
    assert r.breakdown == pytest.approx(0.03)


@pytest.mark.slow
def test_relative_magnitudes_reproduce_documented_example():
    r = pds.evaluate.honest_did(None, "relative_magnitude", m=[m for m, _, _ in README_RM],
                                betahat=B, sigma=S, num_pre=5)
    rob = r.estimates[r.estimates["method"] != "original"].reset_index(drop=True)
    ref = pd.DataFrame(README_RM, columns=["m", "lb", "ub"])
    np.testing.assert_allclose(rob["ci_lower"], ref["lb"], atol=5e-4)  # grid of 1,000 points
    np.testing.assert_allclose(rob["ci_upper"], ref["ub"], atol=5e-4)


def test_honest_did_on_a_staggered_event_study():
    import moderndid

    d = moderndid.load_mpdta().to_pandas()
    es = pds.evaluate.staggered_did(d, "lemp", "countyreal", "year", "first.treat",
                                    base_period="universal", n_boot=0).aggregate("event")
    r = pds.evaluate.honest_did(es, "smoothness", m=[0.0, 0.02])
    orig = r.estimates.iloc[0]
    e0 = es.estimates.set_index("event_time").loc[0]
    assert orig["estimate"] == pytest.approx(e0["estimate"])
    assert orig["std_error"] == pytest.approx(e0["std_error"], rel=1e-6)
    assert -1 not in es.estimates["event_time"].tolist()  # the universal base is no estimate
    width = r.estimates["ci_upper"] - r.estimates["ci_lower"]
    assert width.iloc[2] > width.iloc[1]  # looser restriction, wider set
    assert_contract(r)
    with pytest.raises(pds.ModelSpecificationError):
        pds.evaluate.honest_did(es, "smoothness", event_time=7)
