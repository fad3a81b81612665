"""Recompute every numbered figure and table of the year-1 report from district-level data."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, drop_missing, require_frame
from pdstats.errors import DataValidationError, ModelSpecificationError
from pdstats.practices.codes import district_code_matrix, eval_expr
from pdstats.practices.facts import year1_facts
from pdstats.practices.instrument import stage_matrix
from pdstats.practices.reconstruct import ENROLLMENT_BINS, PCT_BINS
from pdstats.results import SampleLog

__all__ = ["year1_tables", "combine_informants", "compare_with_published", "checked_ratings"]

_COLUMNS = ["figure", "measure", "category", "value", "denominator", "unit"]
_RULES = ("any", "majority", "all")


def _fail(table: str, column: str, rule: str, rows: pd.DataFrame | None = None) -> DataValidationError:
    n = 1 if rows is None else len(rows)
    frame = pd.DataFrame(
        {"table": [table] * n, "column": [column] * n, "rule": [rule] * n,
         "row": [None] * n if rows is None else list(rows.index),
         "key": [""] * n if rows is None else [str(k) for k in rows.index], "value": [None] * n}
    )
    return DataValidationError(table, frame)


def _require(df: pd.DataFrame, table: str, cols: list[str]) -> None:
    for c in cols:
        if c not in df.columns:
            raise _fail(table, c, "required column is missing")


def checked_ratings(ratings: pd.DataFrame, log: SampleLog | None = None) -> tuple[pd.DataFrame, SampleLog]:
    """A ``practice_ratings`` table with its columns checked at the public edge.

    ``evidence`` must be 0/1 and ``stage`` 1-4 (numbers or numeric text; anything else,
    e.g. ``+-inf`` or 2, is refused with :class:`~pdstats.DataValidationError`); rows
    missing a district, practice, stage, evidence or informant role (NaN, empty, ``'*'``)
    are dropped, counted in the returned :class:`~pdstats.results.SampleLog` and warned about.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"district_id": ["d1", "d1"], "practice": "finance", "stage": [1, 2],
    ...                   "evidence": ["1", None], "informant_role": "superintendent"})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     kept, log = checked_ratings(r)
    >>> len(kept), log.n_dropped
    (1, 1)
    """
    require_frame(ratings, "practice_ratings")
    _require(ratings, "practice_ratings", ["district_id", "practice", "stage", "evidence",
                                           "informant_role"])
    log = log if log is not None else SampleLog(n_in=len(ratings), unit="rating rows")
    out = ratings.reset_index(drop=True).copy()
    out["evidence"] = as_numeric(out, "evidence", "practice_ratings", lower=0, upper=1, integer=True)
    out["stage"] = as_numeric(out, "stage", "practice_ratings", lower=1, upper=4, integer=True)
    out, log = drop_missing(out, ["district_id", "practice", "stage", "evidence", "informant_role"],
                            "practice_ratings", log, stacklevel=4)
    return out.astype({"evidence": "int64", "stage": "int64"}), log


def combine_informants(ratings: pd.DataFrame, rule: str = "any") -> pd.DataFrame:
    """District x cell evidence: the consensus rows, or informants combined by ``rule``.

    Parameters
    ----------
    ratings : pandas.DataFrame
        A ``practice_ratings`` table.
    rule : {"any", "majority", "all"}
        Used when the table has no ``"consensus"`` rows: a cell is evidenced when *any*
        informant (the report's rule: a district counts when its interviews show the
        practice), a strict *majority* (3 of 4), or *all* informants evidence it.

    Returns
    -------
    pandas.DataFrame
        Columns ``district_id``, ``year`` (when present), ``practice``, ``stage``,
        ``evidence`` (0/1); ``attrs["sample_log"]`` counts the rating rows dropped as
        missing (see :func:`checked_ratings`).

    Examples
    --------
    >>> import pdstats as pds
    >>> data = pds.practices.reconstruct_year1()
    >>> ev = pds.practices.combine_informants(data["practice_ratings"])
    >>> len(ev)
    1344
    """
    if rule not in _RULES:
        raise ModelSpecificationError(f"argument 'rule' must be one of {_RULES}, got {rule!r}")
    ratings, log = checked_ratings(ratings)
    cons = ratings[ratings["informant_role"] == "consensus"]
    keys = ["district_id", *(["year"] if "year" in ratings.columns else []), "practice", "stage"]
    if len(cons):
        out = cons.groupby(keys, observed=True)["evidence"].max().reset_index()
    else:
        g = ratings.groupby(keys, observed=True)["evidence"]
        share = g.mean()
        if rule == "any":
            ev = (share > 0).astype(int)
        elif rule == "majority":
            ev = (share > 0.5).astype(int)
        else:
            ev = (share == 1).astype(int)
        out = ev.rename("evidence").reset_index()
    out["practice"] = out["practice"].astype(str)
    out["stage"] = out["stage"].astype("int64")
    out.attrs["sample_log"] = log
    return out


def _bin_table(districts: pd.DataFrame) -> pd.DataFrame:
    facts = year1_facts()
    measures = (facts[facts["figure"] == "Figure 1.1"]
                .drop_duplicates("code").set_index("code")["measure"].to_dict())
    rows = []
    specs = {**{k: v for k, v in PCT_BINS.items()}, "enrollment": ENROLLMENT_BINS}
    n = len(districts)
    for col, (labels, edges) in specs.items():
        upper = np.inf if col == "enrollment" else 100.0
        vals = as_numeric(districts, col, "districts", lower=0, upper=upper).to_numpy(dtype=float)
        if np.isnan(vals).any():
            raise _fail("districts", col, "Figure 1.1 needs a value for every district",
                        districts[np.isnan(vals)])
        b = np.digitize(vals, edges, right=False)
        for k, lab in enumerate(labels):
            rows.append(("Figure 1.1", measures[col], lab, int((b == k).sum()), n, "districts"))
        rows.append(("Figure 1.1", measures[col], "Total", n, n, "districts"))
    return pd.DataFrame(rows, columns=_COLUMNS)


def _code_table(figure: str, mat: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    spec = facts[(facts["figure"] == figure) & (facts["agg"] == "districts")]
    rows = []
    for _, f in spec.iterrows():
        rows.append((figure, f["measure"], f["category"], int(eval_expr(f["code"], mat).sum()),
                     f["denominator"], "districts"))
    return pd.DataFrame(rows, columns=_COLUMNS)


def year1_tables(
    data: Mapping[str, pd.DataFrame], rule: str = "any"
) -> dict[str, pd.DataFrame]:
    """Recompute each numbered figure/table (and the text counts) of the year-1 report.

    Parameters
    ----------
    data : mapping of str to pandas.DataFrame
        District-level tables as returned by :func:`pdstats.practices.reconstruct_year1`:
        ``districts``, ``practice_ratings``, ``interview_codes`` and (for Tables 5.1-5.3
        and the organisation counts) ``district_profiles``.
    rule : {"any", "majority", "all"}
        Informant combination rule for Table 6.1 when no consensus rows are present.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keyed by figure/table id (``"Figure 1.1"``, ``"Table 3.1.2"``, ..., ``"Table 6.1"``)
        and by ``"Text <chapter>"`` for the counts stated in the running text. Each frame
        is tidy with columns ``figure``, ``measure``, ``category``, ``value``,
        ``denominator``, ``unit`` (Tables 5.1-5.4 add ``value_text``; Table 5.4, the
        qualitative comparison of the case studies, is built from the
        ``case_study_challenges`` table when ``data`` has one). Only the
        *definitions* of the rows (which code each count is built from) are read from the
        package's fact list; every value is computed from ``data``.

    Examples
    --------
    >>> import pdstats as pds
    >>> tabs = pds.practices.year1_tables(pds.practices.reconstruct_year1())
    >>> row = tabs["Table 3.1.2"].iloc[0]
    >>> row["category"], int(row["value"])
    ('Student Achievement', 21)
    """
    if not isinstance(data, Mapping):
        raise ModelSpecificationError(f"argument 'data' must be a mapping of table names to frames, "
                                      f"got {type(data).__name__}")
    if rule not in _RULES:
        raise ModelSpecificationError(f"argument 'rule' must be one of {_RULES}, got {rule!r}")
    for name in ("districts", "practice_ratings", "interview_codes"):
        if name not in data:
            raise _fail(name, "*", "table is required by year1_tables")
    districts = data["districts"]
    _require(districts, "districts", ["district_id", "enrollment", "pct_frl", "pct_lep",
                                      "pct_minority"])
    ids = districts["district_id"].astype(str).tolist()
    facts = year1_facts()
    codes = data["interview_codes"]
    mat = district_code_matrix(codes, ids)
    out: dict[str, pd.DataFrame] = {"Figure 1.1": _bin_table(districts)}
    for fig in facts.loc[facts["agg"] == "districts", "figure"].unique():
        frame = _code_table(fig, mat, facts)
        out[fig] = pd.concat([out[fig], frame], ignore_index=True) if fig in out else frame

    # Figure 4.2: instances of data use cited in interviews
    inst = facts[facts["agg"] == "instances"]
    rows = [("Figure 4.2", f["measure"], f["category"],
             int(codes.loc[codes["code"] == f["code"], "count"].sum()), np.nan, "instances")
            for _, f in inst.iterrows()]
    out["Figure 4.2"] = pd.DataFrame(rows, columns=_COLUMNS)

    # Table 6.1
    ev = combine_informants(data["practice_ratings"], rule=rule)
    ev = ev[ev["district_id"].isin(ids)]
    counts = ev.groupby(["practice", "stage"])["evidence"].sum()
    sm = stage_matrix()
    rows = [("Table 6.1", str(p), f"stage {s}", int(counts.get((str(p), int(s)), 0)),
             len(ids), "districts") for p, s in zip(sm["practice"], sm["stage"], strict=False)]
    out["Table 6.1"] = pd.DataFrame(rows, columns=_COLUMNS)

    # study-design counts (Text 1)
    rat = data["practice_ratings"]
    inf = rat.loc[rat["informant_role"] != "consensus", ["district_id", "informant_role"]]
    inf = inf.drop_duplicates()
    per = inf.groupby("district_id").size()
    rows = [("Text 1", "districts participating", "all", len(ids), 35, "districts"),
            ("Text 1", "interviews", "all", len(inf), np.nan, "interviews"),
            ("Text 1", "interviews per district", "all",
             int(per.min()) if per.min() == per.max() else np.nan, np.nan, "interviews")]
    prof = data.get("district_profiles")
    if prof is not None:
        rows.append(("Text 1", "non-district entities", "CMO or EMO",
                     int((prof["organization_type"] != "school district").sum()), len(ids),
                     "districts"))
        for cat in ("NCES 2002-2003", "district records 2002-2003"):
            rows.append(("Text 1", "demographics source", cat,
                         int((prof["demographics_source"] == cat).sum()), len(ids), "districts"))
        out.update(_case_tables(districts, prof))
    ch = data.get("case_study_challenges")
    if ch is not None:
        _require(ch, "case_study_challenges", ["case_study", "challenge", "description"])
        t54 = pd.DataFrame({"figure": "Table 5.4", "measure": ch["challenge"].to_numpy(),
                            "category": ch["case_study"].to_numpy(), "value": np.nan,
                            "denominator": np.nan, "unit": ""})
        t54["value_text"] = ch["description"].to_numpy()
        out["Table 5.4"] = t54
    text1 = pd.DataFrame(rows, columns=_COLUMNS)
    out["Text 1"] = text1
    return out


def _case_tables(districts: pd.DataFrame, prof: pd.DataFrame) -> dict[str, pd.DataFrame]:
    merged = districts.merge(prof, on="district_id")
    out = {}
    for k in (1, 2, 3):
        row = merged[merged["case_study"] == f"District {k}"]
        if len(row) != 1:
            continue
        r = row.iloc[0]
        items = [("Student Enrollment", r["enrollment"], "students"),
                 ("Number of Schools", r["n_schools"], "schools"),
                 ("District Budget", r["budget_musd"], "million dollars"),
                 ("Locale", np.nan, ""),
                 ("Free/Reduced Lunch", r["pct_frl"], "percent"),
                 ("Limited English Proficiency", r["pct_lep"], "percent"),
                 ("Minority (African-American or Hispanic)", r["pct_minority"], "percent")]
        fig = f"Table 5.{k}"
        frame = pd.DataFrame(
            [(fig, m, f"District {k}", float(v), np.nan, u) for m, v, u in items],
            columns=_COLUMNS,
        )
        frame["value_text"] = [
            r["locale_description"] if m == "Locale" else f"{v:,.1f}" for m, v, _ in items
        ]
        out[fig] = frame
    return out


def compare_with_published(tables: Mapping[str, pd.DataFrame], numbered_only: bool = True) -> pd.DataFrame:
    """Line up recomputed tables with :func:`year1_facts` and flag each match.

    Parameters
    ----------
    tables : mapping
        Output of :func:`year1_tables`.
    numbered_only : bool, default True
        Compare only facts of numbered figures/tables (else also the text counts).

    Returns
    -------
    pandas.DataFrame
        One row per reconstructed fact with ``published``, ``recomputed`` and ``match``
        (equality for counts; ``lower <= value <= upper`` for printed ranges; equal text
        for the case-study locales).

    Examples
    --------
    >>> import pdstats as pds
    >>> cmp = pds.practices.compare_with_published(
    ...     pds.practices.year1_tables(pds.practices.reconstruct_year1()))
    >>> bool(cmp["match"].all())
    True
    """
    facts = year1_facts()
    facts = facts[facts["reconstructed"]]
    if numbered_only:
        facts = facts[facts["numbered"]]
    got = pd.concat(list(tables.values()), ignore_index=True)
    if "value_text" not in got.columns:
        got["value_text"] = ""
    got = got[["figure", "measure", "category", "value", "value_text"]].rename(
        columns={"value": "recomputed"})
    m = facts.merge(got, on=["figure", "measure", "category"], how="left")
    match = []
    for _, r in m.iterrows():
        if r["agg"] == "range":
            lo = -np.inf if pd.isna(r["lower"]) else r["lower"]
            hi = np.inf if pd.isna(r["upper"]) else r["upper"]
            match.append(bool(lo <= r["recomputed"] <= hi))
        elif r["agg"] == "text":
            match.append(r["value_text"] == r["code"])
        else:
            match.append(bool(r["recomputed"] == r["value"]))
    m["match"] = match
    m = m.rename(columns={"value": "published"})
    cols = ["fact_id", "figure", "measure", "category", "published", "lower", "upper",
            "recomputed", "value_text", "match", "line"]
    return m[cols]

