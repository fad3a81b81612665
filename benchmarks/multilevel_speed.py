"""Speed and memory of pds.lmm against lme4 (Rscript) and mixedlm, timed in the same run.

Each tool fits each model in its own subprocess (single-threaded BLAS), which reports the
median (and the spread) of ``--repeats`` fits and the median CPU time of a fit (process time:
with every contender's BLAS and thread pools pinned to one thread it compares single-threaded
work even when other jobs share the machine); peak memory (max RSS) is measured per child
(see ``_childrun``).  The fit time runs from a data frame in memory to a fitted model
(formula parsing and model matrices included; data loading and start-up excluded).
``mixedlm`` (a Rust-backed port of lme4 on PyPI) is timed when it is installed;
``statsmodels`` MixedLM on the one model it can express.

Models
------
* InstEval (lme4's data, 73,421 ratings): ``y ~ service + (1 | s) + (1 | d) +
  (1 | dept:service)`` -- students crossed with instructors and department x service;
* egsingle, nested three-level growth: ``math ~ year + (year | childid) + (year | schoolid)``;
* egsingle, two-level growth: ``math ~ year + (year | childid)``;
* a simulated 1 M-row three-level growth model (2,000 schools x 100 students x 5
  occasions): ``y ~ year * x + (year | student) + (year | school)``;
* a simulated 1 M-row students x teachers crossed design (250,000 students x 4 years in
  2,000 schools of 20 teachers; each year's teacher is drawn within the school):
  ``y ~ year + x + (1 | student) + (1 | teacher) + (1 | school)``, and the same data with
  10 % mid-year movers as multiple membership, ``(1 | mm(t1 + t2, w1 + w2))`` (pds.lmm
  only: lme4 and mixedlm have no multiple-membership syntax).

The large models take ``--large-repeats`` fits (default 3; lme4 and mixedlm 1).

Usage::

    PYTHONPATH=src python benchmarks/multilevel_speed.py [--repeats 5] [--large-repeats 3]
        [--skip-large] [--only insteval,egsingle,...] [--tools pdstats,mixedlm,...]
        [--timeout 1800]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _childrun import run_child

PY = sys.executable
HERE = Path(__file__).resolve().parents[1]

LOAD = r"""
import sys
import pandas as pd
def load(src):
    if src in ("egsingle", "InstEval"):
        from pdstats.data.datasets import load_rdataset
        return load_rdataset("mlmRev" if src == "egsingle" else "lme4", src)
    return pd.read_parquet(src)
"""

PDSTATS_CHILD = LOAD + r"""
import json, statistics, time, warnings
import pdstats as pds
src, formula, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = load(src)
times, cpu = [], []
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fit = pds.lmm(formula, df)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
print(json.dumps({"seconds": statistics.median(times), "min": min(times), "max": max(times),
                  "cpu": statistics.median(cpu), "loglike": fit.loglike,
                  "evaluations": fit.optimization.n_evaluations}))
"""

MIXEDLM_CHILD = LOAD + r"""
import json, statistics, time, warnings
import mixedlm
src, formula, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = load(src)
for c in ("childid", "schoolid", "s", "d", "dept", "student", "teacher", "school"):
    if c in df.columns:
        df[c] = df[c].astype(str)
times, cpu = [], []
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fit = mixedlm.lmer(formula, df, REML=True)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
print(json.dumps({"seconds": statistics.median(times), "min": min(times), "max": max(times),
                  "cpu": statistics.median(cpu), "loglike": float(fit.logLik().value),
                  "evaluations": fit.function_evals}))
"""

STATSMODELS_CHILD = LOAD + r"""
import json, time, warnings
import statsmodels.formula.api as smf
src, fixed, group, re_formula = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
df = load(src)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t, c = time.perf_counter(), time.process_time()
    fit = smf.mixedlm(fixed, df, groups=df[group], re_formula=re_formula).fit(reml=True)
    sec, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"seconds": sec, "cpu": cpu, "loglike": float(fit.llf)}))
"""

R_CHILD = r"""
suppressPackageStartupMessages({library(lme4)})
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]; form <- as.formula(args[2]); repeats <- as.integer(args[3])
d <- if (src == "egsingle") mlmRev::egsingle else if (src == "InstEval") lme4::InstEval else
  read.csv(src)
for (v in intersect(c("student", "teacher", "school"), names(d))) d[[v]] <- factor(d[[v]])
times <- numeric(0); cpu <- numeric(0)
for (i in seq_len(repeats)) {
  st <- system.time(fit <- lmer(form, data = d, REML = TRUE))
  times <- c(times, st[["elapsed"]]); cpu <- c(cpu, st[["user.self"]] + st[["sys.self"]])
}
cat(sprintf(paste0('{"seconds": %.6f, "min": %.6f, "max": %.6f, "cpu": %.6f, "loglike": %.6f, ',
                   '"evaluations": %d}\n'),
            median(times), min(times), max(times), median(cpu), as.numeric(logLik(fit)),
            as.integer(fit@optinfo$feval)))
"""


def run(cmd: list[str], timeout: float) -> dict:
    """Run one single-threaded child; its JSON line plus peak RSS in MB (see _childrun)."""
    return run_child(cmd, timeout, env={"PYTHONPATH": str(HERE / "src"), "OMP_NUM_THREADS": "1",
                                        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                        "RAYON_NUM_THREADS": "1"})


def simulate_crossed(n_schools: int = 2000, students_per_school: int = 125, years: int = 4,
                     teachers_per_school: int = 20, mover_share: float = 0.1,
                     random_state: int = 2026) -> pd.DataFrame:
    """Students x teachers crossed within schools; movers split a year between two teachers."""
    rng = np.random.default_rng(random_state)
    n_students = n_schools * students_per_school
    school_of = np.repeat(np.arange(n_schools), students_per_school)
    student = np.repeat(np.arange(n_students), years)
    school = school_of[student]
    n = student.size
    year = np.tile(np.arange(years), n_students).astype(float)
    teacher = school * teachers_per_school + rng.integers(0, teachers_per_school, n)
    other = school * teachers_per_school + (teacher % teachers_per_school
                                            + rng.integers(1, teachers_per_school, n)
                                            ) % teachers_per_school
    mover = rng.random(n) < mover_share
    w1 = np.where(mover, rng.uniform(0.3, 0.8, n), 1.0)
    n_teachers = n_schools * teachers_per_school
    x = rng.normal(size=n)
    b_t = rng.normal(0, 0.3, n_teachers)
    y = (0.2 * year + 0.5 * x + rng.normal(0, 0.8, n_students)[student]
         + w1 * b_t[teacher] + np.where(mover, (1 - w1) * b_t[other], 0.0)
         + rng.normal(0, 0.3, n_schools)[school] + rng.normal(0, 1.0, n))
    return pd.DataFrame({"y": y, "year": year, "x": x, "student": student, "school": school,
                         "teacher": teacher, "t1": teacher, "w1": w1,
                         "t2": np.where(mover, other, np.nan), "w2": np.where(mover, 1 - w1, np.nan)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--large-repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated: insteval,egsingle,growth,crossed")
    ap.add_argument("--tools", default="pdstats,lme4,mixedlm,statsmodels",
                    help="comma-separated subset of the contenders")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    chosen = set(filter(None, args.tools.split(",")))
    have_r = shutil.which("Rscript") is not None
    have_mixedlm = importlib.util.find_spec("mixedlm") is not None
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    rows = []

    def record(model: str, n: int, tool: str, res: dict) -> None:
        rows.append({"model": model, "rows": n, "tool": tool, "fit_seconds": res.get("seconds"),
                     "min": res.get("min"), "max": res.get("max"),
                     "cpu_seconds": res.get("cpu"), "peak_mb": res.get("peak_mb"),
                     "loglike": res.get("loglike"), "evaluations": res.get("evaluations"),
                     "note": res.get("note", "")})
        print(f"  {model:<34} {tool:<12} {res.get('seconds', float('nan')):9.3f} s  "
              f"{res.get('cpu', float('nan')):9.3f} s CPU  "
              f"{res.get('peak_mb', float('nan')):8.0f} MB  {res.get('note', '')}", flush=True)

    def compare(label: str, n: int, src: str, formula: str, repeats: int, tools: tuple[str, ...],
                big: int = 1) -> None:
        tools = tuple(t for t in tools if t in chosen)
        if "pdstats" in tools:
            record(label, n, "pdstats", run([PY, "-c", PDSTATS_CHILD, src, formula,
                                             str(repeats)], args.timeout))
        if "lme4" in tools and have_r:
            rsrc = src if not src.endswith(".parquet") else src[:-8] + ".csv"
            record(label, n, "lme4", run(["Rscript", "-e", R_CHILD, rsrc, formula,
                                          str(max(1, repeats // big))], args.timeout))
        if "mixedlm" in tools and have_mixedlm:
            record(label, n, "mixedlm", run([PY, "-c", MIXEDLM_CHILD, src, formula,
                                             str(max(1, repeats // big))], args.timeout))

    every = ("pdstats", "lme4", "mixedlm")
    if not only or "insteval" in only:
        compare("InstEval crossed", 73421, "InstEval",
                "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)", args.repeats, every)
    if not only or "egsingle" in only:
        compare("egsingle 3-level", 7230, "egsingle",
                "math ~ year + (year | childid) + (year | schoolid)", args.repeats, every)
        compare("egsingle 2-level", 7230, "egsingle", "math ~ year + (year | childid)",
                args.repeats, every)
        if "statsmodels" in chosen:
            record("egsingle 2-level", 7230, "statsmodels",
                   run([PY, "-c", STATSMODELS_CHILD, "egsingle", "math ~ year", "childid",
                        "~year"], args.timeout))

    if not args.skip_large and (not only or only & {"growth", "crossed"}):
        sys.path.insert(0, str(HERE / "src"))
        from pdstats.multilevel.simulate import simulate_growth

        with tempfile.TemporaryDirectory() as tmp:
            lr = args.large_repeats
            if not only or "growth" in only:
                df = simulate_growth(2000, 100, 5, random_state=2026)
                df.to_parquet(Path(tmp) / "growth.parquet")
                df.to_csv(Path(tmp) / "growth.csv", index=False)
                compare("simulated growth 3-level", len(df), str(Path(tmp) / "growth.parquet"),
                        "y ~ year * x + (year | student) + (year | school)", lr, every, big=lr)
            if not only or "crossed" in only:
                df = simulate_crossed()
                df.to_parquet(Path(tmp) / "crossed.parquet")
                df.drop(columns=["t1", "t2", "w1", "w2"]).to_csv(Path(tmp) / "crossed.csv",
                                                                 index=False)
                src = str(Path(tmp) / "crossed.parquet")
                compare("students x teachers crossed", len(df), src,
                        "y ~ year + x + (1 | student) + (1 | teacher) + (1 | school)", lr,
                        every, big=lr)
                compare("students x teachers, 10% mm", len(df), src,
                        "y ~ year + x + (1 | student) + (1 | mm(t1 + t2, w1 + w2)) "
                        "+ (1 | school)", lr, ("pdstats",))

    table = pd.DataFrame(rows)
    for anchor in ("lme4", "mixedlm"):  # ratios of wall-clock and CPU seconds to an anchor
        for col, short in (("fit_seconds", "time"), ("cpu_seconds", "cpu")):
            ref = table[table.tool == anchor].set_index("model")[col]
            table[f"{short}_vs_{anchor}"] = [
                getattr(r, col) / ref[r.model] if r.model in ref.index else np.nan
                for r in table.itertuples()]
    load = os.getloadavg()
    pd.set_option("display.width", 200)
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
