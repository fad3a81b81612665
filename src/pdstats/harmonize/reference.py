"""Published NAEP figures shipped with the package for the real-data examples.

``data/naep_state_means.csv`` is a copy of the project's reference file: NAEP state and
national average scale scores (public schools) for grade 4 and 8 mathematics,
1996-2005, each row naming its source (NSF Science and Engineering Indicators 2006
Table 8-1; NCES Nation's Report Card 2003 state average scale scores; NCES Digest of
Education Statistics 2006 Table 124; rows marked "secondary" come from a compilation).
The ``accommodations`` column says which reporting sample a figure belongs to.

State SDs were not available offline. :data:`NATIONAL_SD_2003` holds the national
student SDs from the NAEP 2003 technical documentation (transformation comparison pages):
grade 4 mathematics 28.97, grade 8 mathematics 37.47. An analysis that uses them in
place of state SDs must say so.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pdstats.errors import ModelSpecificationError

__all__ = ["naep_state_means", "NATIONAL_SD_2003"]

NATIONAL_SD_2003 = {4: 28.97, 8: 37.47}
"""National NAEP mathematics SDs by grade, 2003 (NAEP 2003 technical documentation)."""


def naep_state_means(accommodations: str | None = "not_permitted", fill_sd: dict[int, float] | None = None) -> pd.DataFrame:
    """The shipped NAEP state means as a ``naep_state``-shaped table.

    Parameters
    ----------
    accommodations : {"not_permitted", "permitted", None}
        Keep one reporting sample (years after 2000 exist only as "permitted"; rows of
        the other sample are kept for years the chosen one lacks). None keeps all rows.
    fill_sd : dict, optional
        Grade -> SD used for every row's ``sd`` (e.g. :data:`NATIONAL_SD_2003`); the
        ``sd_source`` column records the substitution. Left missing when omitted.

    Returns
    -------
    pandas.DataFrame
        state, year, grade, subject, mean, sd, mean_se, sd_se, accommodations, source,
        sd_source.

    Examples
    --------
    >>> naep = naep_state_means(fill_sd=NATIONAL_SD_2003)
    >>> naep.query("state == 'MA' and grade == 4 and year == 1996")[["mean", "sd"]].values.tolist()
    [[229.0, 28.97]]
    """
    raw = pd.read_csv(Path(__file__).resolve().parent / "data" / "naep_state_means.csv")
    d = raw.rename(columns={"jurisdiction": "state"})
    if accommodations is not None:
        if accommodations not in ("not_permitted", "permitted"):
            raise ModelSpecificationError(
                f"argument 'accommodations' must be 'not_permitted', 'permitted' or None, got {accommodations!r}")
        keys = ["state", "year", "grade", "subject"]
        d = d.assign(_pref=(d["accommodations"] != accommodations).astype(int))
        d = d.sort_values([*keys, "_pref"]).drop_duplicates(keys).drop(columns="_pref")
    d["mean"] = d["mean"].astype(float)
    d["sd"] = d["grade"].map(fill_sd) if fill_sd else float("nan")
    d["sd_source"] = "national SD substituted (assumption)" if fill_sd else "not available"
    d["mean_se"] = float("nan")
    d["sd_se"] = float("nan")
    cols = ["state", "year", "grade", "subject", "mean", "sd", "mean_se", "sd_se", "accommodations",
            "source", "sd_source"]
    return d[cols].reset_index(drop=True)
