"""Figures of the evaluate family: event study with uniform bands, cohort x period heat map,
Goodman-Bacon scatter."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["event_plot", "heatmap", "bacon_scatter"]


def _axes(ax: Axes | None) -> Axes:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    return ax


def event_plot(estimates: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Estimates by event time (or group/period) with 95% intervals and uniform bands.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> d = pd.DataFrame({"event_time": [-1, 0, 1], "estimate": [0.0, 1, 2],
    ...                   "ci_lower": [-1, 0, 1], "ci_upper": [1, 2, 3]})
    >>> event_plot(d).get_xlabel()
    'event_time'
    """
    import seaborn as sns

    ax = _axes(ax)
    key = next(c for c in ("event_time", "group", "time") if c in estimates.columns)
    x = estimates[key].to_numpy()
    pre = x < 0 if key == "event_time" else np.zeros(len(x), bool)
    palette = sns.color_palette()
    colors = np.where(pre, 0, 1)
    if "cband_lower" in estimates.columns:
        ax.vlines(x, estimates["cband_lower"], estimates["cband_upper"], colors="0.7", lw=6,
                  label="uniform band")
    for c, lab in ((0, "pre-treatment"), (1, "post-treatment")):
        m = colors == c
        if m.any():
            ax.errorbar(x[m], estimates["estimate"].to_numpy()[m],
                        yerr=[estimates["estimate"].to_numpy()[m] - estimates["ci_lower"].to_numpy()[m],
                              estimates["ci_upper"].to_numpy()[m] - estimates["estimate"].to_numpy()[m]],
                        fmt="o", color=palette[c], capsize=3, label=lab)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel(key)
    ax.set_ylabel("effect")
    ax.legend(frameon=False)
    return ax


def heatmap(att_gt: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Cohort (rows) by period (columns) heat map of ATT(g,t).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> d = pd.DataFrame({"group": [2, 2], "time": [2, 3], "estimate": [1.0, 2.0]})
    >>> heatmap(d).get_ylabel()
    'cohort (first treated)'
    """
    import seaborn as sns

    ax = _axes(ax)
    grid = att_gt.pivot(index="group", columns="time", values="estimate")
    lim = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    sns.heatmap(grid, cmap="RdBu_r", center=0, vmin=-lim, vmax=lim, annot=grid.shape[1] <= 12,
                fmt=".2f", ax=ax, cbar_kws={"label": "ATT(g,t)"})
    ax.set_ylabel("cohort (first treated)")
    ax.set_xlabel("period")
    return ax


def bacon_scatter(components: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Each 2x2 comparison's estimate against its weight, coloured by comparison type.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> d = pd.DataFrame({"type": ["a", "b"], "weight": [0.4, 0.6], "estimate": [1.0, 2.0]})
    >>> bacon_scatter(d).get_xlabel()
    'weight'
    """
    import seaborn as sns

    ax = _axes(ax)
    sns.scatterplot(data=components, x="weight", y="estimate", hue="type", style="type", s=60,
                    ax=ax)
    total = float((components["weight"] * components["estimate"]).sum())
    ax.axhline(total, color="k", ls="--", lw=0.8, label=f"TWFE = {total:.3g}")
    ax.legend(frameon=False)
    return ax
