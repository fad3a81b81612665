"""Property test of the disclosure gate, checked by a linear program of the test's own.

Random count tables (districts x levels, optional subgroup partitions ``all = a + b``
and an optional state row per subgroup) go through :func:`pds.privacy.protect`. The test
then builds, from the way it generated the table (not from the gate's equations), every
linear relation a reader knows, fixes every published cell, and asks CVXPY (Clarabel, an
interior-point solver; the gate uses HiGHS simplex on a reduced system) for the smallest
and largest value of each sensitive cell. Each such interval must be at least
``min_n / 2`` wide, and no published count may lie in ``1 .. min_n - 1``.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pdstats as pds

VALUES = [0, 0, 1, 2, 3, 4, 6, 9, 12, 15, 25, 40]


@st.composite
def tables(draw: st.DrawFn) -> dict:
    k = draw(st.integers(2, 3))
    n_districts = draw(st.integers(2, 4))
    split = draw(st.booleans())
    state_row = draw(st.booleans())
    min_n = draw(st.sampled_from([3, 5, 10]))
    leaves = ["a", "b"] if split else ["all"]
    rows = []
    for d in range(n_districts):
        leaf = {g: [draw(st.sampled_from(VALUES)) for _ in range(k)] for g in leaves}
        if split:
            leaf["all"] = [x + y for x, y in zip(leaf["a"], leaf["b"], strict=True)]
        for g, levels in leaf.items():
            rows.append({"unit": f"d{d}", "subgroup": g, **{f"level_{j + 1}": v for j, v in enumerate(levels)}})
    frame = pd.DataFrame(rows)
    if state_row:
        state = frame.groupby("subgroup", sort=False)[[f"level_{j + 1}" for j in range(k)]].sum().reset_index()
        frame = pd.concat([frame, state.assign(unit="state")], ignore_index=True)
    levels = [f"level_{j + 1}" for j in range(k)]
    frame["n_tested"] = frame[levels].sum(axis=1)
    together = state_row and draw(st.booleans())  # the state rows as a second table published beside
    return {"table": frame, "levels": levels, "min_n": min_n, "split": split, "state_row": state_row,
            "together": together}


def _relations(t: pd.DataFrame, cols: list[str], split: bool, state_row: bool) -> list[list[tuple[int, float]]]:
    """Every equation over cells (row * len(cols) + column), written from the generator."""
    width = len(cols)
    cell = {(r, c): r * width + j for r in range(len(t)) for j, c in enumerate(cols)}
    where = {(u, g): r for r, (u, g) in enumerate(zip(t["unit"], t["subgroup"], strict=True))}
    eqs = [[(cell[r, c], 1.0) for c in cols[:-1]] + [(cell[r, cols[-1]], -1.0)] for r in range(len(t))]
    for c in cols:
        if split:
            for u in t["unit"].unique():
                eqs.append([(cell[where[u, "a"], c], 1.0), (cell[where[u, "b"], c], 1.0),
                            (cell[where[u, "all"], c], -1.0)])
        if state_row:
            for g in t["subgroup"].unique():
                parts = [(cell[where[u, g], c], 1.0) for u in t["unit"].unique() if u != "state"]
                eqs.append([*parts, (cell[where["state", g], c], -1.0)])
    return eqs


def _intervals(values: np.ndarray, published: np.ndarray, eqs: list, cells: list[int]) -> dict[int, tuple]:
    x = cp.Variable(len(values))
    c = cp.Parameter(len(values))
    cons = [x >= 0]
    for eq in eqs:
        cons.append(sum(w * x[i] for i, w in eq) == 0)
    idx = np.flatnonzero(published)
    if len(idx):
        cons.append(x[idx] == values[idx])
    prob = cp.Problem(cp.Minimize(c @ x), cons)
    out = {}
    for s in cells:
        ends = []
        for sign in (1.0, -1.0):
            vec = np.zeros(len(values))
            vec[s] = sign
            c.value = vec
            prob.solve(solver=cp.CLARABEL)
            ends.append(np.inf if prob.status.startswith("unbounded") else sign * prob.value)
        out[s] = (ends[0], ends[1])
    return out


SMALL_PAIR = pd.DataFrame({"unit": ["d0", "d1"], "subgroup": "all", "level_1": [1, 20], "level_2": [2, 25],
                           "level_3": [30, 40]}).assign(n_tested=lambda d: d[["level_1", "level_2", "level_3"]].sum(axis=1))


@settings(max_examples=20)
@given(tables())
@example({"table": SMALL_PAIR, "levels": ["level_1", "level_2", "level_3"], "min_n": 10, "split": False,
          "state_row": False, "together": False})  # pairing alone leaves both small cells within [0, 3]
def test_no_sensitive_cell_can_be_narrowed_below_half_the_threshold(case: dict) -> None:
    t, levels, min_n = case["table"], case["levels"], case["min_n"]
    is_state = (t["unit"] == "state").to_numpy()
    given_tables = ({"districts": t[~is_state], "state": t[is_state]} if case["together"] else t)
    out = pds.privacy.protect(
        given_tables, counts=levels, n="n_tested", min_n=min_n,
        totals={"unit": "state"} if case["state_row"] else None, by=["subgroup"],
        subgroups={"subgroup": {"all": [["a", "b"]]}} if case["split"] else None,
    )  # fmt: skip
    cols = [*levels, "n_tested"]
    if case["together"]:  # back in the generator's row order: districts first, then the state rows
        t = pd.concat([t[~is_state], t[is_state]], ignore_index=True)
        shown = pd.concat([out.table["districts"], out.table["state"]], ignore_index=True)[cols]
    else:
        shown = out.table[cols]
    truth = t[cols].to_numpy(dtype=float)
    published = shown.notna().to_numpy()
    # what is published is the truth, and never a count of 1 .. min_n - 1
    assert (shown.to_numpy(dtype=float, na_value=np.nan)[published] == truth[published]).all()
    assert not ((truth >= 1) & (truth < min_n) & published).any()
    # sensitive cells, defined here: small counts and every cell of a group under min_n
    small_group = (truth[:, -1] >= 1) & (truth[:, -1] < min_n)
    sensitive = ((truth >= 1) & (truth < min_n)) | small_group[:, None]
    eqs = _relations(t, cols, case["split"], case["state_row"])
    found = _intervals(truth.ravel(), published.ravel(), eqs, list(np.flatnonzero(sensitive.ravel())))
    for s, (lo, hi) in found.items():
        assert hi - lo >= min_n / 2 - 1e-4, (divmod(s, len(cols)), lo, hi, min_n)


def test_the_checker_finds_a_cell_recoverable_from_its_row_and_column() -> None:
    # only the small cell hidden: the row sum and the state row give it back exactly
    case = {"table": pd.DataFrame({"unit": ["d0", "d1", "state"], "subgroup": "all", "level_1": [3, 20, 23],
                                   "level_2": [30, 25, 55]}), "split": False, "state_row": True}
    t = case["table"].assign(n_tested=lambda d: d["level_1"] + d["level_2"])
    cols = ["level_1", "level_2", "n_tested"]
    published = np.ones((3, 3), dtype=bool)
    published[0, 0] = False
    found = _intervals(t[cols].to_numpy(dtype=float).ravel(), published.ravel(),
                       _relations(t, cols, False, True), [0])
    assert np.allclose(found[0], (3.0, 3.0), atol=1e-5)
