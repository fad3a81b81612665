"""Speed and memory of pds.lmm against lme4 (timed by Rscript in the same run) and statsmodels.

Each fit runs in its own subprocess under ``/usr/bin/time`` so that peak memory (max RSS)
is measured per tool.  The fit time is measured inside the process: from a data frame in
memory to a fitted model (formula parsing and model matrices included; data loading and
interpreter start-up excluded).  Small models take the best of ``--repeats`` runs.

Models
------
* egsingle, three-level growth: ``math ~ year + (year | childid) + (year | schoolid)``
  (statsmodels MixedLM cannot express correlated child slopes inside schools);
* egsingle, two-level growth: ``math ~ year + (year | childid)`` (all three tools);
* a simulated three-level growth data set: by default 2,000 schools x 100 students x 5
  occasions = 1,000,000 rows, ``y ~ year * x + (year | student) + (year | school)``;
* the same large data, two-level ``(year | student)`` model, for statsmodels (with a
  time limit).

Usage::

    PYTHONPATH=src python benchmarks/multilevel_speed.py [--schools 2000] [--students 100]
        [--occasions 5] [--repeats 3] [--skip-large] [--timeout 900]
        [--skip-statsmodels-large] [--statsmodels-timeout 300]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
from _childrun import run_child

PY = sys.executable
HERE = Path(__file__).resolve().parents[1]

PDSTATS_CHILD = r"""
import json, sys, time, warnings
import pandas as pd
import pdstats as pds
from pdstats.data.datasets import load_rdataset
src, formula, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = load_rdataset("mlmRev", "egsingle") if src == "egsingle" else pd.read_parquet(src)
best = float("inf")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _ in range(repeats):
        t = time.perf_counter()
        fit = pds.lmm(formula, df)
        best = min(best, time.perf_counter() - t)
print(json.dumps({"seconds": best, "loglike": fit.loglike,
                  "evaluations": fit.optimization.n_evaluations}))
"""

STATSMODELS_CHILD = r"""
import json, sys, time, warnings
import pandas as pd
import statsmodels.formula.api as smf
from pdstats.data.datasets import load_rdataset
src, fixed, group, re_formula = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
df = load_rdataset("mlmRev", "egsingle") if src == "egsingle" else pd.read_parquet(src)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    fit = smf.mixedlm(fixed, df, groups=df[group], re_formula=re_formula).fit(reml=True)
    sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "loglike": float(fit.llf)}))
"""

R_CHILD = r"""
suppressPackageStartupMessages({library(lme4)})
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]; form <- as.formula(args[2]); repeats <- as.integer(args[3])
if (src == "egsingle") { d <- mlmRev::egsingle } else { d <- read.csv(src) }
best <- Inf
for (i in seq_len(repeats)) {
  t <- system.time(fit <- lmer(form, data = d, REML = TRUE))[["elapsed"]]
  best <- min(best, t)
}
cat(sprintf('{"seconds": %.6f, "loglike": %.6f, "evaluations": %d}\n', best,
            as.numeric(logLik(fit)), as.integer(fit@optinfo$feval)))
"""


def run(cmd: list[str], timeout: float) -> dict:
    """Run one single-threaded child; its JSON line plus peak RSS in MB (see _childrun)."""
    return run_child(cmd, timeout, env={"PYTHONPATH": str(HERE / "src"), "OMP_NUM_THREADS": "1",
                                        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schools", type=int, default=2000)
    ap.add_argument("--students", type=int, default=100, help="students per school")
    ap.add_argument("--occasions", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--skip-statsmodels-large", action="store_true")
    ap.add_argument("--statsmodels-timeout", type=float, default=300.0,
                    help="time limit of statsmodels on the large data (it is very slow there)")
    args = ap.parse_args()
    have_r = shutil.which("Rscript") is not None
    rows = []

    def record(model: str, n: int, tool: str, res: dict) -> None:
        rows.append({"model": model, "rows": n, "tool": tool, "fit_seconds": res.get("seconds"),
                     "peak_mb": res.get("peak_mb"), "loglike": res.get("loglike"),
                     "evaluations": res.get("evaluations"), "note": res.get("note", "")})
        print(f"  {model:<28} {tool:<12} {res.get('seconds', float('nan')):9.3f} s  "
              f"{res.get('note', '')}", flush=True)

    three = "math ~ year + (year | childid) + (year | schoolid)"
    two = "math ~ year + (year | childid)"
    for label, formula in (("egsingle 3-level", three), ("egsingle 2-level", two)):
        record(label, 7230, "pdstats",
               run([PY, "-c", PDSTATS_CHILD, "egsingle", formula, str(args.repeats)], args.timeout))
        if have_r:
            record(label, 7230, "lme4",
                   run(["Rscript", "-e", R_CHILD, "egsingle", formula, str(args.repeats)],
                       args.timeout))
    record("egsingle 2-level", 7230, "statsmodels",
           run([PY, "-c", STATSMODELS_CHILD, "egsingle", "math ~ year", "childid", "~year"],
               args.timeout))
    record("egsingle 3-level", 7230, "statsmodels",
           {"seconds": float("nan"), "note": "cannot express nested correlated slopes"})

    if not args.skip_large:
        sys.path.insert(0, str(HERE / "src"))
        from pdstats.multilevel.simulate import simulate_growth

        df = simulate_growth(args.schools, args.students, args.occasions, random_state=2026)
        n = len(df)
        with tempfile.TemporaryDirectory() as tmp:
            pq, csv = Path(tmp) / "growth.parquet", Path(tmp) / "growth.csv"
            df.to_parquet(pq)
            df.to_csv(csv, index=False)
            big3 = "y ~ year * x + (year | student) + (year | school)"
            label = f"simulated 3-level ({args.schools} schools)"
            record(label, n, "pdstats", run([PY, "-c", PDSTATS_CHILD, str(pq), big3, "1"],
                                            args.timeout))
            if have_r:
                record(label, n, "lme4", run(["Rscript", "-e", R_CHILD, str(csv), big3, "1"],
                                             args.timeout))
            record(label, n, "statsmodels",
                   {"seconds": float("nan"), "note": "cannot express nested correlated slopes"})
            if not args.skip_statsmodels_large:
                label2 = "simulated 2-level (students)"
                big2 = "y ~ year * x + (year | student)"
                record(label2, n, "pdstats", run([PY, "-c", PDSTATS_CHILD, str(pq), big2, "1"],
                                                 args.timeout))
                record(label2, n, "statsmodels",
                       run([PY, "-c", STATSMODELS_CHILD, str(pq), "y ~ year * x", "student",
                            "~year"], args.statsmodels_timeout))

    table = pd.DataFrame(rows)
    ref = table[table.tool == "lme4"].set_index("model")["fit_seconds"]
    table["time_vs_lme4"] = [
        r.fit_seconds / ref[r.model] if r.model in ref.index else float("nan")
        for r in table.itertuples()
    ]
    pd.set_option("display.width", 160)
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
