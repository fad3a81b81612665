"""The shared missing-value rule of every table check (pdstats._inputs.drop_missing)."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pdstats._inputs import MISSING_TEXT, drop_missing

CELLS = st.one_of(st.none(), st.just(np.nan), st.sampled_from(sorted(MISSING_TEXT)),
                  st.sampled_from([" * ", "NA ", "Null", "x", "CA", "0"]), st.integers(-3, 3))


def _by_hand(values: list) -> list[bool]:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append(True)
        else:
            out.append(str(v).strip().lower() in MISSING_TEXT)
    return out


@given(st.lists(CELLS, min_size=1, max_size=40))
def test_missing_text_is_judged_value_by_value(values):
    # judged once per distinct value internally: the same answer as cell by cell
    df = pd.DataFrame({"a": pd.Series(values, dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept, log = drop_missing(df, ["a"], "t")
    expected = [not m for m in _by_hand(values)]
    assert kept.index.tolist() == [i for i, k in enumerate(expected) if k]
    assert log.n_used == sum(expected)


def test_unhashable_and_categorical_cells():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept, _ = drop_missing(pd.DataFrame({"a": pd.Series([[1], "*", None, "x"], dtype=object)}), ["a"], "t")
        assert kept.index.tolist() == [0, 3]
        kept, _ = drop_missing(pd.DataFrame({"a": pd.Series(["a", "NA", None], dtype="category")}), ["a"], "t")
        assert kept.index.tolist() == [0]
