"""pds.power: the general form (continuous and unreliable predictors), results, input rules."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from contract.checks import assert_contract
from scipy import stats

import pdstats as pds

BASE = {"levels": 2, "n_clusters": 40, "cluster_size": 60, "icc": 0.2}


def test_issue_example_and_contract():
    res = pds.power.mdes(levels=2, assigned_at=2, n_clusters=40, cluster_size=60, icc=0.2, r2=(0, 0),
                         treated_share=0.5, alpha=0.05, power=0.8)
    se = np.sqrt(0.2 / (0.25 * 40) + 0.8 / (0.25 * 40 * 60))
    m = stats.t.ppf(0.975, 38) + stats.t.ppf(0.8, 38)
    assert res.se == pytest.approx(se, rel=1e-12)
    assert res.mdes == pytest.approx(m * se, rel=1e-12)
    assert_contract(res)
    d = res.design.set_index("quantity")["value"]
    assert d["mdes"] == res.mdes and d["df"] == 38 and d["predictor_variance"] == 0.25
    assert "calculated, not estimated" in res.summary()


def test_continuous_predictor_general_form():
    """A standardized district-level predictor (variance 1) replaces P(1-P) = 0.25; an
    unreliable one (reliability 0.7) needs 1/sqrt(0.7) times the effect."""
    treat = pds.power.mdes(**BASE)
    cont = pds.power.mdes(**BASE, predictor_variance=1.0)
    assert cont.mdes == pytest.approx(treat.mdes / 2, rel=1e-12)
    noisy = pds.power.mdes(**BASE, predictor_variance=1.0, reliability=0.7)
    assert noisy.mdes == pytest.approx(cont.mdes / np.sqrt(0.7), rel=1e-12)
    # a level-1 predictor in random blocks: within-cluster variance only (no cluster term)
    lv1 = pds.power.mdes(**BASE, assigned_at=1, predictor_variance=1.0)
    assert lv1.se == pytest.approx(np.sqrt(0.8 / 2400), rel=1e-12) and lv1.df == 39


def test_three_level_predictor_at_each_level_orders_the_mdes():
    kw = {"levels": 3, "n_clusters": 28, "subclusters": 10, "cluster_size": 25, "icc": (0.1, 0.1)}
    m = [pds.power.mdes(**kw, assigned_at=a).mdes for a in (1, 2, 3)]
    assert m[0] < m[1] < m[2]


def test_power_curve_and_plot():
    res = pds.power.power(0.3, **BASE)
    c = res.curve("n_clusters", [10, 20, 40, 80])
    assert c["power"].is_monotonic_increasing and c["mdes"].is_monotonic_decreasing
    assert c.loc[c["n_clusters"] == 40, "power"].item() == pytest.approx(res.power)
    ax = res.plot()
    assert "power" in ax.get_ylabel()
    res.plot("cluster_size")
    plt.close("all")


def test_sample_size_for_each_size():
    n = pds.power.sample_size(0.3, **{**BASE, "n_clusters": None})
    assert n.mdes <= 0.3 < pds.power.mdes(**{**BASE, "n_clusters": n.sample_size - 1}).mdes
    with pytest.raises(pds.ModelSpecificationError, match="no cluster_size"):
        # with 40 clusters the cluster-level variance alone keeps the MDES above 0.3
        pds.power.sample_size(0.3, **{**BASE, "cluster_size": None}, solve_for="cluster_size", max_size=10_000)
    s = pds.power.sample_size(0.45, **{**BASE, "cluster_size": None}, solve_for="cluster_size")
    assert s.solved == "cluster_size" and s.mdes <= 0.45


@pytest.mark.parametrize("bad, match", [
    ({"levels": 4}, "levels"), ({"assigned_at": 3}, "assigned_at"), ({"icc": 1.2}, "icc"),
    ({"icc": (0.1, 0.1)}, "icc"), ({"treated_share": 1.0}, "treated_share"), ({"n_clusters": 2}, "degrees"),
    ({"reliability": 0.0}, "reliability"), ({"r2": (0.5,)}, "r2"), ({"block_effects": "mixed"}, "block_effects"),
    ({"n_clusters": float("inf")}, "n_clusters"), ({"alpha": 1.5}, "alpha"), ({"power": 95}, "power"),
])
def test_bad_arguments_are_refused(bad, match):
    with pytest.raises(pds.ModelSpecificationError, match=match):
        pds.power.mdes(**{**BASE, **bad})
