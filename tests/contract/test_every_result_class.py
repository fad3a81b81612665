"""Every public result class of the package is covered by a contract test.

Test files that build result classes from small fits and call
:func:`checks.assert_contract` on them declare which classes they cover in a module-level
``COVERS`` set. This test walks the whole package, collects every
:class:`~pdstats.results.ResultsBase` subclass and fails for a class that no such file
covers, so a new family cannot ship a result class outside the contract.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pdstats
from pdstats.results import IntervalResultsBase, ResultsBase

TESTS = Path(__file__).parent.parent
ABSTRACT = {ResultsBase, IntervalResultsBase}


def _result_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for mod in pkgutil.walk_packages(pdstats.__path__, "pdstats."):
        if mod.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, ResultsBase) and obj not in ABSTRACT and obj.__module__.startswith("pdstats"):
                if obj.__name__.startswith("_") or obj.__name__.endswith("ResultBase"):
                    continue  # private classes and intermediate bases of a family
                found[f"{obj.__module__}.{obj.__name__}"] = obj
    return found


def test_every_result_class_has_a_contract_test() -> None:
    classes = _result_classes()
    assert len(classes) >= 15, sorted(classes)
    covered: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        text = path.read_text()
        m = re.search(r"^COVERS = \{(.*?)\}", text, flags=re.M | re.S)
        if m:
            assert "assert_contract(" in text, f"{path} declares COVERS but never calls assert_contract"
            covered |= set(re.findall(r'"(\w+)"', m.group(1)))
    missing = sorted(q for q, cls in classes.items() if cls.__name__ not in covered)
    assert not missing, f"result classes without a contract test: {missing}"


def test_result_classes_are_named_result() -> None:
    bad = sorted(q for q, cls in _result_classes().items() if not cls.__name__.endswith("Result"))
    assert not bad, f"result classes must end in 'Result': {bad}"
