"""Recovery of NAEP-scale district means on simulated study worlds (pds.simulate), many replications.

Each replication simulates a world with ``pds.simulate.study(random_state=seed)`` (three
states: CA publishes district means/SDs, MA and TX proficiency-level counts; each state's
test is a nonlinear, unreliable transform of NAEP-scale achievement), runs
``pds.harmonize.harmonize_aggregates`` (HETOP or standardize, then ``link_to_naep`` with
the tests' reliabilities and the simulated state NAEP results), and compares the linked
district means (subgroup "all") with ``truth.units`` (true mean of the tested students'
true achievement on the NAEP scale).

Three variants of the standard errors are scored:

* ``population``: the default estimand (the district's student population), which
  includes student sampling error that the finite-sample truth does not have;
* ``students``: estimand = the students tested (their sampling variance removed);
* ``students+link``: as ``students`` with a linking-error term of 0.05 state NAEP SDs
  (a value calibrated on these worlds, not a published one).

Measured 2026-12-01 (200 worlds, 259,191 district-cells, 29 minutes at low priority): bias
+0.04, RMSE 6.1 NAEP points; coverage 97.8% (population), 86.1% (students), 92.6%
(students+link); per state in src/pdstats/harmonize/README.md.

Usage::

    PYTHONPATH=src python benchmarks/harmonize_validation.py [--reps 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import pdstats as pds
from pdstats.harmonize.recovery import world_recovery

VARIANTS = {"population": ("population", 0.0), "students": ("students", 0.0),
            "students+link": ("students", 0.05)}


def one_world(seed: int) -> pd.DataFrame:
    """Errors of linked district means against the truth in one simulated world."""
    world = pds.simulate.study(random_state=seed, progress=False)
    errors = world_recovery(world, VARIANTS)
    return errors.rename(columns={"se_mean": "se"}).assign(seed=seed)


def summarize(errors: pd.DataFrame) -> pd.DataFrame:
    def stats(d: pd.DataFrame) -> pd.Series:
        return pd.Series({"n": len(d), "bias": d["err"].mean(), "rmse": np.sqrt((d["err"] ** 2).mean()),
                          "mean_se": d["se"].mean(), "coverage95": (d["err"].abs() <= 1.96 * d["se"]).mean(),
                          "sd_bias": d["sd_err"].mean(), "sd_rmse": np.sqrt((d["sd_err"] ** 2).mean())})

    by_state = errors.groupby(["variant", "state", "source"]).apply(stats, include_groups=False)
    overall = errors.groupby("variant").apply(stats, include_groups=False)
    overall.index = pd.MultiIndex.from_tuples([(v, "all", "all") for v in overall.index],
                                              names=by_state.index.names)
    return pd.concat([by_state, overall]).sort_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    errors = pd.concat([one_world(args.seed + r) for r in tqdm(range(args.reps), desc="worlds")],
                       ignore_index=True)
    table = summarize(errors)
    print(f"\nLinked district means vs truth over {args.reps} simulated worlds "
          f"({time.perf_counter() - t0:.0f} s); NAEP scale points")
    print(table.to_string(float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
