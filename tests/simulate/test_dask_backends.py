"""backend="dask" equals backend="local" for every divided job (issue 19).

One small in-process LocalCluster (2 workers x 1 thread) serves the module. Each job is
run both ways on the same input and the results compared exactly; a piece that raises
is reported by its key.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats._parallel import map_pieces, piece_seeds, raise_failures
from pdstats.harmonize.likelihood import cell_probabilities
from pdstats.multilevel.bootstrap import _draw, simulate_response

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as c:
            yield c


def counts_table(n_cells: int = 12, n_groups: int = 25, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_cells):
        mu, s = rng.normal(0, 0.5, n_groups), rng.normal(np.log(0.85), 0.15, n_groups)
        p = cell_probabilities(mu, s, np.array([-0.8, 0.1, 0.9]))
        n = rng.integers(30, 200, n_groups)
        c = np.array([rng.multinomial(k, q / q.sum()) for k, q in zip(n, p, strict=True)])
        df = pd.DataFrame(c, columns=[f"level_{k}" for k in range(1, 5)])
        parts.append(df.assign(unit_id=np.arange(n_groups), state=f"S{i % 4}", year=2010 + i // 4,
                               grade=4, subject="math"))
    return pd.concat(parts, ignore_index=True)


def test_hetop_dask_equals_local(client):
    counts = counts_table()
    local = pds.harmonize.hetop(counts, progress=False)
    remote = pds.harmonize.hetop(counts, progress=False, backend="dask", client=client)
    for name in ("groups", "cuts", "cells", "estimates"):
        pd.testing.assert_frame_equal(getattr(local, name), getattr(remote, name))
    assert local.sample_log == remote.sample_log


def test_harmonize_pipeline_dask_equals_local(client):
    sim = pds.simulate.study(random_state=2, n_states=1, n_districts=4, years=(2005,), n_comparison=2,
                             progress=False)
    agg, naep = sim.tables["state_assessment_aggregates"], sim.tables["naep_state"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = pds.harmonize.harmonize_aggregates(agg, naep, progress=False)
        remote = pds.harmonize.harmonize_aggregates(agg, naep, progress=False, backend="dask")
    pd.testing.assert_frame_equal(local.estimates, remote.estimates)


def test_a_failing_cell_is_reported_by_its_key(client, monkeypatch):
    import pdstats.harmonize._hetop as hetop_module

    real = hetop_module.fit_cell

    def fragile(mat, *args, **kwargs):
        if len(mat) == 7:
            raise RuntimeError("boom")
        return real(mat, *args, **kwargs)

    counts = counts_table(n_cells=4)
    counts = counts[~((counts["state"] == "S2") & (counts["unit_id"] >= 7))]
    monkeypatch.setattr(hetop_module, "fit_cell", fragile)   # workers share this process
    with pytest.raises(pds.PiecesFailedError, match="state='S2', year=2010") as info:
        pds.harmonize.hetop(counts, progress=False, backend="dask", client=client)
    assert info.value.failures["error"].tolist() == ["RuntimeError"]
    assert "boom" in info.value.failures["traceback"].iloc[0]


def test_map_pieces_on_dask_keeps_keys_chunks_and_warnings(client):
    def piece(scale, x):
        if x == 3:
            raise ZeroDivisionError("three")
        warnings.warn(f"piece {x}", pds.EstimationWarning, stacklevel=1)
        return scale * x

    keys = [("k", i) for i in range(8)]
    args = [(i,) for i in range(8)]
    with pytest.warns(pds.EstimationWarning) as rec:
        out = map_pieces(piece, keys, args, backend="dask", client=client, progress=False, shared=(10,),
                         chunksize=3, capture_warnings=True)
    assert [str(w.message) for w in rec] == [f"piece {i}" for i in range(8) if i != 3]
    assert out[("k", 7)] == 70 and out[("k", 3)].error == "ZeroDivisionError"
    with pytest.raises(pds.PiecesFailedError, match=r"\('k', 3\): ZeroDivisionError: three"):
        raise_failures(out, "pieces")


def growth_data(seed: int = 0, n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"grade": rng.choice([4, 5], n), "subject": rng.choice(["math", "reading"], n),
                       "p1": rng.normal(size=n), "p2": rng.normal(size=n),
                       "school": rng.integers(0, 15, n).astype(str)})
    df["y"] = 0.6 * df.p1 + 0.2 * df.p2 + rng.normal(size=n)
    return df


def test_sgp_dask_equals_local(client):
    df = growth_data()
    kw = dict(outcome="y", priors=["p1", "p2"], unit="school", by=["grade", "subject"],
              taus=[0.1, 0.25, 0.5, 0.75, 0.9], n_boot=20, progress=False)
    local = pds.vam.sgp(df, **kw)
    remote = pds.vam.sgp(df, **kw, backend="dask", client=client)
    pd.testing.assert_frame_equal(local.students, remote.students)
    pd.testing.assert_frame_equal(local.coefficients, remote.coefficients)
    pd.testing.assert_frame_equal(local.estimates, remote.estimates)
    # by= fits each group on its own: the (4, math) coefficients are those of that group alone
    alone = pds.vam.sgp(df[(df.grade == 4) & (df.subject == "math")], **{**kw, "by": None})
    np.testing.assert_array_equal(local.coefficients.loc[(4, "math")].to_numpy(),
                                  alone.coefficients.to_numpy())


def test_sgp_prior_orders_dask_equals_local(client):
    # pieces by group, prior order and quantile
    df = growth_data(seed=2)
    df.loc[df.index % 4 == 0, "p2"] = np.nan
    kw = dict(outcome="y", priors=["p1", "p2"], by="grade", taus=[0.2, 0.5, 0.8], orders=True,
              n_boot=20, progress=False)
    local = pds.vam.sgp(df, **kw)
    remote = pds.vam.sgp(df, **kw, backend="dask", client=client)
    pd.testing.assert_frame_equal(local.students, remote.students)
    pd.testing.assert_frame_equal(local.coefficients, remote.coefficients)
    assert set(local.students["order"]) == {1, 2}


def va_data(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_t, per = 40, 30
    t = np.repeat(np.arange(n_t), per)
    df = pd.DataFrame({"teacher": t, "year": np.tile(np.repeat([1, 2, 3], per // 3), n_t),
                       "subject": np.where(t % 2 == 0, "math", "reading"),
                       "prior": rng.normal(size=n_t * per)})
    df["score"] = 0.7 * df.prior + rng.normal(0, 0.3, n_t)[t] + rng.normal(size=len(df))
    return df


@pytest.mark.parametrize("method", ["eb", "cfr"])
def test_value_added_by_dask_equals_local(client, method):
    df = va_data()
    kw = dict(outcome="score", prior="prior", unit="teacher", year="year", method=method, degree=1,
              by="subject", progress=False)
    local = pds.vam.value_added(df, **kw)
    remote = pds.vam.value_added(df, **kw, backend="dask", client=client)
    pd.testing.assert_frame_equal(local.effects, remote.effects)
    pd.testing.assert_frame_equal(local.variance_components, remote.variance_components)


def test_parametric_bootstrap_dask_equals_local_and_seeds_by_replicate(client):
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(15), 6)
    df = pd.DataFrame({"g": g, "y": rng.normal(size=15)[g] + rng.normal(size=90)})
    fit = pds.lmm("y ~ 1 + (1 | g)", df)
    local = fit.bootstrap(n_boot=12, random_state=4, progress=False)
    remote = fit.bootstrap(n_boot=12, random_state=4, progress=False, backend="dask", client=client)
    pd.testing.assert_frame_equal(local.replicates, remote.replicates)
    pd.testing.assert_frame_equal(local.estimates, remote.estimates)
    # replicate 5 is the refit to a response drawn from default_rng(piece_seeds(4, 12)[5])
    y5 = simulate_response(fit, np.random.default_rng(piece_seeds(4, 12)[5]))
    np.testing.assert_allclose(local.replicates.iloc[5].to_numpy(), _draw(fit.with_response(y5)), rtol=1e-12)


def test_backend_arguments_are_checked():
    with pytest.raises(pds.ModelSpecificationError, match="backend must be one of"):
        pds.harmonize.hetop(counts_table(n_cells=1), backend="spark", progress=False)
    with pytest.raises(pds.ModelSpecificationError, match="client= is only used"):
        pds.vam.sgp(growth_data(), "y", "p1", client=object(), progress=False)
