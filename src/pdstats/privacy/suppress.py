"""Small-cell suppression and pseudonymization."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from pdstats.data.dictionary import schema, table_names
from pdstats.errors import PdstatsError, PrivacyError
from pdstats.results import SampleLog

__all__ = ["PrivacyError", "suppress_small_cells", "pseudonymize", "check_shareable"]


def suppress_small_cells(
    table: pd.DataFrame,
    count_columns: list[str],
    threshold: int = 10,
    complementary: bool = True,
) -> tuple[pd.DataFrame, SampleLog]:
    """Blank out counts below ``threshold`` so that published tables protect students.

    Primary suppression blanks every count ``c`` with ``0 < c < threshold``. With
    ``complementary=True`` a row in which exactly one cell was blanked also loses its
    next smallest non-zero cell, so the blanked count cannot be recovered by subtracting
    the others from a published total.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per published cell group (e.g. a district x grade with level counts).
    count_columns : list of str
        Count columns to protect.
    threshold : int, default 10
        Smallest count that may be shown.
    complementary : bool, default True
        Apply complementary (secondary) suppression within rows.

    Returns
    -------
    (pandas.DataFrame, SampleLog)
        The table with suppressed cells missing (counts become nullable integers) and a
        boolean ``suppressed`` column per row; the log counts cells seen and suppressed.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import suppress_small_cells
    >>> t = pd.DataFrame({"level_1": [3, 40], "level_2": [25, 50], "level_3": [30, 12]})
    >>> out, log = suppress_small_cells(t, ["level_1", "level_2", "level_3"])
    >>> out.loc[0, ["level_1", "level_2", "level_3"]].tolist()
    [<NA>, <NA>, 30]
    >>> log.dropped
    {'cells below 10 (primary suppression)': 1, 'complementary suppression': 1}
    """
    missing = [c for c in count_columns if c not in table.columns]
    if missing:
        raise PdstatsError(f"suppress_small_cells: columns {missing} are not in the table")
    counts = table[count_columns].to_numpy(dtype=float, na_value=np.nan)
    if np.nanmin(counts, initial=0) < 0:
        raise PdstatsError("suppress_small_cells: counts must be non-negative")
    primary = (counts > 0) & (counts < threshold)
    blank = primary.copy()
    n_secondary = 0
    if complementary:
        for i in np.flatnonzero(primary.sum(axis=1) == 1):
            candidates = np.where(~blank[i] & (counts[i] > 0), counts[i], np.inf)
            j = int(np.argmin(candidates))
            if np.isfinite(candidates[j]):
                blank[i, j] = True
                n_secondary += 1
    out = table.copy()
    for k, c in enumerate(count_columns):
        col = out[c].astype("Int64")
        col[blank[:, k]] = pd.NA
        out[c] = col
    out["suppressed"] = blank.any(axis=1)
    log = SampleLog(n_in=int(np.isfinite(counts).sum()), unit="cells")
    log.drop(f"cells below {threshold} (primary suppression)", int(primary.sum()))
    log.drop("complementary suppression", n_secondary)
    return out, log


def pseudonymize(ids: pd.Series, key: str | bytes, length: int = 16) -> pd.Series:
    """Replace ids by keyed pseudonyms (HMAC-SHA256), stable for the same key.

    Without the key the mapping cannot be reversed or rebuilt from a list of real ids.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import pseudonymize
    >>> p = pseudonymize(pd.Series(["A17", "A17", "B02"]), key="project secret")
    >>> p[0] == p[1], p[0] == p[2], len(p[0])
    (True, False, 16)
    """
    if not key:
        raise PdstatsError("pseudonymize needs a non-empty secret key")
    k = key.encode() if isinstance(key, str) else key

    def one(v: object) -> object:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return pd.NA
        return hmac.new(k, str(v).encode(), hashlib.sha256).hexdigest()[:length]

    return ids.map(one).astype("string")


def _identifier_columns() -> set[str]:
    """Primary-key columns of the dictionary's sensitive (student-level) tables."""
    cols: set[str] = set()
    for name in table_names():
        sch = schema(name)
        if sch.sensitive:
            cols |= {c for c in sch.primary_key if c.endswith("_id")}
    return cols


def check_shareable(table: pd.DataFrame, count_columns: list[str] | None = None, threshold: int = 10) -> None:
    """Refuse a table meant for sharing that holds student ids or unsuppressed small counts.

    Raises
    ------
    PrivacyError
        Naming the identifier columns or the rows with counts in ``1 .. threshold-1``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import check_shareable
    >>> check_shareable(pd.DataFrame({"district_id": ["0600001"], "n": [45]}), ["n"])
    >>> try:
    ...     check_shareable(pd.DataFrame({"student_id": ["s1"], "score": [310.0]}))
    ... except Exception as err:
    ...     print(type(err).__name__)
    PrivacyError
    """
    ids = sorted(_identifier_columns() & set(table.columns))
    if ids:
        raise PrivacyError(f"table holds student-level identifier column(s) {ids}; aggregate before sharing")
    for c in count_columns or []:
        v = pd.to_numeric(table[c], errors="coerce")
        small = table.index[(v > 0) & (v < threshold)].tolist()
        if small:
            raise PrivacyError(
                f"column {c!r} has counts below {threshold} in rows {small[:10]}; suppress them first"
            )
