"""The disclosure gate: :func:`protect` makes a table of student counts safe to publish."""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pdstats._inputs import as_bool, as_numeric, refuse, require_columns, require_frame
from pdstats.errors import PrivacyError
from pdstats.privacy.equations import Equation, build_equations
from pdstats.privacy.identifiers import (
    STUDENT_COUNT_PATTERN,
    identifier_columns,
    student_level_columns,
)
from pdstats.privacy.intervals import FeasibleRegion
from pdstats.results import SampleLog

__all__ = ["ProtectedTable", "protect", "check_min_n", "REASONS"]

#: Why a cell is not shown: ``primary`` (fewer than ``min_n`` students), ``complementary``
#: (hidden so that a primary cell cannot be worked out), ``coding`` (a percentage near 0 or
#: 100 shown as a range), ``source`` (withheld by the data's publisher).
REASONS = ("primary", "complementary", "coding", "source")
_TABLE = "__table__"
_CANDIDATES = 6


def check_min_n(min_n: Any, argument: str = "min_n") -> int:
    """``min_n`` as an int, or :class:`PrivacyError` if it is not a positive whole number.

    Examples
    --------
    >>> from pdstats.privacy import check_min_n
    >>> check_min_n(10)
    10
    >>> try:
    ...     check_min_n(0)
    ... except Exception as err:
    ...     print(type(err).__name__)
    PrivacyError
    """
    ok = (not isinstance(min_n, bool) and isinstance(min_n, numbers.Real) and np.isfinite(float(min_n))
          and float(min_n) >= 1 and float(min_n) == round(float(min_n)))
    if not ok:
        shown = min_n if isinstance(min_n, numbers.Real) else type(min_n).__name__
        raise PrivacyError(f"{argument} must be a positive whole number of students (e.g. 10); got {shown!r}. "
                           "A threshold of 0, a negative or missing one would turn suppression off")
    return int(round(float(min_n)))


@dataclass
class ProtectedTable:
    """What :func:`protect` returns: the publishable table(s) and the disclosure report.

    Attributes
    ----------
    table : pandas.DataFrame or dict of DataFrame
        What may be published: suppressed cells are missing and ``<column>_code`` says
        why (``suppressed``, ``source``, ``<=5%``, ``>=95%``). A dict when several
        tables were protected together.
    report : pandas.DataFrame
        One row per cell not shown: ``table``, ``row`` (position), the row's labels,
        ``column``, ``reason`` (primary / complementary / coding / source) and ``rule``.
        For the data steward: it tells primary from complementary cells, which the
        published table does not.
    parameters : dict
        The rule's parameters (``min_n``, ``min_interval``, ``coding``, columns).
    intervals : pandas.DataFrame
        Each sensitive cell's feasible interval (``lower``, ``upper``) given everything
        published; never narrower than ``min_interval``.
    sample_log : SampleLog
        Cells in, and cells hidden by reason.
    """

    table: pd.DataFrame | dict[str, pd.DataFrame]
    report: pd.DataFrame
    parameters: dict[str, Any]
    intervals: pd.DataFrame
    sample_log: SampleLog = field(repr=False)

    def summary(self) -> str:
        """Plain-text account of what was hidden and why."""
        p = self.parameters
        lines = [f"Disclosure gate: min_n = {p['min_n']}, feasible interval >= {p['min_interval']:g}, "
                 f"percentages coded within {p['coding']:g} points of 0 and 100",
                 str(self.sample_log)]
        counts = self.report.groupby("reason").size() if len(self.report) else pd.Series(dtype=int)
        lines += [f"  {reason}: {int(counts.get(reason, 0))} cell(s)" for reason in REASONS]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def _stack(tables: pd.DataFrame | Mapping[str, pd.DataFrame], name: str) -> tuple[pd.DataFrame, list[str], bool]:
    if isinstance(tables, Mapping):
        if not tables:
            raise PrivacyError("protect() needs at least one table")
        frames = [require_frame(t, str(k)).reset_index(drop=True).assign(**{_TABLE: str(k)}) for k, t in tables.items()]
        return pd.concat(frames, ignore_index=True), [str(k) for k in tables], True
    t = require_frame(tables, name)
    return t.reset_index(drop=True).assign(**{_TABLE: name}), [name], False


def _refuse_people(tables: pd.DataFrame | Mapping[str, pd.DataFrame], name: str, n: str | None) -> None:
    items = tables.items() if isinstance(tables, Mapping) else [(name, tables)]
    for key, t in items:
        require_frame(t, str(key))
        ids = identifier_columns(t)
        if ids:
            raise PrivacyError(f"table {key!r} holds identifier column(s) {ids} (rule: no person identifiers in "
                               "shared tables); aggregate to groups and drop them before sharing")
        student = student_level_columns(t)
        if student:
            raise PrivacyError(f"table {key!r} is a table of students (rule: one row per student is never shared; "
                               f"columns {student}); publish counts or means of groups")
        if n is not None and n in t.columns and len(t) > 1:
            sizes = pd.to_numeric(t[n], errors="coerce")
            if sizes.notna().all() and (sizes == 1).all():
                raise PrivacyError(f"table {key!r} has one row per student (rule: column {n!r} is 1 in every row); "
                                   "publish counts or means of groups")


def _refuse_undeclared(df: pd.DataFrame, declared: set[str], names: list[str]) -> None:
    """A statistic or count the caller did not declare would pass the gate unprotected."""
    for c in df.columns:
        if c in declared or c == _TABLE:
            continue
        col = df[c]
        fractional = pd.api.types.is_float_dtype(col)
        if fractional or STUDENT_COUNT_PATTERN.match(str(c).strip().lower()):
            raise PrivacyError(
                f"table {names[0] if len(names) == 1 else names!r}: column {c!r} looks like a "
                f"{'statistic' if fractional else 'count of students'} but is not declared (rule: every "
                "published value goes through the gate); pass it in counts=, n=, stats= or percents=, or drop it")


class _Unprotectable(Exception):
    """A sensitive cell whose interval stays too narrow with every related cell hidden."""

    def __init__(self, cell: int) -> None:
        super().__init__(cell)
        self.cell = cell


class _Gate:
    """The state of one run: values, hidden cells, reasons."""

    def __init__(self, values: np.ndarray, sensitive: np.ndarray, hidden: np.ndarray,
                 equations: list[Equation], need: float) -> None:
        self.values, self.sensitive, self.need = values, sensitive, need
        self.region = FeasibleRegion(equations, values, hidden)
        self.complementary: list[int] = []

    @property
    def hidden(self) -> np.ndarray:
        return self.region.hidden

    def _score(self, cell: int) -> tuple[float, ...]:
        """Lower is a better complement: big enough, closes another equation, small."""
        eqs = self.region.by_cell.get(cell, [])
        closing = sum(any(self.hidden[c] for c in self.region.equations[k].cells if c != cell) for k in eqs)
        v = self.values[cell]
        return (float(v < self.need), -float(closing), float(v), float(cell))

    def _published(self, cells: Sequence[int]) -> list[int]:
        return [c for c in cells if not self.hidden[c] and np.isfinite(self.values[c])]

    def _hide(self, cell: int) -> None:
        self.hidden[cell] = True
        self.complementary.append(cell)

    def pair_up(self, start: Sequence[int]) -> None:
        """Give every hidden cell a hidden partner in each of its equations."""
        queue = list(start)
        while queue:
            cell = queue.pop()
            for k in self.region.by_cell.get(cell, []):
                cells = self.region.equations[k].cells
                if sum(self.hidden[c] for c in cells) == 1:
                    options = self._published(cells)
                    if options:
                        partner = min(options, key=self._score)
                        self._hide(partner)
                        queue.append(partner)

    def widen(self, cell: int) -> None:
        """Hide the published cell that widens ``cell``'s interval most (one step)."""
        _, eqs = self.region.component(cell)
        options = sorted({c for k in eqs for c in self._published(self.region.equations[k].cells)}, key=self._score)
        if not options:
            raise _Unprotectable(cell)
        best, best_width = options[0], -1.0
        for c in options[:_CANDIDATES]:
            self.hidden[c] = True
            lo, hi = self.region.interval(cell)
            self.hidden[c] = False
            width = min(hi - lo, self.need)
            if width > best_width + 1e-9:
                best, best_width = c, width
        self._hide(best)
        self.pair_up([best])

    def run(self) -> dict[int, tuple[float, float]]:
        """Hide complements until every sensitive cell's interval is wide enough.

        Hiding a cell only removes what a reader knows, so intervals only widen: one pass
        over the sensitive cells, widening each until it holds, leaves all of them holding.
        """
        targets = [int(c) for c in np.flatnonzero(self.sensitive)]
        self.pair_up(targets)
        found: dict[int, tuple[float, float, int]] = {}
        for c in targets:
            lo, hi = self.region.interval(c)
            while hi - lo < self.need - 1e-9:
                self.widen(c)
                lo, hi = self.region.interval(c)
            found[c] = (lo, hi, len(self.complementary))
        # an interval found before later complements may have widened since: report it as it ends
        out = {}
        for c, (lo, hi, seen) in found.items():
            later = set(self.complementary[seen:])
            out[c] = self.region.interval(c) if later & set(self.region.component(c)[0]) else (lo, hi)
        return out


def _numeric_block(df: pd.DataFrame, tables: list[str], columns: Sequence[str], **rules: Any) -> np.ndarray:
    """Columns checked table by table (errors name the table and its own row positions)."""
    out = np.full((len(df), len(columns)), np.nan)
    for name in tables:
        part = df[df[_TABLE] == name]
        local = part.reset_index(drop=True)
        for j, c in enumerate(columns):
            if c in local.columns:
                out[part.index.to_numpy(), j] = as_numeric(local, c, name, **rules).to_numpy()
    return out


def _local_rows(df: pd.DataFrame, rows: Sequence[int], table_of: int) -> tuple[str, list[int]]:
    """The table of stacked row ``table_of`` and those of ``rows`` in it, as that table's own positions."""
    name = str(df.loc[table_of, _TABLE])
    start = df.index[df[_TABLE] == name][0]
    return name, [int(r - start) for r in rows if df.loc[r, _TABLE] == name]


def _check_sums(df: pd.DataFrame, equations: list[Equation], values: np.ndarray, n_cols: int,
                columns: list[str]) -> None:
    for eq in equations:
        v = values[list(eq.cells)]
        if np.isfinite(v).all() and abs(float(np.dot(v, eq.coefs))) > 1e-6:
            name, local = _local_rows(df, eq.rows, eq.rows[-1])
            raise refuse(name, columns[eq.cells[-1] % n_cols], f"declared sum ({eq.rule}) does not hold", local)


def _own_columns(part: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """A stacked table's rows cut back to the columns of the table they came from."""
    keep = [c for c in part.columns if c in source.columns
            or (c.endswith("_code") and c[:-5] in source.columns and (part[c].fillna("") != "").any())]
    return part[keep]


def protect(
    table: pd.DataFrame | Mapping[str, pd.DataFrame],
    counts: Sequence[str] = (),
    n: str | None = None,
    min_n: int = 10,
    *,
    totals: Mapping[str, Any] | Sequence[bool] | None = None,
    by: Sequence[str] = (),
    parts: Mapping[str, Any] | None = None,
    subgroups: Mapping[str, Mapping[str, Sequence[Sequence[str]]]] | None = None,
    stats: Sequence[str] = (),
    percents: Sequence[str] | Mapping[str, str | None] = (),
    coding: float = 5.0,
    sums_to_n: bool = True,
    flag: str | None = None,
    name: str = "table",
) -> ProtectedTable:
    """Suppress, code and complement the cells of a table so that no student can be singled out.

    Primary suppression hides every count of 1 to ``min_n - 1`` students and every value
    of a group of fewer than ``min_n`` students (its counts, zeros included, its ``n``,
    means, SDs and percentages). Percentages within ``coding`` points of 0 or 100 are
    shown as ``<=5%`` / ``>=95%``. Complementary suppression then hides further cells
    until, for every sensitive cell, the range of values consistent with everything
    published (non-negative counts, rows summing to ``n``, declared total rows and
    subgroup totals, across all tables passed together) is at least ``min_n / 2`` wide,
    verified by linear programming.

    Parameters
    ----------
    table : DataFrame or dict of str to DataFrame
        One row per group. Several tables published together are passed as a dict; the
        declared totals then link rows across them.
    counts : sequence of str
        Count columns of a distribution (e.g. students at each level).
    n : str, optional
        The group's number of students (the counts sum to it). Needed for ``stats`` and
        ``percents``.
    min_n : int, default 10
        Smallest number of students a published cell may rest on.
    totals : mapping or boolean mask, optional
        Rows that are totals of the other rows of their ``by`` group, e.g.
        ``{"unit_type": "state"}`` for a state row beside its districts.
    by : sequence of str
        Columns within which ``totals`` rows sum the other rows (e.g. year, grade).
    parts : mapping, optional
        Which other rows a total sums, e.g. ``{"unit_type": "district"}`` when the table
        also holds schools; default every other row of the ``by`` group.
    subgroups : mapping, optional
        Subgroup totals: ``{"subgroup": {"all": [["female", "male"], ["frl", "not_frl"]]}}``;
        rows are matched on every other label column.
    stats : sequence of str
        Means, SDs and other statistics of the group (hidden with a small group).
    percents : sequence of str, or mapping of str to str
        Percentages (0-100) of the group (hidden with a small group, coded near 0 and
        100). A mapping pairs a percentage with the count it is made from
        (``{"pct_level_1": "level_1"}``): it is hidden whenever that count or ``n`` is.
    coding : float, default 5
        Percentages at or below ``coding`` or at or above ``100 - coding`` are coded.
    flag : str, optional
        The publisher's own suppression flag, never cleared: a flagged row's results
        (counts, statistics, percentages) stay hidden and are protected from the totals
        like small cells; its ``n`` is shown unless it is small itself.
    sums_to_n : bool, default True
        Whether ``counts`` cover every student of ``n``. With ``False`` (e.g. only the
        proficient count is shown) the rest of ``n`` is a hidden count the gate protects
        too (``n - 38`` proficient = 2 students not proficient).
    name : str, default "table"
        Name of a single table in messages and the report.

    Returns
    -------
    ProtectedTable
        ``.table`` (publishable), ``.report`` (one row per hidden cell), ``.parameters``,
        ``.intervals``, ``.sample_log``.

    Raises
    ------
    PrivacyError
        Identifier columns (also in the index), a table of students, a threshold that is
        not a positive whole number, contradictory totals.
    DataValidationError
        Counts that are negative, fractional or not numbers (naming table, column, rule
        and row positions, never values).

    Examples
    --------
    >>> import pandas as pd
    >>> import pdstats as pds
    >>> t = pd.DataFrame({"district": ["a", "b", "c"], "n_tested": [3, 60, 45],
    ...                   "level_1": [3, 20, 15], "level_2": [0, 40, 30]})
    >>> out = pds.privacy.protect(t, counts=["level_1", "level_2"], n="n_tested", min_n=10)
    >>> out.table["n_tested"].tolist()
    [<NA>, 60, 45]
    >>> out.report[["row", "column", "reason"]].values.tolist()
    [[0, 'level_1', 'primary'], [0, 'level_2', 'primary'], [0, 'n_tested', 'primary']]
    """
    min_n = check_min_n(min_n)
    if isinstance(coding, bool) or not isinstance(coding, numbers.Real) or not 0 <= float(coding) < 50:
        raise PrivacyError(f"coding must be a number of percentage points in [0, 50); got {coding!r}")
    pct_of = dict(percents) if isinstance(percents, Mapping) else dict.fromkeys(percents)
    counts, stats, percents = list(counts), list(stats), list(pct_of)
    if bad := [k for k in pct_of.values() if k is not None and k not in counts]:
        raise PrivacyError(f"percents= pairs percentages with {bad}, which are not among counts=")
    if (stats or percents) and n is None:
        raise PrivacyError("stats= and percents= need n= (the group's number of students) to judge group size")
    _refuse_people(table, name, n)
    df, names, several = _stack(table, name)
    cols = counts + ([n] if n is not None else [])
    require_columns(df, [*cols, *stats, *percents, *([flag] if flag else []), *by], names[0], "counts")
    values_2d = _numeric_block(df, names, cols, lower=0, integer=True)
    rest = not sums_to_n and n is not None and bool(counts)
    if rest:  # the students of n in none of the count columns: never shown, protected all the same
        remainder = values_2d[:, -1] - values_2d[:, :-1].sum(axis=1)
        if (remainder < 0).any():
            bad = np.flatnonzero(remainder < 0)
            name, local = _local_rows(df, bad, bad[0])
            raise refuse(name, n, "counts add up to at most n", local)
        values_2d = np.column_stack([values_2d[:, :-1], remainder, values_2d[:, -1]])
        cols = [*counts, "(rest of n)", n]
    stat_vals = _numeric_block(df, names, stats)
    pct_vals = _numeric_block(df, names, percents, lower=0, upper=100)
    flagged = (np.concatenate([as_bool(part.reset_index(drop=True), flag, str(t)).fillna(False)
                               .to_numpy(dtype=bool) for t, part in df.groupby(_TABLE, sort=False)])
               if flag else np.zeros(len(df), dtype=bool))

    value_cols = {*cols, *stats, *percents, *([flag] if flag else [])}
    _refuse_undeclared(df, value_cols, names)
    labels = df[[c for c in df.columns if c not in value_cols]]
    n_cols = len(cols)
    n_idx = len(cols) - 1 if n is not None else None
    eqs = build_equations(labels, n_cols, n_idx, list(range(len(cols) - (n is not None))), totals=totals, by=by,
                          subgroups=subgroups, parts=parts) if n_cols else []
    values = values_2d.ravel()
    _check_sums(df, eqs, values, n_cols, cols)

    group_n = values_2d[:, n_idx] if n_idx is not None else np.full(len(df), np.nan)
    small_group = (group_n < min_n) & (group_n > 0)
    unknown_group = np.isnan(group_n) if n is not None else np.zeros(len(df), dtype=bool)
    small_cell = (values_2d >= 1) & (values_2d < min_n)
    primary_2d = small_cell | (small_group[:, None] & np.isfinite(values_2d))
    source_2d = flagged[:, None] & np.isfinite(values_2d)  # results the publisher withheld
    if n_idx is not None:
        source_2d[:, n_idx] = False  # the number tested of a withheld cell is not a result
    sensitive = (primary_2d | source_2d).ravel()
    hidden = sensitive | np.isnan(values)
    if rest:
        hidden.reshape(len(df), n_cols)[:, len(counts)] = True
    gate = _Gate(values, sensitive, hidden, eqs, min_n / 2)
    try:
        found = gate.run() if n_cols else {}
    except _Unprotectable as exc:
        r, j = divmod(exc.cell, n_cols)
        name, local = _local_rows(df, [r], r)
        raise PrivacyError(
            f"table {name!r}, row {local[0]}, column {cols[j]!r}: a suppressed cell stays recoverable to "
            f"within {min_n / 2:g} students with every related published cell hidden (rule: each "
            "suppressed cell's feasible interval at least min_n/2 wide); publish fewer totals") from None

    # -- the published table(s) and the report
    pub = df.copy()
    codes: dict[str, np.ndarray] = {}
    report_rows: list[tuple[int, str, str, str]] = []
    hidden_2d = gate.hidden.reshape(len(df), n_cols) if n_cols else np.zeros((len(df), 0), dtype=bool)
    comp_2d = np.zeros_like(hidden_2d)
    for c in gate.complementary:
        comp_2d[c // n_cols, c % n_cols] = True
    for j, c in enumerate(cols):
        if rest and j == len(counts):
            continue
        code = np.full(len(df), "", dtype=object)
        shown = pd.array(np.where(hidden_2d[:, j], np.nan, values_2d[:, j]), dtype="Float64").round().astype("Int64")
        pub[c] = shown
        for r in np.flatnonzero(hidden_2d[:, j] & np.isfinite(values_2d[:, j])):
            if source_2d[r, j]:
                code[r], why = "source", ("source", "withheld by the publisher")
            elif primary_2d[r, j]:
                code[r], why = "suppressed", ("primary", f"fewer than {min_n} students")
            elif comp_2d[r, j]:
                code[r], why = "suppressed", ("complementary", "protects a suppressed cell from the totals")
            else:
                continue  # missing in the input
            report_rows.append((int(r), c, *why))
        codes[c] = code
    group_hidden = small_group | flagged | unknown_group
    group_why = [("source", "withheld by the publisher") if f else ("primary", f"group of fewer than {min_n} students")
                 for f in flagged]
    n_hidden = hidden_2d[:, n_idx] if n_idx is not None else np.zeros(len(df), dtype=bool)
    for j, c in enumerate([*stats, *percents]):
        is_pct = j >= len(stats)
        v = pct_vals[:, j - len(stats)] if is_pct else stat_vals[:, j]
        code = np.full(len(df), "", dtype=object)
        present = np.isfinite(v)
        gone = present & group_hidden
        for r in np.flatnonzero(gone):
            code[r] = "source" if flagged[r] else "suppressed"
            report_rows.append((int(r), c, *group_why[r]))
        if is_pct and pct_of.get(c):  # count / n = percentage: hidden with its count or n
            k = cols.index(pct_of[c])
            linked = present & ~gone & (hidden_2d[:, k] | n_hidden)
            for r in np.flatnonzero(linked):
                code[r] = "suppressed"
                report_rows.append((int(r), c, "complementary", f"{pct_of[c]} or {n} is hidden"))
            gone |= linked
        if is_pct and coding > 0:
            for r in np.flatnonzero(present & ~gone & ((v <= coding) | (v >= 100 - coding))):
                low = v[r] <= coding
                code[r] = f"<={coding:g}%" if low else f">={100 - coding:g}%"
                report_rows.append((int(r), c, "coding", f"at or {'below' if low else 'above'} {code[r][2:]}"))
        pub[c] = np.where(present & (code == ""), v, np.nan)
        codes[c] = code
    if flag:
        pub[flag] = pd.array(flagged | small_group, dtype="boolean")
    for c, code in codes.items():
        if (code != "").any():
            pub[f"{c}_code"] = pd.array(code, dtype="string")

    first_row = {t: int(df.index[df[_TABLE] == t][0]) for t in names}
    label_cols = [c for c in labels.columns if c != _TABLE]
    order = {c: i for i, c in enumerate([*cols, *stats, *percents])}
    report_rows.sort(key=lambda x: (x[0], order[x[1]]))
    rep = pd.DataFrame(report_rows, columns=["_row", "column", "reason", "rule"])
    rep.insert(0, "table", df.loc[rep["_row"], _TABLE].to_numpy() if len(rep) else pd.Series(dtype=str))
    rep.insert(1, "row", [r - first_row[t] for r, t in zip(rep["_row"], rep["table"], strict=True)])
    for k, c in enumerate(label_cols):
        rep.insert(2 + k, c, df.loc[rep["_row"], c].to_numpy() if len(rep) else pd.Series(dtype=object))
    rep = rep.drop(columns="_row").reset_index(drop=True)

    iv = pd.DataFrame(
        [(df.loc[c // n_cols, _TABLE], c // n_cols - first_row[df.loc[c // n_cols, _TABLE]], cols[c % n_cols], lo, hi)
         for c, (lo, hi) in sorted(found.items())],
        columns=["table", "row", "column", "lower", "upper"],
    )
    log = SampleLog(n_in=int(np.isfinite(values).sum() + np.isfinite(stat_vals).sum() + np.isfinite(pct_vals).sum()),
                    unit="cells")
    for reason in REASONS:
        log.drop(f"{reason} suppression" if reason != "coding" else "top/bottom coding",
                 int((rep["reason"] == reason).sum()))
    parameters = {"min_n": min_n, "min_interval": min_n / 2, "coding": float(coding), "counts": counts, "n": n,
                  "stats": stats, "percents": percents, "totals": totals if isinstance(totals, Mapping) else
                  (None if totals is None else "row mask"), "by": list(by), "parts": parts, "subgroups": subgroups, "flag": flag}
    pub = pub.drop(columns=_TABLE)
    if several:
        parts = {t: pub[df[_TABLE] == t].reset_index(drop=True) for t in names}
        out_table: pd.DataFrame | dict[str, pd.DataFrame] = {t: _own_columns(p, table[t]) for t, p in parts.items()}
    else:
        out_table = pub
    return ProtectedTable(out_table, rep, parameters, iv, log)
