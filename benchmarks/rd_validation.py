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

from functools import partial

from _chunked import arguments, run_chunks, summarize, world_seeds

from pdstats.evaluate.threshold import rd_estimates, rd_world


def main() -> None:
    ap = arguments(2.0, "output/rd_validation")
    a = ap.parse_args()
    if a.summarize:
        summarize(a.summarize)
        return
    seeds = world_seeds(a.seed, a.worlds)
    world = partial(rd_world, effect=a.effect)
    run_chunks(rd_estimates, world, seeds, a.out, a.chunk)
    summarize(a.out)


if __name__ == "__main__":
    main()
