"""Run one benchmark child process and measure it: the JSON line it prints, its peak memory.

Every benchmark that compares pdstats with an anchor runs each contender in a fresh child
process (so one's memory cannot hide in another's) through :func:`run_child`. Peak memory
is the child's own maximum resident set size, read with ``os.wait4`` (no external
``time`` binary needed).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time


def run_child(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> dict:
    """Run ``cmd``; return its last JSON line (a dict) plus ``peak_mb``, or a ``note`` on failure.

    A child that prints no JSON line gets ``{"seconds": nan, "note": "failed: <last stderr line>"}``;
    one still running after ``timeout`` seconds is killed and noted as timed out.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True,
                                env={**os.environ, **(env or {})})
        deadline = time.monotonic() + timeout
        while True:
            pid, _status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {"seconds": float("nan"), "note": f"timed out after {timeout:.0f} s"}
            time.sleep(0.05)
        proc.returncode = 0  # reaped by wait4 above; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    result: dict = {"seconds": float("nan")}
    found = False
    for line in stdout.splitlines():
        if line.startswith("{"):
            result, found = json.loads(line), True
    result["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    if not found:
        tail = stderr.strip().splitlines()
        result["note"] = "failed: " + (tail[-1][:90] if tail else "no output")
    return result
