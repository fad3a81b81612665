"""CR2 / Bell-McCaffrey df and HTZ Wald tests against clubSandwich, estimatr and metafor.

Reference values: tests/reference/inference/make_reference.R (R clubSandwich, estimatr,
metafor, lme4). Tolerance 1e-6 (relative for SEs, df and F; absolute for p-values).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.datasets import load_rdataset

REF = Path(__file__).parents[1] / "reference" / "inference"
TERMS = ["Intercept", "str", "english", "lunch"]


def ref(name: str) -> dict:
    return json.loads((REF / f"{name}.json").read_text())


@cache
def caschools() -> pd.DataFrame:
    ca = load_rdataset("AER", "CASchools")
    ca["str"] = ca["students"] / ca["teachers"]
    return ca


def subset(min_n: int) -> pd.DataFrame:
    ca = caschools()
    counts = ca["county"].value_counts()
    d = ca[ca["county"].isin(counts[counts >= min_n].index)].copy()
    d["w"] = d["students"] / d["students"].mean()
    return d


def close(a: object, b: object, rtol: float = 1e-6) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=0)


def check_wald(result: object, wald: list[dict], names: list[str]) -> None:
    for w in wald:
        t = result.wald_test([names[i - 1] for i in np.atleast_1d(w["terms"])])
        assert t.test == "HTZ"
        close(t.statistic, w["Fstat"])
        close(t.df_denom, w["df_denom"])
        assert abs(t.p_value - w["p_value"]) < 1e-6


@pytest.mark.parametrize("min_n", [10, 20])
@pytest.mark.parametrize("kind", ["ols", "wls"])
def test_ols_cr2_matches_clubsandwich_and_estimatr(min_n: int, kind: str) -> None:
    r = ref(f"caschools_min{min_n}")
    d = subset(min_n)
    res = pds.ols("read ~ str + english + lunch", d, cluster="county",
                  weights="w" if kind == "wls" else None)
    assert res.n_clusters == r["n_clusters"] and res.nobs == r["n"]
    est = res.estimates
    for source in ("clubsandwich", "estimatr"):
        ref_tab = pd.DataFrame(r[kind][source])
        close(est["estimate"], ref_tab["estimate"], 1e-9)
        close(est["std_error"], ref_tab["std_error"])
        close(est["df"], ref_tab["df"])
        np.testing.assert_allclose(est["p_value"], ref_tab["p_value"], atol=1e-6)
    check_wald(res, r[kind]["wald"], TERMS)


def test_hc2_matches_estimatr() -> None:
    er = pd.DataFrame(ref("caschools_hc2")["estimatr"])
    res = pds.ols("read ~ str + english + lunch", subset(20))
    assert res.vcov_type == "HC2"
    close(res.estimates["std_error"], er["std_error"])


@pytest.mark.parametrize("key,formula", [
    ("nested", "yi ~ year_c + (1 | district) + (1 | district:school)"),
    ("school_only", "yi ~ year_c + (1 | study)"),  # clustered above its only level
])
def test_meta_regression_matches_metafor_clubsandwich(key: str, formula: str) -> None:
    r = ref("konstantopoulos_meta")
    dat = pd.DataFrame(r["data"])
    dat["year_c"] = dat["year"] - 1990
    fit = pds.lmm(formula, dat, known_variance="vi")
    close(np.sort(fit.varcomp["estimate"]), np.sort(np.atleast_1d(r[key]["sigma2"])), 1e-6)
    cr = fit.cr2(cluster="district")
    cs = pd.DataFrame(r[key]["clubsandwich"])
    close(cr["estimate"], cs["estimate"], 1e-7)
    close(cr["std_error"], cs["std_error"])
    close(cr["df"], cs["df"])


def test_meta_regression_htz_wald() -> None:
    from pdstats.inference.covariance import robust_covariance
    from pdstats.inference.mixed import cluster_codes, gls_linear_fit
    from pdstats.inference.wald import wald_test

    r = ref("konstantopoulos_meta")
    dat = pd.DataFrame(r["data"])
    dat["year_c"] = dat["year"] - 1990
    for key, formula in (("nested", "yi ~ year_c + (1 | district) + (1 | district:school)"),
                         ("school_only", "yi ~ year_c + (1 | study)")):
        fit = pds.lmm(formula, dat, known_variance="vi")
        codes, _ = cluster_codes(fit, "district")
        gls = gls_linear_fit(fit._design, fit._sol.factors, fit.sigma**2, codes)
        t = wald_test(robust_covariance(gls, "CR2"), ["Intercept", "year_c"])
        w = r[key]["wald"][0]
        close(t.statistic, w["Fstat"])
        close(t.df_denom, w["df_denom"])
        assert abs(t.p_value - w["p_value"]) < 1e-6


def test_lmm_cr2_clustered_above_highest_level_matches_clubsandwich() -> None:
    r = ref("egsingle_child_by_school")
    eg = load_rdataset("mlmRev", "egsingle")
    eg["fem"] = (eg["female"] == "Female").astype(float)
    fit = pds.lmm("math ~ year + fem + (1 | childid)", eg)
    close(fit.theta, r["theta"], 1e-6)
    cr = fit.cr2(cluster="schoolid")  # not a variable of the model
    cs = pd.DataFrame(r["clubsandwich"])
    close(cr["std_error"], cs["std_error"])
    close(cr["df"], cs["df"])
