"""Benchmark: partial-credit CML in pdstats vs R's eRm (anchor), measured in the same run.

    PYTHONPATH=src python benchmarks/practices_pcm.py

Prints wall-clock seconds for fitting the item parameters and person estimates on
simulated partial-credit data of growing size, and the largest absolute difference
between the two sets of item parameters. eRm runs through Rscript when it is installed
(its timing excludes R's start-up: measured inside R with system.time).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pdstats.practices import fit_pcm


def simulate(n: int, n_items: int, n_cat: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    steps = np.sort(rng.normal(scale=1.0, size=(n_items, n_cat - 1)), axis=1)
    out = np.empty((n, n_items), dtype=int)
    for i, st in enumerate(steps):
        z = np.column_stack([np.zeros(n), np.cumsum(theta[:, None] - st[None, :], axis=1)])
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        u = rng.random(n)[:, None]
        out[:, i] = (u > np.cumsum(p, axis=1)).sum(axis=1)
    return pd.DataFrame(out, columns=[f"I{i + 1}" for i in range(n_items)])


R_CODE = """
suppressMessages(library(eRm))
X <- as.matrix(read.csv("{path}"))
t <- system.time({{ m <- PCM(X); pp <- person.parameter(m) }})[["elapsed"]]
write.csv(data.frame(beta = m$betapar), "{out}", row.names = FALSE)
cat(t)
"""


def main() -> None:
    rows = []
    have_r = shutil.which("Rscript") is not None
    for n, k, c in [(28, 12, 5), (400, 6, 4), (2000, 12, 4), (5000, 20, 3)]:
        x = simulate(n, k, c, seed=n)
        t0 = time.perf_counter()
        res = fit_pcm(x, person_method="ml")
        t_py = time.perf_counter() - t0
        t_r = diff = np.nan
        if have_r:
            with tempfile.TemporaryDirectory() as tmp:
                path, out = Path(tmp) / "x.csv", Path(tmp) / "beta.csv"
                # eRm needs every category observed: use pdstats' recoded data
                rec = x.apply(lambda s: s.map({v: i for i, v in enumerate(sorted(s.unique()))}))
                rec.to_csv(path, index=False)
                proc = subprocess.run(["Rscript", "-e", R_CODE.format(path=path, out=out)],
                                      capture_output=True, text=True, check=True)
                t_r = float(proc.stdout.strip().split()[-1])
                beta_r = pd.read_csv(out)["beta"].to_numpy()
                diff = float(np.abs(beta_r - res.items["beta"].to_numpy()).max())
        rows.append((n, k, c, t_py, t_r, diff))
    table = pd.DataFrame(rows, columns=["persons", "items", "categories", "pdstats_s", "eRm_s",
                                        "max_abs_diff_beta"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
