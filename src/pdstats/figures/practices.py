"""Figures of the year-1 report, redrawn from recomputed tables (seaborn).

Every function takes the dict returned by :func:`pdstats.practices.year1_tables` (or a
results object) and returns a matplotlib ``Axes`` (or ``Figure`` for multi-panel plots).
Bars carry their counts; titles and notes follow the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from pdstats.errors import ModelSpecificationError  # noqa: E402

__all__ = [
    "plot_item_scalability",
    "plot_practice_index",
    "plot_year1_figure",
    "save_year1_figures",
    "plot_stage_matrix",
    "plot_self_assessment",
    "YEAR1_FIGURES",
]

_NOTES = {
    "Figure 3.1.1": "Goal-setting activities are not mutually exclusive. Districts with inconclusive "
                    "data are not included.\nMonitoring differs from reviewing in that it involves "
                    "analyzing progress made toward goals.",
    "Figure 3.4.2": "Tests include summative and more frequent diagnostic/formative assessments,\n"
                    "norm- and criterion-referenced.",
    "Figure 3.4.3": "Tests administered at least quarterly to gauge progress toward grade-level "
                    "state standards;\ndistrict-wide and site-level tests.",
    "Table 6.1": "Numbers indicate the number of districts whose practices fit the description.",
}
_TITLES = {
    "Figure 1.1": "Figure 1.1 - Demographic Snapshot of Districts",
    "Figure 3.1.1": "Figure 3.1.1 - School Board: Relationships and Goal-Setting",
    "Table 3.1.2": "Table 3.1.2 - Most Commonly Stated Goals",
    "Figure 3.4.1": "Figure 3.4.1 - Districts' Use of State-Mandated Assessments",
    "Figure 3.4.2": "Figure 3.4.2 - Use of District-Wide Assessments",
    "Figure 3.4.3": "Figure 3.4.3 - Frequent Diagnostic Assessments Used for Benchmarking",
    "Figure 3.5.1": "Figure 3.5.1 - Districts That Provide Data-Use Training",
    "Figure 4.1": "Figure 4.1 - Actions to Implement Performance-Driven Practices",
    "Figure 4.2": "Figure 4.2 - Uses of Data in Practice",
    "Table 6.1": "Table 6.1 - Matrix of Performance-Driven Practices Across Districts",
}
#: Figure ids this module can draw.
YEAR1_FIGURES: tuple[str, ...] = tuple(_TITLES)
_RECON = "Counts recomputed from district-level data (pdstats reconstruction of the year-1 study)."


def _bar(frame: pd.DataFrame, title: str, ax: Any, unit: str = "Number of districts",
         note: str | None = None, xmax: float | None = None) -> Any:
    sns.barplot(data=frame, y="category", x="value", hue="category", palette="crest",
                legend=False, ax=ax, orient="h")
    for cont in ax.containers:
        ax.bar_label(cont, fmt="%g", padding=3)
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    ax.set_xlabel(unit)
    ax.set_ylabel("")
    top = xmax if xmax is not None else frame["value"].max() * 1.15 + 1
    ax.set_xlim(0, top)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    sns.despine(ax=ax)
    foot = (note + "\n" if note else "") + _RECON
    ax.annotate(foot, xy=(0, 0), xycoords="axes fraction", xytext=(0, -36),
                textcoords="offset points", fontsize=7, va="top", color="0.35")
    return ax


def _figure_1_1(t: pd.DataFrame) -> Any:
    n = int(t.loc[t["category"] == "Total", "value"].max())
    t = t[t["category"] != "Total"]
    measures = list(dict.fromkeys(t["measure"]))
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5))
    for ax, m in zip(axes.ravel(), measures, strict=False):
        sub = t[t["measure"] == m]
        sns.barplot(data=sub, x="category", y="value", hue="category", palette="crest",
                    legend=False, ax=ax)
        for cont in ax.containers:
            ax.bar_label(cont, fmt="%g", padding=2)
        ax.set_title(m, fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("Number of districts")
        ax.set_ylim(0, t["value"].max() * 1.15 + 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        sns.despine(ax=ax)
    fig.suptitle(_TITLES["Figure 1.1"] + f" (n = {n})", x=0.01, ha="left", fontweight="bold")
    fig.text(0.01, 0.005, "Source: 2002-2003 NCES data for 25 districts, district records for 3. "
             + _RECON, fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig


def _figure_4_1(ax: Any) -> Any:
    actions = ["Gathering\ndata", "Assessing\noutcomes", "Monitoring\nand feedback",
               "Ownership\nof outcomes", "Building a\nlearning\norganization"]
    pal = sns.color_palette("crest", len(actions))
    for i, (a, c) in enumerate(zip(actions, pal, strict=True)):
        ax.add_patch(plt.Rectangle((i * 1.1, i * 0.35), 1.0, 0.9, color=c))
        ax.text(i * 1.1 + 0.5, i * 0.35 + 0.45, a, ha="center", va="center", color="white",
                fontsize=8.5, fontweight="bold")
    ax.annotate("", xy=(5.3, 2.55), xytext=(0.1, 1.2),
                arrowprops=dict(arrowstyle="->", color="0.4", lw=1.5))
    ax.text(2.2, 2.3, "increasingly complex and cross-functional", ha="center", fontsize=8,
            color="0.3", rotation=14)
    ax.set_xlim(-0.1, 5.6)
    ax.set_ylim(-0.1, 2.8)
    ax.axis("off")
    ax.set_title(_TITLES["Figure 4.1"], loc="left", fontsize=11, fontweight="bold")
    ax.annotate("Not linear stages of development but actions districts may take (chapters 2 and 4);"
                " the report gives no counts for this figure.", xy=(0, -0.04),
                xycoords="axes fraction", fontsize=7, va="top", color="0.35")
    return ax


def plot_stage_matrix(table: pd.DataFrame, ax: Any = None, n_districts: int = 28) -> Any:
    """Heatmap of Table 6.1: districts per practice (rows) and stage (columns).

    Parameters
    ----------
    table : pandas.DataFrame
        The ``"Table 6.1"`` frame of :func:`pdstats.practices.year1_tables`.
    ax : matplotlib Axes, optional
    n_districts : int
        Denominator of the counts (colour scale maximum and axis label).

    Examples
    --------
    >>> import pdstats as pds
    >>> from pdstats.figures import plot_stage_matrix
    >>> tabs = pds.practices.year1_tables(pds.practices.reconstruct_year1())
    >>> ax = plot_stage_matrix(tabs["Table 6.1"])
    """
    from pdstats.practices.instrument import stage_matrix

    sm = stage_matrix()
    labels = dict(zip(sm["practice"].astype(str), sm["practice_label"], strict=False))
    wide = table.pivot(index="measure", columns="category", values="value")
    order = list(dict.fromkeys(sm["practice"].astype(str)))
    wide = wide.reindex(order)
    wide.index = [labels[p] for p in wide.index]
    wide.columns = [c.title() for c in wide.columns]
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 7))
    sns.heatmap(wide, annot=True, fmt="g", cmap="crest", vmin=0, vmax=n_districts, ax=ax,
                cbar=False, linewidths=0.5)
    # group headings of the report, right of the stage columns, with white separators
    groups = sm.drop_duplicates("practice")[["group_label"]].reset_index(drop=True)
    start = 0
    for label, rows in groups.groupby("group_label", sort=False).groups.items():
        end = start + len(rows)
        if start:
            ax.axhline(start, color="white", lw=4)
        ax.text(wide.shape[1] + 0.1, (start + end) / 2, label, ha="left", va="center",
                fontsize=8, fontweight="bold", color="0.25")
        start = end
    ax.set_xlabel(f"Number of the {n_districts} districts whose practices fit each cell",
                  fontsize=8)
    ax.set_title(_TITLES["Table 6.1"], loc="left", fontsize=11, fontweight="bold")
    ax.set_ylabel("")
    ax.annotate(_NOTES["Table 6.1"] + "\n" + _RECON, xy=(0, -0.1), xycoords="axes fraction",
                fontsize=7, va="top", color="0.35")
    return ax


def plot_year1_figure(tables: Mapping[str, pd.DataFrame], figure: str, ax: Any = None) -> Any:
    """Draw one numbered figure/table of the year-1 report from recomputed tables.

    Parameters
    ----------
    tables : mapping
        Output of :func:`pdstats.practices.year1_tables`.
    figure : str
        One of :data:`YEAR1_FIGURES` (e.g. ``"Figure 3.5.1"``).
    ax : matplotlib Axes, optional
        Ignored for the four-panel Figure 1.1.

    Returns
    -------
    matplotlib Axes (Figure for Figure 1.1)

    Examples
    --------
    >>> import pdstats as pds
    >>> from pdstats.figures import plot_year1_figure
    >>> tabs = pds.practices.year1_tables(pds.practices.reconstruct_year1())
    >>> ax = plot_year1_figure(tabs, "Table 3.1.2")
    >>> ax.get_title(loc="left").startswith("Table 3.1.2")
    True
    """
    if figure not in YEAR1_FIGURES:
        raise ModelSpecificationError(f"figure must be one of {YEAR1_FIGURES}, got {figure!r}")
    if figure == "Figure 1.1":
        return _figure_1_1(tables[figure])
    if ax is None:
        height = 2.2 + 0.35 * (len(tables[figure]) if figure in tables else 5)
        _, ax = plt.subplots(figsize=(8.5, min(height, 7)))
    if figure == "Figure 4.1":
        return _figure_4_1(ax)
    if figure == "Table 6.1":
        return plot_stage_matrix(tables[figure], ax=ax)
    t = tables[figure].copy()
    unit = "Number of instances cited in interviews" if figure == "Figure 4.2" else "Number of districts"
    xmax = None if figure == "Figure 4.2" else 28
    if figure == "Figure 3.1.1":
        t["category"] = t["measure"].str.replace("board ", "").str.capitalize() + ": " + t["category"]
    return _bar(t, _TITLES[figure], ax, unit=unit, note=_NOTES.get(figure), xmax=xmax)


def save_year1_figures(tables: Mapping[str, pd.DataFrame], out_dir: Path | str,
                       fmt: str = "png", dpi: int = 150) -> list[Path]:
    """Draw every year-1 figure and save it as ``<out_dir>/year1_<id>.<fmt>``.

    Examples
    --------
    >>> import tempfile, pdstats as pds
    >>> from pdstats.figures import save_year1_figures
    >>> tabs = pds.practices.year1_tables(pds.practices.reconstruct_year1())
    >>> len(save_year1_figures(tabs, tempfile.mkdtemp()))
    10
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fig_id in YEAR1_FIGURES:
        obj = plot_year1_figure(tables, fig_id)
        fig = obj if isinstance(obj, plt.Figure) else obj.figure
        path = out / f"year1_{fig_id.lower().replace(' ', '_').replace('.', '_')}.{fmt}"
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths


def plot_self_assessment(result: Any, ax: Any = None) -> Any:
    """Heatmap of a self-assessment: the district's answers over the year-1 prevalence.

    Cells show the share of year-1 districts with the practice; the district's own
    "yes" answers are outlined and each practice's next stage is marked with an arrow.

    Examples
    --------
    >>> from pdstats.practices import questionnaire, self_assessment
    >>> from pdstats.figures import plot_self_assessment
    >>> q = questionnaire()
    >>> res = self_assessment(dict(zip(q["item"], (q["stage"] <= 2).astype(int))))
    >>> ax = plot_self_assessment(res)
    """
    from pdstats.practices.instrument import stage_matrix

    sm = stage_matrix()
    share = sm.pivot(index="practice", columns="stage", values="n_districts") / 28
    share.index = share.index.astype(str)
    order = list(dict.fromkeys(sm["practice"].astype(str)))
    share = share.reindex(order)
    labels = dict(zip(sm["practice"].astype(str), sm["practice_label"], strict=False))
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 7))
    sns.heatmap(share, annot=True, fmt=".0%", cmap="Greys", vmin=0, vmax=1.6, cbar=False,
                ax=ax, linewidths=0.5, yticklabels=[labels[p] for p in order])
    resp = result.responses
    for r, p in enumerate(order):
        for c, k in enumerate((1, 2, 3, 4)):
            if resp[f"{p}_s{k}"]:
                ax.add_patch(plt.Rectangle((c + 0.04, r + 0.04), 0.92, 0.92, fill=False,
                                           edgecolor=sns.color_palette("crest")[4], lw=2.5))
        nxt = result.profile.loc[p, "next_stage"]
        if not pd.isna(nxt):
            ax.annotate("next", xy=(int(nxt) - 0.5, r + 0.85), ha="center", fontsize=7,
                        color="firebrick")
    i = result.index
    ax.set_title(
        f"Self-assessment: practice index {i['theta']:.2f} (SE {i['se']:.2f}), "
        f"percentile {i['percentile']:.0f} among {int(i['n_reference'])} year-1 districts",
        loc="left", fontsize=10, fontweight="bold")
    ax.set_xlabel("Stage (cells: share of year-1 districts; outlined: your 'yes' answers)")
    ax.set_ylabel("")
    return ax


def plot_practice_index(result: Any, ax: Any = None) -> Any:
    """Districts' practice index (Rasch/PCM) with 95% intervals, sorted.

    Examples
    --------
    >>> import pdstats as pds
    >>> from pdstats.figures import plot_practice_index
    >>> res = pds.practices.score(pds.practices.reconstruct_year1()["practice_ratings"], "pcm")
    >>> ax = plot_practice_index(res)
    """
    from pdstats.figures.estimates import caterpillar

    est = result.estimates
    ax = caterpillar(est, label="district_id", ax=ax,
                     title=f"Practice index by district (n = {len(est)})")
    ax.set_xlabel(f"practice index ({result.method.upper()}, logits) with 95% CI")
    sns.despine(ax=ax)
    return ax


def plot_item_scalability(result: Any, ax: Any = None) -> Any:
    """Loevinger's H_i per stage-matrix cell with bootstrap 95% intervals.

    Examples
    --------
    >>> import pdstats as pds
    >>> from pdstats.figures import plot_item_scalability
    >>> sc = pds.practices.scalability(pds.practices.reconstruct_year1()["practice_ratings"],
    ...                                n_boot=20, progress=False)
    >>> ax = plot_item_scalability(sc)
    """
    it = result.items.reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.2 * len(it) + 1.5))
    # a percentile bootstrap interval need not contain the estimate: clip the bar lengths at 0
    lo = (it["H_i"] - it["ci_lower"]).clip(lower=0)
    hi = (it["ci_upper"] - it["H_i"]).clip(lower=0)
    ax.errorbar(it["H_i"], range(len(it)), xerr=[lo, hi],
                fmt="s", color=sns.color_palette("crest")[3], ecolor="0.6", capsize=2)
    ax.axvline(0.3, ls="--", color="firebrick", lw=1)
    ax.set_yticks(range(len(it)), it["item"], fontsize=6)
    h = result.scale.loc["H"]
    ax.set_title(f"Item scalability H_i (scale H = {h['estimate']:.2f}, SE {h['se']:.2f});"
                 " dashed: Mokken's 0.3", loc="left", fontsize=10, fontweight="bold")
    ax.set_xlabel("H_i with bootstrap 95% CI")
    sns.despine(ax=ax)
    return ax
