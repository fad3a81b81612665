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
import pathlib
from functools import partial

from _chunked import run_chunks, summarize

from pdstats._parallel import piece_seeds
from pdstats.evaluate.trial_validation import bonus_estimates, bonus_trial


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--effect", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("output/bonus_validation"))
    ap.add_argument("--summarize", type=pathlib.Path)
    a = ap.parse_args()
    if not a.summarize:
        run_chunks(bonus_estimates, partial(bonus_trial, bonus_effect=a.effect, class_size=8),
                   piece_seeds(a.seed, a.worlds), a.out, a.chunk)
    summarize(a.summarize or a.out)


if __name__ == "__main__":
    main()
