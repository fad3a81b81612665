"""Property tests: generated bad input into every public estimator of pds.lmm / multilevel.

Each call must end in a result with finite estimates and positive SEs, a flagged result
with an EstimationWarning, or a pds.PdstatsError (tests/contract/checks.py); ``pytest -s``
prints how many generated cases ran.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdstats as pds
from contract.checks import CASES, assert_safe_outcome

BAD_VALUES = st.sampled_from([np.nan, np.inf, -np.inf, None, "*", "", "n/a", "abc", True,
                              1e200, -1e200, 0.0])
OUTCOMES: Counter[tuple[str, str]] = Counter()
SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def lmm_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Small growth-like frames, then damaged: bad cells, text columns, one level, constants."""
    n = draw(st.sampled_from([0, 1, 2, 5, 30, 40, 40, 40]))
    n_groups = draw(st.sampled_from([1, 2, 6, 6]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    g = rng.integers(0, n_groups, n)
    x = rng.normal(size=n)
    df = pd.DataFrame({"g": g, "x": x, "w": rng.uniform(0.5, 2, n),
                       "y": 1 + 0.5 * x + rng.normal(size=n_groups)[g] + rng.normal(size=n)})
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        if n == 0:
            break
        col = draw(st.sampled_from(["g", "x", "y", "w"]))
        df[col] = df[col].astype(object)
        df.loc[draw(st.integers(0, n - 1)), col] = draw(BAD_VALUES)
    kind = draw(st.sampled_from(["as is"] * 4 + ["text column", "constant y", "constant x",
                                                 "shift"]))
    col = draw(st.sampled_from(["g", "x", "y"]))
    if kind == "text column":
        df[col] = df[col].astype(str)
    elif kind == "constant y":
        df["y"] = 3.0
    elif kind == "constant x":
        df["x"] = 2.0
    elif kind == "shift":
        df["y"] = pd.to_numeric(df["y"], errors="coerce") + 1e9
    return df


FORMULAS = ["y ~ x + (1 | g)", "y ~ 1 + (1 | g)", "y ~ x + (x | g)", "y ~ x + (0 + x | g)"]


@SETTINGS
@given(df=lmm_frames(), formula=st.sampled_from(FORMULAS), weighted=st.booleans(),
       ddf=st.sampled_from(["satterthwaite", "kenward-roger", "z"]))
def test_lmm_never_fails_silently(df: pd.DataFrame, formula: str, weighted: bool, ddf: str) -> None:
    OUTCOMES["lmm", assert_safe_outcome(
        "lmm", lambda: pds.lmm(formula, df, weights="w" if weighted else None, ddf=ddf))] += 1


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(df=lmm_frames(), n_boot=st.sampled_from([0, 2, 5, 5]))
def test_parametric_bootstrap_never_fails_silently(df: pd.DataFrame, n_boot: int) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pds.lmm("y ~ x + (1 | g)", df)
    except pds.PdstatsError:
        fit = df  # a frame is not a fit: the bootstrap must refuse it too
    OUTCOMES["parametric_bootstrap", assert_safe_outcome(
        "parametric_bootstrap", lambda: pds.multilevel.parametric_bootstrap(
            fit, n_boot=n_boot, random_state=0, progress=False))] += 1


@pytest.mark.parametrize("bad", [None, "data", 3, [1, 2]])
def test_lmm_refuses_what_is_not_a_frame(bad: object) -> None:
    assert assert_safe_outcome("lmm", lambda: pds.lmm("y ~ x + (1 | g)", bad)) == "refused"


def test_report_generated_cases() -> None:
    print(f"\ngenerated cases run (multilevel): {dict(CASES)}; outcomes: {dict(OUTCOMES)}")
