"""Shared pieces of every pdstats results object.

Model families keep their own ``results.py`` (linearmodels style); what they share
lives here: the sample log that says how many rows came in, which were dropped and
why, and the HTML/text summaries Jupyter shows.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["SampleLog", "ResultsBase"]


@dataclass
class SampleLog:
    """How many rows an analysis received, dropped (by reason) and used.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.results import SampleLog
    >>> log = SampleLog(n_in=10)
    >>> log.drop("missing outcome 'math'", 3)
    >>> log.n_used
    7
    >>> log.to_frame()["n"].tolist()
    [10, 3, 7]
    """

    n_in: int
    dropped: dict[str, int] = field(default_factory=dict)
    unit: str = "rows"

    def drop(self, reason: str, n: int) -> None:
        """Record that ``n`` rows were dropped for ``reason`` (zero counts are kept out)."""
        n = int(n)
        if n < 0:
            raise ValueError("a dropped count cannot be negative")
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + n

    @property
    def n_dropped(self) -> int:
        """Total rows dropped."""
        return int(sum(self.dropped.values()))

    @property
    def n_used(self) -> int:
        """Rows used by the analysis."""
        return int(self.n_in - self.n_dropped)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row for the input, one per drop reason, one for the rows used."""
        rows = [("in", f"{self.unit} received", self.n_in)]
        rows += [("dropped", reason, n) for reason, n in self.dropped.items()]
        rows.append(("used", f"{self.unit} used", self.n_used))
        return pd.DataFrame(rows, columns=["stage", "reason", "n"])

    def __str__(self) -> str:
        parts = [f"{self.n_in} {self.unit} in"]
        parts += [f"{n} dropped ({reason})" for reason, n in self.dropped.items()]
        parts.append(f"{self.n_used} used")
        return "; ".join(parts)


class ResultsBase(ABC):
    """Base class of pdstats results: summary text, HTML repr, tidy frame, sample log.

    Subclasses set ``title`` and implement :meth:`to_frame` (the main tidy table) and,
    optionally, :meth:`_summary_blocks` returning ``(heading, DataFrame)`` pairs.
    """

    title: str = "pdstats results"
    sample_log: SampleLog

    @abstractmethod
    def to_frame(self) -> pd.DataFrame:
        """The main tidy table of the result."""

    def _info(self) -> dict[str, object]:
        """Header facts shown above the tables (model, n, fit statistics)."""
        info: dict[str, object] = {}
        log = getattr(self, "sample_log", None)
        if log is not None:
            info["Rows used"] = f"{log.n_used} of {log.n_in}"
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Estimates", self.to_frame())]

    def summary(self) -> str:
        """Plain-text summary suitable for pasting into a paper's appendix."""
        width = 78
        out = [self.title.center(width), "=" * width]
        for k, v in self._info().items():
            out.append(f"{k + ':':<28}{v}")
        for heading, frame in self._summary_blocks():
            out += ["-" * width, heading, frame.to_string(float_format=lambda x: f"{x:.4g}")]
        log = getattr(self, "sample_log", None)
        if log is not None and log.dropped:
            out += ["-" * width, "Sample: " + str(log)]
        out.append("=" * width)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        info = self._info()
        if info:
            rows = "".join(
                f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                f"<td>{html.escape(str(v))}</td></tr>"
                for k, v in info.items()
            )
            parts.append(f"<table>{rows}</table>")
        for heading, frame in self._summary_blocks():
            parts.append(f"<h5>{html.escape(heading)}</h5>")
            parts.append(frame.to_html(float_format=lambda x: f"{x:.4g}"))
        log = getattr(self, "sample_log", None)
        if log is not None:
            parts.append(f"<p><small>Sample: {html.escape(str(log))}</small></p>")
        return "\n".join(parts)
