"""Known-truth validation of pds.evaluate.randomized on the simulated teacher bonus.

Each world: the engine of pds.simulate.study (1 state, 2 studied districts, class size 8,
2005-2006) and the randomized teacher bonus of its experiment district as a student-level
trial (pdstats.evaluate.trial_validation.bonus_trial): teachers randomized 1:1, the
outcome the students' 2006 math achievement on the harmonized scale, the covariate
2005's. The runner (pds.simulate.run) fits the four ITT methods and reports bias, RMSE,
coverage and rejection with Monte Carlo SEs. Worlds run in chunks whose draws are saved
(the worlds are those of ``run(random_state=seed)``), so a partial run can be summarized.

Usage (background, niced):
  nice -n 15 python benchmarks/randomized_validation.py --effect 2 --seed 2026 --out output/bonus_eff2
  nice -n 15 python benchmarks/randomized_validation.py --effect 0 --seed 77 --out output/bonus_eff0
  python benchmarks/randomized_validation.py --summarize output/bonus_eff2
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time
from functools import partial

import pandas as pd

import pdstats as pds
from pdstats._parallel import piece_seeds
from pdstats.evaluate.trial_validation import bonus_estimates, bonus_trial
from pdstats.simulate.runner import summarize_draws


def summarize(out: pathlib.Path) -> pd.DataFrame:
    draws = pd.concat([pd.read_csv(f) for f in sorted(out.glob("draws_*.csv"))], ignore_index=True)
    draws["world"] = pd.factorize(draws["seed"])[0]
    table = summarize_draws(draws)
    print(f"{draws['seed'].nunique()} worlds")
    print(table.pivot(index="term", columns="quantity", values=["estimate", "std_error"])
          .round(4).to_string())
    return table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--effect", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("output/bonus_validation"))
    ap.add_argument("--summarize", type=pathlib.Path)
    a = ap.parse_args()
    if a.summarize:
        summarize(a.summarize)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    seeds = piece_seeds(a.seed, a.worlds)
    world = partial(bonus_trial, bonus_effect=a.effect, class_size=8)
    t0 = time.time()
    for i in range(0, a.worlds, a.chunk):
        path = a.out / f"draws_{i:04d}.csv"
        if path.exists():
            continue
        res = pds.simulate.run(bonus_estimates, world, seeds=seeds[i:i + a.chunk], progress=False,
                               errors="record")
        res.draws.to_csv(path, index=False)
        print(f"worlds {min(i + a.chunk, a.worlds)}/{a.worlds}, {time.time() - t0:.0f} s, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
    summarize(a.out)


if __name__ == "__main__":
    main()
