"""Every public function and class of pdstats is documented and type-annotated.

"Public" means listed in a module's ``__all__``; the check walks every module of the
package, so a new subpackage is covered the day it lands.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import pdstats


def _public_objects() -> list[tuple[str, str, object]]:
    found = []
    for info in pkgutil.walk_packages(pdstats.__path__, "pdstats."):
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if obj is None:
                found.append((info.name, name, None))
            elif (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == info.name:
                found.append((info.name, name, obj))
    return found


PUBLIC = _public_objects()


def test_public_objects_found() -> None:
    assert len(PUBLIC) > 50


@pytest.mark.parametrize("module,name,obj", PUBLIC, ids=[f"{m}.{n}" for m, n, _ in PUBLIC])
def test_documented_and_typed(module: str, name: str, obj: object) -> None:
    assert obj is not None, f"{module}.__all__ names {name!r}, which the module does not define"
    assert inspect.getdoc(obj), f"{module}.{name} has no docstring"
    functions = [(name, obj)] if inspect.isfunction(obj) else [
        (f"{name}.{k}", v) for k, v in vars(obj).items() if inspect.isfunction(v) and not k.startswith("_")
    ]
    for label, fn in functions:
        assert inspect.getdoc(fn), f"{module}.{label} has no docstring"
        sig = inspect.signature(fn)
        untyped = [
            p.name for p in sig.parameters.values()
            if p.annotation is inspect.Parameter.empty and p.name not in ("self", "cls")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]  # fmt: skip
        assert not untyped, f"{module}.{label}: parameters without a type annotation: {untyped}"
        if fn.__name__ != "__init__":
            assert sig.return_annotation is not inspect.Parameter.empty, (
                f"{module}.{label} has no return annotation"
            )
