"""Size of cluster-robust tests with 10, 20 and 40 clusters, through ``pds.simulate.run``.

CR2 with Bell-McCaffrey df and the restricted wild cluster bootstrap keep the size of a
5% test within 2-8%; CR1 with normal critical values does not (see ``few_clusters.py``).
The slow test runs 1,000 worlds per cluster count; the fast one 120 worlds at G = 10.
"""

from __future__ import annotations

import pandas as pd
import pytest
from few_clusters import METHODS, make_estimator, make_world

import pdstats as pds


def size_table(n_clusters: int, n_worlds: int, n_boot: int, seed: int) -> pd.DataFrame:
    res = pds.simulate.run(make_estimator(n_boot), make_world(n_clusters), n_worlds=n_worlds,
                           truth=dict.fromkeys(METHODS, 0.0), random_state=seed,
                           progress=False)
    est = res.estimates
    return est[est["quantity"] == "rejection"].set_index("term")


def test_size_fast_ten_clusters() -> None:
    tab = size_table(10, 120, 99, seed=10)
    assert tab.loc["CR1-normal", "estimate"] > 0.10  # about 0.2 at G = 10
    assert tab.loc["CR2-BM", "estimate"] < 0.10
    assert tab.loc["wild-WCR", "estimate"] < 0.10
    assert tab["std_error"].between(0.0, 0.05).all()


@pytest.mark.slow
@pytest.mark.parametrize("n_clusters", [10, 20, 40])
def test_size_full(n_clusters: int) -> None:
    tab = size_table(n_clusters, 1000, 399, seed=n_clusters)
    print(f"\nG = {n_clusters}\n", tab[["estimate", "std_error"]])
    for method in ("CR2-BM", "wild-WCR"):
        assert 0.02 <= tab.loc[method, "estimate"] <= 0.08, (method, tab)
    assert tab.loc["CR1-normal", "estimate"] > 0.08
