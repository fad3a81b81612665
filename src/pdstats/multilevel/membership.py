"""Multiple-membership random intercepts: ``(1 | mm(t1 + t2 + t3, w1 + w2 + w3))``.

A row may belong to several units of one grouping factor -- a student-year taught by two
teachers after a mid-year move -- with weights that sum to one (the dosage).  The term's
random intercepts enter the row's linear predictor as ``sum_m w_m b[t_m]``: row ``r`` of
the term's block of ``Z`` holds ``w_m`` in the column of unit ``t_m`` (Hill & Goldstein
1998; Browne, Goldstein & Rasbash 2001).  The data are *wide*: one id column and one
weight column per membership slot, in matching order.  A slot whose id is missing is
empty (its weight must be missing or 0); the weights of a row's non-empty slots must sum
to 1.  A row with no member at all is dropped and counted in the ``sample_log``.  The
same unit may fill two slots (its weights add up).

Scope and supported post-estimation
-----------------------------------
Only random intercepts (``1 | mm(...)``); other terms of the model are as usual and may
be crossed with the multiple-membership factor.  Supported on such fits: fixed effects
with model-based standard errors and Satterthwaite df, ``varcomp``/variance components,
``ranef`` (conditional modes and SDs), log-likelihood/AIC/BIC, ``lrtest``, profile
intervals.  Not supported (they need one unit per row and raise
:class:`~pdstats.errors.ModelSpecificationError` naming the term): ``predict``/
``fitted``/``residuals``, the parametric bootstrap, CR2 cluster-robust standard errors,
Kenward-Roger df and the reliability table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pdstats._inputs import refuse
from pdstats.errors import ModelSpecificationError
from pdstats.multilevel.formula import RandomTermSpec
from pdstats.results import SampleLog

__all__ = ["MembershipTerm", "membership_rows", "build_membership_term", "wide_membership"]

_TABLE = "lmm data"
_SUPPORTED = ("fixed effects (model-based SE, Satterthwaite df), variance components, ranef, "
              "log-likelihood/AIC/BIC, lrtest and profile intervals")


@dataclass
class MembershipTerm:
    """A multiple-membership random-intercept term after its data are attached.

    Attributes
    ----------
    group : str
        Term name, ``"mm(t1+t2+t3)"``.
    levels : pandas.Index
        Unit labels (the union of the id columns), in code order.
    members : numpy.ndarray
        (n, m) unit code of each row's membership slots; -1 for an empty slot.
    member_weights : numpy.ndarray
        (n, m) weight of each slot (0 for empty slots); rows sum to 1.
    names : list of str
        ``["Intercept"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.multilevel.formula import parse_formula
    >>> df = pd.DataFrame({"t1": ["a", "b"], "t2": ["b", None], "w1": [0.5, 1.0],
    ...                    "w2": [0.5, None]})
    >>> spec = parse_formula("y ~ 1 + (1 | mm(t1 + t2, w1 + w2))").random[0]
    >>> term = build_membership_term(spec, df)
    >>> term.members.tolist(), term.nlev
    ([[0, 1], [1, -1]], 2)
    """

    group: str
    levels: pd.Index
    members: np.ndarray
    member_weights: np.ndarray
    names: list[str]
    spec: object = None

    @property
    def k(self) -> int:
        """Number of random effects per unit (1: intercepts only)."""
        return 1

    @property
    def nlev(self) -> int:
        """Number of units."""
        return len(self.levels)

    @property
    def n_theta(self) -> int:
        """Number of covariance parameters (1)."""
        return 1

    @property
    def Xr(self) -> np.ndarray:  # noqa: N802 - the name GroupTerm uses
        """(n, 1) ones: the term's effect is an intercept."""
        return np.ones((self.members.shape[0], 1))

    @property
    def codes(self) -> np.ndarray:
        """Refused: a multiple-membership row has no single unit."""
        raise ModelSpecificationError(
            f"the random term (1 | {self.group}) is multiple-membership, so a row has no "
            "single unit; this post-estimation step (predict/fitted/residuals, bootstrap, "
            "CR2, Kenward-Roger or reliability) is not supported for it. Supported: "
            f"{_SUPPORTED}."
        )


def _slots(data: pd.DataFrame, spec: RandomTermSpec) -> tuple[pd.DataFrame, np.ndarray]:
    ids, wts = spec.membership
    missing = [c for c in (*ids, *wts) if c not in data.columns]
    if missing:
        raise ModelSpecificationError(
            f"mm() term of {spec.group_name} names column(s) {missing} that are not in the data"
        )
    weights = np.column_stack([pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
                               for c in wts])
    return data[list(ids)], weights


def membership_rows(data: pd.DataFrame, spec: RandomTermSpec, keep: np.ndarray,
                    log: SampleLog) -> np.ndarray:
    """``keep`` without the rows that have no member (counted as dropped in ``log``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pdstats.multilevel.formula import parse_formula
    >>> from pdstats.results import SampleLog
    >>> spec = parse_formula("y ~ (1 | mm(t1 + t2, w1 + w2))").random[0]
    >>> df = pd.DataFrame({"t1": ["a", None], "t2": [None, None], "w1": [1.0, None],
    ...                    "w2": [None, None]})
    >>> membership_rows(df, spec, np.ones(2, dtype=bool), SampleLog(n_in=2)).tolist()
    [True, False]
    """
    ids, _ = _slots(data, spec)
    lost = keep & ~ids.notna().to_numpy().any(axis=1)
    log.drop(f"no member in {spec.group_name}", int(lost.sum()))
    return keep & ~lost


def build_membership_term(spec: RandomTermSpec, data: pd.DataFrame) -> MembershipTerm:
    """Unit codes and weights of a multiple-membership term (rows already filtered).

    Raises
    ------
    DataValidationError
        A weight is negative, infinite or missing for a filled slot, positive for an
        empty slot, or a row's weights do not sum to 1 (tolerance 1e-6).
    """
    if spec.expr.strip() != "1":
        raise ModelSpecificationError(
            f"({spec.expr} | {spec.group_name}): multiple-membership terms take random "
            "intercepts only; write (1 | mm(...))"
        )
    ids, weights = _slots(data, spec)
    filled = ids.notna().to_numpy()
    _, wcols = spec.membership
    for j, col in enumerate(wcols):
        wj, fj = weights[:, j], filled[:, j]
        bad = np.flatnonzero(fj & ~(np.isfinite(wj) & (wj >= 0)))
        if bad.size:
            raise refuse(_TABLE, col, "membership weight must be finite and >= 0 where the "
                         "id is given", bad[:50])
        bad = np.flatnonzero(~fj & np.isfinite(wj) & (wj != 0))
        if bad.size:
            raise refuse(_TABLE, col, "weight given for an empty membership slot "
                         "(missing id)", bad[:50])
    w = np.where(filled, np.nan_to_num(weights, nan=0.0), 0.0)
    bad = np.flatnonzero(np.abs(w.sum(axis=1) - 1.0) > 1e-6)
    if bad.size:
        raise refuse(_TABLE, "+".join(wcols), "membership weights of a row must sum to 1",
                     bad[:50])
    if all(pd.api.types.is_numeric_dtype(ids[c]) for c in ids.columns):
        stacked = ids.to_numpy(dtype=float)[filled]  # ints with NaN slots come as floats
        if np.all(stacked == np.round(stacked)):
            stacked = stacked.astype(np.int64)
    else:
        stacked = ids.astype(str).to_numpy()[filled]
    codes, uniques = pd.factorize(pd.Series(stacked), sort=True)
    members = np.full(filled.shape, -1, dtype=np.int64)
    members[filled] = codes
    levels = pd.Index(np.asarray(uniques).astype(str), name=spec.group_name)
    return MembershipTerm(spec.group_name, levels, members, w, ["Intercept"], spec=spec)


def wide_membership(long: pd.DataFrame, by: str | list[str], unit: str,
                    weight: str) -> tuple[pd.DataFrame, str]:
    """Long links (one row per row-unit pair) to the wide columns ``mm()`` reads.

    Parameters
    ----------
    long : pandas.DataFrame
        One row per (observation, unit) link, e.g. the ``enrollments`` table.
    by : str or list of str
        Columns identifying an observation (``["student_id", "year"]``).
    unit : str
        Unit id column (``"teacher_id"``).
    weight : str
        Weight (dosage) column; an observation's weights must sum to 1.

    Returns
    -------
    wide : pandas.DataFrame
        One row per observation: ``by`` columns, then ``{unit}1 ... {unit}M`` and
        ``{weight}1 ... {weight}M`` (largest weight first; empty slots missing).
    term : str
        The matching formula term, e.g. ``"mm(teacher_id1 + teacher_id2, dosage1 + dosage2)"``.

    Examples
    --------
    >>> import pandas as pd
    >>> links = pd.DataFrame({"student": [1, 2, 2], "teacher": ["a", "a", "b"],
    ...                       "dosage": [1.0, 0.3, 0.7]})
    >>> wide, term = wide_membership(links, "student", "teacher", "dosage")
    >>> wide.to_dict("records")[1]
    {'student': 2, 'teacher1': 'b', 'teacher2': 'a', 'dosage1': 0.7, 'dosage2': 0.3}
    >>> term
    'mm(teacher1 + teacher2, dosage1 + dosage2)'
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in (*keys, unit, weight) if c not in long.columns]
    if missing:
        raise ModelSpecificationError(f"wide_membership: column(s) {missing} not in the data")
    links = long[[*keys, unit, weight]].sort_values([*keys, weight],
                                                     ascending=[True] * len(keys) + [False])
    slot = links.groupby(keys, sort=False).cumcount() + 1
    links = links.assign(_slot=slot.to_numpy())
    wide = links.pivot_table(index=keys, columns="_slot", values=[unit, weight],
                             aggfunc="first")
    m = int(slot.max())
    wide.columns = [f"{name}{j}" for name, j in wide.columns]
    cols = [f"{unit}{j}" for j in range(1, m + 1)] + [f"{weight}{j}" for j in range(1, m + 1)]
    wide = wide.reindex(columns=cols).reset_index()
    term = (f"mm({' + '.join(cols[:m])}, {' + '.join(cols[m:])})")
    return wide, term
