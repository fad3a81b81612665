"""Speed of CR2 for mixed-model (GLS) fixed effects: low-rank per cluster vs dense.

A simulated district/school panel: ``n_clusters`` districts of ``rows`` rows each, 20
schools per district, model ``y ~ x + z + (1 | school)`` fitted by ``pds.lmm``; CR2 with
Bell-McCaffrey df clustered by district (above the model's highest level) and by school
(the model's own level). Timed: ``pdstats.inference.mixed.lmm_cr2`` / the same estimator
with every cluster's n_g x n_g matrices formed (``gls_linear_fit(dense=True)``, the
algorithm of the previous implementation), which is the anchor measured in the same run
on the sizes where it fits in memory. The fit itself is not timed.

Usage::

    PYTHONPATH=src python benchmarks/inference_speed.py [--clusters 28] [--rows 10000]
        [--dense-rows 500 1000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import pdstats as pds
from pdstats.inference.covariance import robust_covariance
from pdstats.inference.mixed import cluster_codes, gls_linear_fit


def panel(n_clusters: int, rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_clusters * rows
    district = np.repeat(np.arange(n_clusters), rows)
    school = district * 20 + rng.integers(0, 20, size=n)
    x = rng.normal(size=n) + rng.normal(size=n_clusters)[district]
    z = rng.normal(size=n_clusters * 20)[school]
    y = (0.3 * x + 0.2 * z + rng.normal(size=n_clusters)[district]
         + 0.5 * rng.normal(size=n_clusters * 20)[school] + rng.normal(size=n))
    return pd.DataFrame({"district": district, "school": school, "x": x, "z": z, "y": y})


def time_cr2(fit: object, cluster: str, dense: bool) -> tuple[float, np.ndarray]:
    t = time.perf_counter()
    codes, _ = cluster_codes(fit, cluster)
    gls = gls_linear_fit(fit._design, fit._sol.factors, fit.sigma**2, codes, dense=dense)
    rc = robust_covariance(gls, "CR2")
    se = np.sqrt(np.diag(rc.vcov))
    _ = rc.df
    return time.perf_counter() - t, se


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=28)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--dense-rows", type=int, nargs="*", default=[500, 1000])
    args = ap.parse_args()
    rows_out = []
    for rows in [*args.dense_rows, args.rows]:
        d = panel(args.clusters, rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pds.lmm("y ~ x + z + (1 | school)", d)
        for cluster in ("district", "school"):
            t_fast, se_fast = time_cr2(fit, cluster, dense=False)
            t_dense, gap = np.nan, np.nan
            if rows in args.dense_rows:
                t_dense, se_dense = time_cr2(fit, cluster, dense=True)
                gap = float(np.max(np.abs(se_fast / se_dense - 1)))
            rows_out.append({"clusters": args.clusters, "rows_per_district": rows,
                             "cluster": cluster, "n": len(d), "low_rank_s": round(t_fast, 3),
                             "dense_s": round(t_dense, 3), "speed_up": round(t_dense / t_fast, 1),
                             "max_rel_se_gap": gap})
            print(rows_out[-1], flush=True)
    out = pd.DataFrame(rows_out)
    print(out.to_string(index=False))
    big = out[(out.rows_per_district == args.rows) & (out.cluster == "district")]
    t = float(big["low_rank_s"].iloc[0])
    print(f"\nCR2, {args.clusters} clusters x {args.rows} rows clustered above the highest "
          f"level: {t:.2f} s (target < 5 s): {'PASS' if t < 5 else 'FAIL'}")


if __name__ == "__main__":
    main()
