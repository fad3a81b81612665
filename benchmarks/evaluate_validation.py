"""Known-truth validation of pds.evaluate on simulated pay-for-performance worlds.

Each world: pds.simulate.study over 6 years (2005-2010; 1 state, 28 + 8 districts,
staggered district adoption), district panel of mean yearly growth on the linked scale
(pds.evaluate.panel, outcome years 2006-2010); the true effect is p4p_effect in every
treated district-year. The runner (pds.simulate.run) fits CS (simple ATT), imputation
and Sun-Abraham, each with the default small-sample inference and with the libraries'
analytic inference ("(analytic)" rows), and TWFE (CR2 + Bell-McCaffrey df), and reports
bias, RMSE, coverage and rejection with Monte Carlo SEs. Worlds run in chunks whose
draws are saved, so a partial run can be summarized; with --cache each world's panel is
kept (world i is a function of its seed only), so estimators can be re-run without
re-simulating, and --reverse lets a second process work from the other end.

--exposure instead runs the world whose effect grows with exposure
(pdstats.evaluate.validation.exposure_world: effect = years treated): TWFE's bias
against the true simple ATT, CS unbiased.

--size instead runs panels with the worlds' adoption design and normal errors
(pdstats.evaluate.validation.normal_world; --ma for MA(1) errors): the size of every test
free of the simulator, e.g. to choose a df rule.

Usage:
  python benchmarks/evaluate_validation.py --worlds 200 --effect 3 --out output/did_eff3
  python benchmarks/evaluate_validation.py --worlds 200 --effect 0 --seed 77 --out output/did_eff0
  python benchmarks/evaluate_validation.py --summarize output/did_eff3
  python benchmarks/evaluate_validation.py --exposure --worlds 200
  python benchmarks/evaluate_validation.py --size --worlds 2000 --ma -0.7
"""

from __future__ import annotations

import pathlib
from functools import partial

import numpy as np
import pandas as pd
from _chunked import arguments, run_chunks, summarize, world_seeds

import pdstats as pds
from pdstats.evaluate.validation import (
    TERMS,
    did_estimates,
    exposure_world,
    normal_world,
    p4p_world,
)


def cached_world(rng: np.random.Generator, cache: pathlib.Path | None, **kwargs: object
                 ) -> pd.DataFrame:
    """p4p_world, its panel kept in ``cache`` under the world's seed."""
    if cache is None:
        return p4p_world(rng, **kwargs)
    seed = rng.bit_generator.seed_seq.entropy
    path = cache / f"p4p_from3_y{kwargs['years']}_e{kwargs['p4p_effect']:g}_{seed}.pkl"
    if path.exists():
        return pd.read_pickle(path)
    d = p4p_world(rng, **kwargs)
    tmp = path.with_suffix(".tmp")
    d.to_pickle(tmp)
    tmp.replace(path)
    return d


def exposure(worlds: int, seed: int) -> pd.DataFrame:
    res = pds.simulate.run(lambda d, rng: did_estimates(d, rng, terms=("CS simple ATT", "TWFE")),
                           exposure_world, n_worlds=worlds,
                           truth=lambda d: {"CS simple ATT": d.attrs["truth"],
                                            "TWFE": d.attrs["truth"]},
                           random_state=seed, progress=False)
    table = res.estimates.pivot(index="term", columns="quantity", values=["estimate", "std_error"])
    print(f"{worlds} exposure worlds (effect = years treated; true simple ATT "
          f"{exposure_world(np.random.default_rng(0)).attrs['truth']:.3f})")
    print(table.round(3).to_string())
    return table


def size(worlds: int, seed: int, ma: float) -> pd.DataFrame:
    res = pds.simulate.run(lambda d, rng: did_estimates(d, rng), partial(normal_world, ma=ma),
                           n_worlds=worlds, truth=dict.fromkeys(TERMS, 0.0), random_state=seed,
                           progress=False)
    table = res.estimates.pivot(index="term", columns="quantity", values="estimate")
    se = res.estimates.pivot(index="term", columns="quantity", values="std_error")
    table["rejection MC SE"] = se["rejection"]
    print(f"{worlds} normal-error panels (MA coefficient {ma:g}), no effect")
    print(table[["rejection", "rejection MC SE", "sd_estimate", "mean_se"]].round(4).to_string())
    return table


def main() -> None:
    ap = arguments(3.0, "output/did_validation")
    ap.add_argument("--years", type=int, default=6)
    ap.add_argument("--cache", type=pathlib.Path)
    ap.add_argument("--reverse", action="store_true")
    ap.add_argument("--exposure", action="store_true")
    ap.add_argument("--size", action="store_true")
    ap.add_argument("--ma", type=float, default=0.0)
    a = ap.parse_args()
    if a.summarize:
        summarize(a.summarize)
        return
    if a.exposure:
        exposure(a.worlds, a.seed)
        return
    if a.size:
        size(a.worlds, a.seed, a.ma)
        return
    if a.cache:
        a.cache.mkdir(parents=True, exist_ok=True)
    world = partial(cached_world, cache=a.cache, years=a.years, p4p_effect=a.effect)
    run_chunks(lambda d, rng: did_estimates(d, rng), world, world_seeds(a.seed, a.worlds), a.out,
               a.chunk, truth=dict.fromkeys(TERMS, a.effect), reverse=a.reverse)
    summarize(a.out)


if __name__ == "__main__":
    main()
