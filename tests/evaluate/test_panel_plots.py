"""pds.evaluate.panel from the study store, and the family's figures."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import pdstats as pds

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def world():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = pds.simulate.study(random_state=3, n_states=1, n_districts=10,
                                 years=(2005, 2006, 2007, 2008), progress=False)
        return sim, sim.to_study()


def test_district_panel_reports_every_excluded_unit(world):
    sim, study = world
    with pytest.warns(pds.DroppedRowsWarning, match="excluded"):
        p = pds.evaluate.panel(study, outcome="growth")
    adopt = sim.tables["program_adoption"]
    dist = adopt[(adopt.unit_type == "district") & (adopt.program == "pay_for_performance")]
    schools = sim.tables["schools"]
    own = adopt[(adopt.unit_type == "school") & adopt.first_treated_year.notna()]
    mixed = set(schools.loc[schools.school_id.isin(own.unit_id), "district_id"]) & set(
        dist.loc[dist.first_treated_year.isna(), "unit_id"])
    excluded = p.excluded.groupby("reason")["unit_id"].apply(set).to_dict()
    assert excluded.get("not adopting, but some of its schools adopted on their own", set()) == mixed
    assert not (set(p.data.unit_id) & mixed)
    # every district is either in the panel or excluded with a reason
    assert set(p.data.unit_id) | set(p.excluded.unit_id) >= set(dist.unit_id) - mixed | mixed
    assert p.sample_log.n_used == p.data.unit_id.nunique()
    assert 20 < p.student_sd < 60 and "NAEP" in p.sd_name
    # never-treated districts have a missing first_treated_year
    assert p.data.first_treated_year.isna().any()
    assert sorted(p.data.year.unique()) == [2006, 2007, 2008]


def test_school_level_and_achievement(world):
    _, study = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = pds.evaluate.panel(study, outcome="achievement", level="school")
    assert sorted(p.data.year.unique()) == [2005, 2006, 2007, 2008]
    assert p.data.outcome.between(150, 350).all()
    with pytest.raises(pds.ModelSpecificationError):
        pds.evaluate.panel(study, outcome="gain")
    with pytest.raises(pds.ModelSpecificationError):
        pds.evaluate.panel(study, program="nope")


def test_plots():
    import moderndid

    d = moderndid.load_mpdta().to_pandas()
    r = pds.evaluate.staggered_did(d, "lemp", "countyreal", "year", "first.treat", n_boot=199,
                                   random_state=0)
    ax = r.aggregate("event").plot()
    assert ax.get_xlabel() == "event_time" and len(ax.collections) >= 1
    assert r.plot().get_ylabel() == "cohort (first treated)"
    b = pds.evaluate.bacon(d, "lemp", "countyreal", "year", "first.treat")
    assert b.plot().get_xlabel() == "weight"
    assert np.isclose((b.estimates.weight * b.estimates.estimate).sum(), b.twfe)
    assert isinstance(b.summary(), str) and "<h4>" in b._repr_html_()
    assert isinstance(pd.DataFrame(r.conf_int(0.9)), pd.DataFrame)
