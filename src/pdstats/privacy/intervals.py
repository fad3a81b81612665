"""Feasible intervals of hidden cells: what a reader can work out from what is published.

Given the equations a reader knows (:mod:`pdstats.privacy.equations`), the published cell
values and which cells are hidden, the smallest and largest value a hidden cell can take
with every hidden cell non-negative is a pair of linear programs (HiGHS through
:func:`scipy.optimize.linprog`). Only the equations connected to the cell through other
hidden cells matter, so each program is solved on that connected part.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog

from pdstats.errors import PrivacyError
from pdstats.privacy.equations import Equation

__all__ = ["FeasibleRegion"]


class FeasibleRegion:
    """The values of hidden cells consistent with the published ones.

    Parameters
    ----------
    equations : sequence of Equation
        What a reader knows.
    values : numpy.ndarray
        Every cell's value (NaN where the value is not known; such cells must be hidden).
    hidden : numpy.ndarray of bool
        Cells not published.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.privacy.equations import Equation
    >>> from pdstats.privacy.intervals import FeasibleRegion
    >>> eq = Equation((0, 1, 2), (1.0, 1.0, -1.0), "counts sum to n", (0,))
    >>> FeasibleRegion([eq], np.array([3.0, 27.0, 30.0]), np.array([True, True, False])).interval(0)
    (0.0, 30.0)
    """

    def __init__(self, equations: Sequence[Equation], values: np.ndarray, hidden: np.ndarray) -> None:
        self.equations = list(equations)
        self.values = np.asarray(values, dtype=float)
        self.hidden = np.asarray(hidden, dtype=bool).copy()
        self.by_cell: dict[int, list[int]] = defaultdict(list)
        for k, eq in enumerate(self.equations):
            for c in eq.cells:
                self.by_cell[c].append(k)

    def component(self, cell: int) -> tuple[list[int], list[int]]:
        """Hidden cells and equations linked to ``cell`` through hidden cells."""
        seen_cells, seen_eqs = {cell}, set()
        queue = deque([cell])
        while queue:
            c = queue.popleft()
            for k in self.by_cell.get(c, ()):
                if k in seen_eqs:
                    continue
                seen_eqs.add(k)
                for other in self.equations[k].cells:
                    if self.hidden[other] and other not in seen_cells:
                        seen_cells.add(other)
                        queue.append(other)
        return sorted(seen_cells), sorted(seen_eqs)

    def interval(self, cell: int) -> tuple[float, float]:
        """Smallest and largest value of hidden ``cell`` consistent with what is published.

        A published cell's interval is its value. ``inf`` means unbounded above.
        """
        if not self.hidden[cell]:
            v = float(self.values[cell])
            return v, v
        cells, eqs = self.component(cell)
        if not eqs:
            return 0.0, float("inf")
        pos = {c: i for i, c in enumerate(cells)}
        a = np.zeros((len(eqs), len(cells)))
        b = np.zeros(len(eqs))
        for i, k in enumerate(eqs):
            eq = self.equations[k]
            for c, w in zip(eq.cells, eq.coefs, strict=True):
                if self.hidden[c]:
                    a[i, pos[c]] += w
                else:
                    b[i] -= w * self.values[c]
        objective = np.zeros(len(cells))
        objective[pos[cell]] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * objective, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            if res.status == 2:
                rules = sorted({self.equations[k].rule for k in eqs})
                raise PrivacyError(f"the published totals contradict each other (rules: {', '.join(rules)}); "
                                   "check the declared totals= and subgroups=")
            if res.status == 3:
                ends.append(float("inf"))
            elif res.status != 0:
                raise PrivacyError(f"the feasibility linear program failed: {res.message}")
            else:
                ends.append(sign * float(res.fun))
        lo, hi = ends
        return max(lo, 0.0), hi
