"""Randomization inference: exact enumeration by brute force, inversion, schemes, bad input."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

import pdstats as pds
from pdstats.inference import randomization_test


def exact_pvalue(y: np.ndarray, d: np.ndarray, groups: list[np.ndarray] | None = None) -> float:
    """Difference in means over every assignment with the same number treated (per block)."""
    obs = abs(y[d == 1].mean() - y[d == 0].mean())
    groups = groups or [np.arange(len(y))]
    per_block = [[set(c) for c in combinations(g, int(d[g].sum()))] for g in groups]
    hits = total = 0
    for choice in np.array(np.meshgrid(*[np.arange(len(b)) for b in per_block])).T.reshape(
            -1, len(groups)):
        treated = set().union(*[per_block[j][c] for j, c in enumerate(choice)])
        dd = np.isin(np.arange(len(y)), list(treated))
        hits += abs(y[dd].mean() - y[~dd].mean()) >= obs - 1e-12
        total += 1
    return hits / total


@pytest.mark.parametrize("scheme", ["complete", "blocked"])
def test_pvalue_matches_full_enumeration(scheme: str) -> None:
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"blk": np.repeat([0, 1], 5), "t": [1, 1, 0, 0, 0, 1, 1, 0, 0, 0]})
    d["y"] = 0.6 * d.t + rng.normal(size=10)
    groups = [np.arange(5), np.arange(5, 10)] if scheme == "blocked" else None
    exact = exact_pvalue(d.y.to_numpy(), d.t.to_numpy(), groups)
    r = randomization_test("y ~ t", d, "t", scheme=scheme, n_perm=20000, random_state=2,
                           progress=False, block="blk" if scheme == "blocked" else None)
    assert abs(r.p_value - exact) < 4 * np.sqrt(exact * (1 - exact) / 20000) + 1e-4


def test_clustered_interval_inverts_and_timing_scheme() -> None:
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"district": np.repeat(np.arange(14), 8)})
    d["treated"] = np.isin(d.district, rng.permutation(14)[:7]).astype(int)
    d["y"] = 1.0 * d.treated + 0.5 * rng.normal(size=14)[d.district] + rng.normal(size=len(d))
    r = randomization_test("y ~ treated", d, "treated", scheme="clustered", cluster="district",
                           ci=True, random_state=3, progress=False)
    lo, hi = r.estimates[["ci_lower", "ci_upper"]].iloc[0]
    assert lo < r.estimates["estimate"].iloc[0] < hi
    assert r.conf_int(0.8)["ci_lower"].iloc[0] > lo
    u, t = np.repeat(np.arange(24), 5), np.tile(np.arange(5), 24)
    adopt = rng.choice([1, 2, 3, np.inf], size=24)
    p = pd.DataFrame({"u": u, "t": t, "d": (t >= adopt[u]).astype(int)})
    p["y"] = rng.normal(size=24)[u] + 0.3 * p.t + rng.normal(size=len(p))
    rt = randomization_test("y ~ d + C(t) + C(u)", p, "d", scheme="timing", unit="u", time="t",
                            random_state=1, progress=False)
    assert 0.05 < rt.p_value <= 1 and len(rt.distribution) == 1999


def test_bad_designs_refused() -> None:
    d = pd.DataFrame({"g": [0, 0, 1, 1, 2, 2], "t": [1, 0, 1, 1, 0, 0], "y": np.arange(6.0)})
    with pytest.raises(pds.ModelSpecificationError, match="not constant within cluster"):
        randomization_test("y ~ t", d, "t", scheme="clustered", cluster="g", progress=False)
    d2 = d.assign(time=[0, 1, 0, 1, 0, 1], t=[1, 0, 0, 1, 0, 0])
    with pytest.raises(pds.ModelSpecificationError, match="staggered adoption"):
        randomization_test("y ~ t", d2, "t", scheme="timing", unit="g", time="time",
                           progress=False)
    with pytest.raises(pds.ModelSpecificationError):
        randomization_test("y ~ t", d, "t", scheme="lottery", progress=False)
    with pytest.raises(pds.ModelSpecificationError):
        randomization_test("y ~ t", d, "t", scheme="blocked", progress=False)
