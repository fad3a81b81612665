"""pds.evaluate.randomized: contract, design checks (bad input) and generated input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from contract.checks import assert_contract, assert_safe_outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdstats as pds
from pdstats.errors import DataValidationError, ModelSpecificationError

COVERS = {"RandomizedResult", "EffectSizeResult"}


def _trial(seed: int = 0, n_teachers: int = 24, per: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"teacher": np.repeat(np.arange(n_teachers), per)})
    d["school"] = d["teacher"] // 4
    arms = np.concatenate([rng.permutation([0, 0, 1, 1]) for _ in range(n_teachers // 4)])
    d["bonus"] = arms[d["teacher"]]  # teachers randomized 2:2 within schools
    d["prior"] = rng.normal(size=len(d))
    d["score"] = 1.5 * d["bonus"] + 2 * d["prior"] + rng.normal(size=n_teachers)[d["teacher"]] \
        + rng.normal(size=len(d))
    d["took"] = d["bonus"] * (rng.random(len(d)) < 0.75)
    return d


def test_contract_of_the_trial_and_its_effect_sizes():
    d = _trial()
    r = pds.evaluate.randomized(d, "score", "bonus", level="teacher", cluster="teacher",
                                blocks="school", covariates="prior", takeup="took", n_perm=99,
                                random_state=1, progress=False)
    assert_contract(r)
    assert r.n_clusters == 24 and r.n_treated + r.n_control == len(d)
    assert set(r.estimates["term"]) == {"ITT", "take-up (first stage)", "effect on the treated"}
    assert r.balance["covariate"].tolist() == ["prior"]
    es = r.effect_size()
    assert_contract(es)
    assert "take-up (first stage)" not in set(es.estimates["term"])
    import matplotlib.pyplot as plt
    r.plot()
    plt.close("all")
    # the randomization row keeps its inverted-test interval only at its own level
    ci = r.conf_int(0.9).set_index("method")
    assert np.isnan(ci.loc["randomization", "ci_lower"]) and np.isfinite(ci.loc["regression", "ci_lower"])


def test_treatment_varying_within_a_randomized_cluster_is_refused():
    d = _trial()
    d.loc[3, "bonus"] = 1 - d.loc[3, "bonus"]
    with pytest.raises(DataValidationError, match="constant within cluster 'teacher'") as e:
        pds.evaluate.randomized(d, "score", "bonus", level="teacher", cluster="teacher",
                                progress=False, methods=["difference in means"])
    assert set(e.value.failures["row"]) == set(range(8))  # the rows of teacher 0, by position


def test_a_block_with_one_arm_is_refused_and_named():
    d = _trial()
    d.loc[d["school"] == 2, "bonus"] = 1
    with pytest.raises(DataValidationError, match=r"both arms in every block of 'school'.*block\(s\) 2"):
        pds.evaluate.randomized(d, "score", "bonus", level="teacher", cluster="teacher",
                                blocks="school", progress=False, methods=["difference in means"])
    ind = _trial().assign(bonus=lambda x: (x["school"] < 3).astype(int))
    with pytest.raises(DataValidationError, match="only treated or only control"):
        pds.evaluate.randomized(ind, "score", "bonus", blocks="school",
                                methods=["difference in means"])


def test_specification_errors():
    d = _trial()
    with pytest.raises(ModelSpecificationError, match="level"):
        pds.evaluate.randomized(d, "score", "bonus", level="classroom")
    with pytest.raises(ModelSpecificationError, match="cluster="):
        pds.evaluate.randomized(d, "score", "bonus", level="student", cluster="teacher")
    with pytest.raises(ModelSpecificationError, match="multilevel"):
        pds.evaluate.randomized(d, "score", "bonus", methods=["multilevel"])
    with pytest.raises(DataValidationError, match="boolean"):
        pds.evaluate.randomized(d.assign(bonus=d["bonus"] * 2), "score", "bonus")
    with pytest.raises(DataValidationError, match="range"):
        pds.evaluate.randomized(d.assign(took=d["took"] + 0.5), "score", "bonus", takeup="took",
                                methods=["regression"])


def test_pairs_mixed_with_larger_blocks_warn():
    d = _trial()
    d["pair"] = np.where(d["teacher"] < 4, d["teacher"] // 2, 10)  # two pairs + one big block
    with pytest.warns(pds.errors.EstimationWarning, match="matched-pair variance"):
        r = pds.evaluate.randomized(d, "score", "bonus", level="teacher", cluster="teacher",
                                    blocks="pair", methods=["difference in means"])
    assert r.estimates["df"].iloc[0] == 2  # B - 1 with three blocks


def test_missing_outcomes_are_dropped_and_logged():
    d = _trial()
    d.loc[[1, 2, 3], "score"] = np.nan
    with pytest.warns(pds.errors.DroppedRowsWarning):
        r = pds.evaluate.randomized(d, "score", "bonus", level="teacher", cluster="teacher",
                                    methods=["difference in means"])
    assert r.sample_log.n_used == len(d) - 3
    assert r.sample_log.dropped == {"missing 'score'": 3}  # the user's column, not a working name


@st.composite
def trials(draw):
    n_cl = draw(st.integers(2, 8))
    per = draw(st.integers(1, 4))
    d = pd.DataFrame({"c": np.repeat(np.arange(n_cl), per)})
    d["b"] = d["c"] % draw(st.integers(1, 3))
    arm = draw(st.lists(st.integers(0, 1), min_size=n_cl, max_size=n_cl))
    d["t"] = np.asarray(arm)[d["c"]]
    if draw(st.booleans()):  # break the cluster design now and then
        d.loc[0, "t"] = 1 - d.loc[0, "t"]
    y = draw(st.lists(st.floats(-5, 5) | st.just(np.nan), min_size=len(d), max_size=len(d)))
    d["y"] = y
    return d


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trials(), st.booleans(), st.booleans())
def test_randomized_is_safe_on_generated_trials(d, blocked, clustered):
    assert_safe_outcome("evaluate.randomized", lambda: pds.evaluate.randomized(
        d, "y", "t", level="teacher" if clustered else "student",
        cluster="c" if clustered else None, blocks="b" if blocked else None,
        methods=["difference in means", "regression"], progress=False))
