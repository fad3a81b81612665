"""Bonus-cut classification and validity diagnostics on known-truth worlds."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.vam.known_truth import simulate_va


def _fit(df, method, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        return pds.vam.value_added(df, "score", prior="prior", unit="teacher", year="year",
                                   classroom="classroom", method=method, degree=1,
                                   progress=False, **kw)


def test_expected_misclassification_matches_realized():
    """With EB posteriors, the expected error rates equal the realized ones (in truth)."""
    df, truth = simulate_va(n_teachers=2000, years=(1, 2), class_size=12, random_state=21)
    res = _fit(df, "eb")
    c = pds.vam.classify(res, cut=0.8, n_draws=100)
    u = c.units.set_index("unit").join(truth.groupby("teacher")["effect"].mean())
    cut = c.rates["cut_value"].iloc[0]
    truly_above = u["effect"] >= cut
    fp = (~truly_above[u["selected"]]).mean()
    fn = truly_above[~u["selected"]].mean()
    r = c.rates.iloc[0]
    assert r["n_selected"] == 400
    assert fp == pytest.approx(r["expected_false_positive_rate"], abs=0.05)
    assert fn == pytest.approx(r["expected_false_negative_rate"], abs=0.03)
    # calibration of p_above: among units with p in (0.25, 0.75), about half truly above
    mid = u[(u["p_above"] > 0.25) & (u["p_above"] < 0.75)]
    assert truly_above.loc[mid.index].mean() == pytest.approx(mid["p_above"].mean(), abs=0.08)
    assert (u["rank_lower"] <= u["rank"]).all() and (u["rank"] <= u["rank_upper"]).all()


def test_classify_within_year_and_display():
    df, _ = simulate_va(n_teachers=80, random_state=22)
    c = pds.vam.classify(_fit(df, "cfr"), cut=0.5, n_draws=50)
    assert set(c.rates["year"]) == {2001, 2002, 2003, 2004}
    assert c.sample_log.n_dropped == 0
    assert "misclassification" in c.summary()
    assert c.plot().get_ylabel().startswith("P(")
    plt.close("all")
    with pytest.raises(pds.ModelSpecificationError):
        pds.vam.classify(pd.DataFrame({"unit": [1]}), cut=0.8)


def test_forecast_bias_and_placebo():
    df, _ = simulate_va(n_teachers=800, random_state=23)
    res = _fit(df, "cfr")
    fb = pds.vam.forecast_bias(res)
    assert fb["ci_lower"].iloc[0] < 1 < fb["ci_upper"].iloc[0]
    assert fb["coefficient"].iloc[0] == pytest.approx(1, abs=0.08)
    # students are not sorted on their true prior: placebo coefficient ~ 0
    pl = pds.vam.placebo_test(res, df, "true_prior")
    assert abs(pl["z"].iloc[0]) < 3
    # sorting on the true prior makes the placebo fire
    sorted_df, _ = simulate_va(n_teachers=800, sorting=0.5, random_state=23)
    pl2 = pds.vam.placebo_test(_fit(sorted_df, "cfr"), sorted_df, "true_prior")
    assert pl2["p_value"].iloc[0] < 0.001
    with pytest.raises(pds.ModelSpecificationError, match="leave-year-out"):
        pds.vam.forecast_bias(_fit(df, "eb"))


def test_stability_and_transitions():
    df, _ = simulate_va(n_teachers=800, rho=0.8, random_state=24)
    res = _fit(df, "ols", by_year=True)
    st = pds.vam.stability(res)
    assert st["lag"].tolist() == [1, 2, 3]
    assert st["correlation"].is_monotonic_decreasing
    assert (st["ci_lower"] < st["correlation"]).all()
    tm = pds.vam.transition_matrix(res)
    np.testing.assert_allclose(tm.sum(axis=1), 1.0)
    assert np.diag(tm).mean() > 0.2     # more persistence than chance
    with pytest.raises(pds.ModelSpecificationError, match="unit-year"):
        pds.vam.stability(_fit(df, "eb"))
