"""Guttman / Mokken scalability: hand examples, perfect and independent simulated items."""

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.practices import guttman_reproducibility, loevinger_h, scalability


def _h_by_covariances(x):
    """Independent formula: H = sum cov(i, j) / sum cov_max(i, j) over pairs."""
    x = np.asarray(x, float)
    p = x.mean(axis=0)
    num = den = 0.0
    k = x.shape[1]
    for i in range(k):
        for j in range(i + 1, k):
            cov = (x[:, i] * x[:, j]).mean() - p[i] * p[j]
            cmax = min(p[i], p[j]) - p[i] * p[j]
            num += cov
            den += cmax
    return num / den


def test_hand_example():
    # 5 persons, 3 items; p = (0.8, 0.6, 0.4)
    x = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 1, 0], [1, 0, 1]])
    h, hi, hij = loevinger_h(x)
    # pair (1,2): hard=2 (p .6), easy=1 (p .8): F = #(x2=1, x1=0) = 1, E = 5*.6*.2 = .6
    assert hij[0, 1] == pytest.approx(1 - 1 / 0.6)
    # pair (1,3): hard=3 (p .4): F = #(x3=1, x1=0) = 0 -> H = 1
    assert hij[0, 2] == pytest.approx(1.0)
    assert h == pytest.approx(_h_by_covariances(x))
    rep, mmr, errors = guttman_reproducibility(x)
    assert mmr == pytest.approx((0.8 + 0.6 + 0.6) / 3)
    assert errors == 4  # persons 4 and 5 each differ from their ideal pattern in 2 cells
    assert rep == pytest.approx(1 - 4 / 15)


def test_perfect_guttman_scale_gives_h_1():
    rng = np.random.default_rng(0)
    k = 6
    totals = rng.integers(0, k + 1, 200)
    x = (np.arange(k)[None, :] < totals[:, None]).astype(int)
    res = scalability(pd.DataFrame(x), n_boot=50, progress=False)
    assert res.scale.loc["H", "estimate"] == pytest.approx(1.0)
    assert res.scale.loc["reproducibility", "estimate"] == pytest.approx(1.0)
    assert np.allclose(res.items["H_i"], 1.0)


def test_independent_items_give_h_near_0():
    rng = np.random.default_rng(1)
    x = (rng.random((3000, 8)) < np.linspace(0.2, 0.8, 8)).astype(int)
    res = scalability(pd.DataFrame(x), n_boot=100, progress=False, random_state=2)
    h = res.scale.loc["H"]
    assert abs(h["estimate"]) < 0.03
    assert h["ci_lower"] < 0 < h["ci_upper"]
    assert 0.003 < h["se"] < 0.03


def test_h_matches_covariance_formula_on_reconstruction():
    d = pds.practices.reconstruct_year1(0)
    ev = pds.practices.evidence_matrix(d["practice_ratings"])
    ev = ev.loc[:, ev.std() > 0]
    assert loevinger_h(ev.to_numpy())[0] == pytest.approx(_h_by_covariances(ev.to_numpy()))


def test_stage_checks_published_lower_bounds():
    d = pds.practices.reconstruct_year1(0)
    res = scalability(d["practice_ratings"], n_boot=20, progress=False)
    sc = res.stage_checks.set_index(["practice", "stage"])
    # Table 6.1: counts rise from stage k-1 to k in five places
    expected = {("information_systems", 3): 2, ("linking_assessment_instruction", 3): 1,
                ("senior_admin_evaluations", 3): 1, ("site_leadership_ownership", 3): 7,
                ("focus_on_improvement", 4): 2}
    nonzero = sc[sc["published_lower_bound"] > 0]["published_lower_bound"].to_dict()
    assert nonzero == expected
    assert (sc["n_without_previous"] >= sc["published_lower_bound"]).all()
    assert "human_resources_s1" in res.dropped_items  # no variance
    assert "Stage checks" in res.summary()


def test_non_binary_input_raises():
    with pytest.raises(pds.DataValidationError, match="range \\[0, 1\\]"):
        scalability(pd.DataFrame({"a": [0, 2], "b": [1, 0]}), n_boot=5, progress=False)


def test_ordinal_h_equals_dichotomous_h_on_binary_data_and_is_reported():
    from pdstats.practices import loevinger_h_ordinal

    rng = np.random.default_rng(3)
    x = (rng.random((300, 5)) < rng.random(5)).astype(int)
    x[:, 1] = np.maximum(x[:, 1], x[:, 0])  # some structure
    assert loevinger_h_ordinal(x)[0] == pytest.approx(loevinger_h(x)[0])
    # perfectly comonotone ordinal items: H = 1
    t = rng.integers(0, 5, 200)
    assert loevinger_h_ordinal(np.column_stack([t, np.minimum(t, 2), (t > 3).astype(int)]))[0] == pytest.approx(1.0)
    d = pds.practices.reconstruct_year1(0)
    sc = scalability(d["practice_ratings"], n_boot=20, progress=False).scale
    row = sc.loc["H_practices_ordinal"]
    assert 0 < row["estimate"] < 1 and row["se"] > 0
