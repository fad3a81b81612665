"""The result contract for every result class of pds.lmm / pds.multilevel."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from contract.checks import assert_contract
from pdstats.multilevel.simulate import simulate_growth

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"LMMResult", "BootstrapResult"}


@pytest.fixture(scope="module")
def growth() -> pd.DataFrame:
    return simulate_growth(12, 6, 4, random_state=3)


@pytest.mark.parametrize("ddf", ["satterthwaite", "kenward-roger", "residual", "z"])
def test_lmm_result_contract(growth: pd.DataFrame, ddf: str) -> None:
    fit = pds.lmm("y ~ year + x + (year | student) + (1 | school)", growth, ddf=ddf)
    assert_contract(fit)
    est = fit.estimates
    assert est.columns.tolist() == ["term", "estimate", "std_error", "df", "statistic",
                                    "p_value", "ci_lower", "ci_upper"]
    # .fe is the same table indexed by term; conf_int uses the fit's df
    pd.testing.assert_frame_equal(fit.fe, est.set_index("term"))
    ci = fit.conf_int(0.95).set_index("term")
    np.testing.assert_allclose(ci[["ci_lower", "ci_upper"]], fit.fe[["ci_lower", "ci_upper"]],
                               rtol=1e-12)
    if ddf != "z":  # finite df: the interval is wider than the normal one
        z = fit.fixed_effects(ddf="z")
        assert ((fit.fe["ci_upper"] - fit.fe["ci_lower"]) > (z["ci_upper"] - z["ci_lower"])).all()
    assert (est["std_error"] > 0).all()


def test_bootstrap_result_contract(growth: pd.DataFrame) -> None:
    fit = pds.lmm("y ~ year + (1 | school)", growth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        boot = fit.bootstrap(n_boot=30, random_state=2, progress=False)
    assert_contract(boot)
    est = boot.estimates
    assert est["term"].tolist()[:2] == ["Intercept", "year"]
    pd.testing.assert_frame_equal(boot.table, est.set_index("term"))
    # percentile intervals: conf_int(0.95) reproduces the stored interval
    ci = boot.conf_int(0.95)
    np.testing.assert_allclose(ci["ci_lower"], est["ci_lower"].fillna(ci["ci_lower"]))
    assert not boot.estimates["flag"].any()


def test_bootstrap_refuses_bad_arguments(growth: pd.DataFrame) -> None:
    fit = pds.lmm("y ~ year + (1 | school)", growth)
    with pytest.raises(pds.ModelSpecificationError, match="n_boot"):
        fit.bootstrap(n_boot=1, progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="level"):
        fit.bootstrap(n_boot=5, level=95, progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="LMMResult"):
        pds.multilevel.parametric_bootstrap(growth, n_boot=5, progress=False)
