"""Wild cluster bootstrap: against the independent ``wildboottest`` package, and its own rules.

Reference: tests/reference/inference/make_wild_reference.py (wildboottest 0.3.2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds

REF_DIR = Path(__file__).parents[1] / "reference" / "inference"
REF = json.loads((REF_DIR / "wild_reference.json").read_text())
sys.path.insert(0, str(REF_DIR))
from make_wild_reference import subset  # noqa: E402  (the same rows the reference used)


@pytest.mark.parametrize("case", REF["cases"], ids=lambda c: f"{c['min_schools']}-{c['term']}")
def test_pvalue_agrees_with_wildboottest(case: dict) -> None:
    res = pds.ols(case["formula"], subset(case["min_schools"]), cluster="county")
    n_boot = 99999 if case["enumerated"] else 19999
    wb = res.wild_bootstrap(case["term"], n_boot=n_boot, random_state=7, progress=False)
    assert wb.enumerated == case["enumerated"]
    assert wb.estimates["statistic"].iloc[0] == pytest.approx(case["statistic"], rel=1e-9)
    p, q = wb.p_value, case["p_value"]
    if case["enumerated"]:  # both use all 2^G sign vectors: equal up to a few ties
        assert abs(p - q) <= 4 / 2 ** case["n_clusters"]
    else:  # independent draws: 4 Monte Carlo SEs of the difference
        se = np.sqrt(q * (1 - q) / case["B"] + p * (1 - p) / n_boot)
        assert abs(p - q) <= 4 * se + 1e-12


def small_world(seed: int, G: int = 12, beta: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), 8)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=G)[g] + rng.normal(size=len(g))})
    d["y"] = beta * d.x + rng.normal(size=G)[g] + rng.normal(size=len(g))
    return d


def test_interval_inverts_the_test_and_weights_differ() -> None:
    res = pds.ols("y ~ x", small_world(1, G=14, beta=0.5), cluster="g")
    wb = res.wild_bootstrap("x", n_boot=1999, random_state=3, progress=False)
    lo, hi = wb.estimates[["ci_lower", "ci_upper"]].iloc[0]
    assert lo < res.params["x"] < hi
    # at the interval's ends the p-value crosses 5%
    assert wb.pvalue_at(lo - 1e-6) < 0.05 <= wb.pvalue_at(lo + 1e-3 * (hi - lo))
    assert wb.pvalue_at(hi + 1e-6) < 0.05 <= wb.pvalue_at(hi - 1e-3 * (hi - lo))
    assert wb.pvalue_at(float(res.params["x"])) == 1.0
    ci90 = wb.conf_int(0.90)
    assert lo < ci90["ci_lower"].iloc[0] < ci90["ci_upper"].iloc[0] < hi
    for kind in ("mammen", "webb"):
        other = res.wild_bootstrap("x", weights=kind, n_boot=999, random_state=3, progress=False)
        assert not other.enumerated and 0 <= other.p_value <= 1
    wcu = res.wild_bootstrap("x", restricted=False, n_boot=999, random_state=3, progress=False)
    assert wcu.estimates["ci_lower"].iloc[0] < res.params["x"]


def test_enumeration_and_seed() -> None:
    res = pds.ols("y ~ x", small_world(2, G=8), cluster="g")
    a = res.wild_bootstrap("x", n_boot=999, random_state=1, progress=False)
    b = res.wild_bootstrap("x", n_boot=999, random_state=2, progress=False)
    assert a.enumerated and a.n_boot == 256 and a.p_value == b.p_value
    np.testing.assert_allclose(np.sort(np.abs(a.t_boot)), np.sort(np.abs(b.t_boot)))
    c = res.wild_bootstrap("x", weights="webb", n_boot=499, random_state=1, progress=False)
    d = res.wild_bootstrap("x", weights="webb", n_boot=499, random_state=1, progress=False)
    assert c.p_value == d.p_value


def test_bad_arguments_refused() -> None:
    res = pds.ols("y ~ x", small_world(3), cluster="g")
    for kwargs in ({"weights": "gauss"}, {"vcov": "HC1"}, {"n_boot": 5}, {"level": 95}):
        with pytest.raises(pds.PdstatsError):
            res.wild_bootstrap("x", progress=False, **kwargs)
    with pytest.raises(pds.ModelSpecificationError):
        res.wild_bootstrap("z", progress=False)


def test_lmm_wild_bootstrap_holds_restricted_variance_components() -> None:
    from pdstats.inference.mixed import wild_bootstrap_lmm

    d = small_world(4, G=10, beta=0.0)
    d["district"] = d.g // 2
    fit = pds.lmm("y ~ x + (1 | g)", d)
    wb = wild_bootstrap_lmm(fit, "x", cluster="district", progress=False, random_state=1)
    assert wb.enumerated and wb.n_boot == 32
    assert wb.settings["Variance components"].startswith("held at the restricted")
    assert 0 < wb.p_value <= 1
    lo, hi = wb.estimates[["ci_lower", "ci_upper"]].iloc[0]
    assert lo < fit.params["x"] < hi
