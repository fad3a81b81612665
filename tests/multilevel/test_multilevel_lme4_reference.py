"""Agreement with R's lme4 / lmerTest / pbkrtest / clubSandwich / nlme.

Reference values were produced by tests/reference/multilevel/make_reference.R and are
committed next to it as JSON; these tests never need R.  Tolerances are those of the
issue: fixed effects and variance components 1e-4 relative (or 1e-6 absolute),
log-likelihoods 1e-3, Satterthwaite df 1e-2 (relative).
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.datasets import load_rdataset
from pdstats.errors import EstimationWarning

REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"


def ref(name: str) -> dict:
    return json.loads((REF / f"{name}.json").read_text())


@cache
def data(name: str) -> pd.DataFrame:
    if name == "egsingle":
        return load_rdataset("mlmRev", "egsingle")
    if name == "hsb":
        h = load_rdataset("mlmRev", "Hsb82")
        h["sector"] = (h["sector"] == "Catholic").astype(float)
        return h
    if name == "sleep":
        s = load_rdataset("lme4", "sleepstudy")
        s["w"] = 1.0 + s["Days"] % 3
        return s
    if name == "penicillin":
        return load_rdataset("lme4", "Penicillin")
    if name == "egsingle_sub12":  # the first 12 schools (for Kenward-Roger in pbkrtest)
        eg = load_rdataset("mlmRev", "egsingle")
        keep = eg["schoolid"].astype(str).isin(ref("egsingle_sub12_uncond_reml")["schools"])
        return eg[keep].reset_index(drop=True)
    if name == "dyestuff2":
        return load_rdataset("lme4", "Dyestuff2")
    raise KeyError(name)


MODELS = {
    "egsingle_uncond_reml": ("egsingle", "math ~ year + (year | childid) + (year | schoolid)", True, {}),
    "egsingle_cond_ml": (
        "egsingle",
        "math ~ year * (black + hispanic + lowinc) + (year | childid) + (year | schoolid)",
        False,
        {},
    ),
    "egsingle_nested_intercepts_reml": ("egsingle", "math ~ year + (1 | schoolid/childid)", True, {}),
    "egsingle_sub12_uncond_reml": (
        "egsingle_sub12", "math ~ year + (year | childid) + (year | schoolid)", True, {}
    ),
    "hsb82_table4_2_reml": ("hsb", "mAch ~ 1 + (1 | school)", True, {}),
    "hsb82_table4_3_reml": ("hsb", "mAch ~ meanses + (1 | school)", True, {}),
    "hsb82_table4_4_reml": ("hsb", "mAch ~ cses + (cses | school)", True, {}),
    "hsb82_table4_5_reml": (
        "hsb",
        "mAch ~ meanses + sector + cses + meanses:cses + sector:cses + (cses | school)",
        True,
        {},
    ),
    "sleepstudy_reml": ("sleep", "Reaction ~ Days + (Days | Subject)", True, {}),
    "sleepstudy_ml": ("sleep", "Reaction ~ Days + (Days | Subject)", False, {}),
    "sleepstudy_uncorrelated_reml": ("sleep", "Reaction ~ Days + (Days || Subject)", True, {}),
    "sleepstudy_weights_reml": ("sleep", "Reaction ~ Days + (Days | Subject)", True, {"weights": "w"}),
    "sleepstudy_weights_ml": ("sleep", "Reaction ~ Days + (Days | Subject)", False, {"weights": "w"}),
    "penicillin_crossed_reml": ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", True, {}),
    "penicillin_crossed_ml": ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", False, {}),
    "dyestuff2_singular_reml": ("dyestuff2", "Yield ~ 1 + (1 | Batch)", True, {}),
}
# the same references through the spelled-out forms of `||` and `g1/g2`
SPELLED_OUT = {
    "sleepstudy_uncorrelated_reml": "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
    "egsingle_nested_intercepts_reml": "math ~ year + (1 | schoolid) + (1 | childid:schoolid)",
}


@cache
def fit_and_warnings(name: str, formula: str | None = None):
    dname, default_formula, reml, kw = MODELS[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        res = pds.lmm(formula or default_formula, data(dname), reml=reml, **kw)
    return res, [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]


def fit(name: str):
    return fit_and_warnings(name)[0]


def r_term(t: str) -> str:
    return "Intercept" if t == "(Intercept)" else t


def close(a, b, rtol=1e-4, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", list(MODELS))
def test_fixed_effects_and_fit_statistics_match_lme4(name: str) -> None:
    r, res = ref(name), fit(name)
    fe = res.fixed_effects(ddf="z")
    assert list(fe.index) == [r_term(t) for t in r["fe"]["term"]]
    close(fe["estimate"], r["fe"]["estimate"])
    close(fe["std_error"], r["fe"]["std_error"])
    assert abs(res.loglike - r["loglik"]) < 1e-3
    assert abs(res.deviance - r["deviance"]) < 2e-3
    assert abs(res.aic - r["aic"]) < 2e-3 and abs(res.bic - r["bic"]) < 2e-3
    assert res.n_params == r["df_model"]
    assert res.nobs == r["n"]
    assert res.singular == r["singular"]


@pytest.mark.parametrize("name", list(MODELS))
def test_variance_components_match_lme4(name: str) -> None:
    r, res = ref(name), fit(name)
    vc = res.varcomp
    rv = pd.DataFrame(r["varcomp"])
    assert vc["group"].tolist() == rv["group"].tolist()
    assert [None if t is None else t for t in vc["term1"]] == [
        None if t is None else r_term(t) for t in rv["term1"]
    ]
    close(vc["estimate"], rv["vcov"])
    # sdcor: SDs for variances, correlations for covariances
    ours = np.where(vc["term2"].isna(), vc["sd"], vc["corr"])
    close(ours, rv["sdcor"], rtol=1e-4, atol=1e-6)
    close(res.theta, r["theta"], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", list(MODELS))
def test_singular_and_convergence_flags_match_lme4(name: str) -> None:
    # lme4's isSingular agrees, and well-determined fits raise no convergence warning
    res, caught = fit_and_warnings(name)
    assert res.singular == ref(name)["singular"]
    assert res.converged
    if ref(name)["singular"]:
        assert len(caught) == 1 and "singular fit" in caught[0]
    else:
        assert caught == []


@pytest.mark.parametrize("name", list(SPELLED_OUT))
def test_zero_intercept_and_interaction_grouping_match_lme4(name: str) -> None:
    # (0 + x | g) and (1 | g1:g2) written out give lme4's fits of (x || g) and (1 | g2/g1)
    res, _ = fit_and_warnings(name, SPELLED_OUT[name])
    r = ref(name)
    close(res.fe["estimate"], r["fe"]["estimate"])
    close(res.fe["df"], r["fe"]["df"], rtol=1e-2, atol=0)
    close(res.varcomp["estimate"], r["varcomp"]["vcov"])
    assert abs(res.loglike - r["loglik"]) < 1e-3
    assert res.varcomp["group"].tolist() == r["varcomp"]["group"]


PROFILE = ref("profile_ci")


@pytest.mark.parametrize("name", [n for n in PROFILE if n in MODELS])
def test_profile_intervals_of_sds_and_correlations_match_lme4(name: str) -> None:
    # confint(fit, parm = "theta_", method = "profile"); lme4 profiles the ML deviance for
    # REML fits too.  lme4 interpolates its profile with splines (linear interpolation
    # for the non-monotonic HSB correlation profile), which limits correlations to ~2e-3.
    r, res = PROFILE[name], fit(name)
    ours = res.varcomp_ci(method="profile")
    vc = res.varcomp
    r_names = []
    for g, a, b in zip(vc.group, vc.term1, vc.term2, strict=True):
        a = "(Intercept)" if a == "Intercept" else a
        b = "(Intercept)" if b == "Intercept" else b
        if g == "Residual":
            r_names.append("sigma")
        elif pd.isna(b):
            r_names.append(f"sd_{a}|{g}")
        else:
            r_names.append(f"cor_{b}.{a}|{g}")
    rr = pd.DataFrame(r).set_index("parameter").loc[r_names]
    is_sd = vc["term2"].isna().to_numpy()
    for col, rcol in (("sdcor_lower", "lower"), ("sdcor_upper", "upper")):
        close(ours[col][is_sd], rr[rcol][is_sd], rtol=1e-4, atol=1e-6)
        close(ours[col][~is_sd], rr[rcol][~is_sd], rtol=2e-3, atol=1e-4)
    # variance intervals are the squared SD intervals
    close(ours["ci_lower"][is_sd], rr["lower"][is_sd] ** 2, rtol=3e-4)


@pytest.mark.parametrize(
    "name", [n for n in MODELS if n != "dyestuff2_singular_reml"]
)
def test_satterthwaite_df_match_lmertest(name: str) -> None:
    r, res = ref(name), fit(name)
    fe = res.fe
    close(fe["df"], r["fe"]["df"], rtol=1e-2, atol=0)
    close(fe["p_value"], r["fe"]["p"], rtol=2e-2, atol=1e-12)


@pytest.mark.parametrize(
    "name",
    [n for n in MODELS if "kr" in ref(n).get("fe", {}) or "df_kr" in ref(n).get("fe", {})],
)
def test_kenward_roger_match_pbkrtest(name: str) -> None:
    r, res = ref(name), fit(name)
    kr = res.fixed_effects(ddf="kenward-roger")
    close(kr["std_error"], r["fe"]["std_error_kr"], rtol=1e-4)
    close(kr["df"], r["fe"]["df_kr"], rtol=1e-2, atol=0)


@pytest.mark.parametrize("name", [n for n in MODELS if "cr2" in ref(n)])
def test_cr2_match_clubsandwich(name: str) -> None:
    r, res = ref(name), fit(name)
    cr = res.cr2(cluster=None if name != "sleepstudy_reml" else "Subject")
    close(cr["std_error"], r["cr2"]["std_error"], rtol=1e-4)
    close(cr["df"], r["cr2"]["df"], rtol=1e-2, atol=0)


@pytest.mark.parametrize("name", [n for n in MODELS if "ranef" in ref(n)])
def test_conditional_modes_and_sds_match_lme4(name: str) -> None:
    r, res = ref(name), fit(name)
    ours = res.ranef()
    rr = pd.DataFrame(r["ranef"])
    rr["term"] = rr["term"].map(r_term)
    m = rr.merge(ours, on=["group", "term", "level"], suffixes=("_r", ""))
    assert len(m) == len(rr) == len(ours)
    scale = np.abs(m["mode_r"]).max()
    close(m["mode"], m["mode_r"], rtol=1e-3, atol=1e-4 * scale)
    close(m["sd"], m["sd_r"], rtol=1e-3)


def test_fitted_values_match_lme4() -> None:
    r, res = ref("sleepstudy_reml"), fit("sleepstudy_reml")
    close(res.fitted, r["fitted"], rtol=1e-6)
    close(res.predict(data("sleep")), r["fitted"], rtol=1e-6)


@pytest.mark.parametrize("name", [n for n in MODELS if "reliability" in ref(n)])
def test_hlm_reliability_matches_r_formula(name: str) -> None:
    r, res = ref(name), fit(name)
    rel = res.reliability()
    close(rel["reliability"], np.atleast_1d(r["reliability"]), rtol=1e-3)


def test_likelihood_ratio_test_matches_anova() -> None:
    small = pds.lmm(
        "math ~ year * (black + hispanic) + (year | childid) + (year | schoolid)",
        data("egsingle"),
        reml=False,
    )
    lr = pds.multilevel.lrtest(small, fit("egsingle_cond_ml"))
    r = ref("egsingle_lrt")
    assert lr["df"].iloc[1] == r["df"]
    assert abs(lr["chisq"].iloc[1] - r["chisq"]) < 2e-3
    close(lr["p"].iloc[1], r["p"], rtol=1e-2)
    assert abs(small.loglike - ref("egsingle_cond_small_ml")["loglik"]) < 1e-3


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_known_variance_matches_nlme_fixed_sigma(method: str) -> None:
    r = ref(f"vknown_{method}")
    agg = pd.DataFrame(r["data"])
    res = pds.lmm(
        "ybar ~ meanses + sector + (1 | school)", agg, reml=method == "reml", known_variance="v"
    )
    close(res.fe["estimate"], r["fe"]["estimate"], rtol=1e-4)
    close(res.fe["std_error"], r["fe"]["std_error"], rtol=1e-4)
    close(res.varcomp["estimate"].iloc[0], r["tau2"], rtol=1e-4)
    assert abs(res.loglike - r["loglik"]) < 1e-3
    assert "Residual" not in res.varcomp["group"].tolist()
    assert np.isfinite(res.fe["df"]).all()


def test_icc_matches_varcorr_shares() -> None:
    r, res = ref("egsingle_nested_icc"), fit("egsingle_nested_intercepts_reml")
    icc = res.icc()
    assert icc["group"].tolist() == r["group"]
    close(icc["share"], r["share"])
    close(icc["icc"], r["icc"])


def test_published_egsingle_values() -> None:
    # HLM manual / mlmRev vignette: fixed effects -0.7792 (intercept) and 0.7631 (year)
    fe = fit("egsingle_uncond_reml").fe
    assert round(fe.loc["Intercept", "estimate"], 4) == -0.7792
    assert round(fe.loc["year", "estimate"], 4) == 0.7631


def test_published_raudenbush_bryk_table_4_2_and_4_4() -> None:
    # Raudenbush & Bryk (2002) Table 4.2: gamma00 = 12.64, tau00 = 8.61, sigma2 = 39.15,
    # reliability 0.901; Table 4.4: gamma10 = 2.19, tau00 = 8.68, tau11 = 0.69, sigma2 = 36.70
    t42 = fit("hsb82_table4_2_reml")
    assert round(t42.fe.loc["Intercept", "estimate"], 2) == 12.64
    vc = t42.varcomp.set_index("group")["estimate"]
    assert round(vc["school"], 2) == 8.61 and round(vc["Residual"], 2) == 39.15
    assert round(t42.reliability()["reliability"].iloc[0], 3) == 0.901
    t44 = fit("hsb82_table4_4_reml")
    assert round(t44.fe.loc["cses", "estimate"], 2) == 2.19
    vc4 = t44.varcomp
    assert round(vc4.estimate.iloc[0], 2) == 8.68 and round(vc4.estimate.iloc[3], 2) == 36.70


def test_ddf_default_is_satterthwaite_and_kenward_roger_is_an_option() -> None:
    dname, formula, reml, kw = MODELS["hsb82_table4_4_reml"]
    r = ref("hsb82_table4_4_reml")
    default = pds.lmm(formula, data(dname))
    assert default.ddf == "satterthwaite"
    close(default.fe["df"], r["fe"]["df"], rtol=1e-2, atol=0)
    kr = pds.lmm(formula, data(dname), ddf="kenward-roger")
    close(kr.fe["df"], r["fe"]["df_kr"], rtol=1e-2, atol=0)
    close(kr.fe["std_error"], r["fe"]["std_error_kr"], rtol=1e-4)
    close(kr.fe["p_value"], r["fe"]["p_kr"], rtol=2e-2, atol=1e-12)
