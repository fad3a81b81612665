"""One small simulated world shared by the linkage tests (built once per session)."""
import warnings

import pytest

import pdstats as pds


@pytest.fixture(scope="session")
def world():
    return pds.simulate.study(random_state=0, progress=False)


@pytest.fixture(scope="session")
def panel(world):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pds.linkage.analysis_panel(world, subject="math")
