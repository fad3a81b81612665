"""Self-assessment: profile, index, percentile and next steps."""

import numpy as np
import pytest

import pdstats as pds
from pdstats.practices import questionnaire, self_assessment


def _answers(rule):
    q = questionnaire()
    return {item: int(rule(p, s)) for item, p, s in zip(q["item"], q["practice"], q["stage"], strict=False)}


@pytest.fixture(scope="module")
def reference():
    return pds.practices.reconstruct_year1(0)["practice_ratings"]


def test_questionnaire():
    q = questionnaire()
    assert len(q) == 48 and q["question"].str.startswith("Does this describe").all()
    assert q["year1_share"].max() == 1.0  # human_resources_s1: 28 of 28


def test_profile_and_next_steps(reference):
    res = self_assessment(_answers(lambda p, s: s <= 2 or (p == "finance" and s == 4)),
                          reference=reference)
    prof = res.profile
    sm = pds.practices.stage_matrix().set_index("item")
    assert prof.loc["monitoring_goals", "highest_stage"] == 2
    assert prof.loc["monitoring_goals", "next_step"] == sm.loc["monitoring_goals_s3", "description"]
    assert prof.loc["monitoring_goals", "year1_share_next"] == pytest.approx(9 / 28)
    assert prof.loc["finance", "highest_stage"] == 4
    assert prof.loc["finance", "missing_lower_stages"] == "3"
    assert prof.loc["finance", "next_stage"] is pd_na() or np.isnan(float(prof.loc["finance", "next_stage"]))
    i = res.index
    assert i["ci_lower"] < i["theta"] < i["ci_upper"] and i["se"] > 0
    assert i["percentile_lower"] <= i["percentile"] <= i["percentile_upper"]
    assert "Percentile" in res.summary()


def pd_na():
    import pandas as pd

    return pd.NA


def test_percentiles_order(reference):
    low = self_assessment(_answers(lambda p, s: s == 1), reference=reference).index
    high = self_assessment(_answers(lambda p, s: True), reference=reference).index
    assert low["percentile"] < 50 < high["percentile"]
    assert high["percentile"] == 100 or high["theta"] > 0


def test_same_as_reference_district_scores_equal(reference):
    ev = pds.practices.evidence_matrix(reference)
    first = ev.iloc[0]
    res = self_assessment(first.to_dict(), reference=reference)
    ref = pds.practices.score(reference, method="pcm").wide
    assert res.index["theta"] == pytest.approx(ref["theta"].iloc[0])


def test_bad_answers_raise(reference):
    a = _answers(lambda p, s: s == 1)
    a.pop("finance_s2")
    with pytest.raises(pds.DataValidationError, match="not answered"):
        self_assessment(a, reference=reference)
    b = _answers(lambda p, s: s == 1)
    b["finance_s2"] = 3
    with pytest.raises(pds.DataValidationError, match="1/0"):
        self_assessment(b, reference=reference)


def test_plot(reference):
    res = self_assessment(_answers(lambda p, s: s <= 3), reference=reference)
    ax = res.plot()
    assert "percentile" in ax.get_title(loc="left")
    assert len(ax.patches) >= 36  # outlines of the 'yes' answers
