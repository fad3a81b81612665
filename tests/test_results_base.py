"""The shared results base: sample logs, summaries and HTML reprs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.results import ResultsBase, SampleLog, add_ci


class _Toy(ResultsBase):
    title = "Toy estimates"

    def __init__(self) -> None:
        self.sample_log = SampleLog(n_in=12)
        self.sample_log.drop("missing 'math'", 2)
        self.sample_log.drop("missing 'math'", 1)
        self.sample_log.drop("no school id", 0)

        self.estimates = add_ci(pd.DataFrame({"term": ["Intercept", "x"], "estimate": [1.5, 0.2],
                                              "std_error": [0.25, 0.1], "df": [4.0, np.inf]}))


def test_sample_log_counts() -> None:
    log = _Toy().sample_log
    assert log.n_dropped == 3 and log.n_used == 9
    assert log.dropped == {"missing 'math'": 3}
    frame = log.to_frame()
    assert frame["n"].tolist() == [12, 3, 9]
    with pytest.raises(ValueError):
        log.drop("bad", -1)


def test_summary_and_html_show_estimates_and_sample() -> None:
    res = _Toy()
    text = res.summary()
    assert "Toy estimates" in text and "Intercept" in text and "9 of 12" in text
    assert "3 dropped (missing 'math')" in text
    html = res._repr_html_()
    assert "<table" in html and "Intercept" in html and "missing &#x27;math&#x27;" in html


def test_conf_int_uses_t_with_df_and_normal_without() -> None:
    res = _Toy()
    ci = res.conf_int(0.90)
    assert list(ci.columns) == ["term", "estimate", "ci_lower", "ci_upper"]
    # 90% t(4) half-width 2.132 x 0.25; normal 1.645 x 0.1
    assert ci["ci_upper"].iloc[0] - 1.5 == pytest.approx(2.131847 * 0.25, rel=1e-5)
    assert ci["ci_upper"].iloc[1] - 0.2 == pytest.approx(1.644854 * 0.1, rel=1e-5)
    assert res.key_columns == ["term"]
    pd.testing.assert_frame_equal(res.tidy(), res.estimates)
    for bad in (0, 1, 95, "0.95", float("nan"), True):
        with pytest.raises(pds.ModelSpecificationError):
            res.conf_int(bad)
    with pytest.raises(NotImplementedError):
        res.plot()
