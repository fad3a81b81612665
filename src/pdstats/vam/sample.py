"""The rows an analysis uses: drop rows with missing values, counting each reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pdstats.results import SampleLog

__all__ = ["drop_missing"]


def drop_missing(data: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, SampleLog]:
    """Keep rows complete in ``cols``; the log counts drops by the first missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, None, 3], "b": [None, None, 1]})
    >>> kept, log = drop_missing(df, ["a", "b"])
    >>> len(kept), log.dropped
    (1, {"missing 'a'": 1, "missing 'b'": 1})
    """
    log = SampleLog(n_in=len(data))
    keep = np.ones(len(data), dtype=bool)
    for c in dict.fromkeys(cols):
        miss = data[c].isna().to_numpy() & keep
        log.drop(f"missing {c!r}", int(miss.sum()))
        keep &= ~miss
    return data.loc[keep], log
