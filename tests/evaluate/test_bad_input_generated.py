"""Generated bad input: every evaluate estimator ends in a result, a flagged result or a
PdstatsError (never a raw library exception)."""

import numpy as np
import pandas as pd
from contract.checks import assert_safe_outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdstats as pds


@st.composite
def panels(draw):
    n_units = draw(st.integers(2, 10))
    n_t = draw(st.integers(2, 5))
    g_choices = [0, *range(1, n_t + 2)]
    g = np.array(draw(st.lists(st.sampled_from(g_choices), min_size=n_units, max_size=n_units)))
    d = pd.DataFrame({"id": np.repeat(np.arange(n_units), n_t), "t": np.tile(np.arange(1, n_t + 1), n_units),
                      "g": np.repeat(g, n_t).astype(float)})
    y = np.array(draw(st.lists(st.floats(-5, 5) | st.just(np.nan), min_size=len(d), max_size=len(d))))
    d["y"] = y
    d.loc[d.g == 0, "g"] = draw(st.sampled_from([0.0, np.nan]))
    return d


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels())
def test_staggered_did_safe(d):
    assert_safe_outcome("evaluate.staggered_did",
                        lambda: pds.evaluate.staggered_did(d, "y", "id", "t", "g", n_boot=0))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels())
def test_twfe_safe(d):
    d = d.assign(dd=((d.g.fillna(0) > 0) & (d.t >= d.g.fillna(0))).astype(int))
    assert_safe_outcome("evaluate.twfe", lambda: pds.evaluate.twfe(d, "y", "dd", "id", "t"))
