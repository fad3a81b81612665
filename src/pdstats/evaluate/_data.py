"""Checked staggered-adoption panels: the one place the evaluate family reads user data.

Rules (each a clear error or a logged drop, see ``pdstats/evaluate/README.md``):

* rows missing the outcome, unit or time are dropped and logged; units then missing a
  period are dropped (the estimators use balanced panels) and logged;
* ``first_treated`` missing or 0 means never treated (R ``did``'s coding);
  it must be constant within a unit (otherwise the treatment switches: refused);
* units first treated at or before the first period ("treated before the panel starts")
  have no pre-period: dropped and logged, with a :class:`~pdstats.DroppedRowsWarning`;
* a cohort whose outcome is missing in every row disappears with those rows (logged);
* without never-treated units (``control="never"``) or without any not-yet-treated
  comparison (``control="notyet"``) there is nothing to compare with: refused.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, drop_missing, refuse, require_columns, require_frame
from pdstats.errors import DroppedRowsWarning, ModelSpecificationError
from pdstats.results import SampleLog

__all__ = ["Panel", "prepare_panel", "check_absorbing"]

CONTROLS = ("never", "notyet")


@dataclass
class Panel:
    """A balanced panel with integer unit codes, ``g`` (0 = never treated) and the log."""

    data: pd.DataFrame  # columns: unit, time, y, g (+ covariates, cluster)
    sample_log: SampleLog
    unit: str
    time: str
    outcome: str
    first_treated: str

    @property
    def periods(self) -> np.ndarray:
        """Sorted distinct periods."""
        return np.sort(self.data["time"].unique())

    @property
    def cohorts(self) -> np.ndarray:
        """Sorted distinct adoption periods (never-treated excluded)."""
        g = self.data["g"].unique()
        return np.sort(g[g > 0])

    def units(self) -> pd.DataFrame:
        """One row per unit: ``unit`` and ``g``."""
        return self.data.drop_duplicates("unit")[["unit", "g"]].reset_index(drop=True)


def _warn(table: str, message: str, n: int, log: SampleLog, reason: str) -> None:
    if n:
        log.drop(reason, n)
        warnings.warn(f"table {table!r}: {message}", DroppedRowsWarning, stacklevel=4)


def prepare_panel(data: pd.DataFrame, outcome: str, unit: str, time: str, first_treated: str,
                  table: str = "evaluation data", control: str = "never",
                  extra: tuple[str, ...] = ()) -> Panel:
    """Check and balance a staggered-adoption panel (see the module rules).

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1, 2, 2], "t": [1, 2, 1, 2], "y": [0.0, 1, 0, 0],
    ...                   "g": [2, 2, None, None]})
    >>> p = prepare_panel(d, "y", "id", "t", "g")
    >>> p.data["g"].tolist(), p.cohorts.tolist()
    ([2, 2, 0, 0], [2])
    """
    require_frame(data, table)
    if control not in CONTROLS:
        raise ModelSpecificationError(f"control={control!r}; choose 'never' or 'notyet'")
    require_columns(data, [outcome, unit, time, first_treated, *extra], table, "columns")
    work = pd.DataFrame({
        "unit": data[unit].to_numpy(), "time": as_numeric(data, time, table, integer=True),
        "y": as_numeric(data, outcome, table),
        "g": as_numeric(data, first_treated, table, lower=0, integer=True).fillna(0.0),
    }, index=data.index)
    for c in extra:
        work[c] = as_numeric(data, c, table) if pd.api.types.is_numeric_dtype(data[c]) \
            else data[c].to_numpy()
    # first_treated must be a property of the unit (constant over its rows)
    n_g = work.groupby("unit", sort=False)["g"].nunique()
    switching = n_g.index[n_g > 1]
    if len(switching):
        rows = np.flatnonzero(work["unit"].isin(switching).to_numpy())
        raise refuse(table, first_treated, "constant within unit (treatment cannot change "
                     "its start or switch off)", rows)
    dup = work.duplicated(["unit", "time"]).to_numpy()
    if dup.any():
        raise refuse(table, f"{unit}, {time}", "one row per unit and period", np.flatnonzero(dup))
    log = SampleLog(n_in=len(work))
    work, log = drop_missing(work, ["unit", "time", "y", *extra], table, log, stacklevel=4)
    if work.empty:
        raise ModelSpecificationError(f"table {table!r}: no rows with an observed {outcome!r}")
    work["time"] = work["time"].astype(int)
    work["g"] = work["g"].astype(int)
    periods = np.sort(work["time"].unique())
    # units observed in every period (balanced panel)
    count = work.groupby("unit", sort=False)["time"].transform("size").to_numpy()
    short = count < len(periods)
    _warn(table, f"dropped {int(short.sum())} row(s) of {work.loc[short, 'unit'].nunique()} "
          f"unit(s) not observed in every period (balanced panel)", int(short.sum()), log,
          "unit not observed in every period")
    work = work.loc[~short]
    early = (work["g"] > 0) & (work["g"] <= periods[0])
    _warn(table, f"dropped {int(early.sum())} row(s) of {work.loc[early, 'unit'].nunique()} "
          f"unit(s) first treated at or before the first period {periods[0]} (no pre-period)",
          int(early.sum()), log, "treated before the panel starts")
    work = work.loc[~early]
    late = work["g"] > periods[-1]
    work.loc[late, "g"] = 0  # adopting after the panel ends: untreated within it
    if work.empty:
        raise ModelSpecificationError(f"table {table!r}: no units left after the checks")
    units = work.drop_duplicates("unit")
    gs = units["g"].to_numpy()
    if not (gs > 0).any():
        raise ModelSpecificationError(f"table {table!r}: no unit is treated within the panel")
    if control == "never" and not (gs == 0).any():
        raise ModelSpecificationError(
            f"table {table!r}: no never-treated units to compare with; use control='notyet' "
            "(if some units adopt later) or restrict the periods")
    if control == "notyet" and not ((gs == 0).any() or (gs > gs[gs > 0].min()).any()):
        raise ModelSpecificationError(
            f"table {table!r}: every unit adopts in the same period and none is never "
            "treated: there is no not-yet-treated comparison")
    work = work.sort_values(["unit", "time"]).reset_index(drop=True)
    log.unit = "rows"
    return Panel(work, log, unit, time, outcome, first_treated)


def check_absorbing(data: pd.DataFrame, treatment: str, unit: str, time: str,
                    table: str) -> pd.Series:
    """Return the 0/1 treatment; refuse values other than 0/1 and treatment that switches off.

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1, 1], "t": [1, 2, 3], "d": [0, 1, 0]})
    >>> try:
    ...     check_absorbing(d, "d", "id", "t", "panel")
    ... except Exception as e:
    ...     print(type(e).__name__)
    DataValidationError
    """
    d = as_numeric(data, treatment, table, lower=0, upper=1, integer=True)
    order = np.lexsort((data[time].to_numpy(), pd.factorize(data[unit])[0]))
    dd = d.to_numpy()[order]
    uu = pd.factorize(data[unit])[0][order]
    same = uu[1:] == uu[:-1]
    off = np.flatnonzero(same & (dd[:-1] == 1) & (dd[1:] == 0))
    if len(off):
        raise refuse(table, treatment, "absorbing (treatment switches off after it starts)",
                     order[off + 1])
    return d
