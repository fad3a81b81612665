"""Publishing a study's own tables through the gate: the district results.

``pdstats reproduce`` shares the district and state rows of the study store's
``state_assessment_aggregates`` (all students) as ``<output>/tables/district_results.csv``
after :func:`protect_aggregates`,
writes the disclosure report to ``<output>/disclosure/`` and scans every shared file
(:func:`share_study_tables`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pdstats.errors import PrivacyError
from pdstats.privacy.gate import ProtectedTable, check_min_n, protect
from pdstats.privacy.report import write_disclosure_report
from pdstats.privacy.scan import scan_outputs

__all__ = ["AGGREGATE_SUBGROUPS", "protect_aggregates", "share_study_tables"]

#: Subgroups of ``state_assessment_aggregates`` that add up to ``all``.
AGGREGATE_SUBGROUPS = {"all": [["female", "male"], ["frl", "not_frl"], ["lep", "not_lep"],
                               ["black", "hispanic", "white", "asian", "other_race"]]}
_LEVELS = [f"level_{k}" for k in range(1, 7)]
_CELL = ["state", "year", "grade", "subject", "subgroup"]


def protect_aggregates(aggregates: pd.DataFrame, min_n: int = 10) -> ProtectedTable:
    """Protect a ``state_assessment_aggregates`` table for publication.

    Level counts add up to ``n_tested``; a state row (``unit_type == "state"``) is the
    sum of its districts, a district row of its schools is not assumed; subgroups add up
    to ``all`` as in :data:`AGGREGATE_SUBGROUPS`; means and SDs are hidden with a small
    group; the state's own ``suppressed`` flag is kept. Percentages are not part of this
    table.

    Examples
    --------
    >>> import pandas as pd
    >>> from pdstats.privacy import protect_aggregates
    >>> t = pd.DataFrame({"state": "MA", "unit_type": "district", "unit_id": ["2500001", "2500002"],
    ...                   "year": 2005, "grade": 4, "subject": "math", "subgroup": "all",
    ...                   "n_tested": [120, 7], "mean_scale": [240.0, 231.0], "sd_scale": [20.0, 18.0],
    ...                   "n_levels": 2, "level_1": [40, 3], "level_2": [80, 4], "suppressed": False})
    >>> protect_aggregates(t).table["mean_scale"].tolist()
    [240.0, nan]
    """
    levels = [c for c in _LEVELS if c in aggregates.columns]
    return protect(
        aggregates, counts=levels, n="n_tested", min_n=min_n,
        totals={"unit_type": "state"}, parts={"unit_type": "district"}, by=_CELL,
        subgroups={"subgroup": AGGREGATE_SUBGROUPS}, stats=["mean_scale", "sd_scale"],
        flag="suppressed", name="state_assessment_aggregates",
    )  # fmt: skip


def share_study_tables(store: Path | str, out: Path | str, min_n: int = 10) -> pd.DataFrame:
    """Publish the study's district results through the gate, write the disclosure report, scan.

    Reads ``state_assessment_aggregates`` from the study store, keeps the results for
    all students of districts and their state rows (the table a study report shares),
    protects it (:func:`protect_aggregates`), writes ``<out>/tables/district_results.csv``
    and ``<out>/disclosure/disclosure_report.{csv,json}``, then runs
    :func:`scan_outputs` over everything under ``out``.

    Returns
    -------
    pandas.DataFrame
        The scanner's findings (empty).

    Raises
    ------
    PrivacyError
        When any shared file under ``out`` has an identifier column, a table of
        students or a count below ``min_n``.
    """
    from pdstats.data.store import Study

    min_n = check_min_n(min_n)
    out = Path(out)
    if not Path(store).is_file():
        raise PrivacyError(f"share_study_tables: no study store at {store}")
    study = Study(store)
    try:
        aggregates = study.read("state_assessment_aggregates")
    finally:
        study.close()
    keep = aggregates["unit_type"].isin(["district", "state"]) & (aggregates["subgroup"] == "all")
    protected = protect_aggregates(aggregates[keep].reset_index(drop=True), min_n=min_n)
    tables = out / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    protected.table.to_csv(tables / "district_results.csv", index=False, lineterminator="\n")
    write_disclosure_report({"district_results": protected}, out / "disclosure")
    return scan_outputs(out, min_n=min_n, strict=True)
