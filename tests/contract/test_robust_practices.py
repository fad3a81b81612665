"""Property tests: generated bad input into every public practices estimator ends safely.

Each call must return finite estimates with positive SEs, flag the rows it cannot
estimate (with an EstimationWarning), or raise a pds.PdstatsError (tests/contract/checks.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdstats as pds
from contract.checks import CASES, assert_safe_outcome

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ODD = st.sampled_from([np.nan, None, "*", "", np.inf, -np.inf, -1, 2, 0.5, "abc"])
BIT = st.one_of(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1), ODD)


@pytest.fixture(scope="module")
def informants():
    r = pds.practices.reconstruct_year1()["practice_ratings"]
    return r[r["informant_role"] != "consensus"].reset_index(drop=True)


@st.composite
def matrices(draw, max_cols=4):
    n = draw(st.integers(0, 8))  # 0: empty frame, 1: single row
    k = draw(st.integers(1, max_cols))
    return pd.DataFrame([[draw(BIT) for _ in range(k)] for _ in range(n)], columns=list("abcd"[:k]))


@st.composite
def corruptions(draw):
    """A few (row, value) edits of the evidence column (row positions among 5,376 informant rows)."""
    return draw(st.lists(st.tuples(st.integers(0, 5375), ODD), max_size=3))


def _corrupt(ratings, edits, keep_districts):
    d = ratings[ratings["district_id"].isin(sorted(ratings["district_id"].unique())[:keep_districts])]
    d = d.reset_index(drop=True).astype({"evidence": object})
    for row, value in edits:
        if row < len(d):
            d.loc[row, "evidence"] = value
    return d


@SETTINGS
@given(x=matrices(), person_method=st.sampled_from(["wle", "ml"]))
def test_fit_pcm(x, person_method):
    assert_safe_outcome("practices.fit_pcm", lambda: pds.practices.fit_pcm(x, person_method=person_method))


def _persons(res):
    return res.persons.rename(columns={"theta": "estimate", "se": "std_error"})


@SETTINGS
@given(x=matrices())
def test_fit_pcm_persons(x):
    assert_safe_outcome("practices.fit_pcm persons", lambda: pds.practices.fit_pcm(x, person_method="ml"),
                        estimates=_persons)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=corruptions(), n=st.sampled_from([1, 2, 6]), method=st.sampled_from(["pcm", "rasch"]))
def test_score_scaled(informants, edits, n, method):
    d = _corrupt(informants, edits, n)
    assert_safe_outcome("practices.score", lambda: pds.practices.score(d, method=method))


@SETTINGS
@given(edits=corruptions(), method=st.sampled_from(["highest", "count", "index"]))
def test_score_descriptive(informants, edits, method):
    """Descriptive scores have no standard error; every value must be finite and in range."""
    d = _corrupt(informants, edits, 3)
    CASES["practices.score descriptive"] += 1
    try:
        res = pds.practices.score(d, method=method)
    except pds.PdstatsError:
        return
    est = res.estimates["estimate"].to_numpy(dtype=float)
    assert np.isfinite(est).all() and (est >= 0).all()


@SETTINGS
@given(x=matrices())
def test_scalability(x):
    assert_safe_outcome("practices.scalability",
                        lambda: pds.practices.scalability(x, n_boot=5, progress=False))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=corruptions(), n=st.sampled_from([1, 2, 5]))
def test_agreement(informants, edits, n):
    d = _corrupt(informants, edits, n)
    assert_safe_outcome("practices.agreement", lambda: pds.practices.agreement(d, n_boot=3, progress=False))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=corruptions(), n=st.sampled_from([1, 3, 8]))
def test_reliability(informants, edits, n):
    d = _corrupt(informants, edits, n)
    assert_safe_outcome("practices.reliability", lambda: pds.practices.reliability(d, n_boot=3, progress=False))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(st.one_of(st.integers(0, 1), st.sampled_from(["yes", "no", None, 2, np.inf])),
                        min_size=48, max_size=48))
def test_self_assessment(informants, answers):
    q = pds.practices.questionnaire()
    a = dict(zip(q["item"], answers, strict=True))
    assert_safe_outcome("practices.self_assessment",
                        lambda: pds.practices.self_assessment(a, reference=informants))


def _refused_or(family, call, check):
    """Tables without standard errors: a PdstatsError, or output that passes ``check``."""
    CASES[family] += 1
    try:
        out = call()
    except pds.PdstatsError:
        return
    check(out)


@SETTINGS
@given(edits=corruptions(), rule=st.sampled_from(["any", "majority", "all", "most"]))
def test_combine_informants(informants, edits, rule):
    d = _corrupt(informants, edits, 28)
    _refused_or("practices.combine_informants", lambda: pds.practices.combine_informants(d, rule=rule),
                lambda ev: assert_binary(ev["evidence"]))


def assert_binary(values):
    assert set(np.unique(values.to_numpy())) <= {0, 1}


@settings(max_examples=15, deadline=None)
@given(col=st.sampled_from(["enrollment", "pct_frl", "pct_lep", "pct_minority"]),
       value=st.one_of(st.floats(-10, 200), ODD), row=st.integers(0, 27))
def test_year1_tables(col, value, row):
    data = dict(YEAR1)
    d = data["districts"].astype({col: object})
    d.loc[row, col] = value
    data["districts"] = d

    def check(tables):
        fig = tables["Figure 1.1"]
        assert np.isfinite(fig["value"].to_numpy(dtype=float)).all()
        assert (fig.loc[fig["category"] == "Total", "value"] == 28).all()

    _refused_or("practices.year1_tables", lambda: pds.practices.year1_tables(data), check)


YEAR1 = pds.practices.reconstruct_year1()


def test_report_case_count():
    print("\ngenerated practices cases:", {k: v for k, v in CASES.items() if k.startswith("practices")})
