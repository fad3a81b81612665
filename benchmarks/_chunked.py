"""Known-truth validations run in resumable chunks: each chunk's draws saved, then summarized.

Used by the validation benchmarks whose worlds are slow (``evaluate_validation.py``,
``randomized_validation.py``): a run that is stopped keeps the chunks it finished, a
rerun skips them, and ``summarize`` pools whatever is there with the runner's formulas.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

import pdstats as pds
from pdstats.simulate.runner import summarize_draws


def run_chunks(estimator: Callable, world: Callable, seeds: Sequence[int], out: pathlib.Path,
               chunk: int, truth: Any = None, reverse: bool = False) -> None:
    """Fit ``estimator`` on the worlds of ``seeds``, ``chunk`` at a time, saving each chunk's draws.

    Chunks already saved are skipped; ``reverse`` works from the last chunk, so a second
    process can share a run.
    """
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    starts = list(range(0, len(seeds), chunk))
    for i in starts[::-1] if reverse else starts:
        path = out / f"draws_{i:04d}.csv"
        if path.exists():
            continue
        res = pds.simulate.run(estimator, world, truth=truth, seeds=seeds[i:i + chunk],
                               progress=False, errors="record")
        res.draws.to_csv(path, index=False)
        print(f"worlds {min(i + chunk, len(seeds))}/{len(seeds)}, {time.time() - t0:.0f} s, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)


def summarize(out: pathlib.Path) -> pd.DataFrame:
    """Pool the saved chunks of ``out`` (bias, RMSE, coverage, rejection with MC SEs) and print them."""
    draws = pd.concat([pd.read_csv(f) for f in sorted(out.glob("draws_*.csv"))], ignore_index=True)
    draws["world"] = pd.factorize(draws["seed"])[0]  # chunks number their worlds from 0
    table = summarize_draws(draws)
    print(f"{draws['seed'].nunique()} worlds")
    print(table.pivot(index="term", columns="quantity", values=["estimate", "std_error"])
          .round(4).to_string())
    return table


def arguments(effect: float, out: str) -> argparse.ArgumentParser:
    """The options of a validation benchmark (add the script's own, then parse)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--effect", type=float, default=effect)
    ap.add_argument("--chunk", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path(out))
    ap.add_argument("--summarize", type=pathlib.Path)
    return ap


def world_seeds(seed: int, n: int) -> list[int]:
    """The worlds' seeds: one integer from each child of ``SeedSequence(seed)``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]
