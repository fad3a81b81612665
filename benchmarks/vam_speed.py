"""Speed and memory of pds.vam against plain pandas/statsmodels anchors, in one run.

Each job runs in its own subprocess under ``/usr/bin/time`` so that peak memory (max
RSS) is measured per job; the time is measured inside the process, from a data frame in
memory to the result (data loading and interpreter start-up excluded).

Jobs
----
* ``cfr`` and ``eb`` on 5,000,000 student-year rows: 50,000 teachers x 5 years x 2
  classes x 10 students, outcome on two prior scores (cubic terms), year effects;
* anchor: the same residualizing regression by statsmodels OLS plus a pandas groupby of
  teacher-year mean residuals (the plainest VA, no variance pieces or forecasts);
* ``sgp`` on 1,000,000 students with 2 priors (100 quantile regressions, 15 columns);
* anchor: statsmodels ``QuantReg`` at ``tau = 0.5`` only (one of the 100 quantiles) on
  the first ``--anchor-rows`` students (default 100,000: on all 1,000,000 one quantile
  alone takes minutes); the column ``x100`` extrapolates it to a full 100-quantile fit.

Targets (issue 7): cfr and eb under 60 s and 8 GB; sgp under 5 minutes.

Usage::

    python benchmarks/vam_speed.py [--teachers 50000] [--students 1000000] [--timeout 900]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _childrun import run_child

PY = sys.executable
HERE = Path(__file__).resolve().parents[1]

VA_CHILD = r"""
import json, sys, time, warnings
import pandas as pd
import pdstats as pds
df = pd.read_parquet(sys.argv[1]); method = sys.argv[2]
warnings.simplefilter("ignore")
t = time.perf_counter()
res = pds.vam.value_added(df, "score", prior=["prior_m", "prior_r"], unit="teacher",
                          year="year", classroom="classroom", method=method, degree=3,
                          progress=False)
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "n_estimates": int(res.effects["estimate"].notna().sum())}))
"""

VA_ANCHOR = r"""
import json, sys, time
import numpy as np, pandas as pd
import statsmodels.api as sm
df = pd.read_parquet(sys.argv[1])
t = time.perf_counter()
X = pd.DataFrame({"m": df.prior_m, "m2": df.prior_m ** 2, "m3": df.prior_m ** 3,
                  "r": df.prior_r, "r2": df.prior_r ** 2, "r3": df.prior_r ** 3})
X = X.join(pd.get_dummies(df.year, prefix="y", drop_first=True, dtype=float))
fit = sm.OLS(df.score.to_numpy(), sm.add_constant(X.to_numpy())).fit()
va = pd.Series(fit.resid, index=df.index).groupby([df.teacher, df.year]).mean()
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "n_estimates": int(va.size)}))
"""

SGP_CHILD = r"""
import json, sys, time
import pandas as pd
import pdstats as pds
df = pd.read_parquet(sys.argv[1])
t = time.perf_counter()
res = pds.vam.sgp(df, "score", ["prior1", "prior2"], unit="school", n_boot=100, progress=False)
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "n_estimates": int(len(res.students))}))
"""

SGP_ANCHOR = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd
from statsmodels.regression.quantile_regression import QuantReg
from pdstats.vam.growth_percentiles import bs_basis, knots_boundaries
df = pd.read_parquet(sys.argv[1]).iloc[: int(sys.argv[2])]
warnings.simplefilter("ignore")
t = time.perf_counter()
cols = [np.ones((len(df), 1))]
for p in ("prior1", "prior2"):
    x = df[p].to_numpy()
    cols.append(bs_basis(x, *knots_boundaries(x)))
X = np.hstack(cols)
fit = QuantReg(df.score.to_numpy(), X).fit(q=0.5, max_iter=5000)
sec = time.perf_counter() - t
print(json.dumps({"seconds": sec, "n_estimates": 1}))
"""


def make_va_data(n_teachers: int, years: int = 5, classes: int = 2, size: int = 10,
                 seed: int = 2026) -> pd.DataFrame:
    """Teachers with AR(1)-drifting effects, class shocks and two cubic-related priors."""
    rng = np.random.default_rng(seed)
    mu = np.empty((n_teachers, years))
    mu[:, 0] = rng.normal(0, 0.15, n_teachers)
    for t in range(1, years):
        mu[:, t] = 0.8 * mu[:, t - 1] + 0.6 * rng.normal(0, 0.15, n_teachers)
    per_t = years * classes * size
    n = n_teachers * per_t
    teacher = np.repeat(np.arange(n_teachers, dtype=np.int32), per_t)
    yr = np.tile(np.repeat(np.arange(years, dtype=np.int16), classes * size), n_teachers)
    cls = np.tile(np.repeat(np.tile(np.arange(classes, dtype=np.int8), years), size),
                  n_teachers)
    pm = rng.normal(size=n).astype(np.float32)
    pr = (0.7 * pm + 0.7 * rng.normal(size=n)).astype(np.float32)
    shock = rng.normal(0, 0.08, n_teachers * years * classes)
    score = (0.5 * pm + 0.2 * pr + 0.03 * pm**3 + mu[teacher, yr]
             + shock[np.repeat(np.arange(n_teachers * years * classes), size)]
             + rng.normal(0, 0.55, n))
    return pd.DataFrame({"teacher": teacher, "year": 2001 + yr.astype(np.int32),
                         "classroom": cls, "prior_m": pm, "prior_r": pr,
                         "score": score.astype(np.float32)})


def make_sgp_data(n: int, seed: int = 2027) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p1 = rng.normal(500, 50, n)
    p2 = 0.7 * (p1 - 500) + rng.normal(0, 35, n) + 480
    y = 30 + 0.6 * p1 + 0.25 * p2 + 0.002 * (p1 - 500) ** 2 + (20 + 0.1 * np.abs(
        p1 - 500)) * rng.standard_t(6, n)
    return pd.DataFrame({"prior1": p1, "prior2": p2, "score": y,
                         "school": rng.integers(0, 2000, n)})


def run(code: str, path: Path, args: list[str], timeout: float) -> dict:
    """Run one child on the data at ``path``; its JSON line plus peak RSS in MB (see _childrun)."""
    return run_child([PY, "-c", code, str(path), *args], timeout, env={"PYTHONPATH": str(HERE / "src")})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teachers", type=int, default=50_000)
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--anchor-rows", type=int, default=100_000)
    ap.add_argument("--skip-sgp", action="store_true")
    ap.add_argument("--skip-va", action="store_true")
    args = ap.parse_args()
    rows = []

    def record(job: str, n: int, tool: str, res: dict, target: str) -> None:
        rows.append({"job": job, "rows": n, "tool": tool, "seconds": res.get("seconds"),
                     "peak_mb": res.get("peak_mb"), "target": target,
                     "note": res.get("note", "")})
        print(f"  {job:<22} {tool:<34} {res.get('seconds', float('nan')):8.1f} s "
              f"{res.get('peak_mb', float('nan')):8.0f} MB {res.get('note', '')}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_va:
            va = Path(tmp) / "va.parquet"
            df = make_va_data(args.teachers)
            n = len(df)
            df.to_parquet(va)
            del df
            for method in ("cfr", "eb"):
                record(f"value_added {method}", n, "pdstats",
                       run(VA_CHILD, va, [method], args.timeout), "< 60 s, < 8 GB")
            record("value_added anchor", n, "statsmodels OLS + pandas groupby",
                   run(VA_ANCHOR, va, [], args.timeout), "")
        if not args.skip_sgp:
            sg = Path(tmp) / "sgp.parquet"
            make_sgp_data(args.students).to_parquet(sg)
            record("sgp (2 priors)", args.students, "pdstats (100 quantiles)",
                   run(SGP_CHILD, sg, [], args.timeout), "< 300 s")
            anchor = run(SGP_ANCHOR, sg, [str(args.anchor_rows)], args.timeout)
            record("sgp anchor", min(args.anchor_rows, args.students),
                   "statsmodels QuantReg (tau=0.5 only)", anchor, "")
            rows[-1]["x100"] = 100 * anchor.get("seconds", float("nan"))
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 180)
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.1f}"))


if __name__ == "__main__":
    main()
