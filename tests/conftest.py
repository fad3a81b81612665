"""Shared fixtures of the pdstats test suite."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from hypothesis import HealthCheck, settings

# Property tests are part of `make test`: the same examples on every run and machine
# (derandomized), no per-example deadline on a loaded CI machine. `--hypothesis-profile=explore`
# draws fresh random examples when hunting for new failures.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")
