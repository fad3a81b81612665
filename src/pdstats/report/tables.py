"""Publication tables: any pdstats results side by side, in markdown, HTML and LaTeX.

:func:`table` reads only the result contract (``.estimates`` and ``.sample_log``), so it
puts results of different families in one table (a mixed model beside a difference in
differences), the way R's modelsummary or pyfixest's ``etable`` do for their own fits.
(``etable`` and great_tables render pyfixest fits and data frames, not pdstats results;
the renderer here is small and writes the three formats byte-stably.)

Each cell shows the estimate with its standard error (or 95% interval) in parentheses
below; the foot gives the rows each model used. Row labels are a result's key columns
(``term``, or ``kind / term``, ``event_time`` ...).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pdstats.errors import PdstatsError
from pdstats.report.output import check_name, output_dir, release, write_frame
from pdstats.results import ResultsBase

__all__ = ["EstimatesTable", "table"]

_STATS = ("std_error", "ci")
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}  # fmt: skip


def _label(row: pd.Series, keys: list[str]) -> str:
    parts = [str(row[k]) for k in keys if not pd.isna(row[k]) and str(row[k]) != ""]
    return " / ".join(parts) if parts else "estimate"


def _keys(result: ResultsBase) -> list[str]:
    est = result.estimates
    return [c for c in result.key_columns if not pd.api.types.is_float_dtype(est[c])]


def _long(name: str, result: ResultsBase) -> pd.DataFrame:
    est = result.estimates
    keys = _keys(result)
    out = pd.DataFrame({
        "model": name,
        "term": [_label(r, keys) for _, r in est.iterrows()],
        "estimate": pd.to_numeric(est["estimate"], errors="coerce"),
        "std_error": pd.to_numeric(est["std_error"], errors="coerce"),
        "ci_lower": pd.to_numeric(est["ci_lower"], errors="coerce"),
        "ci_upper": pd.to_numeric(est["ci_upper"], errors="coerce"),
        "p_value": pd.to_numeric(est["p_value"], errors="coerce") if "p_value" in est else np.nan,
    })  # fmt: skip
    log = getattr(result, "sample_log", None)
    out["n_used"] = log.n_used if log is not None else np.nan
    out["unit"] = log.unit if log is not None else ""
    return out.reset_index(drop=True)


class EstimatesTable:
    """Results side by side: ``.data`` (long, numeric) and the rendered text formats.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per model and term: ``model``, ``term``, ``estimate``, ``std_error``,
        ``ci_lower``, ``ci_upper``, ``p_value``, ``n_used``, ``unit``.
    grid : pandas.DataFrame
        The displayed cells (strings): rows ``(term, line)``, one column per model.
    """

    def __init__(self, data: pd.DataFrame, foot: pd.DataFrame, models: list[str], terms: list[str], digits: int,
                 stat: str, title: str) -> None:
        self.data, self.foot, self.models, self.terms = data, foot, models, terms
        self.digits, self.stat, self.title = digits, stat, title
        self.grid = self._grid()

    def _fmt(self, v: float) -> str:
        return "" if pd.isna(v) else f"{v:.{self.digits}f}"

    def _grid(self) -> pd.DataFrame:
        idx = self.data.set_index(["term", "model"])
        rows: dict[tuple[str, str], list[str]] = {}
        for term in self.terms:
            top, below = [], []
            for m in self.models:
                if (term, m) not in idx.index:
                    top.append("")
                    below.append("")
                    continue
                r = idx.loc[(term, m)]
                top.append(self._fmt(r["estimate"]))
                if self.stat == "ci":
                    below.append("" if pd.isna(r["ci_lower"]) else
                                 f"[{self._fmt(r['ci_lower'])}, {self._fmt(r['ci_upper'])}]")
                else:
                    below.append("" if pd.isna(r["std_error"]) else f"({self._fmt(r['std_error'])})")
            rows[(term, "estimate")] = top
            rows[(term, self.stat)] = below
        foot = self.foot
        rows[("N", "n_used")] = [("" if pd.isna(foot.loc[m, "n_used"]) else f"{int(foot.loc[m, 'n_used']):,}")
                                 for m in self.models]
        rows[("Unit", "unit")] = [str(foot.loc[m, "unit"]) for m in self.models]
        grid = pd.DataFrame.from_dict(rows, orient="index", columns=self.models)
        grid.index = pd.MultiIndex.from_tuples(grid.index, names=["term", "line"])
        return grid

    def _lines(self) -> list[tuple[str, list[str], bool]]:
        """(row label, cells, starts a new term) for every displayed line."""
        out = []
        for (term, line), cells in self.grid.iterrows():
            first = line in ("estimate", "n_used", "unit")
            out.append((term if first else "", list(cells), first))
        return out

    def _note(self) -> str:
        what = "95% confidence intervals" if self.stat == "ci" else "standard errors"
        return f"Estimates with {what} in {'brackets' if self.stat == 'ci' else 'parentheses'}; N: rows used."

    def to_markdown(self) -> str:
        """A pipe table (GitHub/CommonMark tables extension) with a caption line above it."""
        head = ["", *self.models]
        lines = [f"**{self.title}**", "", "| " + " | ".join(head) + " |",
                 "|" + "|".join([":---", *[" ---: "] * len(self.models)]) + "|"]
        for label, cells, _ in self._lines():
            lines.append("| " + " | ".join([label, *cells]).replace("\n", " ") + " |")
        return "\n".join([*lines, "", f"*{self._note()}*", ""])

    def to_html(self) -> str:
        """An HTML ``<table>`` (class ``pdstats-table``) with caption and note."""
        e = html.escape
        parts = [f'<table class="pdstats-table">\n<caption>{e(self.title)}</caption>',
                 "<thead><tr><th></th>" + "".join(f"<th>{e(m)}</th>" for m in self.models) + "</tr></thead>",
                 "<tbody>"]
        for label, cells, first in self._lines():
            cls = ' class="term"' if first else ""
            parts.append(f"<tr{cls}><th>{e(label)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        parts.append(f'</tbody>\n<tfoot><tr><td colspan="{len(self.models) + 1}">{e(self._note())}</td></tr>'
                     "</tfoot>\n</table>\n")
        return "\n".join(parts)

    def to_latex(self) -> str:
        """A booktabs ``tabular`` inside a ``table`` environment."""
        def t(s: str) -> str:
            return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in s)

        cols = "l" + "r" * len(self.models)
        lines = ["\\begin{table}[htbp]", "\\centering", f"\\caption{{{t(self.title)}}}",
                 f"\\begin{{tabular}}{{{cols}}}", "\\toprule",
                 " & ".join(["", *map(t, self.models)]) + " \\\\", "\\midrule"]
        for label, cells, _ in self._lines():
            if label == "N":
                lines.append("\\midrule")
            lines.append(" & ".join([t(label), *map(t, cells)]) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}", f"\\par\\footnotesize {t(self._note())}", "\\end{table}", ""]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def write(self, name: str, out: Path | None = None) -> dict[str, Path]:
        """Write ``<output>/tables/<name>.{md,html,tex,csv}`` after :func:`~pdstats.report.release`.

        Returns the paths written, by format.
        """
        check_name(name, "table")
        data = release(self.data, name)
        folder = (out or output_dir()) / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"csv": write_frame(data, folder / f"{name}.csv")}
        for ext, text in (("md", self.to_markdown()), ("html", self.to_html()), ("tex", self.to_latex())):
            paths[ext] = folder / f"{name}.{ext}"
            paths[ext].write_text(text, encoding="utf-8", newline="\n")
        return paths


def table(results: Sequence[ResultsBase] | Mapping[str, ResultsBase], terms: Sequence[str] | None = None,
          labels: Mapping[str, str] | None = None, digits: int = 3, stat: str = "std_error",
          title: str = "Estimates") -> EstimatesTable:
    """Put any pdstats results side by side.

    Parameters
    ----------
    results : sequence or mapping of results
        Any objects honouring the result contract (``.estimates`` with ``estimate``,
        ``std_error``, ``ci_lower``, ``ci_upper``; ``.sample_log``). A mapping names the
        columns; otherwise they are ``(1)``, ``(2)``, ...
    terms : sequence of str, optional
        Row labels to show, in this order (default: every row, in order of appearance).
        A label is the row's key values joined by ``" / "`` (e.g. ``"index / practice_index"``),
        after ``labels`` is applied.
    labels : mapping of str to str, optional
        New labels for rows, e.g. ``{"treated": "ATT"}`` to line up two estimators' rows.
    digits : int
        Decimals shown.
    stat : {"std_error", "ci"}
        What goes in parentheses under each estimate.
    title : str
        Caption.

    Returns
    -------
    EstimatesTable
        ``.to_markdown()``, ``.to_html()``, ``.to_latex()``, ``.write(name)``, ``.data``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=80), "g": np.repeat(np.arange(8), 10)})
    >>> df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=80)
    >>> a = pds.ols("y ~ x", df, cluster="g")
    >>> b = pds.ols("y ~ 1", df, cluster="g")
    >>> t = pds.report.table({"slope": a, "mean only": b}, digits=2)
    >>> print(t.to_markdown().splitlines()[2])
    |  | slope | mean only |
    >>> t.grid.loc[("x", "estimate"), "mean only"]
    ''
    """
    if isinstance(results, Mapping):
        named = [(str(k), v) for k, v in results.items()]
    elif isinstance(results, Sequence) and not isinstance(results, str):
        named = [(f"({i})", v) for i, v in enumerate(results, start=1)]
    else:
        raise PdstatsError(f"table takes a list or dict of pdstats results, not {type(results).__name__}")
    if not named:
        raise PdstatsError("table needs at least one result")
    if len({n for n, _ in named}) != len(named):
        raise PdstatsError("table: model names must be unique")
    if stat not in _STATS:
        raise PdstatsError(f"table: stat must be one of {list(_STATS)}, not {stat!r}")
    if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 10:
        raise PdstatsError(f"table: digits must be an integer in 0..10, not {digits!r}")
    for n, r in named:
        est = getattr(r, "estimates", None)
        if not isinstance(est, pd.DataFrame) or not {"estimate", "std_error", "ci_lower", "ci_upper"} <= set(est):
            raise PdstatsError(f"table: {n!r} is not a pdstats result (no .estimates with estimate, std_error, "
                               "ci_lower, ci_upper)")
    data = pd.concat([_long(n, r) for n, r in named], ignore_index=True)
    if labels:
        data["term"] = data["term"].map(lambda t: labels.get(t, t))
    foot = data.groupby("model", sort=False)[["n_used", "unit"]].first()
    dup = data.duplicated(["model", "term"])
    if dup.any():
        raise PdstatsError(f"table: model {data.loc[dup, 'model'].iloc[0]!r} has several rows labelled "
                           f"{data.loc[dup, 'term'].iloc[0]!r}; pass results whose key columns identify rows")
    order = list(dict.fromkeys(data["term"]))
    if terms is not None:
        if unknown := [t for t in terms if t not in order]:
            raise PdstatsError(f"table: term(s) {unknown} are in none of the results; available: {order}")
        order = list(terms)
        data = data[data["term"].isin(order)].reset_index(drop=True)
    return EstimatesTable(data, foot, [n for n, _ in named], order, digits, stat, title)
