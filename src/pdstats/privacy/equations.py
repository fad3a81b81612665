"""The linear relations a reader of a published table knows: row sums, totals, subgroups.

Cells are numbered ``row * n_columns + column`` over the count columns of the (stacked)
table. Every relation is an equation ``sum(coef * cell) == 0``:

* **row sums**: the count columns of a row add up to its ``n`` (``levels -> n``);
* **declared total rows**: in each ``by`` group, a row marked as a total (e.g. the state
  row beside its districts) is the sum of the other rows, column by column;
* **subgroup totals**: a row of subgroup ``all`` is the sum of ``female`` and ``male``
  (each declared partition), matched on every other label column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pdstats.errors import PrivacyError

__all__ = ["Equation", "build_equations"]


@dataclass(frozen=True)
class Equation:
    """``sum(coefs * cells) == 0`` over numbered cells; ``rule`` says where it comes from."""

    cells: tuple[int, ...]
    coefs: tuple[float, ...]
    rule: str
    rows: tuple[int, ...]


def _row_sums(n_rows: int, n_cols: int, n_col: int | None, count_cols: Sequence[int]) -> list[Equation]:
    if n_col is None or not count_cols:
        return []
    out = []
    for r in range(n_rows):
        cells = tuple(r * n_cols + c for c in count_cols) + (r * n_cols + n_col,)
        out.append(Equation(cells, (1.0,) * len(count_cols) + (-1.0,), "counts sum to n", (r,)))
    return out


def _sum_equations(total: int, parts: Sequence[int], n_cols: int, rule: str) -> list[Equation]:
    out = []
    for c in range(n_cols):
        cells = tuple(p * n_cols + c for p in parts) + (total * n_cols + c,)
        out.append(Equation(cells, (1.0,) * len(parts) + (-1.0,), rule, (*parts, total)))
    return out


def _total_rows(labels: pd.DataFrame, totals: object) -> np.ndarray:
    """Rows picked by ``{column: value}`` or a boolean mask."""
    if isinstance(totals, Mapping):
        mask = np.ones(len(labels), dtype=bool)
        for col, value in totals.items():
            if col not in labels.columns:
                raise PrivacyError(f"totals=/parts= name column {col!r}, which the table does not have")
            mask &= (labels[col].astype("string") == str(value)).fillna(False).to_numpy(dtype=bool)
        return mask
    mask = np.asarray(totals, dtype=bool).ravel()
    if len(mask) != len(labels):
        raise PrivacyError(f"totals=/parts= as a row mask must have one entry per row ({len(labels)}), got {len(mask)}")
    return mask


def build_equations(
    labels: pd.DataFrame,
    n_cols: int,
    n_col: int | None,
    count_cols: Sequence[int],
    totals: object = None,
    by: Sequence[str] = (),
    subgroups: Mapping[str, Mapping[str, Sequence[Sequence[str]]]] | None = None,
    parts: Mapping[str, Any] | None = None,
) -> list[Equation]:
    """Every equation a reader knows about the table's count cells.

    Parameters
    ----------
    labels : pandas.DataFrame
        The table's label columns (everything that is not a published value), one row
        per table row, in cell order.
    n_cols : int
        Count columns per row (the distribution's columns and ``n``).
    n_col : int or None
        Position of ``n`` among them (``None``: no row sums).
    count_cols : sequence of int
        Positions of the distribution's columns (they sum to ``n``).
    totals : mapping or boolean mask, optional
        Total rows: ``{"unit_type": "state"}`` or a mask.
    by : sequence of str
        Label columns within which total rows sum the other rows.
    parts : mapping, optional
        Which of the other rows a total sums (e.g. ``{"unit_type": "district"}`` when
        schools are in the table too); default all of them.
    subgroups : mapping, optional
        ``{"subgroup": {"all": [["female", "male"], ...]}}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy.equations import build_equations
    >>> lab = pd.DataFrame({"unit": ["d1", "d2", "state"]})
    >>> eqs = build_equations(lab, 3, 2, [0, 1], totals={"unit": "state"})
    >>> [e.rule for e in eqs][:4]
    ['counts sum to n', 'counts sum to n', 'counts sum to n', 'total row sums the other rows']
    """
    eqs = _row_sums(len(labels), n_cols, n_col, count_cols)
    if totals is not None:
        is_total = _total_rows(labels, totals)
        is_part = ~is_total & (_total_rows(labels, parts) if parts is not None else True)
        by = list(by)
        missing = [c for c in by if c not in labels.columns]
        if missing:
            raise PrivacyError(f"by= names column(s) {missing}, which the table does not have")
        groups = labels.groupby(by, sort=False, dropna=False).indices if by else {(): np.arange(len(labels))}
        for idx in groups.values():
            idx = np.asarray(idx)
            tot, summed = idx[is_total[idx]], idx[is_part[idx]]
            for t in tot:
                if len(summed):
                    eqs += _sum_equations(int(t), [int(p) for p in summed], n_cols, "total row sums the other rows")
    for col, spec in (subgroups or {}).items():
        if col not in labels.columns:
            raise PrivacyError(f"subgroups= names column {col!r}, which the table does not have")
        others = [c for c in labels.columns if c != col]
        keyed = labels.astype("string").fillna("<NA>")
        for _, grp in keyed.groupby(others, sort=False) if others else [((), keyed)]:
            where = {v: int(i) for i, v in zip(grp.index, grp[col], strict=True)}
            for total, partitions in spec.items():
                if str(total) not in where:
                    continue
                for part in partitions:
                    if all(str(p) in where for p in part):
                        eqs += _sum_equations(where[str(total)], [where[str(p)] for p in part], n_cols,
                                              f"subgroup {total} sums {'+'.join(map(str, part))}")
    return eqs
