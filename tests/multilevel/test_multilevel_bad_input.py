"""Issue 12's bad inputs of pds.lmm, each with lme4's decision on the same data.

lme4's decisions and fits come from ``tests/reference/multilevel/bad_input_lme4.R``
(sleepstudy plus deterministic extra columns): it refuses a one-level grouping factor and
non-finite values; it "fits" a constant response and ``(const | g)`` only with
convergence failures (a zero residual SD, a degenerate Hessian), which pdstats refuses
with a clear error; it fits ``(0 + const | g)`` and a response shifted by 1e8.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.data.datasets import load_rdataset

REF = json.loads((Path(__file__).parents[1] / "reference" / "multilevel"
                  / "bad_input_lme4.json").read_text())


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    d = load_rdataset("lme4", "sleepstudy")
    codes = pd.factorize(d["Subject"].astype(str), sort=True)[0] + 1
    return d.assign(one="a", half=codes % 2, const=2.0, flat=3.0)


def _fit(formula: str, data: pd.DataFrame, **kw) -> pds.multilevel.LMMResult:
    return pds.lmm(formula, data, **kw)


def test_one_level_grouping_factor_refused_as_lme4(sleep: pd.DataFrame) -> None:
    assert REF["one_level_group"]["decision"] == "error"
    with pytest.raises(pds.ModelSpecificationError, match=r"'one'.*> 1 sampled level"):
        _fit("Reaction ~ Days + (1 | one)", sleep)
    # one level left after dropping missing rows counts too
    d = sleep.assign(g=np.where(sleep.index < 10, "a", None))
    with pytest.warns(pds.DroppedRowsWarning), pytest.raises(pds.ModelSpecificationError,
                                                            match="1 level"):
        _fit("Reaction ~ Days + (1 | g)", d)


def test_constant_response_refused(sleep: pd.DataFrame) -> None:
    lme4 = REF["constant_response"]
    assert lme4["decision"] == "fit" and lme4["sdcor"] == [0, 0] and lme4["warnings"]
    with pytest.raises(pds.ModelSpecificationError, match=r"'flat'.*constant"):
        _fit("flat ~ Days + (1 | Subject)", sleep)
    with pytest.raises(pds.ModelSpecificationError, match="linear function of the fixed"):
        _fit("lin ~ Days + (1 | Subject)", sleep.assign(lin=3 + 2 * sleep["Days"]))


def test_constant_random_slope_refused_and_no_intercept_version_fits(sleep) -> None:
    assert any("degenerate" in w for w in REF["constant_slope"]["warnings"])
    with pytest.raises(pds.ModelSpecificationError, match=r"collinear \(const is constant\)"):
        _fit("Reaction ~ Days + (const | Subject)", sleep)
    ref = REF["constant_slope_no_intercept"]
    fit = _fit("Reaction ~ Days + (0 + const | Subject)", sleep)
    np.testing.assert_allclose(fit.fe["estimate"], ref["fixef"], rtol=1e-6)
    np.testing.assert_allclose(fit.varcomp["sd"], ref["sdcor"], rtol=1e-4)


@pytest.mark.parametrize("shift", ["1e8", "1e12"])
def test_shifted_response_fits(sleep: pd.DataFrame, shift: str) -> None:
    base = REF["base"]
    y = sleep.assign(ys=sleep["Reaction"] + float(shift))
    with warnings.catch_warnings():
        warnings.simplefilter("error", pds.EstimationWarning)  # converged, not singular
        fit = _fit("ys ~ Days + (Days | Subject)", y)
    est = fit.fe["estimate"].to_numpy()
    # the slope and the variance components do not move; the intercept moves by the shift
    # (to the precision the shifted numbers still carry; lme4 at 1e12: 5e-5 on the slope)
    tol = {"1e8": 1e-9, "1e12": 1e-5}[shift]
    np.testing.assert_allclose(est[1], base["fixef"][1], rtol=tol)
    np.testing.assert_allclose(est[0] - float(shift), base["fixef"][0], rtol=tol)
    np.testing.assert_allclose(fit.varcomp["sd"].dropna(), np.array(base["sdcor"])[[0, 1, 3]],
                               rtol=100 * tol)
    # lme4 itself fits 1e8 (and 1e12 with a convergence warning)
    np.testing.assert_allclose(REF[f"shift_{shift}"]["fixef"][1], base["fixef"][1], rtol=1e-3)


def test_non_finite_values_refused_as_lme4(sleep: pd.DataFrame) -> None:
    assert REF["inf_response"]["decision"] == REF["inf_covariate"]["decision"] == "error"
    d = sleep.copy()
    d.loc[4, "Reaction"] = np.inf
    with pytest.raises(pds.DataValidationError, match=r"column 'Reaction', rule finite.*row 4"):
        _fit("Reaction ~ Days + (1 | Subject)", d)
    d = sleep.astype({"Days": float})
    d.loc[6, "Days"] = -np.inf
    with pytest.raises(pds.DataValidationError, match=r"column 'Days', rule finite.*row 6"):
        _fit("Reaction ~ Days + (1 | Subject)", d)
    w = np.ones(len(sleep))
    w[3] = np.inf
    with pytest.raises(pds.DataValidationError, match="column 'weights'"):
        _fit("Reaction ~ Days + (1 | Subject)", sleep, weights=w)


def test_missing_marks_dropped_logged_and_warned(sleep: pd.DataFrame) -> None:
    d = sleep.assign(Reaction=sleep["Reaction"].astype(object))
    d.loc[[0, 1], "Reaction"] = "*"
    d.loc[2, "Reaction"] = ""
    d.loc[3, "Reaction"] = None
    with pytest.warns(pds.DroppedRowsWarning, match=r"dropped 4 row\(s\) with a missing 'Reaction'"):
        fit = _fit("Reaction ~ Days + (1 | Subject)", d)
    assert fit.sample_log.dropped == {"missing 'Reaction'": 4}
    assert fit.nobs == len(sleep) - 4
    d.loc[5, "Reaction"] = "fast"
    with pytest.raises(pds.DataValidationError, match="not a number"):
        _fit("Reaction ~ Days + (1 | Subject)", d)


def test_too_few_rows_refused(sleep: pd.DataFrame) -> None:
    for n in (0, 1, 3):
        with pytest.raises(pds.PdstatsError):
            _fit("Reaction ~ Days + (1 | Subject)", sleep.iloc[:n])


def test_raw_linear_algebra_errors_are_translated(sleep, monkeypatch) -> None:
    from pdstats.multilevel.deviance import DevianceEvaluator

    def broken(self, theta, reml):
        raise np.linalg.LinAlgError("Matrix is not positive definite")

    monkeypatch.setattr(DevianceEvaluator, "deviance", broken)
    with pytest.raises(pds.ConvergenceError, match="could not be factored"):
        _fit("Reaction ~ Days + (1 | Subject)", sleep)


def test_two_level_factor_fits_and_singular_is_flagged(sleep: pd.DataFrame) -> None:
    ref = REF["two_level_group"]
    fit = _fit("Reaction ~ Days + (1 | half)", sleep)
    np.testing.assert_allclose(fit.fe["estimate"], ref["fixef"], rtol=1e-5)
    np.testing.assert_allclose(fit.varcomp["sd"], ref["sdcor"], rtol=1e-3)
    assert fit.singular == ref["singular"]
    # a zero variance is a singular fit, flagged with a warning (lme4: isSingular)
    d = sleep.assign(noise=np.tile([0.0, 1.0], len(sleep) // 2))
    with pytest.warns(pds.EstimationWarning, match="singular"):
        sing = _fit("Reaction ~ Days + (1 | noise)", d)
    assert sing.singular
