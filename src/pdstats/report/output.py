"""Everything that leaves the analysis is written here, through one gate: :func:`release`.

Shared outputs are the tables (``<output>/tables/<name>.{md,html,tex,csv}``) and the
figures with the data they plot (``<output>/figures/<name>.png`` and ``.csv``). Every
such table or figure data frame passes through :func:`release` before a byte is written,
so a disclosure check wraps the whole output of a study in one place. Today's check is
:func:`pdstats.privacy.check_frame` (no person identifiers, no table of students, no count
of 1 to the study's suppression threshold minus one in the columns named by the caller or
named like counts of students); tables of counts go through :func:`pdstats.privacy.protect`
first.

Text written here is deterministic: numbers are printed with a fixed number of
significant digits and rows keep the order they were given, so two runs on one store give
byte-identical files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pdstats.errors import PdstatsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["output_dir", "release", "save_figure", "suppression_threshold", "write_frame"]

NAME = re.compile(r"^[a-z0-9_]+$")
#: Environment variable carrying the study's suppression threshold to the notebooks.
THRESHOLD_ENV = "PDSTATS_SUPPRESSION_THRESHOLD"
_FLOAT = "%.10g"


def output_dir() -> Path:
    """The output folder (``$PDSTATS_OUTPUT``, default ``output``), created if needed.

    Examples
    --------
    >>> from pdstats.report import output_dir
    >>> output_dir().is_dir()
    True
    """
    out = Path(os.environ.get("PDSTATS_OUTPUT", "output"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def suppression_threshold() -> int:
    """The study's small-cell threshold (``$PDSTATS_SUPPRESSION_THRESHOLD``, default 10).

    Examples
    --------
    >>> from pdstats.report import suppression_threshold
    >>> suppression_threshold() >= 1
    True
    """
    raw = os.environ.get(THRESHOLD_ENV, "10")
    try:
        value = int(raw)
    except ValueError as exc:
        raise PdstatsError(f"{THRESHOLD_ENV}={raw!r} is not an integer") from exc
    if value < 1:
        raise PdstatsError(f"{THRESHOLD_ENV} must be at least 1, not {value}")
    return value


def check_name(name: str, what: str = "output") -> str:
    """Refuse an output name that is not ``lower_case_with_underscores``."""
    if not isinstance(name, str) or not NAME.match(name):
        raise PdstatsError(f"{what} names are lower_case_with_underscores, not {name!r}")
    return name


def release(frame: pd.DataFrame, name: str, count_columns: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """THE gate every shared table and figure data frame passes before it is written.

    Parameters
    ----------
    frame : pandas.DataFrame
        What will be shared.
    name : str
        The output's name (``lower_case_with_underscores``).
    count_columns : sequence of str
        Columns holding counts of students; counts from 1 to the threshold minus one
        are refused (protect them first with :func:`pdstats.privacy.protect`).

    Returns
    -------
    pandas.DataFrame
        The frame that may be written.

    Raises
    ------
    PrivacyError
        Student-level identifiers, or small counts in ``count_columns``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.report import release
    >>> release(pd.DataFrame({"state": ["CA"], "n_students": [120]}), "sample", ["n_students"]).shape
    (1, 2)
    """
    from pdstats.privacy import check_frame

    check_name(name)
    if not isinstance(frame, pd.DataFrame):
        raise PdstatsError(f"output {name!r}: release takes a DataFrame, not {type(frame).__name__}")
    return check_frame(frame, name, min_n=suppression_threshold(), counts=list(count_columns))


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write a released frame as CSV with fixed float formatting (byte-stable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format=_FLOAT, lineterminator="\n")
    return path


def save_figure(obj: Figure | Axes | Any, name: str, data: pd.DataFrame | None = None,
                count_columns: list[str] | tuple[str, ...] = (), out: Path | None = None,
                dpi: int = 150) -> Figure:
    """Save a figure as ``<output>/figures/<name>.png``, and the data it plots beside it.

    The one way notebooks write figures. ``data`` (the frame the figure draws) passes
    :func:`release` and is written to ``<name>.csv``; a figure of student-level data
    cannot be shared.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from pdstats.report import save_figure
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fig, ax = plt.subplots()
    >>> _ = save_figure(ax, "example", data=pd.DataFrame({"x": [1, 2]}), out=d)
    >>> sorted(p.name for p in (d / "figures").iterdir())
    ['example.csv', 'example.png']
    >>> plt.close(fig)
    """
    check_name(name, "figure")
    fig = getattr(obj, "figure", obj)
    if not hasattr(fig, "savefig"):
        raise PdstatsError(f"save_figure needs a matplotlib Figure, Axes or seaborn grid, not {type(obj).__name__}")
    folder = (out or output_dir()) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    if data is not None:
        write_frame(release(data, name, count_columns), folder / f"{name}.csv")
    # no timestamps or software versions in the file: identical figures give identical bytes
    fig.savefig(folder / f"{name}.png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return fig
