"""Known-truth validation of the practice-growth models through :func:`pdstats.simulate.run`.

In a simulated world the latent practice index ``P`` raises every student's yearly growth
by ``practice_effect`` points per SD of ``P`` (``P`` is N(0, 1) among districts in year 1),
so each model's corrected effect of the practice index estimates ``practice_effect`` and
the naive one ``practice_effect`` times the conditional reliability.

>>> from pdstats.linkage.validation import truth
>>> truth(2.0, ("district",))
{'district': 2.0}
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["estimator", "truth", "validate", "world_builder"]

VALIDATED = ("district", "student", "value_added")


def _build(rng: np.random.Generator, practice_effect: float, size: str, knobs: dict[str, Any]) -> Any:
    from pdstats.simulate import study

    seed = int(rng.integers(2**31 - 1))
    return study(random_state=seed, size=size, progress=False, practice_effect=practice_effect, **knobs)


class _World:
    """Picklable world builder (the dask backend ships it to workers)."""

    def __init__(self, practice_effect: float, size: str, knobs: dict[str, Any]) -> None:
        self.practice_effect, self.size, self.knobs = practice_effect, size, knobs

    def __call__(self, rng: np.random.Generator) -> Any:
        return _build(rng, self.practice_effect, self.size, self.knobs)


def world_builder(practice_effect: float = 2.0, size: str = "small", **knobs: Any) -> _World:
    """A ``world(rng)`` for the runner: one simulated study with the given practice effect.

    Examples
    --------
    >>> callable(world_builder(0.0))
    True
    """
    return _World(float(practice_effect), size, dict(knobs))


class _Estimator:
    def __init__(self, models: Sequence[str], inference: str) -> None:
        self.models, self.inference = tuple(models), inference

    def __call__(self, sim: Any, rng: np.random.Generator) -> pd.DataFrame:
        from pdstats.linkage import analysis_panel, practice_growth

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = analysis_panel(sim)
            rows = []
            for m in self.models:
                fit = practice_growth(panel, model=m, inference=self.inference, random_state=rng, progress=False)
                e, n = fit.effect(), fit.naive.set_index("term").loc["practice_index"]
                att = fit.attenuation.set_index("term").loc["practice_index"]
                rows.append({"term": m, **{k: e[k] for k in ("estimate", "std_error", "df", "ci_lower", "ci_upper",
                                                             "p_value")},
                             "reliability": att["conditional_reliability"]})
                rows.append({"term": f"{m}_naive", **{k: n[k] for k in ("estimate", "std_error", "df", "ci_lower",
                                                                        "ci_upper", "p_value")},
                             "reliability": att["conditional_reliability"]})
        return pd.DataFrame(rows)


def estimator(models: Sequence[str] = VALIDATED, inference: str = "cr2") -> _Estimator:
    """An ``estimator(world, rng)`` for the runner: corrected and naive effects of each model.

    Examples
    --------
    >>> callable(estimator(("district",)))
    True
    """
    return _Estimator(models, inference)


def truth(practice_effect: float, models: Sequence[str] = VALIDATED) -> dict[str, float]:
    """True value of each model's corrected practice-index effect."""
    return {m: float(practice_effect) for m in models}


def validate(n_worlds: int = 200, practice_effect: float = 2.0, models: Sequence[str] = VALIDATED,
             inference: str = "cr2", backend: str = "local", random_state: int | None = 0,
             seeds: Sequence[int] | None = None, progress: bool = True, **knobs: Any) -> Any:
    """Run the known-truth validation (a :class:`pdstats.simulate.runner.ValidationResult`).

    Examples
    --------
    >>> res = validate(n_worlds=1, models=("district",), progress=False)  # doctest: +SKIP
    """
    from pdstats.simulate import run

    return run(estimator(models, inference), world_builder(practice_effect, **knobs), n_worlds=n_worlds,
               truth=truth(practice_effect, models), backend=backend, random_state=random_state, seeds=seeds,
               progress=progress, errors="record")
