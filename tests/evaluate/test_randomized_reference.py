"""pds.evaluate.randomized equals R's estimatr (difference_in_means, lm_robust, iv_robust).

Data and reference values: tests/reference/evaluate/randomized (make_randomized_reference.R).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pdstats as pds

HERE = Path(__file__).parents[1] / "reference" / "evaluate" / "randomized"
REF = pd.read_csv(HERE / "randomized_reference.csv").set_index("case")
IND = pd.read_csv(HERE / "trial_individual.csv")
CL = pd.read_csv(HERE / "trial_cluster.csv")

CASES = {  # case: (data, treatment, level, blocks, cluster, covariates, takeup, term, method)
    "dim_standard": (IND, "z", "student", None, None, None, None, "ITT", "difference in means"),
    "dim_blocked": (IND, "z", "student", "block", None, None, None, "ITT", "difference in means"),
    "dim_pairs": (IND, "z_pair", "student", "pair", None, None, None, "ITT", "difference in means"),
    "dim_clustered": (CL, "z", "teacher", None, "teacher", None, None, "ITT", "difference in means"),
    "dim_blocked_clustered": (CL, "z", "teacher", "block", "teacher", None, None, "ITT",
                              "difference in means"),
    "dim_pairs_clustered": (CL, "z_pair", "teacher", "pair", "teacher", None, None, "ITT",
                            "difference in means"),
    "lm_hc2_blocks_covariate": (IND, "z", "student", "block", None, "x", None, "ITT", "regression"),
    "lm_cr2_blocks_covariate": (CL, "z", "teacher", "block", "teacher", "x", None, "ITT",
                                "regression"),
    "iv_hc1_blocks_covariate": (IND, "z", "student", "block", None, "x", "t",
                                "effect on the treated", "IV (2SLS)"),
    "iv_stata_blocks_covariate": (CL, "z", "teacher", "block", "teacher", "x", "t",
                                  "effect on the treated", "IV (2SLS)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_randomized_equals_estimatr(case):
    data, treat, level, blocks, cluster, covs, takeup, term, method = CASES[case]
    methods = ["regression"] if method == "IV (2SLS)" else [method]
    res = pds.evaluate.randomized(data, "y", treat, level=level, blocks=blocks, cluster=cluster,
                                  covariates=covs, takeup=takeup, methods=methods, progress=False)
    row = res.estimates.set_index(["term", "method"]).loc[(term, method)]
    ref = REF.loc[case]
    assert row["estimate"] == pytest.approx(ref["estimate"], abs=1e-8)
    assert row["std_error"] == pytest.approx(ref["std_error"], abs=1e-8)
    if case != "lm_hc2_blocks_covariate":  # pds.ols gives HC2 Bell-McCaffrey df; estimatr n - k
        assert row["df"] == pytest.approx(ref["df"], abs=1e-6)
    assert res.sample_log.n_used == len(data)
