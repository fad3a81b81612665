"""pds.evaluate.effect_size: WWC v5.0 / Hedges (1981) formulas against metafor::escalc and R.

Reference: tests/reference/evaluate/randomized/effect_size_reference.csv
(make_randomized_reference.R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.errors import ModelSpecificationError

HERE = Path(__file__).parents[1] / "reference" / "evaluate" / "randomized"
REF = pd.read_csv(HERE / "effect_size_reference.csv").set_index("quantity")["value"]
IND = pd.read_csv(HERE / "trial_individual.csv")


def _sizes():
    r = pds.evaluate.randomized(IND, "y", "z", methods=["difference in means"])
    return r, r.effect_size().estimates.set_index("scale")


def test_hedges_g_and_improvement_index_equal_r():
    _, es = _sizes()
    g = es.loc["Hedges' g"]
    assert g["estimate"] == pytest.approx(REF["wwc_g"], abs=1e-10)
    assert g["std_error"] == pytest.approx(REF["wwc_se"], abs=1e-10)
    # metafor's exact correction factor (gamma functions) vs WWC's 1 - 3/(4N - 9): N = 200
    assert g["estimate"] == pytest.approx(REF["escalc_g"], abs=1e-6)
    assert g["std_error"] == pytest.approx(REF["escalc_se"], abs=1e-8)
    ii = es.loc["improvement index"]
    assert ii["estimate"] == pytest.approx(REF["improvement_index"], abs=1e-8)
    # its interval is the g interval mapped through 100 (Phi - 0.5)
    from scipy.stats import norm
    assert ii["ci_upper"] == pytest.approx(100 * (norm.cdf(g["ci_upper"]) - 0.5), abs=1e-10)


def test_sd_units_name_the_sd_and_scale_every_column():
    r, _ = _sizes()
    es = pds.evaluate.effect_size(r, sd=35.0, sd_name="NAEP national SD, grade 8 math 2007")
    row = es.estimates.query("scale == 'student SD'").iloc[0]
    itt = r.estimates.iloc[0]
    assert row["estimate"] == pytest.approx(itt["estimate"] / 35.0)
    assert row["ci_lower"] == pytest.approx(itt["ci_lower"] / 35.0)
    assert row["sd_name"] == "NAEP national SD, grade 8 math 2007"
    lo = es.conf_int(0.9).query("scale == 'student SD'")["ci_lower"].iloc[0]
    assert lo > row["ci_lower"]


def test_effect_size_of_a_did_result_needs_the_sd():
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"unit": np.repeat(np.arange(20), 4), "year": np.tile(np.arange(4), 20)})
    d["treated"] = ((d.unit < 10) & (d.year >= 2)).astype(int)
    d["y"] = 3 * d.treated + rng.normal(size=len(d))
    tw = pds.evaluate.twfe(d, "y", "treated", "unit", "year")
    with pytest.raises(ModelSpecificationError, match="sd="):
        pds.evaluate.effect_size(tw)
    with pytest.warns(pds.errors.EstimationWarning, match="Hedges"):
        es = pds.evaluate.effect_size(tw, sd=30.0, sd_name="NAEP SD")
    assert es.estimates["scale"].tolist() == ["student SD"]
    es = pds.evaluate.effect_size(tw, sd=30.0, sd_name="NAEP SD", n_treated=40, n_control=40,
                                  pooled_sd=1.0)
    assert es.estimates["scale"].tolist() == ["student SD", "Hedges' g", "improvement index"]
    with pytest.raises(ModelSpecificationError, match="sd_name"):
        pds.evaluate.effect_size(tw, sd=30.0)


def test_effect_size_of_an_event_study_keeps_its_keys_only():
    from pdstats.evaluate.validation import exposure_world

    d = exposure_world(np.random.default_rng(0), n_units=24, years=5)
    agg = pds.evaluate.staggered_did(d, "outcome", "unit_id", "year", "first_treated_year",
                                     n_boot=0).aggregate("dynamic")
    with pytest.warns(pds.errors.EstimationWarning):
        es = pds.evaluate.effect_size(agg, sd=2.0, sd_name="toy SD")
    assert not any(c.startswith("cband_") for c in es.estimates.columns)
    assert es.estimates["event_time"].tolist() == agg.estimates["event_time"].tolist()
    assert np.allclose(es.estimates["std_error"], agg.estimates["std_error"] / 2.0, equal_nan=True)
