"""Figures of any result's ``.estimates``: the one caterpillar plot and the coefficient plot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["caterpillar", "coefplot"]


def caterpillar(estimates: pd.DataFrame, estimate: str = "estimate", lower: str = "ci_lower",
                upper: str = "ci_upper", label: str | None = None, ax: Axes | None = None,
                hue: str | None = None, title: str | None = None, centre: float | None = None,
                max_units: int = 400) -> Axes:
    """Estimates sorted from lowest to highest, each with its interval (one row per unit).

    Above ``max_units`` rows an evenly spaced subset is drawn; with ``label`` and at most
    40 rows the units are named on the axis.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> d = pd.DataFrame({"unit": list("abc"), "estimate": [0.1, -0.2, 0.3],
    ...                   "ci_lower": [0.0, -0.4, 0.1], "ci_upper": [0.2, 0.0, 0.5]})
    >>> caterpillar(d, label="unit").get_xlabel()
    'estimate (interval)'
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = estimates.dropna(subset=[estimate]).sort_values(estimate, kind="stable").reset_index(drop=True)
    if len(d) > max_units:
        d = d.iloc[np.linspace(0, len(d) - 1, max_units).astype(int)].reset_index(drop=True)
    d["_rank"] = np.arange(len(d))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, min(0.18 * len(d) + 1.5, 12)))
    ax.hlines(d["_rank"], d[lower], d[upper], color="0.6", lw=1)
    sns.scatterplot(data=d, x=estimate, y="_rank", hue=hue, ax=ax, s=18, zorder=3,
                    color=None if hue else "C0")
    if label is not None and len(d) <= 40:
        ax.set_yticks(d["_rank"], d[label].astype(str), fontsize=7)
        ax.set_ylabel(label)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"units, sorted ({len(d)})")
    if centre is not None:
        ax.axvline(centre, color="black", lw=0.6)
    ax.set_xlabel(f"{estimate} (interval)")
    if title:
        ax.set_title(title, loc="left")
    return ax


def coefplot(estimates: pd.DataFrame, term: str = "term", ax: Axes | None = None,
             hue: str | None = None, title: str | None = None, centre: float | None = 0.0) -> Axes:
    """Coefficient plot: one point and interval per row of ``estimates``, in table order.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> d = pd.DataFrame({"term": ["a", "b"], "estimate": [0.1, -0.2],
    ...                   "ci_lower": [0.0, -0.4], "ci_upper": [0.2, 0.0]})
    >>> len(coefplot(d).get_yticklabels())
    2
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    d = estimates.reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.35 * len(d) + 1.2))
    y = np.arange(len(d))[::-1]
    groups = [(None, d)] if hue is None else list(d.groupby(hue, sort=False))
    for i, (name, g) in enumerate(groups):
        yy = y[g.index.to_numpy()] + (0 if hue is None else (i - (len(groups) - 1) / 2) * 0.15)
        ax.errorbar(g["estimate"], yy, xerr=[g["estimate"] - g["ci_lower"], g["ci_upper"] - g["estimate"]],
                    fmt="o", ms=4, capsize=2, label=None if name is None else str(name))
    ax.set_yticks(y, d[term].astype(str))
    if centre is not None:
        ax.axvline(centre, color="black", lw=0.6, ls=":")
    ax.set_xlabel("estimate (interval)")
    if hue is not None:
        ax.legend(title=hue, fontsize=7)
    if title:
        ax.set_title(title, loc="left")
    return ax
