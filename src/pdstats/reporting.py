"""Numbers for the paper: notebooks record them, ``paper/make_numbers.py`` collects them.

A notebook calls :func:`record_numbers` with the figures a manuscript quotes (a
correlation, a coverage rate, a count). They are written to
``$PDSTATS_OUTPUT/numbers/<section>.json``; ``make reproduce`` then fills the
``{{section.name}}`` placeholders of ``paper/manuscript.md`` from them, so no number in
the paper is ever typed by hand.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pdstats.errors import PdstatsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["output_dir", "save_figure", "record_numbers", "collect_numbers", "fill_placeholders"]

_NAME = re.compile(r"^[a-z0-9_]+$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_]+)\.([a-z0-9_]+)\s*\}\}")


def output_dir() -> Path:
    """The output folder (``$PDSTATS_OUTPUT``, default ``output``), created if needed."""
    out = Path(os.environ.get("PDSTATS_OUTPUT", "output"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    raise PdstatsError(f"record_numbers takes numbers and short strings, not {type(value).__name__}")


def save_figure(obj: Figure | Axes | Any, name: str, out: Path | None = None, dpi: int = 150) -> Figure:
    """Save a figure (or the figure of an Axes / seaborn grid) as ``<output>/figures/<name>.png``.

    The one way notebooks write their figures: ``make reproduce`` and the notebook tests
    collect them from ``$PDSTATS_OUTPUT/figures``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import matplotlib.pyplot as plt
    >>> from pdstats.reporting import save_figure
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fig, ax = plt.subplots()
    >>> _ = save_figure(ax, "example", out=d)
    >>> (d / "figures" / "example.png").exists()
    True
    >>> plt.close(fig)
    """
    if not _NAME.match(name):
        raise PdstatsError(f"figure names are lower_case_with_underscores, not {name!r}")
    fig = getattr(obj, "figure", obj)
    if not hasattr(fig, "savefig"):
        raise PdstatsError(f"save_figure needs a matplotlib Figure, Axes or seaborn grid, not {type(obj).__name__}")
    folder = (out or output_dir()) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", dpi=dpi, bbox_inches="tight")
    return fig


def record_numbers(section: str, numbers: dict[str, object], out: Path | None = None) -> Path:
    """Record named numbers of one section (merged with what the section already holds).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pdstats.reporting import record_numbers, collect_numbers
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = record_numbers("harmonize", {"n_districts": 28, "corr_means": 0.991}, out=d)
    >>> collect_numbers(d)["harmonize"]["corr_means"]
    0.991
    """
    for name in [section, *numbers]:
        if not _NAME.match(name):
            raise PdstatsError(f"number names are lower_case_with_underscores, not {name!r}")
    folder = (out or output_dir()) / "numbers"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{section}.json"
    held = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    held.update({k: _plain(v) for k, v in numbers.items()})
    path.write_text(json.dumps(held, indent=2, sort_keys=True), encoding="utf-8")
    return path


def collect_numbers(out: Path | None = None) -> dict[str, dict[str, object]]:
    """Every recorded section, as ``{section: {name: value}}``."""
    folder = (out or output_dir()) / "numbers"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def fill_placeholders(text: str, numbers: dict[str, dict[str, object]]) -> str:
    """Replace ``{{section.name}}`` by the recorded value; unknown names raise.

    Examples
    --------
    >>> from pdstats.reporting import fill_placeholders
    >>> fill_placeholders("r = {{h.r}}", {"h": {"r": 0.98765}})
    'r = 0.988'
    """
    def sub(m: re.Match[str]) -> str:
        section, name = m.group(1), m.group(2)
        try:
            return _format(numbers[section][name])
        except KeyError as exc:
            raise PdstatsError(f"the paper quotes {{{{{section}.{name}}}}} but no notebook recorded it") from exc

    return _PLACEHOLDER.sub(sub, text)
