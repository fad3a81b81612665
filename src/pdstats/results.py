"""The result contract every pdstats results object follows.

Model families keep their own ``results.py`` (linearmodels style); what they share
lives here:

* :class:`SampleLog` says how many rows came in, which were dropped and why;
* :class:`ResultsBase` fixes the contract: ``.estimates`` (long and tidy, one row per
  estimated quantity with ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper`` and,
  where they exist, ``df``, ``p_value`` and ``flag``), ``conf_int(level)``, ``tidy()``,
  ``summary()``, ``_repr_html_``, ``plot()`` and ``.sample_log``;
* :func:`add_ci` and :func:`critical_value` are the one way intervals are made from an
  estimate, a standard error and (optionally) degrees of freedom;
* :func:`check_level` validates a confidence level argument.

The README section "The result contract" documents the same rules for users.
"""

from __future__ import annotations

import html
import numbers
from abc import ABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.errors import ModelSpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "SampleLog",
    "ResultsBase",
    "IntervalResultsBase",
    "ESTIMATE_COLUMNS",
    "add_ci",
    "check_level",
    "critical_value",
    "flag_unestimated",
]

#: Columns every ``.estimates`` table has (``df``, ``p_value``, ``flag`` where they exist).
ESTIMATE_COLUMNS = ("estimate", "std_error", "ci_lower", "ci_upper")
#: Columns of ``.estimates`` that are statistics rather than the row's key.
STAT_COLUMNS = (*ESTIMATE_COLUMNS, "df", "statistic", "p_value", "flag")


def check_level(level: Any, argument: str = "level") -> float:
    """Return ``level`` as a float, or raise if it is not a probability in (0, 1).

    Examples
    --------
    >>> check_level(0.9)
    0.9
    >>> try:
    ...     check_level(95)
    ... except Exception as e:
    ...     print(type(e).__name__)
    ModelSpecificationError
    """
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not np.isfinite(level) \
            or not 0 < float(level) < 1:
        raise ModelSpecificationError(
            f"argument {argument!r} must be a confidence level strictly between 0 and 1 "
            f"(e.g. 0.95), got {level!r}"
        )
    return float(level)


def critical_value(level: float = 0.95, df: Any = None) -> np.ndarray | float:
    """Two-sided critical value: Student t where ``df`` is finite, standard normal otherwise.

    Examples
    --------
    >>> round(float(critical_value(0.95)), 4)
    1.96
    >>> np.round(critical_value(0.95, [10, np.inf]), 3).tolist()
    [2.228, 1.96]
    """
    level = check_level(level)
    q = 0.5 + level / 2
    if df is None:
        return float(stats.norm.ppf(q))
    d = np.asarray(df, dtype=float)
    finite = np.isfinite(d) & (d > 0)
    out = np.where(finite, stats.t.ppf(q, np.where(finite, d, 1.0)), stats.norm.ppf(q))
    return out if out.ndim else float(out)


def add_ci(frame: pd.DataFrame, level: float = 0.95, estimate: str = "estimate",
           std_error: str = "std_error", df: str | None = "df", prefix: str = "ci") -> pd.DataFrame:
    """Add ``{prefix}_lower``/``{prefix}_upper`` = estimate -/+ critical value x SE, in place.

    Uses Student t with the ``df`` column where it exists and is finite, the normal
    otherwise. A missing SE gives a missing interval. Returns ``frame``.

    Examples
    --------
    >>> d = pd.DataFrame({"estimate": [1.0, 2.0], "std_error": [0.5, np.nan]})
    >>> add_ci(d)[["ci_lower", "ci_upper"]].round(3).iloc[0].tolist()
    [0.02, 1.98]
    >>> bool(add_ci(d)["ci_lower"].isna().iloc[1])
    True
    """
    dfs = frame[df] if df is not None and df in frame.columns else None
    q = critical_value(level, None if dfs is None else dfs.to_numpy(dtype=float))
    est = frame[estimate].to_numpy(dtype=float)
    se = frame[std_error].to_numpy(dtype=float)
    frame[f"{prefix}_lower"] = est - q * se
    frame[f"{prefix}_upper"] = est + q * se
    return frame


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
    """Base class of every pdstats result: the one result contract.

    Subclasses set ``title`` and ``sample_log`` and provide ``estimates`` (an attribute
    or a property): a long, tidy DataFrame with one row per estimated quantity, the
    row's key columns (``term``, or a unit's key columns plus ``quantity``) followed by
    ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper`` (95%) and, where they exist,
    ``df``, ``p_value`` and ``flag``. Everything else follows:

    * :meth:`tidy` (and its alias :meth:`to_frame`) returns a copy of ``estimates``;
    * :meth:`conf_int` recomputes the intervals at another level (Student t with the
      ``df`` column where present; subclasses whose intervals are not estimate +- q x SE,
      e.g. profile or bootstrap intervals, override it);
    * :meth:`summary` and :meth:`_repr_html_` show ``_info()`` and ``_summary_blocks()``;
    * :meth:`plot` returns a matplotlib Axes where a plot makes sense.
    """

    title: str = "pdstats results"
    sample_log: SampleLog
    estimates: pd.DataFrame

    # ------------------------------------------------------------------ the contract
    @property
    def key_columns(self) -> list[str]:
        """Columns of ``estimates`` that identify a row (everything but the statistics)."""
        return [c for c in self.estimates.columns if c not in STAT_COLUMNS
                and not c.startswith(("ci_", "se_"))]

    def tidy(self) -> pd.DataFrame:
        """A copy of :attr:`estimates` (the result as one tidy DataFrame)."""
        return self.estimates.copy()

    def to_frame(self) -> pd.DataFrame:
        """Alias of :meth:`tidy`."""
        return self.tidy()

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals at ``level``: the key columns, ``estimate``, ``ci_lower``, ``ci_upper``.

        Parameters
        ----------
        level : float
            Confidence level strictly between 0 and 1.
        """
        level = check_level(level)
        est = self.estimates
        out = est[[*self.key_columns, "estimate", "std_error", *(["df"] if "df" in est else [])]].copy()
        add_ci(out, level)
        return out.drop(columns=[c for c in ("std_error", "df") if c in out.columns])

    def plot(self, ax: Axes | None = None) -> Axes:
        """Plot the result (families that have a natural figure override this)."""
        raise NotImplementedError(f"{type(self).__name__} has no plot; use .estimates")

    # ------------------------------------------------------------------ display
    def _info(self) -> dict[str, object]:
        """Header facts shown above the tables (model, n, fit statistics)."""
        info: dict[str, object] = {}
        log = getattr(self, "sample_log", None)
        if log is not None:
            info["Rows used"] = f"{log.n_used} of {log.n_in}"
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Estimates", self.estimates)]

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



def flag_unestimated(frame: pd.DataFrame, what: str, stacklevel: int = 3) -> pd.DataFrame:
    """Mark rows whose estimate or standard error could not be estimated, in place.

    A standard error of exactly 0 (or a missing/non-finite estimate or SE) is never
    reported as if estimated: the SE and interval become NaN, ``flag`` becomes True
    (added if absent) and one :class:`~pdstats.errors.EstimationWarning` names the count.
    Returns ``frame``.

    Examples
    --------
    >>> import warnings
    >>> d = pd.DataFrame({"estimate": [1.0, 2.0], "std_error": [0.5, 0.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     flag_unestimated(d, "toy")["flag"].tolist()
    [False, True]
    """
    import warnings

    from pdstats.errors import EstimationWarning

    est = frame["estimate"].to_numpy(dtype=float)
    se = frame["std_error"].to_numpy(dtype=float)
    bad = ~np.isfinite(est) | ~np.isfinite(se) | (se <= 0)
    flag = frame["flag"].to_numpy(dtype=bool) if "flag" in frame else np.zeros(len(frame), bool)
    frame["flag"] = flag | bad
    if bad.any():
        frame.loc[bad, "std_error"] = np.nan
        for c in ("ci_lower", "ci_upper"):
            if c in frame:
                frame.loc[bad, c] = np.nan
        warnings.warn(f"{what}: {int(bad.sum())} of {len(frame)} row(s) have no estimate or no "
                      "usable standard error (zero, missing or not finite); they are flagged "
                      "(flag=True) with std_error NaN", EstimationWarning, stacklevel=stacklevel)
    return frame


class IntervalResultsBase(ResultsBase):
    """A result whose intervals are not estimate +- q x SE (profile, bootstrap, chi-square).

    Subclasses set ``_intervals``: a function of the level returning the lower and upper
    bounds, one per row of ``estimates``; :meth:`conf_int` uses it.
    """

    _intervals: Any

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Intervals at ``level`` from the result's own method (see the class notes).

        Parameters
        ----------
        level : float
            Confidence level strictly between 0 and 1.
        """
        level = check_level(level)
        out = self.estimates[[*self.key_columns, "estimate"]].copy()
        out["ci_lower"], out["ci_upper"] = self._intervals(level)
        return out
