"""Every quantitative fact the year-1 report states about its 28 districts."""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from pdstats.practices.instrument import stage_matrix

__all__ = ["year1_facts", "NUMBERED"]

#: Figure/table ids of the report that carry numbers about the districts.
NUMBERED: tuple[str, ...] = (
    "Figure 1.1",
    "Figure 3.1.1",
    "Table 3.1.2",
    "Figure 3.4.1",
    "Figure 3.4.2",
    "Figure 3.4.3",
    "Figure 3.5.1",
    "Figure 4.2",
    "Table 5.1",
    "Table 5.2",
    "Table 5.3",
    "Table 5.4",
    "Table 6.1",
)


@cache
def _facts() -> pd.DataFrame:
    path = resources.files("pdstats.practices") / "data" / "year1_facts.csv"
    with path.open("rb") as fh:
        text = pd.read_csv(fh, dtype=str, keep_default_na=False)
    df = text.copy()
    for col in ("value", "lower", "upper", "denominator"):
        df[col] = pd.to_numeric(text[col].replace("", np.nan))
    df["line"] = text["line"].astype("int64")
    sm = stage_matrix()
    t61 = pd.DataFrame(
        {
            "fact_id": [f"T61_{i:02d}" for i in range(1, len(sm) + 1)],
            "figure": "Table 6.1",
            "section": "6 Synopsis of Common Practices",
            "measure": sm["practice"].astype(str),
            "category": "stage " + sm["stage"].astype(str),
            "value": sm["n_districts"].astype(float),
            "lower": np.nan,
            "upper": np.nan,
            "denominator": 28.0,
            "unit": "districts",
            "agg": "cell",
            "code": sm["item"],
            "note": "",
            "line": sm["source_line"].astype("int64"),
        }
    )
    out = pd.concat([df, t61], ignore_index=True)
    out["numbered"] = out["figure"].isin(NUMBERED)
    out["reconstructed"] = out["agg"] != "none"
    return out


def year1_facts() -> pd.DataFrame:
    """Every quantitative fact of the year-1 report about the 28 districts.

    Returns
    -------
    pandas.DataFrame
        One row per fact with columns ``fact_id``, ``figure`` (``"Figure 1.1"``,
        ``"Table 6.1"``, ... or ``"Text <chapter>"`` for a count in the running text),
        ``section``, ``measure``, ``category``, ``value`` (NaN for ranges and text),
        ``lower``/``upper`` (bounds of printed ranges such as "50% to 75%"),
        ``denominator`` (districts the count refers to), ``unit``, ``agg`` and ``code``
        (how :func:`pdstats.practices.year1_tables` recomputes it), ``note``, ``line``
        (line in the report's text), ``numbered`` (belongs to a numbered figure/table)
        and ``reconstructed`` (reproduced by :func:`pdstats.practices.reconstruct_year1`).

    Notes
    -----
    Figures 3.1.1, 3.4.1-3.4.3, 3.5.1, 4.1 and 4.2 were graphics; their numbers are the
    ones the text states next to them. Figure 4.1 (the five actions) carries no numbers.
    The Table 6.1 facts come from :func:`pdstats.practices.stage_matrix`.

    Examples
    --------
    >>> import pdstats as pds
    >>> f = pds.practices.year1_facts()
    >>> int(f.query("figure == 'Table 3.1.2' and category == 'Student Achievement'")["value"].iloc[0])
    21
    """
    return _facts().copy()
