"""The result contract for every result class of pds.vam."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from contract.checks import assert_contract

#: Result classes whose contract this file checks (tests/contract/test_every_result_class.py).
COVERS = {"VAResult", "SGPResult", "ClassificationResult"}


@pytest.fixture(scope="module")
def va_data() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n_t, per = 30, 24
    t = np.repeat(np.arange(n_t), per)
    year = np.tile(np.repeat([1, 2, 3], per // 3), n_t)
    cls = t * 10 + year
    df = pd.DataFrame({"teacher": t, "year": year, "classroom": cls,
                       "prior": rng.normal(size=n_t * per)})
    df["score"] = (0.6 * df["prior"] + rng.normal(0, 0.3, n_t)[t]
                   + rng.normal(0, 0.1, cls.max() + 1)[cls] + rng.normal(size=len(df)))
    df["school"] = t % 5
    return df


def _va(df: pd.DataFrame, method: str, **kw) -> pds.vam.VAResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        return pds.vam.value_added(df, "score", prior="prior", unit="teacher", year="year",
                                   classroom="classroom", method=method, degree=1,
                                   progress=False, **kw)


@pytest.mark.parametrize("method", pds.vam.METHODS)
def test_va_result_contract(va_data: pd.DataFrame, method: str) -> None:
    res = _va(va_data, method)
    assert_contract(res)
    est = res.estimates
    keys = ["unit", "year"] if method == "cfr" else ["unit"]
    assert est.columns.tolist() == [*keys, "estimate", "std_error", "ci_lower", "ci_upper", "flag"]
    assert res.key_columns == keys
    ok = ~est["flag"]
    assert (est.loc[ok, "std_error"] > 0).all() and est.loc[ok, "estimate"].notna().all()
    assert est.loc[~ok, "std_error"].isna().all()
    # .effects is the documented wide alias: same estimates, plus reliability and counts
    np.testing.assert_array_equal(res.effects["estimate"], est["estimate"])
    assert {"reliability", "n_students", "n_classes", "flag"} <= set(res.effects.columns)
    assert {"component", "estimate", "std_error", "flag"} <= set(res.variance_components.columns)


def test_va_result_by_group_keys(va_data: pd.DataFrame) -> None:
    res = _va(va_data.assign(subject=np.where(va_data.index % 2 == 0, "math", "read")), "eb",
              by="subject")
    assert_contract(res)
    assert res.key_columns == ["subject", "unit"]


def test_sgp_result_contract(va_data: pd.DataFrame) -> None:
    res = pds.vam.sgp(va_data, "score", "prior", unit=["teacher", "school"], n_boot=40,
                      taus=np.linspace(0.05, 0.95, 19), progress=False)
    assert_contract(res)
    est = res.estimates
    assert res.key_columns == ["unit_type", "unit", "quantity"]
    assert set(est["quantity"]) == {"median_sgp", "mean_sgp"}
    assert len(est) == 2 * (va_data["teacher"].nunique() + va_data["school"].nunique())
    # the median's interval is the bootstrap percentile one, at any level
    wide = res.by_unit["school"]
    med = est.query("unit_type == 'school' and quantity == 'median_sgp'")
    np.testing.assert_allclose(med["ci_lower"], wide["median_ci_lower"])
    no_unit = pds.vam.sgp(va_data, "score", "prior", taus=[0.25, 0.5, 0.75], progress=False)
    assert len(no_unit.estimates) == 0
    assert_contract(no_unit)


def test_classification_result_contract(va_data: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        res = pds.vam.classify(_va(va_data, "eb"), cut=0.8, n_draws=300, random_state=1)
    assert_contract(res)
    est = res.estimates
    assert res.key_columns == ["unit", "quantity"]
    assert (est["quantity"] == "rank").all()
    np.testing.assert_array_equal(est["estimate"], res.units["rank"])
    np.testing.assert_array_equal(est["ci_lower"], res.units["rank_lower"])
    assert (est.loc[~est["flag"], "std_error"] > 0).all()


def test_no_module_is_hidden_by_a_function() -> None:
    import importlib
    import pkgutil
    import types

    for pkg in (pds.vam, pds.multilevel):
        for info in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
            attr = getattr(pkg, info.name, mod)
            assert isinstance(attr, types.ModuleType), (
                f"{pkg.__name__}.{info.name} is hidden by {attr!r}")
