"""Issue 12, practices: each bad-input case ends in a dropped-and-logged row, a flag, or a named error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds


@pytest.fixture(scope="module")
def data():
    return pds.practices.reconstruct_year1()


@pytest.fixture(scope="module")
def informants(data):
    r = data["practice_ratings"]
    return r[r["informant_role"] != "consensus"].reset_index(drop=True)


@pytest.mark.parametrize("missing", [np.nan, "*", "", None])
def test_missing_evidence_is_dropped_logged_and_warned(informants, missing):
    bad = informants.astype({"evidence": object})
    bad.loc[0, "evidence"] = missing
    with pytest.warns(pds.DroppedRowsWarning, match="'evidence'"):
        ev = pds.practices.combine_informants(bad)
    assert ev.attrs["sample_log"].dropped == {"missing 'evidence'": 1}
    # the other informants of that district still evidence the cell under rule "any"
    assert len(ev) == 28 * 48


@pytest.mark.parametrize("value,rule", [(2, "range"), (np.inf, "finite"), ("maybe", "numeric"), (0.5, "integer")])
def test_bad_evidence_is_refused(informants, value, rule):
    bad = informants.astype({"evidence": object})
    bad.loc[5, "evidence"] = value
    with pytest.raises(pds.DataValidationError, match=rule) as err:
        pds.practices.score(bad, method="count")
    assert err.value.failures["row"].tolist() == [5]


def test_evidence_as_text_is_parsed(informants):
    txt = informants.assign(evidence=informants["evidence"].astype(str))
    a = pds.practices.score(txt, method="count").wide
    b = pds.practices.score(informants, method="count").wide
    pd.testing.assert_frame_equal(a, b)


def test_unknown_method_or_rule_is_a_pdstats_error(informants):
    with pytest.raises(pds.ModelSpecificationError, match="method"):
        pds.practices.score(informants, method="irt")
    with pytest.raises(pds.ModelSpecificationError, match="rule"):
        pds.practices.combine_informants(informants, rule="most")


def test_fit_pcm_refuses_inf_and_drops_missing():
    x = pd.DataFrame({"a": [0, 1, 1, 0, 1, 0], "b": [1, 0, 1, 1, 0, 0], "c": [0, 1, 1, 1, "*", 0]})
    with pytest.warns(pds.DroppedRowsWarning, match="'c'"):
        res = pds.practices.fit_pcm(x)
    assert res.sample_log.n_used == 5
    with pytest.raises(pds.DataValidationError, match="finite"):
        pds.practices.fit_pcm(x.assign(c=[0, 1, np.inf, 1, 0, 0]))
    with pytest.raises(pds.ModelSpecificationError, match="DataFrame"):
        pds.practices.fit_pcm(x.to_numpy())
    with pytest.raises(pds.ModelSpecificationError, match="level"):
        pds.practices.fit_pcm(x.assign(c=0), level=95)


def test_ml_extreme_scores_are_flagged_with_a_warning():
    rng = np.random.default_rng(2)
    x = pd.DataFrame((rng.random((60, 4)) < 0.5).astype(int), columns=list("abcd"))
    x.loc[0] = 0
    with pytest.warns(pds.EstimationWarning, match="extreme"):
        res = pds.practices.fit_pcm(x, person_method="ml")
    assert bool(res.persons.loc[0, "flag"]) and np.isnan(res.persons.loc[0, "theta"])


def test_agreement_with_one_category_flags_kappa(informants):
    same = informants.assign(evidence=1)
    with pytest.warns(pds.EstimationWarning, match="fleiss_kappa"):
        ag = pds.practices.agreement(same, n_boot=5, progress=False)
    row = ag.estimates.set_index("coefficient").loc["fleiss_kappa"]
    assert np.isnan(row["estimate"]) and bool(row["flag"])
    with pytest.raises(pds.ModelSpecificationError, match="n_boot"):
        pds.practices.agreement(informants, n_boot=1, progress=False)


def test_cronbach_alpha_without_variance_is_nan_not_a_crash():
    a, lo, hi = pds.practices.cronbach_alpha(np.ones((5, 3)))
    assert np.isnan([a, lo, hi]).all()
    with pytest.raises(pds.ModelSpecificationError):
        pds.practices.fleiss_kappa([[1, 1], [2]])


def test_scalability_drops_missing_rows_and_refuses_too_little_data():
    x = pd.DataFrame((np.arange(6)[:, None] >= np.arange(1, 4)[None, :]).astype(float), columns=list("abc"))
    x.loc[2, "b"] = np.nan
    with pytest.warns(pds.DroppedRowsWarning, match="'b'"):
        sc = pds.practices.scalability(x, n_boot=10, progress=False)
    assert sc.sample_log.n_used == 5
    with pytest.raises(pds.DataValidationError, match="at least 2 persons"):
        pds.practices.scalability(x.iloc[:1], n_boot=10, progress=False)


def test_self_assessment_parses_yes_no_and_refuses_missing(data):
    q = pds.practices.questionnaire()
    yes_no = {i: ("yes" if s <= 2 else "no") for i, s in zip(q["item"], q["stage"], strict=True)}
    res = pds.practices.self_assessment(yes_no, reference=data["practice_ratings"])
    assert res.responses.sum() == 24
    yes_no[q["item"].iloc[0]] = None
    with pytest.raises(pds.DataValidationError, match="answered"):
        pds.practices.self_assessment(yes_no, reference=data["practice_ratings"])


def test_year1_tables_refuse_impossible_district_values(data):
    bad = dict(data)
    bad["districts"] = data["districts"].assign(enrollment=np.inf)
    with pytest.raises(pds.DataValidationError, match="enrollment"):
        pds.practices.year1_tables(bad)
    bad["districts"] = data["districts"].assign(pct_frl=150.0)
    with pytest.raises(pds.DataValidationError, match="pct_frl"):
        pds.practices.year1_tables(bad)
    with pytest.raises(pds.ModelSpecificationError, match="mapping"):
        pds.practices.year1_tables([data["districts"]])
