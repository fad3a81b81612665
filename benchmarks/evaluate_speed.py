"""Speed of pds.evaluate.staggered_did against moderndid (the library it builds on), one run.

Job: Callaway & Sant'Anna (outcome regression, never-treated comparison) on 3,000
districts x 10 years (six adoption cohorts and never-treated districts), group-time
effects plus the event-study aggregation, each with 999 multiplier-bootstrap draws
(uniform bands). Both contenders run in their own child process (peak memory by
``os.wait4``); inside the child a first call on another panel of the same size pays the
imports and numba compilation (``first_call_seconds``), then the estimation is timed from
the data frame in memory to the event-study result. The machine's load average is
printed beside the table.

Target (issue 15): under 30 s and no slower than moderndid.

Usage::

    python benchmarks/evaluate_speed.py [--units 3000] [--years 10] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _childrun import run_child  # noqa: E402


def make_data(units: int, years: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = 2001
    cohorts = np.r_[0, np.arange(first + 3, first + years)[:6]]
    g = rng.choice(cohorts, size=units)
    t = np.arange(first, first + years)
    d = pd.DataFrame({"district": np.repeat(np.arange(units), years), "year": np.tile(t, units),
                      "g": np.repeat(g, years)})
    d["y"] = (rng.normal(size=units)[d["district"]] + 0.1 * (d["year"] - first)
              + 0.2 * ((d["g"] > 0) & (d["year"] >= d["g"])) + rng.normal(size=len(d)))
    return d


def child(which: str, units: int, years: int) -> None:
    import warnings

    warnings.simplefilter("ignore")
    d = make_data(units, years)

    def fit(data: pd.DataFrame) -> float:
        if which == "pdstats":
            import pdstats as pds

            res = pds.evaluate.staggered_did(data, "y", "district", "year", "g", n_boot=999,
                                             random_state=1)
            return float(res.aggregate("event").overall["estimate"].iloc[0])
        import moderndid as md

        mp = md.att_gt(data=data, yname="y", tname="year", idname="district", gname="g",
                       est_method="reg", boot=True, biters=999, cband=True, random_state=1)
        agg = md.aggte(mp, type="dynamic", boot=True, biters=999, cband=True, random_state=1)
        return float(agg.overall_att)

    # first call (imports, compiled kernels) on another panel of the same size, timed apart
    t0 = time.perf_counter()
    fit(make_data(units, years, seed=1))
    first = time.perf_counter() - t0
    start = time.perf_counter()
    value = fit(d)
    print(json.dumps({"seconds": time.perf_counter() - start, "first_call_seconds": first,
                      "overall": value}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--child", choices=["pdstats", "moderndid"])
    a = ap.parse_args()
    if a.child:
        child(a.child, a.units, a.years)
        return
    rows = []
    for r in range(a.repeats):
        for which in (("pdstats", "moderndid") if r % 2 == 0 else ("moderndid", "pdstats")):
            load = os.getloadavg()[0]
            out = run_child([sys.executable, __file__, "--child", which, "--units", str(a.units),
                             "--years", str(a.years)], a.timeout)
            rows.append({"contender": which, "repeat": r, "seconds": out.get("seconds"),
                         "first_call_seconds": out.get("first_call_seconds"), "peak_mb": out.get("peak_mb"), "overall": out.get("overall"),
                         "load_1min": round(load, 1), "note": out.get("note", "")})
    table = pd.DataFrame(rows)
    print(f"Callaway-Sant'Anna, {a.units} units x {a.years} years, 999 bootstrap draws "
          f"(att_gt + event study); {os.cpu_count()} cores; seconds: the estimation in a fresh "
          "process after a first call on another panel of that size (imports, compiled "
          "kernels: first_call_seconds)")
    print(table.to_string(index=False))
    best = table.groupby("contender")["seconds"].min()
    print(f"\nbest of {a.repeats}: pdstats {best['pdstats']:.2f} s, moderndid "
          f"{best['moderndid']:.2f} s (ratio {best['pdstats'] / best['moderndid']:.2f}); "
          f"target < 30 s and ratio <= 1")


if __name__ == "__main__":
    main()
