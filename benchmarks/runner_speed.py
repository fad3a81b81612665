"""The validation runner's value-added validation on a 2-worker dask LocalCluster vs 1 worker.

The job is the 200-world CFR validation of tests/vam/test_vam_simulate_worlds.py:
``pds.simulate.run(cfr_on_study_world, study_world, seeds=range(100, 300))`` (each world a
default ``pds.simulate.study`` world, CFR value-added by subject and school level against
the true teacher effects). The anchor is the same run on a 1-worker LocalCluster; BLAS and
OpenMP are pinned to one thread in both (the variables are set before numpy is imported and
inherited by the worker processes); cluster start-up and the workers' imports are excluded
from the times. Both runs must give identical draws (same world seeds).

Target (issue 13): at least 1.7 times faster on 2 workers than on 1. The machine is shared:
the load average before and after each run is printed with the times.

Usage::

    PYTHONPATH=src python benchmarks/runner_speed.py [--worlds 200] [--first-seed 100] [--years 3]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from functools import partial  # noqa: E402

import pandas as pd  # noqa: E402

import pdstats as pds  # noqa: E402
from pdstats.vam.known_truth import cfr_on_study_world, study_world  # noqa: E402


def _warm() -> None:
    """Import what a world needs on a worker (not timed) and silence its warnings."""
    import pdstats.vam  # noqa: F401
    import pdstats.vam.known_truth  # noqa: F401

    warnings.simplefilter("ignore")


def timed_run(workers: int, seeds: range, years: int) -> tuple[float, tuple, pds.simulate.ValidationResult]:
    """Seconds of one runner call on a ``workers``-worker LocalCluster, load before/after, result."""
    from distributed import Client, LocalCluster

    world = partial(study_world, years=tuple(range(2005, 2005 + years)))
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(_warm)
        load0 = os.getloadavg()
        t0 = time.perf_counter()
        res = pds.simulate.run(cfr_on_study_world, world, seeds=seeds, backend="dask", client=client)
        sec = time.perf_counter() - t0
        load1 = os.getloadavg()
    return sec, (load0, load1), res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=100)
    ap.add_argument("--years", type=int, default=3, help="study years from 2005 (7: the seven-year worlds)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    seeds = range(args.first_seed, args.first_seed + args.worlds)
    rows, results = [], {}
    for workers in (1, 2):
        sec, (l0, l1), res = timed_run(workers, seeds, args.years)
        results[workers] = res
        rows.append({"workers": workers, "seconds": sec, "worlds_per_minute": 60 * args.worlds / sec,
                     "load_before": f"{l0[0]:.1f} {l0[1]:.1f} {l0[2]:.1f}",
                     "load_after": f"{l1[0]:.1f} {l1[1]:.1f} {l1[2]:.1f}"})
    table = pd.DataFrame(rows)
    table["speedup_vs_1_worker"] = table["seconds"].iloc[0] / table["seconds"]
    print(f"\nRunner: {args.worlds}-world CFR validation ({args.years}-year worlds, seeds "
          f"{seeds.start}-{seeds.stop - 1}), dask LocalCluster, one thread per worker, BLAS pinned to 1 thread")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(f"target: 2 workers at least 1.7x faster -> {'met' if table['speedup_vs_1_worker'].iloc[1] >= 1.7 else 'NOT met'}")
    one, two = results[1], results[2]
    pd.testing.assert_frame_equal(one.draws, two.draws)
    print("draws identical on 1 and 2 workers")
    print("\nValidation (Monte Carlo SE over worlds):")
    print(two.estimates[["term", "quantity", "estimate", "std_error", "n_worlds"]].to_string(
        index=False, float_format=lambda x: f"{x:.4f}"))
    t = two.draws[two.draws["term"] == "teacher effect"]
    by_level = pds.simulate.runner.summarize_draws(t.assign(term=t["term"] + ", " + t["level"]))
    print(by_level.loc[by_level["quantity"] == "coverage", ["term", "estimate", "std_error"]].to_string(
        index=False, float_format=lambda x: f"{x:.4f}"))
    corr = t.groupby("world").apply(lambda d: d["estimate"].corr(d["truth"]), include_groups=False)
    print(f"mean per-world correlation {corr.mean():.3f}; cell-pooled coverage {t['covered'].mean():.4f}")


if __name__ == "__main__":
    main()
