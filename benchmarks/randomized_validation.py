"""Known-truth validation of pds.evaluate.randomized on the simulated teacher bonus.

Each world: the engine of pds.simulate.study (1 state, 2 studied districts, class size 8, 2005-2006);
the randomized teacher bonus of its experiment district as a student-level trial
(pdstats.evaluate.trial_validation.bonus_trial): teachers randomized 1:1, the outcome
the students' 2006 math achievement on the harmonized scale, the covariate 2005's. The
runner (pds.simulate.run) fits the four ITT methods and reports bias, RMSE, coverage and
rejection with Monte Carlo SEs.

Usage (background, niced):
  nice -n 15 python benchmarks/randomized_validation.py --worlds 200 --effect 2 --out output/bonus_eff2.csv
  nice -n 15 python benchmarks/randomized_validation.py --worlds 200 --effect 0 --out output/bonus_eff0.csv
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time
from functools import partial

import pdstats as pds
from pdstats.evaluate.trial_validation import bonus_estimates, bonus_trial


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--effect", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("output/bonus_validation.csv"))
    a = ap.parse_args()
    t0 = time.time()
    res = pds.simulate.run(bonus_estimates, partial(bonus_trial, bonus_effect=a.effect, class_size=8),
                           n_worlds=a.worlds, random_state=a.seed, progress=False)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    res.estimates.to_csv(a.out, index=False)
    print(f"{a.worlds} worlds, bonus_effect={a.effect}, {time.time() - t0:.0f} s, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(res.estimates.pivot(index="term", columns="quantity", values=["estimate", "std_error"])
          .round(4).to_string())


if __name__ == "__main__":
    main()
