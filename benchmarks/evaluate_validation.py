"""Known-truth validation of pds.evaluate on simulated pay-for-performance worlds.

Each world: pds.simulate.study over >= 6 years (1 state, 28 + 8 districts, staggered
district adoption), district panel of mean yearly growth on the linked scale
(pds.evaluate.panel); true effect = p4p_effect in every treated district-year. The runner
(pds.simulate.run) fits CS (simple ATT), imputation, Sun-Abraham and TWFE and reports
bias, RMSE, coverage and rejection with Monte Carlo SEs. Worlds run in chunks whose
draws are saved, so a partial run can be summarized.

Usage:
  python benchmarks/evaluate_validation.py --worlds 200 --effect 3 --out /tmp/did_eff3
  python benchmarks/evaluate_validation.py --summarize /tmp/did_eff3
"""

from __future__ import annotations

import argparse
import pathlib
from functools import partial

import numpy as np
from _chunked import run_chunks, summarize

from pdstats.evaluate.validation import did_estimates, p4p_world


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--effect", type=float, default=3.0)
    ap.add_argument("--years", type=int, default=6)
    ap.add_argument("--chunk", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("output/did_validation"))
    ap.add_argument("--summarize", type=pathlib.Path)
    a = ap.parse_args()
    if a.summarize:
        summarize(a.summarize)
        return
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(a.seed).spawn(a.worlds)]
    world = partial(p4p_world, years=a.years, p4p_effect=a.effect)
    truth = {t: a.effect for t in ("CS simple ATT", "imputation ATT", "Sun-Abraham ATT", "TWFE")}
    run_chunks(lambda d, rng: did_estimates(d, rng), world, seeds, a.out, a.chunk, truth=truth)
    summarize(a.out)


if __name__ == "__main__":
    main()
