"""NAEP-linked district means recover the truth of simulated study worlds (pds.simulate).

The full version (200 worlds, bias/RMSE/coverage per state and SE variant) is
benchmarks/harmonize_validation.py; here one and two worlds (fast) and 25 worlds (slow).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.harmonize.recovery import recovery_draws, world_recovery

VARIANTS = {"population": ("population", 0.0), "students+link": ("students", 0.05),
            "students+estimated": ("students", "estimated"),
            "students+estimated+interp": ("students", "estimated", "estimated")}


def _worlds(seeds, variants) -> pd.DataFrame:
    """world_recovery over worlds ``study(seed)`` through the validation runner, in its columns."""
    res = pds.simulate.run(partial(recovery_draws, variants=variants),
                           partial(pds.simulate.study, progress=False), seeds=seeds, progress=False)
    return res.draws.rename(columns={"term": "variant", "estimate": "mean", "std_error": "se_mean",
                                     "truth": "true_mean"})


def _summary(err: pd.DataFrame) -> pd.DataFrame:
    return err.groupby(["variant", "state"]).apply(
        lambda d: pd.Series({"bias": d["err"].mean(), "rmse": np.sqrt((d["err"] ** 2).mean()),
                             "coverage": (d["err"].abs() <= 1.96 * d["se_mean"]).mean()}),
        include_groups=False)


def test_one_world_linked_means_recover_truth():
    world = pds.simulate.study(random_state=0, progress=False)
    err = world_recovery(world, VARIANTS)
    assert set(err["source"]) == {"hetop", "means_sds"}  # both routes exercised
    s = _summary(err)
    assert (s["bias"].abs() < 2.0).all()  # NAEP points; state NAEP SDs are about 30
    assert (s["rmse"] < 8.0).all()
    assert (s.loc["population", "coverage"] >= 0.93).all()
    assert s.loc["students+link", "coverage"].between(0.85, 0.99).all()
    assert s.loc["students+estimated+interp", "coverage"].between(0.9, 1.0).all()
    assert err["sd_err"].abs().median() < 6.0
    est = err[err["variant"] == "students+estimated"]
    assert est["linking_error"].nunique() == 1 and 0 <= est["linking_error"].iloc[0] < 0.1
    assert est["tuda"].any() and not est["tuda"].all()


def _coverage(d: pd.DataFrame) -> float:
    return float((d["err"].abs() <= 1.96 * d["se_mean"]).mean())


def test_estimated_error_terms_cover_linked_means():
    """Linking error from each world's TUDA districts, interpolation error from its state NAEP
    results (nothing tuned on the truth): the fast version of the 200-world benchmark."""
    spec = {"students+estimated": ("students", "estimated"),
            "students+estimated+interp": ("students", "estimated", "estimated")}
    err = _worlds((11, 12), spec)
    est, full = (err[err["variant"] == v] for v in spec)
    tested = est[~est["naep_interpolated"]]
    assert 0.88 <= _coverage(tested) <= 0.99
    assert 0.75 <= _coverage(est) <= 0.97
    assert (est["link_tau"] < 0.1).all()
    # the interpolation term: zero where NAEP tests, and it closes the gap where values are interpolated
    assert (full.loc[~full["naep_interpolated"], "se_interpolation"] == 0).all()
    assert (full.loc[full["naep_interpolated"], "se_interpolation"] > 0).mean() > 0.9
    assert 0.92 <= _coverage(full) <= 0.99
    interp = full["naep_interpolated"]
    assert _coverage(full[interp]) > _coverage(est[est["naep_interpolated"]]) + 0.05


@pytest.mark.slow
def test_25_worlds_coverage_of_linked_means():
    err = _worlds(range(100, 125), VARIANTS)
    s = _summary(err)
    assert (s["bias"].abs() < 1.5).all()
    overall = err.groupby("variant").apply(lambda d: (d["err"].abs() <= 1.96 * d["se_mean"]).mean(),
                                           include_groups=False)
    assert 0.90 <= overall["students+link"] <= 0.97
    assert overall["population"] >= 0.95
    # linking error estimated per world from its TUDA districts: right where NAEP tests,
    # short where state NAEP values are interpolated (see the harmonize README) ...
    est = err[err["variant"] == "students+estimated"]
    assert 0.92 <= _coverage(est[~est["naep_interpolated"]]) <= 0.97
    assert _coverage(est[est["naep_interpolated"]]) < _coverage(est[~est["naep_interpolated"]]) - 0.03
    assert est.groupby("seed")["link_tau"].first().mean() < 0.05
    # ... and with the interpolation error estimated from each world's state NAEP results: the
    # issue's 93-97% bar overall (200 worlds: benchmarks/harmonize_validation.py)
    full = err[err["variant"] == "students+estimated+interp"]
    assert 0.93 <= _coverage(full) <= 0.97
    assert 0.93 <= _coverage(full[full["naep_interpolated"]]) <= 0.98
