"""The rows a value-added analysis uses, checked by the package's one input rule.

Numeric columns (scores, dosage, years, CSEMs) go through
:func:`pdstats._inputs.as_numeric`: ``+-inf``, text that is not a number and values
outside the column's documented range are refused with a
:class:`~pdstats.errors.DataValidationError`; missing values (NaN, None, ``'*'``, empty
text) in any used column drop the row, counted in the :class:`~pdstats.results.SampleLog`
with a :class:`~pdstats.errors.DroppedRowsWarning`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, drop_missing, require_columns, require_frame
from pdstats.errors import ModelSpecificationError
from pdstats.results import SampleLog

__all__ = ["clean_rows", "positive_int", "require_roles"]


def clean_rows(data: Any, table: str, numeric: Mapping[str, Mapping[str, Any]],
               other: Sequence[str], roles: Mapping[str, Sequence[str]] | None = None,
               stacklevel: int = 4) -> tuple[pd.DataFrame, SampleLog]:
    """Check and convert the numeric columns, then drop (and log) incomplete rows.

    Parameters
    ----------
    data : pandas.DataFrame
        The input table.
    table : str
        Its name in error messages (``"value_added data"``).
    numeric : mapping
        ``{column: as_numeric keyword arguments}`` (``lower``, ``upper``, ``integer``).
    other : sequence of str
        Further used columns of any type (units, classrooms, categorical controls).
    roles : mapping, optional
        ``{argument name: columns}`` so a missing column names the argument that named it.

    Returns
    -------
    clean : pandas.DataFrame
        The complete rows, numeric columns as float64, index as in ``data``.
    log : SampleLog

    Examples
    --------
    >>> import warnings
    >>> d = pd.DataFrame({"y": [1.0, None, 3.0], "g": ["a", "b", "*"]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     clean, log = clean_rows(d, "scores", {"y": {}}, ["g"])
    >>> len(clean), log.dropped
    (1, {"missing 'y'": 1, "missing 'g'": 1})
    """
    require_roles(data, table, roles or {"column": [*numeric, *other]})
    used = list(dict.fromkeys([*numeric, *other]))
    frame = data[used].copy()
    for col, rule in numeric.items():
        frame[col] = as_numeric(frame, col, table, **rule)
    return drop_missing(frame, used, table, stacklevel=stacklevel)


def require_roles(data: Any, table: str, roles: Mapping[str, Sequence[str]]) -> None:
    """``data`` is a DataFrame holding every column each argument (role) names.

    Examples
    --------
    >>> require_roles(pd.DataFrame({"y": [1.0]}), "scores", {"outcome": ["y"]})
    """
    require_frame(data, table)
    for role, cols in roles.items():
        require_columns(data, cols, table, role)


def positive_int(value: Any, argument: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, else a :class:`ModelSpecificationError`.

    Examples
    --------
    >>> positive_int(3, "degree")
    3
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ModelSpecificationError(f"argument {argument!r} must be an integer >= {minimum}, "
                                      f"got {value!r}")
    return int(value)
