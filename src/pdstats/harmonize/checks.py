"""Argument checks shared by the harmonize functions (precise messages at the boundary)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pdstats.errors import ModelSpecificationError

__all__ = ["require_columns"]


def require_columns(df: pd.DataFrame, columns: Sequence[str], table: str, argument: str) -> None:
    """Raise :class:`~pdstats.ModelSpecificationError` naming the missing columns.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], "counts", "by")
    >>> try:
    ...     require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "counts", "by")
    ... except Exception as e:
    ...     print(e)
    table 'counts' lacks column(s) ['b'] named by argument 'by'
    """
    if not isinstance(df, pd.DataFrame):
        raise ModelSpecificationError(f"table {table!r} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ModelSpecificationError(
            f"table {table!r} lacks column(s) {missing} named by argument {argument!r}"
        )
