"""Property tests: generated bad input into every public estimator of pds.vam.

value_added (all methods), sgp, classify, the diagnostics, analysis_file and residualize
each get damaged frames (non-finite cells, missing marks, text columns, empty and
single-row frames, one unit, constant columns); every call must end in finite estimates
with positive SEs, flagged rows with an EstimationWarning, or a pds.PdstatsError
(tests/contract/checks.py). ``pytest -s`` prints how many generated cases ran.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdstats as pds
from contract.checks import CASES, assert_safe_outcome
from pdstats.vam.residualize import residualize

BAD_VALUES = st.sampled_from([np.nan, np.inf, -np.inf, None, "*", "", "abc", True, 1e200,
                              -5.0, 5.0, 0.0])
OUTCOMES: Counter[tuple[str, str]] = Counter()


def _settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def va_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Small teacher-year frames, then damaged."""
    n_units = draw(st.sampled_from([1, 2, 5, 8, 8, 8]))
    per = draw(st.sampled_from([0, 1, 2, 6, 12, 12]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    t = np.repeat(np.arange(n_units), per)
    n = len(t)
    year = np.tile(np.arange(per) % 3 + 1, n_units)
    df = pd.DataFrame({"teacher": t, "year": year, "classroom": t * 10 + year,
                       "prior": rng.normal(size=n), "dose": rng.uniform(0.2, 1, n),
                       "score": rng.normal(size=n) + rng.normal(0, .4, n_units)[t] if n else []})
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        if n == 0:
            break
        col = draw(st.sampled_from(list(df.columns)))
        df[col] = df[col].astype(object)
        df.loc[draw(st.integers(0, n - 1)), col] = draw(BAD_VALUES)
    kind = draw(st.sampled_from(["as is"] * 5 + ["text column", "constant score",
                                                 "constant prior"]))
    if kind == "text column":
        col = draw(st.sampled_from(["score", "prior", "year", "dose"]))
        df[col] = df[col].astype(str)
    elif kind == "constant score":
        df["score"] = 1.0
    elif kind == "constant prior":
        df["prior"] = 0.5
    return df


def _quiet(call):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pds.DroppedRowsWarning)
            return call()
    return run


def _record(family: str, call, estimates=None) -> None:
    OUTCOMES[family, assert_safe_outcome(family, call, estimates)] += 1


@_settings(50)
@given(df=va_frames(), method=st.sampled_from(pds.vam.METHODS), dosage=st.booleans(),
       by_year=st.booleans())
def test_value_added_never_fails_silently(df, method, dosage, by_year) -> None:
    _record(f"value_added[{method}]", lambda: pds.vam.value_added(
        df, "score", prior="prior", unit="teacher", year="year", classroom="classroom",
        method=method, degree=1, dosage="dose" if dosage else None,
        by_year=by_year and method != "cfr", cfr_draws=5, progress=False))


@_settings(40)
@given(df=va_frames(), n_boot=st.sampled_from([1, 5, 5, 20]), with_unit=st.booleans())
def test_sgp_never_fails_silently(df, n_boot, with_unit) -> None:
    big = pd.concat([df] * 20, ignore_index=True) if len(df) else df  # enough rows to fit
    _record("sgp", lambda: pds.vam.sgp(big, "score", "prior",
                                       unit="teacher" if with_unit else None,
                                       taus=[0.25, 0.5, 0.75], n_boot=n_boot, progress=False))


@_settings(60)
@given(n=st.integers(0, 6), est=st.lists(st.floats(-1, 1), min_size=6, max_size=6),
       se=st.lists(st.floats(0, 1), min_size=6, max_size=6),
       damage=st.none() | st.tuples(st.sampled_from(["estimate", "std_error"]),
                                    st.integers(0, 5), BAD_VALUES),
       cut=st.sampled_from([0.8, 0.8, 0.5, 0.0, 1.0, 2.0]))
def test_classify_never_fails_silently(n, est, se, damage, cut) -> None:
    eff = pd.DataFrame({"unit": list("abcdef")[:n], "estimate": pd.Series(est[:n], dtype=object),
                        "std_error": pd.Series(se[:n], dtype=object)})
    if damage is not None and damage[1] < n:
        eff.loc[damage[1], damage[0]] = damage[2]
    _record("classify", _quiet(lambda: pds.vam.classify(eff, cut=cut, n_draws=50)))


def _fit_or_none(df: pd.DataFrame, method: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pds.vam.value_added(df, "score", prior="prior", unit="teacher", year="year",
                                       method=method, degree=1, cfr_draws=0, progress=False)
    except pds.PdstatsError:
        return df  # not a result: the diagnostics must refuse it


def _slope_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table


def _transition_rows(table: pd.DataFrame) -> pd.DataFrame:
    # shares, not estimates with SEs: each row sums to 1
    np.testing.assert_allclose(table.sum(axis=1), 1.0)
    return pd.DataFrame({"estimate": [1.0], "std_error": [1.0]})


def _stability_rows(table: pd.DataFrame) -> pd.DataFrame:
    se = np.full(len(table), 1.0)  # a correlation has an interval, not an SE
    return pd.DataFrame({"estimate": table.get("correlation", pd.Series(dtype=float)),
                         "std_error": se})


@_settings(20)
@given(df=va_frames(), method=st.sampled_from(["cfr", "ols"]), placebo=BAD_VALUES)
def test_diagnostics_never_fail_silently(df, method, placebo) -> None:
    res = _fit_or_none(df, method)
    _record("forecast_bias", lambda: pds.vam.forecast_bias(res), _slope_rows)
    lag = df.assign(lag=np.arange(len(df), dtype=float)).astype({"lag": object})
    if len(lag):
        lag.loc[lag.index[0], "lag"] = placebo
    _record("placebo_test", _quiet(lambda: pds.vam.placebo_test(res, lag, "lag")), _slope_rows)
    _record("stability", lambda: pds.vam.stability(res), _stability_rows)
    _record("transition_matrix", lambda: pds.vam.transition_matrix(res, groups=2),
            _transition_rows)


@_settings(40)
@given(bad=BAD_VALUES, col=st.sampled_from(["scale_score", "csem", "dosage", "year"]),
       dup=st.booleans(), n=st.integers(0, 4))
def test_analysis_file_never_fails_silently(bad, col, dup, n) -> None:
    enr = pd.DataFrame({"student_id": list("abab")[:n], "year": [2005, 2005, 2006, 2006][:n],
                        "grade": [3, 3, 4, 4][:n], "subject": "math", "school_id": "s",
                        "district_id": "d", "teacher_id": "t", "class_id": "c", "dosage": 1.0})
    sc = enr[["student_id", "year", "grade", "subject"]].assign(
        state="MA", csem=5.0, scale_score=[200.0, 210.0, 220.0, 240.0][:n])
    target = sc if col in ("scale_score", "csem") else enr
    target[col] = target[col].astype(object)
    if n:
        target.loc[0, col] = bad
    if dup:
        sc = pd.concat([sc, sc.iloc[:1]])

    def rows(out: pd.DataFrame) -> pd.DataFrame:
        # every number it returns is finite or missing: never +-inf
        for c in ("score", "prior_same", "csem_same"):
            assert not np.isinf(out[c].to_numpy(dtype=float)).any(), c
        return pd.DataFrame({"estimate": [1.0], "std_error": [1.0]})

    _record("analysis_file", lambda: pds.vam.analysis_file(enr, sc), rows)


@_settings(40)
@given(n=st.integers(0, 8), k=st.integers(0, 2), bad=BAD_VALUES, where=st.sampled_from("yXw"),
       within=st.booleans())
def test_residualize_never_fails_silently(n, k, bad, where, within) -> None:
    rng = np.random.default_rng(n + k)
    y, X, w = rng.normal(size=n).astype(object), rng.normal(size=(n, k)).astype(object), \
        np.ones(n, dtype=object)
    if n and (where != "X" or k):
        {"y": y, "w": w}.get(where, X[:, 0] if k else y)[0] = bad
    codes = np.arange(n) % 2 if within else None
    _record("residualize", lambda: residualize(y, X, [f"x{j}" for j in range(k)],
                                               unit_codes=codes, weights=w),
            lambda r: r.table())


def test_report_generated_cases() -> None:
    print(f"\ngenerated cases run (vam): {dict(CASES)}\noutcomes: {dict(OUTCOMES)}")
