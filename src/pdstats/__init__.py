"""pdstats: research statistics for comparing school districts across states.

>>> import pdstats as pds
>>> issubclass(pds.DataValidationError, pds.PdstatsError)
True

Subpackages are imported on first use (``pds.harmonize``, ``pds.multilevel``, ...), so
``import pdstats`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from pdstats.errors import (
    ConvergenceError,
    DataValidationError,
    DroppedRowsWarning,
    EstimationWarning,
    ModelSpecificationError,
    PdstatsError,
    PiecesFailedError,
    PrivacyError,
    ReproduceError,
    SchemaError,
    SimulationSpecError,
    StoreError,
    StudyConfigError,
    WorldsFailedError,
)
from pdstats.results import ResultsBase, SampleLog

__version__ = "0.1.0"

_SUBPACKAGES = {
    "data",
    "simulate",
    "practices",
    "harmonize",
    "multilevel",
    "vam",
    "figures",
    "privacy",
    "inference",
    "power",
    "evaluate",
    "linkage",
    "report",
}
# Front-door names re-exported lazily from their subpackages.
_LAZY_ATTRS = {
    "Study": ("pdstats.data.store", "Study"),
    "lmm": ("pdstats.multilevel", "lmm"),
    "ols": ("pdstats.inference", "ols"),
}

__all__ = [
    "ConvergenceError",
    "DataValidationError",
    "DroppedRowsWarning",
    "EstimationWarning",
    "ModelSpecificationError",
    "PdstatsError",
    "PrivacyError",
    "ReproduceError",
    "ResultsBase",
    "SampleLog",
    "SchemaError",
    "SimulationSpecError",
    "StoreError",
    "StudyConfigError",
    "WorldsFailedError",
    "PiecesFailedError",
    "__version__",
    *sorted(_SUBPACKAGES),
    *sorted(_LAZY_ATTRS),
]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"pdstats.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_ATTRS:
        mod, attr = _LAZY_ATTRS[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pdstats' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBPACKAGES | set(_LAZY_ATTRS))
