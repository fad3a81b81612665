"""The examples in every public docstring run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pdstats

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pdstats.__path__, "pdstats.") if ".tests" not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
