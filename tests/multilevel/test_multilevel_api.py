"""Formula parsing, input validation, sample log, predictions, bootstrap, singular fits."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.errors import (
    DataValidationError,
    EstimationWarning,
    ModelSpecificationError,
    PdstatsError,
)
from pdstats.multilevel import parse_formula
from pdstats.multilevel.deviance import DevianceEvaluator
from pdstats.multilevel.simulate import simulate_growth


def test_formula_parsing_variants() -> None:
    p = parse_formula("math ~ year * (black + lowinc) + (year | childid) + (year | schoolid)")
    assert p.response == "math"
    assert p.fixed == "year * (black + lowinc)"
    assert [(t.expr, t.group_name) for t in p.random] == [
        ("year", "childid"),
        ("year", "schoolid"),
    ]
    nested = parse_formula("y ~ x + (1 | g1/g2)")
    assert [t.group_name for t in nested.random] == ["g1", "g2:g1"]
    inter = parse_formula("y ~ (0 + x | a:b)")
    assert inter.fixed == "1" and inter.random[0].group == ("a", "b")
    assert inter.random[0].expr == "0 + x"
    dbl = parse_formula("y ~ x + (x || g)")
    assert [t.expr for t in dbl.random] == ["1", "0 + x"]


@pytest.mark.parametrize(
    "formula",
    ["y x + (1|g)", "y ~ x", "~ x + (1|g)", "y ~ x + (1 | g + h)", "y ~ (x | g"],
)
def test_bad_formulas_raise_model_specification_error(formula: str) -> None:
    with pytest.raises(ModelSpecificationError):
        parse_formula(formula)


@pytest.fixture(scope="module")
def growth() -> pd.DataFrame:
    return simulate_growth(12, 6, 4, random_state=3)


def test_missing_values_dropped_and_logged_by_variable(growth: pd.DataFrame) -> None:
    df = growth.copy()
    df.loc[[0, 5, 9], "y"] = np.nan
    df.loc[[5, 20], "x"] = np.nan  # row 5 counted once, under y
    df["school"] = df["school"].astype("float")
    df.loc[30, "school"] = np.nan
    with pytest.warns(pds.DroppedRowsWarning, match="dropped 3 row.*'y'"):
        fit = pds.lmm("y ~ year + x + (1 | student) + (1 | school)", df)
    log = fit.sample_log
    assert log.n_in == len(df)
    assert log.dropped == {"missing 'y'": 3, "missing 'x'": 1, "missing 'school'": 1}
    assert fit.nobs == log.n_used == len(df) - 5
    assert "dropped" in fit.summary()


def test_bad_inputs_raise_named_errors(growth: pd.DataFrame) -> None:
    with pytest.raises(ModelSpecificationError, match="nothere"):
        pds.lmm("y ~ nothere + (1 | school)", growth)
    with pytest.raises(ModelSpecificationError, match="data must be a pandas DataFrame"):
        pds.lmm("y ~ 1 + (1 | school)", growth.to_numpy())
    bad = growth.copy()
    bad["w"] = 1.0
    bad.loc[3, "w"] = -1.0
    with pytest.raises(DataValidationError, match="weights"):
        pds.lmm("y ~ 1 + (1 | school)", bad, weights="w")
    with pytest.raises(ModelSpecificationError, match="not both"):
        pds.lmm("y ~ 1 + (1 | school)", bad, weights="w", known_variance="w")
    with pytest.raises(ModelSpecificationError, match="not identifiable"):
        pds.lmm("y ~ 1 + (1 | rowid)", growth.assign(rowid=np.arange(len(growth))))
    with pytest.raises(ModelSpecificationError, match="rank deficient"):
        pds.lmm("y ~ x + x2 + (1 | school)", growth.assign(x2=2 * growth["x"]))
    assert issubclass(ModelSpecificationError, PdstatsError)


def test_fe_table_layout_and_intervals(growth: pd.DataFrame) -> None:
    fit = pds.lmm("y ~ year * x + (year | student) + (year | school)", growth)
    fe = fit.fe
    assert fe.index.tolist() == ["Intercept", "year", "x", "year:x"]
    assert fe.columns.tolist() == ["estimate", "std_error", "df", "statistic", "p_value",
                                   "ci_lower", "ci_upper"]
    pd.testing.assert_frame_equal(fit.estimates.set_index("term"), fe)
    assert (fe["ci_lower"] < fe["estimate"]).all() and (fe["estimate"] < fe["ci_upper"]).all()
    z = fit.fixed_effects(ddf="z")
    # t intervals with finite df are wider than z intervals
    assert ((fe["ci_upper"] - fe["ci_lower"]) > (z["ci_upper"] - z["ci_lower"])).all()
    vc = fit.varcomp
    assert vc.columns.tolist() == ["group", "term1", "term2", "estimate", "sd", "corr"]
    assert vc["group"].iloc[-1] == "Residual"
    html = fit._repr_html_()
    assert "Fixed effects" in html and "Variance components" in html
    assert fit.to_frame().equals(fit.estimates)
    ax = fit.plot()
    assert len(ax.get_yticklabels()) == 4


def test_predict_newdata_and_unseen_levels(growth: pd.DataFrame) -> None:
    fit = pds.lmm("y ~ year * x + (year | student) + (year | school)", growth)
    np.testing.assert_allclose(fit.predict(growth), fit.fitted, rtol=1e-10)
    new = growth.head(4).assign(student=-1, school=-1)
    np.testing.assert_allclose(
        fit.predict(new), fit.predict(growth.head(4), include_random=False), rtol=1e-10
    )
    np.testing.assert_allclose(fit.resid, growth["y"] - fit.fitted)


def test_singular_fit_is_flagged() -> None:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(15), 8)
    e = rng.normal(size=len(g))
    # identical group means: the between-group variance estimate is exactly at the bound
    df = pd.DataFrame({"g": g, "y": e - pd.Series(e).groupby(g).transform("mean").to_numpy()})
    with pytest.warns(EstimationWarning, match="singular"):
        fit = pds.lmm("y ~ 1 + (1 | g)", df)
    assert fit.singular
    assert fit.varcomp["estimate"].iloc[0] < 1e-6


def test_well_determined_fit_raises_no_warning(growth: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)
        fit = pds.lmm("y ~ year * x + (year | student) + (year | school)", growth)
    assert fit.converged and not fit.singular


def test_crossed_and_nested_paths_agree_on_nested_data(growth: pd.DataFrame) -> None:
    # the general (crossed) path must reproduce the nested fast path
    fit = pds.multilevel.LMM("y ~ year + (year | student) + (1 | school)", growth)
    assert fit.evaluator.nested
    # the evaluator sees the response net of its least-squares fit (see LMM._attach)
    y = fit.design.y - fit.design.X @ fit._offset
    ev_general = DevianceEvaluator(dataclasses.replace(fit.design, y=y))
    ev_general.nested = False
    ev_general._setup_general(fit.design.prior_weights, np.column_stack([fit.design.X, y]))
    theta = np.array([0.9, 0.1, 0.3, 0.6])
    for reml in (True, False):
        assert ev_general.deviance(theta, reml) == pytest.approx(
            fit.evaluator.deviance(theta, reml), rel=1e-10
        )
    a, b = fit.evaluator.solve(theta), ev_general.solve(theta)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-9, atol=1e-10)
    ca, cb = fit.evaluator.conditional_u_cov(a), ev_general.conditional_u_cov(b)
    for x, y in zip(ca, cb, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-12)


def test_bootstrap_reproducible_and_consistent(growth: pd.DataFrame) -> None:
    fit = pds.lmm("y ~ year + (1 | student) + (1 | school)", growth)
    b1 = fit.bootstrap(n_boot=40, random_state=11, progress=False)
    b2 = fit.bootstrap(n_boot=40, random_state=11, progress=False)
    pd.testing.assert_frame_equal(b1.table, b2.table)
    tab = b1.table
    assert tab.index[:2].tolist() == ["Intercept", "year"]
    # bootstrap SEs of the fixed effects are close to the model-based SEs
    ratio = tab.loc[["Intercept", "year"], "std_error"] / fit.std_errors
    assert ((ratio > 0.6) & (ratio < 1.6)).all()
    assert (tab["ci_lower"] <= tab["ci_upper"]).all()
    assert b1.sample_log.n_used == 40 - b1.n_failed


def test_icc_and_reliability_shapes(growth: pd.DataFrame) -> None:
    fit = pds.lmm("y ~ year + (1 | student) + (1 | school)", growth)
    icc = fit.icc()
    assert icc["group"].tolist() == ["student", "school"]
    assert 0 < icc["icc"].iloc[1] < icc["icc"].iloc[0] < 1
    rel = fit.reliability()
    assert ((rel["reliability"] > 0) & (rel["reliability"] < 1)).all()


def test_bootstrap_progress_bar_can_be_switched_off(growth: pd.DataFrame, capsys) -> None:
    fit = pds.lmm("y ~ year + (1 | school)", growth)
    fit.bootstrap(n_boot=3, random_state=1, progress=True)
    assert "parametric bootstrap" in capsys.readouterr().err
    fit.bootstrap(n_boot=3, random_state=1, progress=False)
    assert "parametric bootstrap" not in capsys.readouterr().err


def test_varcomp_intervals_by_bootstrap_cover_sds_and_correlations(growth: pd.DataFrame) -> None:
    fit = pds.lmm("y ~ year + (year | student) + (1 | school)", growth)
    ci = fit.varcomp_ci(method="bootstrap", n_boot=30, random_state=4, progress=False)
    again = fit.varcomp_ci(method="bootstrap", n_boot=30, random_state=4, progress=False)
    pd.testing.assert_frame_equal(ci, again)
    vc = fit.varcomp
    assert ci[["group", "term1", "term2"]].astype(str).equals(
        vc[["group", "term1", "term2"]].astype(str))
    is_var = vc["term2"].isna().to_numpy()
    np.testing.assert_allclose(ci["sdcor"][is_var], vc["sd"][is_var])
    np.testing.assert_allclose(ci["sdcor"][~is_var], vc["corr"][~is_var])
    assert ci[["ci_lower", "ci_upper", "sdcor_lower", "sdcor_upper"]].notna().all().all()
    assert (ci["ci_lower"] <= ci["ci_upper"]).all() and (ci["sdcor_lower"] <= ci["sdcor_upper"]).all()
    corr = ci[~is_var]
    assert ((corr["sdcor_lower"] >= -1) & (corr["sdcor_upper"] <= 1)).all()
    # percentile intervals of SDs and of variances are (up to interpolation) square/root
    np.testing.assert_allclose(ci["sdcor_upper"][is_var] ** 2, ci["ci_upper"][is_var], rtol=0.1)
    with pytest.raises(ModelSpecificationError, match="method"):
        fit.varcomp_ci(method="wald")


def test_profile_of_reml_criterion_and_boundary_ends() -> None:
    from pdstats.data.datasets import load_rdataset
    from pdstats.multilevel.profile import profile_varpar

    ss = load_rdataset("lme4", "sleepstudy")
    fit = pds.lmm("Reaction ~ Days + (Days | Subject)", ss)
    ml = profile_varpar(fit)
    reml = profile_varpar(fit, criterion="reml")
    # the REML profile is centred on the (larger) REML SDs: both ends move up
    sds = (reml["kind"] == "sd") & (reml["group"] != "Residual")
    assert (reml.loc[sds, "ci_lower"] > ml.loc[sds, "ci_lower"]).all()
    assert (reml.loc[sds, "ci_upper"] > ml.loc[sds, "ci_upper"]).all()
    assert ((reml["ci_lower"] < reml["estimate"]) & (reml["estimate"] < reml["ci_upper"])).all()
    with pytest.raises(ModelSpecificationError, match="criterion"):
        profile_varpar(fit.refit_ml(), criterion="reml")
    # a singular fit: the SD interval starts at its bound, 0
    dy = load_rdataset("lme4", "Dyestuff2")
    with pytest.warns(EstimationWarning, match="singular"):
        sing = pds.lmm("Yield ~ 1 + (1 | Batch)", dy)
    prof = profile_varpar(sing)
    assert prof["ci_lower"].iloc[0] == 0.0 and prof["ci_upper"].iloc[0] > 0.5
