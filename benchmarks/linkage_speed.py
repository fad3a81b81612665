"""Speed of pds.linkage: every model on the default world; the student model on a medium world.

Each job runs in its own child process (peak memory from ``os.wait4``); the time is measured
inside the child from the simulated study in memory to the result, as wall-clock and CPU
seconds (on a shared machine the CPU time is the one to compare with the targets). The anchor, measured in the
same run, is the plainest version of the district model: statsmodels WLS of growth on the
cell dummies, the practice index and p4p with weights 1/var_growth and cluster-robust (CR1)
standard errors by district, on the panel the child has built.

Targets (issue 14): every model on the default world under 10 s; the student model with
district-clustered inference on a ``medium`` world (about 430,000 student-years) under 2 min.

Usage::

    python benchmarks/linkage_speed.py [--skip-medium] [--timeout 1200]
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd
from _childrun import run_child

PY = sys.executable

CHILD = r"""
import json, sys, time, warnings
import pdstats as pds
warnings.simplefilter("ignore")
size, job = sys.argv[1], sys.argv[2]
sim = pds.simulate.study(random_state=0, size=size, progress=False)
t, c = time.perf_counter(), time.process_time()
panel = pds.linkage.analysis_panel(sim)
t_panel = time.perf_counter() - t
if job == "panel":
    print(json.dumps({"seconds": t_panel, "cpu_seconds": time.process_time() - c, "rows": len(panel.data)}))
    sys.exit()
if job == "anchor":
    import statsmodels.formula.api as smf
    t, c = time.perf_counter(), time.process_time()
    d = panel.data
    fit = smf.wls("growth ~ C(cell) + practice_index + p4p", d, weights=1 / d["var_growth"]).fit(
        cov_type="cluster", cov_kwds={"groups": d["district_id"].astype("category").cat.codes})
    print(json.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - c,
                      "rows": len(d)})); sys.exit()
t, c = time.perf_counter(), time.process_time()
fit = pds.linkage.practice_growth(panel, model=job, progress=False)
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "cpu_seconds": time.process_time() - c, "with_panel": sec + t_panel,
                  "rows": fit.sample_log.n_used}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-medium", action="store_true")
    ap.add_argument("--timeout", type=float, default=1200)
    a = ap.parse_args()
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    jobs = [("small", j) for j in ("panel", "anchor", "district", "within", "value_added", "student")]
    if not a.skip_medium:
        jobs.append(("medium", "student"))
    rows = []
    for size, job in jobs:
        r = run_child([PY, "-c", CHILD, size, job], a.timeout, env)
        rows.append({"world": size, "job": job, **r})
        print(rows[-1], flush=True)
    t = pd.DataFrame(rows)
    anchor = float(t.query("world == 'small' and job == 'anchor'")["seconds"].iloc[0])
    t["x_anchor"] = t["seconds"] / anchor
    t["target_s"] = t["world"].map({"small": 10.0, "medium": 120.0})
    print(t.to_string(index=False, float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    main()
