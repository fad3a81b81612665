"""Shared fixtures of the pdstats test suite."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
