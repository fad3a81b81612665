"""Numbers for the paper: notebooks record them, :func:`pdstats.report.paper.build_paper` collects them.

A notebook calls :func:`record_numbers` with the figures a manuscript quotes (a
correlation, a coverage rate, a count). They are written to
``$PDSTATS_OUTPUT/numbers/<section>.json``; ``make reproduce`` then fills the
``{{section.name}}`` placeholders of ``paper/manuscript.md`` from them, so no number in
the paper is ever typed by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from pdstats.errors import PdstatsError
from pdstats.report.output import NAME, output_dir

__all__ = ["record_numbers", "collect_numbers", "fill_placeholders", "format_number"]

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_]+)\.([a-z0-9_]+)\s*\}\}")


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):  # ten significant digits: the last bits of a float are not results
        return float(f"{value:.10g}")
    if isinstance(value, int | str | bool) or value is None:
        return value
    raise PdstatsError(f"record_numbers takes numbers and short strings, not {type(value).__name__}")


def record_numbers(section: str, numbers: dict[str, object], out: Path | None = None) -> Path:
    """Record named numbers of one section (merged with what the section already holds).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pdstats.report import record_numbers, collect_numbers
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = record_numbers("harmonize", {"n_districts": 28, "corr_means": 0.991}, out=d)
    >>> collect_numbers(d)["harmonize"]["corr_means"]
    0.991
    """
    for name in [section, *numbers]:
        if not NAME.match(name):
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


def format_number(value: object) -> str:
    """How the paper prints a recorded value (3 decimals below 100, thousands separators).

    Examples
    --------
    >>> from pdstats.report import format_number
    >>> format_number(0.98765), format_number(12345), format_number(1234.56)
    ('0.988', '12,345', '1,234.6')
    """
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def fill_placeholders(text: str, numbers: dict[str, dict[str, object]]) -> str:
    """Replace ``{{section.name}}`` by the recorded value; unknown names raise.

    Examples
    --------
    >>> from pdstats.report import fill_placeholders
    >>> fill_placeholders("r = {{h.r}}", {"h": {"r": 0.98765}})
    'r = 0.988'
    """
    def sub(m: re.Match[str]) -> str:
        section, name = m.group(1), m.group(2)
        try:
            return format_number(numbers[section][name])
        except KeyError as exc:
            raise PdstatsError(f"the paper quotes {{{{{section}.{name}}}}} but no notebook recorded it") from exc

    return _PLACEHOLDER.sub(sub, text)
