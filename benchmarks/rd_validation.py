"""Known-truth validation of pds.evaluate.rd on simulated threshold-assigned teacher bonuses.

Each world (pds.evaluate.threshold.rd_world): pds.simulate.study over two years (1 state,
28 studied + 8 comparison districts, the simulator's own programs off); teachers whose
standardized first-year value-added (true effect + estimation noise) is at least 0.5 get a
bonus that adds ``effect`` NAEP points to their students' second-year mean growth. The
runner (pds.simulate.run) fits rd() and reports bias, coverage and rejection of the
conventional, bias-corrected and robust rows with Monte Carlo SEs. Worlds run in chunks
whose draws are saved, so a partial run can be summarized.

Usage:
  nice -n 15 python benchmarks/rd_validation.py --worlds 200 --effect 2 --out output/rd_eff2
  python benchmarks/rd_validation.py --summarize output/rd_eff2
"""

from __future__ import annotations

import argparse
import pathlib
from functools import partial

import numpy as np
import pandas as pd

import pdstats as pds
from pdstats.evaluate.threshold import rd_estimates, rd_world
from pdstats.simulate.runner import summarize_draws


def summarize(out: pathlib.Path) -> pd.DataFrame:
    files = sorted(out.glob("draws_*.csv"))
    draws = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    draws["world"] = pd.factorize(draws["seed"])[0]  # chunks number their worlds from 0
    table = summarize_draws(draws)
    print(f"{draws['seed'].nunique()} worlds")
    print(table.to_string())
    return table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--effect", type=float, default=2.0)
    ap.add_argument("--chunk", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("output/rd_validation"))
    ap.add_argument("--summarize", type=pathlib.Path)
    a = ap.parse_args()
    if a.summarize:
        summarize(a.summarize)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(a.seed).spawn(a.worlds)]
    world = partial(rd_world, effect=a.effect)
    for i in range(0, a.worlds, a.chunk):
        path = a.out / f"draws_{i:04d}.csv"
        if path.exists():
            continue
        res = pds.simulate.run(rd_estimates, world, seeds=seeds[i:i + a.chunk], progress=False,
                               errors="record")
        res.draws.to_csv(path, index=False)
        print(f"worlds {i + a.chunk}/{a.worlds}", flush=True)
    summarize(a.out)


if __name__ == "__main__":
    main()
