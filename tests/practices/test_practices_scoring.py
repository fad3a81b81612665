"""Practice scores on hand-computed examples."""

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.practices import PRACTICES, ROLES, score


def _ratings(cells_by_district, roles=("consensus",), evidence_fn=None):
    rows = []
    for did, cells in cells_by_district.items():
        for p in PRACTICES:
            for s in (1, 2, 3, 4):
                for r in roles:
                    ev = int(f"{p}_s{s}" in cells)
                    if evidence_fn is not None:
                        ev = evidence_fn(did, p, s, r)
                    rows.append(dict(district_id=did, year=2004, practice=p, stage=s, evidence=ev,
                                     rating=np.nan, informant_role=r, source="interview"))
    return pd.DataFrame(rows)


def test_highest_count_index_by_hand():
    r = _ratings({"0100001": {"finance_s1", "finance_s3", "monitoring_goals_s1"},
                  "0100002": set()})
    hi = score(r, method="highest").wide.droplevel("year")
    assert hi.loc["0100001", "finance"] == 3 and hi.loc["0100001", "monitoring_goals"] == 1
    assert hi.loc["0100002"].drop("mean_highest").sum() == 0
    assert hi.loc["0100001", "mean_highest"] == pytest.approx(4 / 12)
    cnt = score(r, method="count").wide.droplevel("year")
    assert cnt.loc["0100001", "finance"] == 2 and cnt.loc["0100001", "total"] == 3
    idx = score(r, method="index").wide.droplevel("year")
    # goals group = monitoring_goals only (4 cells): 1 of 4; resources = 4 practices (16 cells): 2
    assert idx.loc["0100001", "goals"] == pytest.approx(0.25)
    assert idx.loc["0100001", "resources"] == pytest.approx(2 / 16)
    assert idx.loc["0100001", "overall"] == pytest.approx(3 / 48)
    tidy = score(r, method="count").to_frame()
    assert set(tidy.columns) == {"district_id", "year", "score", "estimate", "std_error", "ci_lower", "ci_upper", "flag"}


def test_informant_rules_by_hand():
    # finance_s2 evidenced by 1, 3 and 4 informants in three districts
    k = {"0100001": 1, "0100002": 3, "0100003": 4}

    def ev(did, p, s, r):
        return int(p == "finance" and s == 2 and ROLES.index(r) < k[did])

    r = _ratings({d: set() for d in k}, roles=ROLES, evidence_fn=ev)
    for rule, expected in (("any", [1, 1, 1]), ("majority", [0, 1, 1]), ("all", [0, 0, 1])):
        cnt = score(r, method="count", rule=rule).wide
        assert cnt["finance"].tolist() == expected, rule


def test_scaled_scores_have_se_and_order():
    d = pds.practices.reconstruct_year1(0)
    for method in ("rasch", "pcm"):
        res = score(d["practice_ratings"], method=method)
        w = res.wide
        assert (w["se"] > 0).all() and w["theta"].notna().all()
        assert (w["ci_lower"] < w["theta"]).all() and (w["theta"] < w["ci_upper"]).all()
        # the index is monotone in the raw score
        srt = w.sort_values("raw_score")
        assert np.all(np.diff(srt["theta"].to_numpy()) >= -1e-9)
        assert "Practice scores" in res.summary()
    assert score(d["practice_ratings"], method="rasch").model.dropped_items == ["human_resources_s1"]


def test_informant_level_scores_equal_consensus_scores():
    d = pds.practices.reconstruct_year1(0)
    r = d["practice_ratings"]
    a = score(r[r["informant_role"] == "consensus"], method="pcm").wide
    b = score(r[r["informant_role"] != "consensus"], method="pcm", rule="any").wide
    np.testing.assert_allclose(a["theta"], b["theta"])


def test_bad_inputs_raise():
    r = _ratings({"0100001": set()})
    with pytest.raises(ValueError, match="method"):
        score(r, method="irt")
    with pytest.raises(pds.DataValidationError, match="all 48"):
        score(r.iloc[:-1], method="count")
    with pytest.raises(pds.DataValidationError, match="practice"):
        score(r.assign(practice="budget"), method="count")
