"""Study store: validated writes versus a plain DuckDB insert of the same rows.

Anchor: inserting the already-typed DataFrame straight into DuckDB (no validation).
Measures wall time and peak memory (RSS growth of a fresh child process) for
student-level tables of 100,000 and 1,000,000 score rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np, pandas as pd, duckdb
    import pdstats as pds
    n, how = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(0)
    n_students = n // 2
    ids = np.char.add("s", np.arange(n_students).astype(str))
    students = pd.DataFrame({"student_id": ids, "state": "MA"})
    scores = pd.DataFrame({
        "student_id": np.repeat(ids, 2), "state": "MA", "year": 2006,
        "grade": 5, "subject": np.tile(["math", "reading"], n_students),
        "scale_score": rng.normal(240, 15, n).round(1), "csem": 4.0})
    states = pd.DataFrame({"state": ["MA"], "state_name": ["Massachusetts"], "fips": [25],
                           "publishes": ["levels"]})
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    if how == "pdstats":
        study = pds.Study()
        study.write_many({"states": states, "students": students, "student_scores": scores})
    else:
        con = duckdb.connect()
        for name, df in {"states": states, "students": students, "student_scores": scores}.items():
            con.register("df", df)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM df").fetchall()
            con.unregister("df")
    dt = time.perf_counter() - t
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    print(json.dumps({"seconds": dt, "peak_mb": peak}))
    """
)


def run(n: int, how: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), how], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'rows':>10} {'method':<28} {'seconds':>9} {'extra MB':>9} {'x anchor':>9}")
    for n in (100_000, 1_000_000):
        anchor = run(n, "duckdb")
        ours = run(n, "pdstats")
        print(f"{n:>10,} {'DuckDB insert (anchor)':<28} {anchor['seconds']:>9.2f} {anchor['peak_mb']:>9.0f} {1:>9.1f}")
        ratio = ours["seconds"] / anchor["seconds"]
        print(f"{n:>10,} {'pds.Study.write_many':<28} {ours['seconds']:>9.2f} {ours['peak_mb']:>9.0f} {ratio:>9.1f}")


if __name__ == "__main__":
    main()
