"""Simulated worlds: wall time and peak memory of size="medium" and size="state" generation.

Anchor: building and writing to Parquet a table of random numbers with as many rows as
the world's ``student_scores`` and ``enrollments`` together (numpy + pyarrow only, no
simulation logic), the I/O floor of any generator of that size. Each run happens in a
fresh child process; peak memory is the child's maximum resident set size (``resource``).

Usage: ``python benchmarks/simulate_speed.py [medium] [state]`` (default: both; the
state-size world takes a few minutes and about 1-3 GB).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    size, how, folder = sys.argv[1], sys.argv[2], sys.argv[3]
    t = time.perf_counter()
    if how == "pdstats":
        import pdstats as pds
        sim = pds.simulate.study(random_state=0, size=size, path=folder if size == "state" else None,
                                 progress=False)
        rows = {k: int(sim.n_rows(k)) for k in ("students", "student_scores", "enrollments")}
        n_sy = int(sim.truth.state_tests["n_students"].sum() / 2)
    else:
        import numpy as np, pandas as pd
        n = int(sys.argv[4])
        rng = np.random.default_rng(0)
        for start in range(0, n, 1_000_000):
            m = min(1_000_000, n - start)
            df = pd.DataFrame({"student_id": np.char.add("S", rng.integers(0, 10**9, m).astype(str)),
                               "year": 2005, "grade": rng.integers(3, 9, m),
                               "scale_score": rng.normal(300, 50, m).round(), "csem": 5.0})
            df.to_parquet(f"{folder}/anchor_{start}.parquet")
        rows, n_sy = {"rows": n}, 0
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "peak_mb": peak, "rows": rows, "student_years": n_sy}))
    """
)


def run(size: str, how: str, n: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run([sys.executable, "-c", CHILD, size, how, folder, str(n)],
                             capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes: list[str]) -> None:
    print(f"{'size':<8} {'method':<34} {'student-years':>14} {'rows':>12} {'seconds':>9} {'peak MB':>9} {'x anchor':>9}")
    for size in sizes:
        ours = run(size, "pdstats")
        n = ours["rows"]["student_scores"] + ours["rows"]["enrollments"]
        anchor = run(size, "anchor", n)
        print(f"{size:<8} {'random table to Parquet (anchor)':<34} {'':>14} {n:>12,} "
              f"{anchor['seconds']:>9.1f} {anchor['peak_mb']:>9.0f} {1:>9.1f}")  # fmt: skip
        print(f"{size:<8} {'pds.simulate.study':<34} {ours['student_years']:>14,} {n:>12,} "
              f"{ours['seconds']:>9.1f} {ours['peak_mb']:>9.0f} {ours['seconds'] / anchor['seconds']:>9.1f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:] or ["medium", "state"])
