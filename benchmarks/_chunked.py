"""Validation runs in resumable chunks: each chunk's draws saved, any partial run summarized.

The known-truth benchmarks (``*_validation.py``) run hundreds of worlds in the background;
:func:`run_chunks` passes the worlds to ``pds.simulate.run`` a chunk at a time and writes each
chunk's draws to ``out/draws_NNNN.csv`` (an existing chunk is skipped, so a stopped run
resumes), and :func:`summarize` pools whatever chunks exist with the runner's own
:func:`~pdstats.simulate.runner.summarize_draws`.
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
               chunk: int = 10, truth: Any = None) -> None:
    """Fit ``estimator`` on the worlds of ``seeds``, ``chunk`` at a time, saving the draws."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for i in range(0, len(seeds), chunk):
        path = out / f"draws_{i:04d}.csv"
        if path.exists():
            continue
        res = pds.simulate.run(estimator, world, truth=truth, seeds=seeds[i:i + chunk],
                               progress=False, errors="record")
        res.draws.to_csv(path, index=False)
        print(f"worlds {min(i + chunk, len(seeds))}/{len(seeds)}, {time.time() - t0:.0f} s, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)


def summarize(out: pathlib.Path) -> pd.DataFrame:
    """Pool the saved chunks of ``out`` and print the per-term Monte Carlo summary."""
    files = sorted(out.glob("draws_*.csv"))
    draws = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    draws["world"] = pd.factorize(draws["seed"])[0]  # chunks number their worlds from 0
    table = summarize_draws(draws)
    print(f"{draws['seed'].nunique()} worlds")
    print(table.to_string())
    return table


def arguments(effect: float, out: str) -> argparse.ArgumentParser:
    """The options every validation benchmark takes (add the script's own, then parse)."""
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
