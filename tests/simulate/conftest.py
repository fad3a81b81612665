"""One default small world shared by the simulate tests (built once per session)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

import pdstats as pds


def _table_hash(tables: dict[str, pd.DataFrame]) -> str:
    """SHA-256 of the CSV text of every table, rows sorted, tables in name order."""
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        df = df.sort_values(list(df.columns)).reset_index(drop=True)
        h.update(name.encode())
        h.update(df.to_csv(index=False, lineterminator="\n").encode())
    return h.hexdigest()


@pytest.fixture(scope="session")
def sim():
    return pds.simulate.study(random_state=0, progress=False)


@pytest.fixture(scope="session")
def table_hash():
    return _table_hash
