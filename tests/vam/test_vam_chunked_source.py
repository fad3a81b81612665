"""Parquet read one group at a time (DuckDB) equals the in-memory analysis exactly (issue 19)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.vam.source import analysis_parquet, read_group


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = pds.simulate.study(random_state=0, n_states=1, n_districts=3, years=(2005, 2006, 2007),
                                 progress=False, path=folder)
    return sim, folder


def test_analysis_parquet_equals_analysis_file(world):
    sim, folder = world
    f = analysis_parquet(folder, folder / "analysis.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem = pds.vam.analysis_file(sim.tables["enrollments"], sim.tables["student_scores"])
    out = pd.read_parquet(f)
    assert out.columns.tolist() == mem.columns.tolist() and len(out) == len(mem)
    assert (out["student_id"].astype(str).to_numpy() == mem["student_id"].astype(str).to_numpy()).all()
    for c in ("score", "prior_same", "prior_other", "csem_same", "csem_other"):
        np.testing.assert_allclose(out[c].to_numpy(float), mem[c].to_numpy(float), rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def analysis(world):
    _, folder = world
    f = analysis_parquet(folder, folder / "analysis4.parquet", min_grade=4)
    small = folder / "grades45.parquet"   # two grades keep the test fast
    pd.read_parquet(f).query("grade <= 5").to_parquet(small, index=False)
    return small, pd.read_parquet(small)


def test_value_added_from_parquet_equals_in_memory(analysis):
    path, frame = analysis
    kw = dict(outcome="score", prior=["prior_same", "prior_other"], unit="teacher_id", year="year",
              classroom="class_id", method="cfr", cfr_draws=5, by=["subject", "grade"], progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem = pds.vam.value_added(frame, **kw)
        chunked = pds.vam.value_added(path, **kw)
    pd.testing.assert_frame_equal(mem.effects, chunked.effects, check_dtype=False)
    pd.testing.assert_frame_equal(mem.rows, chunked.rows, check_dtype=False)
    pd.testing.assert_frame_equal(mem.variance_components, chunked.variance_components, check_dtype=False)
    assert mem.sample_log.n_in == chunked.sample_log.n_in and mem.sample_log.dropped == chunked.sample_log.dropped


def test_sgp_from_parquet_equals_in_memory(analysis):
    path, frame = analysis
    # by year too: the first year's groups have no prior score (no complete rows) and are left out
    kw = dict(outcome="score", priors="prior_same", unit="school_id", by=["subject", "grade", "year"],
              taus=[0.2, 0.5, 0.8], n_boot=20, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem = pds.vam.sgp(frame, **kw)
        chunked = pds.vam.sgp(path, **kw)
    pd.testing.assert_frame_equal(mem.students, chunked.students)
    pd.testing.assert_frame_equal(mem.coefficients, chunked.coefficients)
    pd.testing.assert_frame_equal(mem.estimates, chunked.estimates)
    assert mem.sample_log.dropped == chunked.sample_log.dropped
    assert 2005 not in mem.coefficients.index.get_level_values("year")


def test_read_group_reads_only_its_rows_and_parquet_needs_by(analysis):
    path, frame = analysis
    got = read_group(path, ["score"], ["subject", "grade"], ("math", 5))
    want = frame.loc[(frame.subject == "math") & (frame.grade == 5), "score"]
    pd.testing.assert_series_equal(got["score"], want, check_dtype=False)
    with pytest.raises(pds.ModelSpecificationError, match="give by="):
        pds.vam.value_added(path, "score", prior="prior_same", unit="teacher_id", progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="no column"):
        read_group(path, ["nothing"], ["grade"], (4,))
