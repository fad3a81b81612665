"""The shared results base: sample logs, summaries and HTML reprs."""

from __future__ import annotations

import pandas as pd
import pytest

from pdstats.results import ResultsBase, SampleLog


class _Toy(ResultsBase):
    title = "Toy estimates"

    def __init__(self) -> None:
        self.sample_log = SampleLog(n_in=12)
        self.sample_log.drop("missing 'math'", 2)
        self.sample_log.drop("missing 'math'", 1)
        self.sample_log.drop("no school id", 0)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"estimate": [1.5], "std_error": [0.25]}, index=["Intercept"])


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
