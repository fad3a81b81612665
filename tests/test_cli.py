"""The stores `make reproduce` builds hold validated rows in every table they promise."""

from __future__ import annotations

from pathlib import Path

import pdstats as pds
from pdstats.cli import build_simulated_store


def test_simulated_store_has_every_dictionary_table(tmp_path: Path) -> None:
    path = build_simulated_store(tmp_path)
    with pds.Study(path, read_only=True) as store:
        counts = store.tables().set_index("table")["n_rows"]
    assert set(counts.index) == set(pds.data.table_names())
    assert (counts > 0).all(), counts[counts == 0].index.tolist()
