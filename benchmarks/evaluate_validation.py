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

from functools import partial

from _chunked import arguments, run_chunks, summarize, world_seeds

from pdstats.evaluate.validation import did_estimates, p4p_world


def main() -> None:
    ap = arguments(3.0, "output/did_validation")
    ap.add_argument("--years", type=int, default=6)
    a = ap.parse_args()
    if a.summarize:
        summarize(a.summarize)
        return
    seeds = world_seeds(a.seed, a.worlds)
    world = partial(p4p_world, years=a.years, p4p_effect=a.effect)
    truth = {t: a.effect for t in ("CS simple ATT", "imputation ATT", "Sun-Abraham ATT", "TWFE")}
    run_chunks(lambda d, rng: did_estimates(d, rng), world, seeds, a.out, a.chunk, truth=truth)
    summarize(a.out)


if __name__ == "__main__":
    main()
