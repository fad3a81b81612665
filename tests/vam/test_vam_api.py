"""The value_added front door: validation, sample log, options, result object."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

import pdstats as pds
from pdstats.vam.known_truth import simulate_va


@pytest.fixture(scope="module")
def world():
    return simulate_va(n_teachers=60, years=(1, 2, 3), class_size=10, random_state=5)


def _va(df, **kw):
    kw.setdefault("method", "eb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pds.EstimationWarning)
        return pds.vam.value_added(df, "score", prior="prior", unit="teacher", year="year",
                                   classroom="classroom", degree=1, progress=False, **kw)


def test_effects_columns_and_intervals(world):
    df, _ = world
    for m in pds.vam.METHODS:
        e = _va(df, method=m).effects
        assert list(e.columns[:7]) == ["unit", "year", "estimate", "std_error", "ci_lower",
                                       "ci_upper", "reliability"]
        ok = e.dropna(subset=["estimate"])
        assert (ok["ci_lower"] < ok["estimate"]).all() and (ok["std_error"] > 0).all(), m
        assert {"n_students", "n_classes"} <= set(e.columns)
        vc = _va(df, method=m).variance_components
        assert np.isfinite(vc["std_error"]).all() and (vc["std_error"] > 0).all(), m


def test_bad_input_names_the_column(world):
    df, _ = world
    with pytest.raises(pds.ModelSpecificationError, match="nope"):
        pds.vam.value_added(df, "score", prior="nope", unit="teacher")
    with pytest.raises(pds.ModelSpecificationError, match="method"):
        pds.vam.value_added(df, "score", unit="teacher", method="magic")
    with pytest.raises(pds.ModelSpecificationError, match="year"):
        pds.vam.value_added(df, "score", unit="teacher", method="cfr")
    bad = df.assign(d=-1.0)
    with pytest.raises(pds.ModelSpecificationError, match="dosage"):
        pds.vam.value_added(bad, "score", unit="teacher", year="year", dosage="d")
    with pytest.raises(pds.ModelSpecificationError, match="degree=1"):
        pds.vam.value_added(df, "score", prior="prior", unit="teacher", year="year",
                            reliability={"prior": 0.8})
    with pytest.raises(pds.PdstatsError, match="reliability"):
        _va(df, reliability={"prior": 1.5})


def test_missing_rows_are_logged(world):
    df, _ = world
    d = df.copy()
    d.loc[d.index[:7], "prior"] = np.nan
    d.loc[d.index[10:12], "score"] = np.nan
    res = _va(d)
    assert res.sample_log.dropped == {"missing 'score'": 2, "missing 'prior'": 7}
    assert res.sample_log.n_used == len(df) - 9
    assert "dropped" in res.summary()


def test_by_group_loop_and_by_year(world):
    df, _ = world
    two = df.assign(subject=np.where(df.index % 2 == 0, "math", "read"))
    res = _va(two, by="subject", method="ols")
    assert set(res.effects["subject"]) == {"math", "read"}
    assert len(res.effects) == 2 * df["teacher"].nunique()
    yearly = _va(df, by_year=True, method="ols")
    assert len(yearly.effects) == 3 * df["teacher"].nunique()
    assert yearly.effects["year"].notna().all()


def test_dosage_weights_count_student_years(world):
    df, _ = world
    res = _va(df.assign(d=0.5), dosage="d", method="ols")
    plain = _va(df, method="ols")
    assert res.effects["n_students"].sum() == pytest.approx(0.5 * len(df))
    np.testing.assert_allclose(res.effects["estimate"], plain.effects["estimate"], atol=1e-12)


def test_display_and_plots(world):
    df, _ = world
    res = _va(df, method="cfr")
    assert "Autocovariance" in res.summary()
    assert "<table>" in res._repr_html_()
    assert res.to_frame() is res.effects
    ax = res.plot()
    assert ax.get_xlabel().startswith("teacher")
    ax2 = res.plot(kind="drift")
    assert len(ax2.lines) >= 2
    plt.close("all")
    with pytest.raises(pds.ModelSpecificationError):
        _va(df, method="eb").plot(kind="drift")
