"""Speed of pds.harmonize.hetop against a generic scipy.optimize MLE of the same likelihood.

Measured in the same run:

1. one cell, 1,000 districts x 4 levels (target: under 1 s):
   * pdstats ``fit_cell`` (Newton on the arrowhead information, analytic derivatives)
     and the public ``hetop()`` (table in, tidy estimates with SEs out);
   * scipy ``minimize(method="L-BFGS-B")`` on the same negative log-likelihood with the same
     analytic gradient and the same identification (two cuts fixed), from the same start;
   * scipy ``minimize(method="BFGS")`` with finite-difference gradients (the generic
     recipe), on a 100-district cell only (it needs ~2G likelihood calls per gradient);
2. a SEDA-sized job (target: under 10 minutes on 2 cores): 50 states x 6 grades x 6 years x
   2 subjects = 3,600 cells of 250 districts (900,000 district rows), through ``hetop()``
   with its progress bar, in one process (``--fraction`` times only that share of the
   cells and extrapolates, and says so).

Usage::

    PYTHONPATH=src python benchmarks/harmonize_speed.py [--fraction 1.0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize

import pdstats as pds
from pdstats.harmonize.cell import _start, fit_cell
from pdstats.harmonize.likelihood import cell_probabilities, derivatives, loglik


def make_cell(n_groups: int, rng: np.random.Generator) -> np.ndarray:
    mu = rng.normal(0, 0.5, n_groups)
    s = rng.normal(np.log(0.85), 0.15, n_groups)
    n = rng.integers(50, 500, n_groups)
    p = cell_probabilities(mu, s, np.array([-0.8, 0.1, 0.9]))
    return np.array([rng.multinomial(k, q / q.sum()) for k, q in zip(n, p, strict=True)], float)


def scipy_fit(counts: np.ndarray, analytic: bool) -> tuple[float, float, int]:
    """Generic MLE: parameters (mu, log sd, free middle cut), cuts 1 and 3 fixed at the start."""
    g = len(counts)
    mu0, s0, c0 = _start(counts, None)

    def unpack(x):
        return x[:g], x[g:2 * g], np.array([c0[0], x[-1], c0[2]])

    def f(x):
        mu, s, c = unpack(x)
        if not c[0] < c[1] < c[2]:
            return 1e300
        return -loglik(counts, mu, s, c)

    def grad(x):
        mu, s, c = unpack(x)
        d = derivatives(counts, mu, s, c)
        return -np.concatenate([d.g_mu, d.g_s, [d.g_c[:, 1].sum()]])

    x0 = np.concatenate([mu0, s0, [c0[1]]])
    t = time.perf_counter()
    if analytic:
        res = minimize(f, x0, jac=grad, method="L-BFGS-B", options={"maxiter": 20000, "ftol": 1e-13, "gtol": 1e-8})
    else:
        res = minimize(f, x0, method="BFGS", options={"maxiter": 20000, "gtol": 1e-5})
    return time.perf_counter() - t, -float(res.fun), int(res.nit)


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def seda_table(rng: np.random.Generator, n_cells: int, n_groups: int) -> pd.DataFrame:
    states = [f"S{i:02d}" for i in range(50)]
    keys = [(st, y, gr, sub) for st in states for y in range(2009, 2015) for gr in range(3, 9)
            for sub in ("math", "reading")][:n_cells]
    pieces = []
    for st, y, gr, sub in keys:
        c = make_cell(n_groups, rng).astype(int)
        df = pd.DataFrame(c, columns=[f"level_{k}" for k in range(1, 5)])
        df.insert(0, "unit_id", np.arange(n_groups))
        pieces.append(df.assign(state=st, year=y, grade=gr, subject=sub))
    return pd.concat(pieces, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fraction", type=float, default=1.0, help="share of the 3,600 SEDA cells to time")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(20261201)
    rows = []

    counts = make_cell(1000, rng)
    t_cell, fit = best_of(lambda: fit_cell(counts, "hetop"), args.repeats)
    table = pd.DataFrame(counts.astype(int), columns=[f"level_{k}" for k in range(1, 5)])
    table = table.assign(unit_id=np.arange(1000), state="XX", year=2010, grade=4, subject="math")
    t_pub, _ = best_of(lambda: pds.harmonize.hetop(table, progress=False), args.repeats)
    t_sp, ll_sp, it_sp = scipy_fit(counts, analytic=True)
    rows += [
        {"task": "1 cell, 1000 districts x 4 levels", "tool": "pdstats fit_cell (Newton)", "seconds": t_cell,
         "iterations": fit.iterations, "loglik": fit.loglik},
        {"task": "1 cell, 1000 districts x 4 levels", "tool": "pdstats hetop() incl. SEs and table",
         "seconds": t_pub, "iterations": fit.iterations, "loglik": fit.loglik},
        {"task": "1 cell, 1000 districts x 4 levels", "tool": "scipy L-BFGS-B, analytic gradient",
         "seconds": t_sp, "iterations": it_sp, "loglik": ll_sp},
    ]
    small = make_cell(100, rng)
    t_small, fit_small = best_of(lambda: fit_cell(small, "hetop"), args.repeats)
    t_num, ll_num, it_num = scipy_fit(small, analytic=False)
    rows += [
        {"task": "1 cell, 100 districts x 4 levels", "tool": "pdstats fit_cell (Newton)", "seconds": t_small,
         "iterations": fit_small.iterations, "loglik": fit_small.loglik},
        {"task": "1 cell, 100 districts x 4 levels", "tool": "scipy BFGS, numerical gradient",
         "seconds": t_num, "iterations": it_num, "loglik": ll_num},
    ]

    n_cells = max(1, int(round(3600 * args.fraction)))
    seda = seda_table(rng, n_cells, 250)
    t = time.perf_counter()
    res = pds.harmonize.hetop(seda, progress=True)
    t_seda = time.perf_counter() - t
    note = "timed" if n_cells == 3600 else f"{n_cells} cells timed, x{3600 / n_cells:.1f} extrapolated"
    rows.append({"task": f"SEDA-sized: 3600 cells x 250 districts ({note})", "tool": "pdstats hetop(), 1 process",
                 "seconds": t_seda * 3600 / n_cells, "iterations": float(res.cells["iterations"].mean()),
                 "loglik": float("nan")})
    out = pd.DataFrame(rows)
    ref = {"1 cell, 1000": fit.loglik, "1 cell, 100 ": fit_small.loglik}
    out["loglik minus pdstats"] = [r["loglik"] - ref.get(r["task"][:12], np.nan) for r in rows]
    print("\nHETOP speed (best of", args.repeats, "for single cells); iterations: mean per cell for the big job")
    print(out.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    conv = res.cells["converged"].mean()
    print(f"\nSEDA-sized job: {len(res.groups)} district estimates, {conv:.1%} of cells converged")


if __name__ == "__main__":
    main()
