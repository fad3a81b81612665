"""Issue 12's bad inputs of pds.vam, each asserting the new behaviour.

Before: one ``inf`` in the outcome gave every teacher 0.0 with SE 0.0 (``ols``) or NaN
(``eb``, ``fe``); a dosage of 5.0 was accepted (and shrank the SEs by about a third).
Now both are refused with a DataValidationError naming table, column, rule and rows;
missing values are dropped, logged and warned about; an SE of exactly 0 is never
reported (NaN, ``flag=True`` and an EstimationWarning).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    t = np.repeat(np.arange(24), 20)
    year = np.tile(np.repeat([1, 2], 10), 24)
    d = pd.DataFrame({"teacher": t, "year": year, "prior": rng.normal(size=len(t)),
                      "frl": rng.integers(0, 2, len(t)).astype(float)})
    d["score"] = 0.6 * d["prior"] + rng.normal(0, 0.4, 24)[t] + rng.normal(size=len(t))
    return d


def _va(d: pd.DataFrame, method: str = "eb", **kw):
    kw = {"prior": "prior", "unit": "teacher", "year": "year", "degree": 1,
          "progress": False, "method": method, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        return pds.vam.value_added(d, "score", **kw)


@pytest.mark.parametrize("method", pds.vam.METHODS)
def test_one_inf_in_the_outcome_is_refused(df: pd.DataFrame, method: str) -> None:
    d = df.copy()
    d.loc[17, "score"] = np.inf
    with pytest.raises(pds.DataValidationError,
                       match=r"table 'value_added data'.*\n.*column 'score', rule finite.*row 17"):
        _va(d, method)


def test_inf_in_priors_and_numeric_controls_is_refused(df: pd.DataFrame) -> None:
    for col in ("prior", "frl"):
        d = df.copy()
        d.loc[3, col] = -np.inf
        with pytest.raises(pds.DataValidationError, match=f"column '{col}', rule finite"):
            _va(d, controls=["frl"])


@pytest.mark.parametrize("value", [5.0, -1.0, 1.0001])
def test_dosage_outside_0_1_is_refused(df: pd.DataFrame, value: float) -> None:
    d = df.assign(dose=1.0)
    d.loc[[2, 9], "dose"] = value
    with pytest.raises(pds.DataValidationError,
                       match=r"column 'dose', rule range \[0, 1\]: 2 row\(s\), keys row 2, row 9"):
        _va(d, method="ols", dosage="dose")


def test_zero_dosage_dropped_and_logged(df: pd.DataFrame) -> None:
    d = df.assign(dose=1.0)
    d.loc[:4, "dose"] = 0.0
    res = _va(d, method="ols", dosage="dose")
    assert res.sample_log.dropped == {"zero dosage 'dose'": 5}


def test_missing_marks_are_dropped_logged_and_warned(df: pd.DataFrame) -> None:
    d = df.assign(score=df["score"].astype(object))
    d.loc[[0, 1], "score"] = "*"
    d.loc[2, "score"] = ""
    d.loc[3, "score"] = None
    d.loc[4, "teacher"] = None
    with pytest.warns(pds.DroppedRowsWarning, match=r"dropped 4 row\(s\) with a missing 'score'"):
        res = pds.vam.value_added(d, "score", prior="prior", unit="teacher", year="year",
                                  method="ols", degree=1, progress=False)
    assert res.sample_log.dropped == {"missing 'score'": 4, "missing 'teacher'": 1}
    d.loc[6, "score"] = "high"
    with pytest.raises(pds.DataValidationError, match="not a number"):
        _va(d)


def test_non_integer_year_and_bad_arguments_refused(df: pd.DataFrame) -> None:
    with pytest.raises(pds.DataValidationError, match="column 'year', rule integer"):
        _va(df.assign(year=df["year"] + 0.5))
    with pytest.raises(pds.ModelSpecificationError, match="level"):
        _va(df, level=95)
    with pytest.raises(pds.ModelSpecificationError, match="degree"):
        _va(df, degree=0)
    with pytest.raises(pds.ModelSpecificationError, match="DataFrame"):
        pds.vam.value_added(df.to_dict(), "score", unit="teacher")


@pytest.mark.parametrize("method", ["eb", "re"])
def test_no_zero_standard_error_is_reported(df: pd.DataFrame, method: str) -> None:
    # teacher means exactly equal: the unit variance is estimated <= 0, every teacher is
    # shrunk to the mean with posterior SD 0 -> NaN, flagged, with a warning
    e = np.random.default_rng(1).normal(size=len(df))
    d = df.assign(score=e - pd.Series(e).groupby(df["teacher"]).transform("mean").to_numpy())
    with pytest.warns(pds.EstimationWarning, match="no usable standard error"):
        res = pds.vam.value_added(d, "score", unit="teacher", year="year", method=method,
                                  progress=False)
    est = res.estimates
    assert est["flag"].all() and est["std_error"].isna().all()
    assert not (res.effects["std_error"] == 0).any()


def test_cfr_unit_years_without_a_forecast_are_flagged(df: pd.DataFrame) -> None:
    d = pd.concat([df, df.query("teacher == 0").assign(teacher=99, year=1)])
    d = d[~((d["teacher"] == 99) & (d["year"] == 2))]
    with pytest.warns(pds.EstimationWarning, match="no estimate"):
        res = pds.vam.value_added(d, "score", prior="prior", unit="teacher", year="year",
                                  method="cfr", degree=1, progress=False)
    row = res.estimates.query("unit == 99")
    assert row["flag"].all() and row["estimate"].isna().all()


def test_sgp_bad_input(df: pd.DataFrame) -> None:
    d = df.copy()
    d.loc[5, "prior"] = np.inf
    with pytest.raises(pds.DataValidationError, match=r"table 'sgp data'.*\n.*column 'prior'"):
        pds.vam.sgp(d, "score", "prior", progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="single value"):
        pds.vam.sgp(df.assign(prior=1.0), "score", "prior", progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="taus"):
        pds.vam.sgp(df, "score", "prior", taus=[0.5, 1.0], progress=False)
    # a missing target gives a missing growth-to-target (it used to read as SGP 1)
    g = df.assign(goal=df["prior"] + 1)
    g.loc[[0, 1], "goal"] = np.nan
    res = pds.vam.sgp(g, "score", "prior", target="goal", taus=[0.25, 0.5, 0.75],
                      progress=False)
    assert res.students["sgp_target"].isna().sum() == 2


def test_sgp_units_without_spread_are_flagged(df: pd.DataFrame) -> None:
    d = df.assign(school=np.where(df.index == 0, "alone", "big"))
    with pytest.warns(pds.EstimationWarning, match="no bootstrap spread"):
        res = pds.vam.sgp(d, "score", "prior", unit="school", taus=[0.25, 0.5, 0.75],
                          n_boot=30, progress=False)
    alone = res.estimates.query("unit == 'alone'")
    assert alone["flag"].all() and alone["std_error"].isna().all()
    assert not (res.estimates["std_error"] == 0).any()


def test_classify_bad_input() -> None:
    eff = pd.DataFrame({"unit": list("abcd"), "estimate": [0.3, 0.1, 0.0, -0.2],
                        "std_error": [0.1, 0.0, 0.1, 0.1]})
    with pytest.raises(pds.DataValidationError, match=r"column 'std_error', rule range \(0"):
        pds.vam.classify(eff)
    with pytest.raises(pds.DataValidationError, match="column 'estimate', rule finite"):
        pds.vam.classify(eff.assign(estimate=[np.inf, 0, 0, 0], std_error=0.1))
    with pytest.raises(pds.ModelSpecificationError, match="cut"):
        pds.vam.classify(eff.assign(std_error=0.1), cut=1.5)
    with pytest.raises(pds.ModelSpecificationError, match="lacks column"):
        pds.vam.classify(eff.drop(columns="std_error"))


def test_diagnostics_bad_input(df: pd.DataFrame) -> None:
    res = _va(df, method="cfr")
    with pytest.raises(pds.ModelSpecificationError, match="value_added result"):
        pds.vam.forecast_bias(res.effects)
    d = df.copy()
    d.loc[3, "prior"] = np.inf
    with pytest.raises(pds.DataValidationError, match="column 'prior'"):
        pds.vam.placebo_test(res, d, "prior")
    d.loc[3, "prior"] = np.nan
    with pytest.warns(pds.DroppedRowsWarning, match="dropped 1 row"):
        pds.vam.placebo_test(res, d, "prior")
    with pytest.raises(pds.ModelSpecificationError, match="groups"):
        pds.vam.transition_matrix(res, groups=1)


def test_analysis_file_bad_input() -> None:
    enr = pd.DataFrame({"student_id": ["a", "b", "a", "b"], "year": [2005, 2005, 2006, 2006],
                        "grade": [3, 3, 4, 4], "subject": "math", "school_id": "s",
                        "district_id": "d", "teacher_id": ["t1", "t1", "t2", "t2"],
                        "class_id": ["c1", "c1", "c2", "c2"], "dosage": 1.0})
    sc = enr[["student_id", "year", "grade", "subject"]].assign(
        state="MA", csem=5.0, scale_score=[200.0, 210.0, 220.0, 240.0])
    assert len(pds.vam.analysis_file(enr, sc)) == 4
    with pytest.raises(pds.DataValidationError, match="column 'scale_score', rule finite"):
        pds.vam.analysis_file(enr, sc.assign(scale_score=[200.0, np.inf, 220.0, 240.0]))
    with pytest.raises(pds.DataValidationError, match=r"column 'dosage', rule range \[0, 1\]"):
        pds.vam.analysis_file(enr.assign(dosage=5.0), sc)
    with pytest.raises(pds.DataValidationError, match="unique key"):
        pds.vam.analysis_file(enr, pd.concat([sc, sc.iloc[:1]]))


def test_residualize_refuses_non_finite_input() -> None:
    from pdstats.vam.residualize import residualize

    x = np.arange(6.0).reshape(-1, 1)
    y = np.array([1.0, 2.0, np.inf, 4.0, 5.0, 7.0])
    with pytest.raises(pds.DataValidationError, match="column 'y'.*row 2"):
        residualize(y, x, ["x"])
    with pytest.raises(pds.ModelSpecificationError, match="one name per column"):
        residualize(np.ones(6), x, ["x", "z"])
