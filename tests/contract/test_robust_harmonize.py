"""Property tests: generated bad input into every public harmonize estimator ends safely.

Each call must return finite estimates with positive SEs, flag the rows it cannot
estimate (with an EstimationWarning), or raise a pds.PdstatsError (tests/contract/checks.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdstats as pds
from contract.checks import CASES, assert_safe_outcome

CELL = {"state": "CA", "year": 2005, "grade": 4, "subject": "math"}
NAEP = pd.DataFrame({"state": ["CA", "CA", "national", "national"], "year": 2005, "grade": [4, 8, 4, 8],
                     "subject": "math", "mean": [230.0, 269.0, 237.0, 278.0], "sd": [29.0, 37.0, 29.0, 36.0]})
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Ordinary counts mixed with what real files contain: missing marks, non-finite, negative,
#: fractional and text values.
ODD = st.sampled_from([np.nan, None, "*", "", np.inf, -np.inf, -1, 2.5, "abc", True])
COUNT = st.one_of(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), ODD)


@st.composite
def count_tables(draw):
    n = draw(st.integers(0, 6))  # 0: empty frame, 1: single row
    k = draw(st.integers(1, 4))  # 1: a one-level table
    rows = [{"unit_id": f"u{i}", **CELL, **{f"level_{j + 1}": draw(COUNT) for j in range(k)}} for i in range(n)]
    cols = ["unit_id", *CELL, *[f"level_{j + 1}" for j in range(k)]]
    df = pd.DataFrame(rows, columns=cols)
    if draw(st.booleans()) and n:
        df["suppressed"] = draw(st.lists(st.sampled_from([False, "False", "True", 0, None]), min_size=n, max_size=n))
    return df


def _levels(df):
    return [c for c in df.columns if c.startswith("level_")]


@SETTINGS
@given(df=count_tables(), model=st.sampled_from(["hetop", "homop", "phop"]))
def test_hetop(df, model):
    levels = _levels(df) if len(_levels(df)) >= 1 else None
    assert_safe_outcome("harmonize.hetop", lambda: pds.harmonize.hetop(df, levels=levels, model=model,
                                                                       min_n=1, progress=False))


@SETTINGS
@given(df=count_tables())
def test_hetop_one_cell_by_empty(df):
    assert_safe_outcome("harmonize.hetop(by=[])", lambda: pds.harmonize.hetop(
        df.drop(columns=list(CELL)), by=[], levels=_levels(df), min_n=1, progress=False))


VALUE = st.one_of(st.floats(-2, 2), st.floats(-2, 2), st.sampled_from([np.nan, np.inf, -np.inf, 0.0, "x", None]))
SE = st.one_of(st.floats(0.01, 0.5), st.floats(0.01, 0.5), st.sampled_from([0.0, -0.1, np.nan, np.inf, "*"]))


@st.composite
def star_tables(draw, subgroups=False):
    n = draw(st.integers(0, 4))
    rows = []
    for i in range(n):
        for sg in (["a", "b"] if subgroups else ["all"]):
            rows.append({"unit_id": f"u{i}", **CELL, "subgroup": sg, "n": draw(st.sampled_from([50, 0, np.nan, -3])),
                         "mean": draw(VALUE), "se_mean": draw(SE), "sd": draw(st.one_of(st.floats(0.5, 1.5), SE)),
                         "se_sd": draw(SE)})
    return pd.DataFrame(rows, columns=["unit_id", *CELL, "subgroup", "n", "mean", "se_mean", "sd", "se_sd"])


@SETTINGS
@given(est=star_tables(), rel=st.sampled_from([None, 0.9, 1.0]), le=st.sampled_from([0.0, 0.1, -1.0, np.nan]))
def test_link_to_naep(est, rel, le):
    assert_safe_outcome("harmonize.link_to_naep",
                        lambda: pds.harmonize.link_to_naep(est, NAEP, reliability=rel, linking_error=le))


@SETTINGS
@given(est=star_tables(subgroups=True))
def test_smd(est):
    assert_safe_outcome("harmonize.smd", lambda: pds.harmonize.smd(est, "a", "b"))


@SETTINGS
@given(df=count_tables(), method=st.sampled_from(["binormal", "trapezoid"]))
def test_gaps(df, method):
    two = pd.concat([df.assign(subgroup="a"), df.assign(subgroup="b")], ignore_index=True)
    assert_safe_outcome("harmonize.gaps", lambda: pds.harmonize.gaps(two, "a", "b", method=method))


def _tuple_estimates(t):
    v, se = t
    return pd.DataFrame({"estimate": [v], "std_error": [se], "flag": [not (np.isfinite(v) and np.isfinite(se))]})


@SETTINGS
@given(a=st.lists(COUNT, min_size=0, max_size=5), b=st.lists(COUNT, min_size=0, max_size=5),
       method=st.sampled_from(["binormal", "trapezoid"]))
def test_v_statistic(a, b, method):
    assert_safe_outcome("harmonize.v_statistic", lambda: pds.harmonize.v_statistic(a, b, method),
                        estimates=_tuple_estimates)


def _standardized(out):
    m = out["mean"].dropna()
    return pd.DataFrame({"estimate": m.to_numpy(dtype=float), "std_error": 1.0})  # no SE without se/within_sd


@SETTINGS
@given(values=st.lists(VALUE, min_size=0, max_size=6), icc=st.sampled_from([None, 0.2, 0.0, 2.0]))
def test_standardize(values, icc):
    d = pd.DataFrame({**CELL, "district": [f"d{i}" for i in range(len(values))], "score": values},
                     columns=[*CELL, "district", "score"])
    assert_safe_outcome("harmonize.standardize", lambda: pds.harmonize.standardize(d, "score", icc=icc),
                        estimates=_standardized)


@SETTINGS
@given(means=st.lists(VALUE, min_size=4, max_size=8), level=st.sampled_from([0.95, 0.5, 95, 0.0]))
def test_estimate_interpolation_error(means, level):
    k = len(means) // 2
    rows = [{"state": f"S{i}", "year": 2005, "grade": g, "subject": "math", "mean": means[2 * i + j], "sd": 30.0}
            for i in range(k) for j, g in enumerate((4, 8))]
    assert_safe_outcome("harmonize.estimate_interpolation_error",
                        lambda: pds.harmonize.estimate_interpolation_error(pd.DataFrame(rows), level=level))


@SETTINGS
@given(disc=st.lists(VALUE, min_size=0, max_size=8), se=SE)
def test_estimate_linking_error(disc, se):
    n = len(disc)
    linked = pd.DataFrame({"unit_id": [f"{i:07d}" for i in range(n)], **CELL, "se_estimation": se,
                           "se_naep": 1.0, "naep_sd": 30.0, "mean": 250.0},
                          columns=["unit_id", *CELL, "se_estimation", "se_naep", "naep_sd", "mean"])
    tuda = pd.DataFrame({"district_id": linked["unit_id"], "year": 2005, "grade": 4, "subject": "math",
                         "mean_se": 1.5, "mean": disc})
    assert_safe_outcome("harmonize.estimate_linking_error",
                        lambda: pds.harmonize.estimate_linking_error(linked, tuda))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=count_tables(), means=st.lists(VALUE, min_size=3, max_size=3),
       supp=st.sampled_from([False, "False", "True", None, "x"]))
def test_harmonize_aggregates(df, means, supp):
    base = {**CELL, "unit_type": "district", "subgroup": "all", "suppressed": supp}
    counts = df.drop(columns=[c for c in ("suppressed",) if c in df.columns]).assign(**base, n_tested=60)
    ma = pd.DataFrame({**base, "state": "MA", "unit_id": ["m1", "m2", "m3"], "n_tested": 80,
                       "mean_scale": means, "sd_scale": 50.0})
    naep = pd.concat([NAEP, NAEP.iloc[:2].assign(state="MA")], ignore_index=True)
    agg = pd.concat([counts, ma], ignore_index=True)
    assert_safe_outcome("harmonize.harmonize_aggregates",
                        lambda: pds.harmonize.harmonize_aggregates(agg, naep, min_n=1, progress=False))


def test_report_case_count():
    print("\ngenerated harmonize cases:", {k: v for k, v in CASES.items() if k.startswith("harmonize")})
