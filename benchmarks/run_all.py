"""Run every benchmark script in this folder, one after another, printing their tables.

Usage: ``make benchmarks`` or ``python benchmarks/run_all.py [name-substring]``.
Each script measures pdstats and its anchor (R, DuckDB, scipy, statsmodels...) in the
same run and prints a comparison table; nothing here is a pass/fail test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    pick = sys.argv[1] if len(sys.argv) > 1 else ""
    scripts = [p for p in sorted(here.glob("*.py")) if p.name != "run_all.py" and not p.name.startswith("_") and pick in p.name]
    status = 0
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        status |= subprocess.call([sys.executable, str(script)])
    return status


if __name__ == "__main__":
    sys.exit(main())
