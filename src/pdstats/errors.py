"""The pdstats error hierarchy.

Every error pdstats raises on bad input or a failed estimation is a subclass of
:class:`PdstatsError`, so a notebook can catch them all with one ``except`` clause.
Messages name the table, the column, the rule broken and the offending rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "PdstatsError",
    "DataValidationError",
    "SchemaError",
    "StoreError",
    "ModelSpecificationError",
    "ConvergenceError",
    "EstimationWarning",
    "DroppedRowsWarning",
    "PrivacyError",
    "SimulationSpecError",
    "ReproduceError",
    "StudyConfigError",
    "WorldsFailedError",
    "PiecesFailedError",
]


class PdstatsError(Exception):
    """Base class of every error raised by pdstats."""


class SchemaError(PdstatsError):
    """A table name or schema file in the data dictionary is unknown or malformed."""


class DataValidationError(PdstatsError, ValueError):
    """Data broke a rule of the data dictionary.

    Parameters
    ----------
    table : str
        Name of the data-dictionary table being validated.
    failures : pandas.DataFrame
        One row per failing (row, rule) pair with columns ``table``, ``column``,
        ``rule``, ``row`` (position in the input, or ``None`` for table-level rules),
        ``key`` (primary-key values of the row, as text) and ``value``.

    Attributes
    ----------
    failures : pandas.DataFrame
        Every failing row, not only the first few shown in the message. For a
        student-level table (``sensitive`` in the data dictionary) or keys naming a person
        id (``student_id=...``), ``key`` is the row position and ``value`` is withheld, so
        the error never carries a student's id or data into logs and notebooks.
    """

    def __init__(self, table: str, failures: pd.DataFrame, max_lines: int = 8) -> None:
        self.table = table
        self.failures = _redact(table, failures.reset_index(drop=True))
        lines = [f"table {table!r} failed validation: {len(failures)} problem(s)"]
        grouped = self.failures.groupby(["column", "rule"], sort=False, dropna=False)
        for i, ((column, rule), grp) in enumerate(grouped):
            if i >= max_lines:
                lines.append(f"  ... and {grouped.ngroups - max_lines} more rule(s); see .failures")
                break
            keys = [str(k) for k in grp["key"].head(5)]
            more = f" (+{len(grp) - 5} more)" if len(grp) > 5 else ""
            lines.append(
                f"  column {column!r}, rule {rule}: {len(grp)} row(s), keys {', '.join(keys)}{more}"
            )
        super().__init__("\n".join(lines))


def _redact(table: str, failures: pd.DataFrame) -> pd.DataFrame:
    """Row positions instead of the keys and no values, where the table describes people."""
    from pdstats.data.dictionary import schema, table_names
    from pdstats.privacy.identifiers import IDENTIFIER_PATTERN

    if not {"key", "value", "row"} <= set(failures.columns):
        return failures
    sensitive = table in table_names() and schema(table).sensitive
    keys = failures["key"].astype("string").fillna("")
    names = keys.str.findall(r"([A-Za-z_][A-Za-z0-9_]*)=")
    personal = names.map(lambda found: any(IDENTIFIER_PATTERN.match(n.lower()) for n in found)).to_numpy(dtype=bool)
    if not sensitive and not personal.any():
        return failures
    out = failures.copy()
    hide = np.ones(len(out), dtype=bool) if sensitive else personal
    rows = out["row"]
    out["key"] = out["key"].astype(object)
    out.loc[hide, "key"] = [f"row {int(r)}" if pd.notna(r) else "(whole table)" for r in rows[hide]]
    out["value"] = out["value"].astype(object)
    out.loc[hide, "value"] = None
    return out


class StoreError(PdstatsError):
    """A study store operation failed (unknown table, bad filter, locked file)."""


class ModelSpecificationError(PdstatsError, ValueError):
    """A model formula or argument cannot be estimated as given."""


class ConvergenceError(PdstatsError, RuntimeError):
    """An optimizer did not converge and the caller asked for an error."""


class EstimationWarning(UserWarning):
    """A fit finished but something about it deserves the researcher's attention."""


class DroppedRowsWarning(EstimationWarning):
    """Rows with missing values were dropped (the result's ``sample_log`` counts them)."""


class PrivacyError(PdstatsError):
    """A table meant for sharing would disclose student-level information."""


class SimulationSpecError(PdstatsError, ValueError):
    """An argument of :func:`pdstats.simulate.study` is out of range or unknown.

    Examples
    --------
    >>> import pdstats as pds
    >>> try:
    ...     pds.simulate.study(size="huge")
    ... except pds.SimulationSpecError as err:
    ...     print(err)
    size must be one of ['medium', 'small', 'state'], not 'huge'
    """


class ReproduceError(PdstatsError):
    """``pdstats reproduce`` cannot run the whole study (a notebook or the paper is missing)."""


class StudyConfigError(PdstatsError, ValueError):
    """A study configuration file breaks a rule; the message names the key and the rule."""


class WorldsFailedError(PdstatsError, RuntimeError):
    """Simulated worlds of a validation run failed (builder or estimator raised).

    Parameters
    ----------
    failures : pandas.DataFrame
        One row per failed world: ``world`` (index), ``seed``, ``error``, ``message``,
        ``traceback``.
    n_worlds : int
        Worlds in the run.

    Attributes
    ----------
    failures : pandas.DataFrame
        Every failed world (rerun one with ``pds.simulate.run(..., seeds=[seed])``).
    """

    def __init__(self, failures: pd.DataFrame, n_worlds: int, max_lines: int = 8) -> None:
        self.failures = failures.reset_index(drop=True)
        lines = [f"{len(failures)} of {n_worlds} simulated world(s) failed "
                 "(errors='record' keeps the others):"]
        for _, r in self.failures.head(max_lines).iterrows():
            lines.append(f"  world {r['world']} (seed {r['seed']}): {r['error']}: {r['message']}")
        if len(failures) > max_lines:
            lines.append(f"  ... and {len(failures) - max_lines} more; see .failures")
        super().__init__("\n".join(lines))


class PiecesFailedError(PdstatsError, RuntimeError):
    """Pieces of a divided job (cells, quantiles, groups, replicates) raised; none is lost.

    Parameters
    ----------
    failures : pandas.DataFrame
        One row per failed piece: ``key``, ``error``, ``message``, ``traceback``.
    n_pieces : int
        Pieces in the job.
    what : str
        What the pieces are ("hetop cells", "sgp quantiles", ...).
    key_names : sequence of str, optional
        Names of the parts of a tuple key (``["state", "year", ...]``).

    Attributes
    ----------
    failures : pandas.DataFrame
        Every failed piece with its key and traceback (run the piece again locally).
    """

    def __init__(self, failures: pd.DataFrame, n_pieces: int, what: str,
                 key_names: Sequence[str] | None = None, max_lines: int = 8) -> None:
        self.failures = failures.reset_index(drop=True)
        lines = [f"{len(failures)} of {n_pieces} {what} failed:"]
        for _, r in self.failures.head(max_lines).iterrows():
            key = r["key"]
            if key_names is not None and isinstance(key, tuple) and len(key) == len(key_names):
                key = ", ".join(f"{n}={v!r}" for n, v in zip(key_names, key, strict=True))
            lines.append(f"  {key}: {r['error']}: {r['message']}")
        if len(failures) > max_lines:
            lines.append(f"  ... and {len(failures) - max_lines} more; see .failures")
        super().__init__("\n".join(lines))
