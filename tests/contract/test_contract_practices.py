"""Every practices result class follows the one result contract (built from small fits)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from contract.checks import assert_contract

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"ScoreResult", "PCMResult", "AgreementResult", "ScalabilityResult", "SelfAssessmentResult"}


@pytest.fixture(scope="module")
def ratings():
    return pds.practices.reconstruct_year1()["practice_ratings"]


@pytest.mark.parametrize("method", pds.practices.METHODS)
def test_score_result(ratings, method):
    res = pds.practices.score(ratings, method=method)
    assert_contract(res)
    est = res.estimates
    assert {"district_id", "score"} <= set(est.columns)
    assert res.scores is res.estimates
    if method in ("rasch", "pcm"):
        assert (est["std_error"] > 0).all() and not est["flag"].any()
        assert len(est) == 28
    else:  # exact functions of the evidence: no standard error, not flagged
        assert est["std_error"].isna().all() and not est["flag"].any()


def test_pcm_result():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=150)
    x = (rng.random((150, 4)) < 1 / (1 + np.exp(-(theta[:, None] - np.array([-1, 0, 0.5, 1]))))).astype(int)
    res = pds.practices.fit_pcm(pd.DataFrame(x, columns=list("abcd")))
    assert_contract(res)
    np.testing.assert_allclose(res.estimates["estimate"], res.items["beta"])
    assert len(res.plot().get_yticklabels()) == len(res.estimates)


def test_agreement_and_reliability_results(ratings):
    ag = pds.practices.agreement(ratings, n_boot=10, progress=False)
    assert_contract(ag)
    assert len(ag.plot().get_yticklabels()) == 2
    rel = pds.practices.reliability(ratings, n_boot=10, progress=False)
    assert_contract(rel)
    assert (rel.estimates["std_error"] > 0).all()
    np.testing.assert_allclose(rel.conf_int(0.95)[["ci_lower", "ci_upper"]],
                               rel.estimates[["ci_lower", "ci_upper"]])


def test_scalability_result(ratings):
    sc = pds.practices.scalability(ratings, n_boot=30, progress=False)
    assert_contract(sc)
    np.testing.assert_allclose(sc.conf_int(0.95)[["ci_lower", "ci_upper"]],
                               sc.estimates[["ci_lower", "ci_upper"]])
    assert sc.plot() is not None


def test_self_assessment_result(ratings):
    q = pds.practices.questionnaire()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        sa = pds.practices.self_assessment(dict(zip(q["item"], (q["stage"] <= 2).astype(int), strict=True)),
                                           reference=ratings)
    assert_contract(sa)
    assert sa.estimates["estimate"].iloc[0] == pytest.approx(sa.index["theta"])


def test_old_names_are_aliases():
    assert pds.practices.ScoreResults is pds.practices.ScoreResult
    assert pds.practices.PCMResults is pds.practices.PCMResult
    assert "ScoreResults" not in pds.practices.__all__
