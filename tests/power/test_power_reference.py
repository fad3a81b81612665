"""pds.power.mdes reproduces PowerUp!'s published worked examples (tests/reference/power)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds

REF = pd.read_csv(Path(__file__).parents[1] / "reference" / "power" / "powerup_published.csv")


def _args(r: pd.Series) -> dict:
    levels = int(r["levels"])
    icc = r["icc2"] if levels == 2 else (r["icc2"], r["icc3"])
    r2 = (r["r2_1"], r["r2_2"]) if levels == 2 else (r["r2_1"], r["r2_2"], r["r2_3"])
    omega = [r[f"omega{lv}"] for lv in range(int(r["assigned_at"]) + 1, levels + 1)]
    kw = {"levels": levels, "assigned_at": int(r["assigned_at"]), "n_clusters": r["n_clusters"],
          "cluster_size": r["cluster_size"], "icc": icc, "r2": r2, "treated_share": r["treated_share"],
          "n_covariates": int(r["n_covariates"]), "block_effects": r["block_effects"],
          "effect_heterogeneity": [0.0 if np.isnan(w) else w for w in omega]}
    if levels == 3:
        kw["subclusters"] = r["subclusters"]
    return kw


@pytest.mark.parametrize("example", REF["example"])
def test_mdes_equals_powerup_to_the_printed_precision(example):
    r = REF.set_index("example").loc[example]
    res = pds.power.mdes(**_args(r), alpha=0.05, power=0.8)
    est = res.estimates.iloc[0]
    assert round(res.mdes, 3) == pytest.approx(r["mdes"], abs=1e-12)
    assert round(res.se, 3) == pytest.approx(r["se"], abs=1e-12)
    assert res.df == r["df"]
    # PowerUp's "MDES 95% CI": the interval of an estimate equal to the MDES
    assert round(est["ci_lower"], 3) == pytest.approx(r["ci_lower"], abs=1e-12)
    assert round(est["ci_upper"], 3) == pytest.approx(r["ci_upper"], abs=1e-12)
    assert est["flag"] == "design"


def test_power_at_the_mdes_and_sample_size_invert_it():
    r = REF.set_index("example").loc["cra2r2"]
    kw = _args(r)
    res = pds.power.mdes(**kw)
    # the multiplier approximation: noncentral-t power at the MDES is close to 0.80
    assert abs(pds.power.power(res.mdes, **kw).power - 0.8) < 0.01
    kw_n = {**kw, "n_clusters": None}
    n = pds.power.sample_size(res.mdes, **kw_n)
    assert n.sample_size == 20  # PowerUp's mrss.cra2r2 at that MDES: J = 20 (same vignette)
    assert pds.power.sample_size(res.mdes * 1.001, **kw_n).sample_size == 20
    assert pds.power.sample_size(res.mdes * 0.999, **kw_n).sample_size == 21
