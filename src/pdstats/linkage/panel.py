"""The analysis panel: achievement growth, practice scores and covariates joined by district.

:func:`analysis_panel` reads a study (a :class:`pdstats.Study` store, a simulated study or
a dict of data-dictionary tables), links the district results of
``state_assessment_aggregates`` to the NAEP scale with
:func:`pdstats.harmonize.harmonize_aggregates`, forms district growth, scores the practices
(:func:`pdstats.linkage.scores.practice_scores`) and joins district covariates and
pay-for-performance participation. Every join is checked: a district (or district-year)
present in one table and absent from the other is listed by id in ``.mismatches`` and
counted in ``.sample_log``; none is dropped silently.

Sampling variance of growth. The linked means carry an estimation error (independent
across districts) and state-grade-year errors (NAEP sampling, linking, interpolation)
shared by every district of a state, grade and year. The models put fixed effects on
state x year x grade cells, which absorb the shared errors exactly, so the *known*
variance of a growth estimate is the sum of its two means' squared estimation SEs
(``var_growth``); the total, with the shared parts, is in ``se_growth_total``.

Which growth. With student-level tables (``student_scores``, ``enrollments``) growth is
*matched* growth: the mean yearly gain of the students enrolled in the district in both
years (grade g-1 in year t-1 to grade g in year t), their scores put on the linked scale
by the same state-grade-year line that carries the district means
(:mod:`pdstats.linkage.students`), with known variance ``var(gain) / n``. It follows the
same students, so it carries the whole per-student effect of a district's practices.
Without student tables it is *cohort* growth of the linked means,
``mean[d, t, g] - mean[d, t-1, g-1]``: the cohort's mean in year t includes students who
entered since t-1, whose earlier status carries none of the district's past practice
effect, and lacks those who left, so mobility dilutes a persistent effect (its estimand is
the effect on district *mean* growth; ``growth_kind == "cohort"`` and the district
model's effect row is flagged composition-diluted). ``growth="cohort"`` forces it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, require_columns
from pdstats.errors import (
    DroppedRowsWarning,
    ModelSpecificationError,
    StoreError,
)
from pdstats.linkage.scores import INDEX, practice_scores
from pdstats.results import ResultsBase, SampleLog, add_ci

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["PanelResult", "analysis_panel", "read_tables"]

_NEEDED = ("districts", "state_assessment_aggregates", "naep_state", "cut_scores", "practice_ratings",
           "program_adoption")


def read_tables(study: Any, names: tuple[str, ...] = _NEEDED) -> dict[str, pd.DataFrame]:
    """Tables of a :class:`pdstats.Study`, a simulated study (``.tables``) or a dict.

    Examples
    --------
    >>> import pandas as pd
    >>> read_tables({"districts": pd.DataFrame({"district_id": ["1"]})}, ("districts",))["districts"].shape
    (1, 1)
    """
    source = getattr(study, "tables", study)
    out = {}
    for name in names:
        if isinstance(source, Mapping):
            if name not in source:
                raise StoreError(f"the study has no table {name!r} (needed by pds.linkage)")
            out[name] = pd.DataFrame(source[name]).copy()
        elif hasattr(study, "read"):
            try:
                out[name] = study.read(name)
            except StoreError:
                raise
            except Exception as exc:  # DuckDB catalog errors
                raise StoreError(f"the study store has no readable table {name!r}: {exc}") from exc
        else:
            raise ModelSpecificationError(
                "study must be a pds.Study, a simulated study (with .tables) or a dict of tables, "
                f"got {type(study).__name__}")
    return out


class PanelResult(ResultsBase):
    """The district x year x grade analysis panel of :func:`analysis_panel`.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per district, year and grade with a growth estimate: ``district_id``,
        ``state``, ``year``, ``grade``, ``subject``, ``n``, ``mean``, ``growth``,
        ``var_growth`` (known sampling variance: estimation error only),
        ``se_growth_total``, ``practice_index``, ``practice_index_se``, ``p4p`` (district
        under pay-for-performance that year), ``pct_frl``, ``pct_lep``, ``log_enrollment``,
        ``cell`` (state x year x grade).
    scores : pandas.DataFrame
        Practice scores of every district-year (:func:`~pdstats.linkage.scores.practice_scores`).
    mismatches : pandas.DataFrame
        Every failed join: ``table``, ``missing_from``, ``district_id``, ``year``, ``reason``.
    estimates : pandas.DataFrame
        Tidy: growth and practice index per district-year(-grade) with SEs and 95% intervals.
    sample_log : SampleLog
        Linked achievement rows in, dropped by reason (ids in ``mismatches``), used.
    subject : str
    growth_kind : str
        ``"matched"`` (students present in both years) or ``"cohort"`` (district means;
        composition-diluted). ``data["cohort_growth"]`` always holds cohort growth.
    means : pandas.DataFrame
        Linked district means of every district, year and grade.
    tables : dict
        The study tables read; ``source`` is the study itself (student tables are read
        from it on demand).
    """

    title = "Practices and growth: analysis panel"

    def __init__(self, data: pd.DataFrame, scores: pd.DataFrame, mismatches: pd.DataFrame,
                 sample_log: SampleLog, subject: str, tables: dict[str, pd.DataFrame],
                 means: pd.DataFrame, source: Any, growth_kind: str = "cohort") -> None:
        self.data = data
        self.growth_kind = growth_kind
        self.means = means
        self.source = source
        self.scores = scores
        self.mismatches = mismatches
        self.sample_log = sample_log
        self.subject = subject
        self.tables = tables
        g = data[["district_id", "year", "grade", "growth", "var_growth"]].rename(
            columns={"growth": "estimate"}).assign(quantity="growth")
        g["std_error"] = np.sqrt(g.pop("var_growth"))
        ix = scores[scores["kind"] == "index"][["district_id", "year", "value", "se"]].rename(
            columns={"value": "estimate", "se": "std_error"}).assign(quantity=INDEX, grade=np.nan)
        est = pd.concat([g, ix], ignore_index=True)
        self.estimates = add_ci(est[["district_id", "year", "grade", "quantity", "estimate", "std_error"]])

    @property
    def n_districts(self) -> int:
        """Districts in the panel."""
        return int(self.data["district_id"].nunique())

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Subject"] = self.subject
        info["Districts"] = self.n_districts
        info["Years"] = ", ".join(str(y) for y in sorted(self.data["year"].unique()))
        info["Join mismatches"] = len(self.mismatches)
        info["Growth"] = self.growth_kind
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        by_year = self.data.groupby("year").agg(districts=("district_id", "nunique"), rows=("growth", "size"),
                                                mean_growth=("growth", "mean"),
                                                mean_index=("practice_index", "mean"))
        return [("Panel by year", by_year), ("Join mismatches", self.mismatches)]

    def __repr__(self) -> str:
        return f"<PanelResult: {len(self.data)} district-year-grade rows, {self.n_districts} districts>"

    def plot(self, ax: Axes | None = None) -> Axes:
        """District mean growth against the practice index, by year."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.5))
        d = self.data.groupby(["district_id", "year"], as_index=False).agg(
            growth=("growth", "mean"), practice_index=("practice_index", "first"))
        sns.scatterplot(d, x="practice_index", y="growth", hue="year", palette="crest", ax=ax)
        ax.set_xlabel("practice index (PCM logits)")
        ax.set_ylabel(f"mean cohort growth, {self.subject} (NAEP points)")
        ax.set_title("District growth and practice index", loc="left")
        return ax


def _mismatch(rows: list[dict[str, Any]], table: str, missing_from: str, keys: pd.DataFrame,
              reason: str) -> None:
    for r in keys.itertuples(index=False):
        rows.append({"table": table, "missing_from": missing_from, "district_id": r.district_id,
                     "year": getattr(r, "year", pd.NA), "reason": reason})


def _linked_means(t: dict[str, pd.DataFrame], subject: str, progress: bool) -> tuple[pd.DataFrame, SampleLog]:
    from pdstats.harmonize import harmonize_aggregates

    agg = t["state_assessment_aggregates"]
    require_columns(agg, ["unit_type", "unit_id", "state", "year", "grade", "subject"],
                    "state_assessment_aggregates", "analysis_panel")
    agg = agg[(agg["subject"] == subject) & (agg["unit_type"] == "district")]
    if agg.empty:
        raise ModelSpecificationError(f"state_assessment_aggregates: no district rows for subject {subject!r}")
    naep = t["naep_state"][t["naep_state"]["subject"] == subject]
    cuts = t["cut_scores"][t["cut_scores"]["subject"] == subject]
    link = harmonize_aggregates(agg, naep, cuts, progress=progress)
    rows = link.groups if hasattr(link, "groups") else link.scale("naep")  # wide table (issue 12 rename)
    if "scale" in rows.columns:
        rows = rows[rows["scale"] == "naep"]
    rows = rows.rename(columns={"unit_id": "district_id"})
    rows = rows.astype({"district_id": str, "year": int, "grade": int})
    return rows[["district_id", "state", "year", "grade", "subject", "n", "mean", "se_mean",
                 "se_estimation", "naep_sd"]].reset_index(drop=True), link.sample_log


def _growth(means: pd.DataFrame) -> pd.DataFrame:
    prior = means[["district_id", "year", "grade", "mean", "se_mean", "se_estimation"]].assign(
        year=lambda d: d["year"] + 1, grade=lambda d: d["grade"] + 1)
    g = means.merge(prior, on=["district_id", "year", "grade"], suffixes=("", "_prior"))
    g["growth"] = g["mean"] - g["mean_prior"]
    g["var_growth"] = g["se_estimation"] ** 2 + g["se_estimation_prior"] ** 2
    g["se_growth_total"] = np.sqrt(g["se_mean"] ** 2 + g["se_mean_prior"] ** 2)
    return g


def _matched_growth(study: Any, means: pd.DataFrame, subject: str, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Mean linked gain of the students in the district in both years, by district, year, grade."""
    from pdstats.linkage.students import student_gains

    t = dict(tables)
    t.update(read_tables(study, ("student_scores", "enrollments")))
    g = student_gains(t, means, subject)
    g = g[g["district_id"] == g["prior_district_id"]]
    m = g.groupby(["district_id", "year", "grade"], as_index=False)["gain"].agg(
        matched_growth="mean", var_gain="var", n_matched="size")
    m["var_matched"] = m.pop("var_gain") / m["n_matched"]
    return m.astype({"district_id": str, "year": int, "grade": int})


def _has_student_tables(study: Any) -> bool:
    """Whether the study holds student scores and enrollments (a store has every table, maybe empty)."""
    names = ("student_scores", "enrollments")
    source = getattr(study, "tables", study)
    if isinstance(source, Mapping):
        return all(n in source and len(source[n]) > 0 for n in names)
    if callable(source):  # pds.Study.tables(): rows held per table
        held = source().set_index("table")["n_rows"]
        return all(int(held.get(n, 0)) > 0 for n in names)
    return False


def _p4p(adoption: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    a = adoption[(adoption["unit_type"] == "district") & (adoption["program"] == "pay_for_performance")]
    first = pd.to_numeric(a.set_index(a["unit_id"].astype(str))["first_treated_year"], errors="coerce")
    first = first[~first.index.duplicated()]
    f = keys["district_id"].map(first).to_numpy(float)
    return (np.isfinite(f) & (keys["year"].to_numpy(float) >= f)).astype(float)


def _check_scores(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Usable score rows, the district-years whose practice index lacks a value or SE, and why."""
    require_columns(scores, ["district_id", "year", "kind", "score", "value", "se"], "practice scores", "scores")
    scores = scores.copy()
    for col, lower in (("value", -np.inf), ("se", 0.0)):
        scores[col] = as_numeric(scores, col, "practice scores", lower=lower)
    bad = scores["se"].isna() | scores["value"].isna()
    reason = ""
    if bad.any():
        ids = sorted(scores.loc[bad, "district_id"].astype(str).unique())
        reason = f"practice score without a value or standard error (districts {ids})"
        warnings.warn(f"practice scores: {int(bad.sum())} rows dropped: {reason}", DroppedRowsWarning, stacklevel=3)
    bad_index = scores.loc[bad & (scores["kind"] == "index"), ["district_id", "year"]].astype(
        {"district_id": str, "year": int}).drop_duplicates()
    return scores[~bad].astype({"district_id": str, "year": int}), bad_index, reason


def analysis_panel(study: Any, subject: str = "math", scores: pd.DataFrame | None = None,
                   growth: str = "auto", progress: bool = False) -> PanelResult:
    """Join linked achievement growth, practice scores and covariates by district and year.

    Parameters
    ----------
    study : pdstats.Study, simulated study or dict of DataFrames
        Needs ``districts``, ``state_assessment_aggregates``, ``naep_state``,
        ``cut_scores``, ``practice_ratings`` and ``program_adoption``.
    subject : str
        Subject analysed ("math" or "reading").
    scores : pandas.DataFrame, optional
        Practice scores to use instead of scoring ``practice_ratings`` (columns
        ``district_id``, ``year``, ``kind``, ``score``, ``value``, ``se``; the ``kind ==
        "index"`` rows are the practice index). Rows without a standard error are dropped
        and logged (a score without an SE cannot be corrected for measurement error).
    growth : {"auto", "matched", "cohort"}
        District growth: matched growth of the students present in both years (``"auto"``
        when the study has student tables) or cohort growth of the linked district means
        (``"auto"`` without them; composition-diluted, see the module docstring).
    progress : bool
        Progress bar of the harmonization.

    Returns
    -------
    PanelResult

    Examples
    --------
    >>> import pdstats as pds
    >>> sim = pds.simulate.study(random_state=0, progress=False)  # doctest: +SKIP
    >>> panel = pds.linkage.analysis_panel(sim, subject="math")  # doctest: +SKIP
    >>> panel.n_districts  # doctest: +SKIP
    28
    """
    if subject not in ("math", "reading"):
        raise ModelSpecificationError(f"subject must be 'math' or 'reading', got {subject!r}")
    if growth not in ("auto", "matched", "cohort"):
        raise ModelSpecificationError(f"growth must be 'auto', 'matched' or 'cohort', got {growth!r}")
    t = read_tables(study)
    means, link_log = _linked_means(t, subject, progress)
    growth_kind = growth if growth != "auto" else ("matched" if _has_student_tables(study) else "cohort")
    growth = _growth(means)
    log = SampleLog(n_in=len(growth), unit="district-year-grade growth estimates")
    mism: list[dict[str, Any]] = []
    growth["cohort_growth"] = growth["growth"]
    if growth_kind == "matched":
        matched = _matched_growth(study, means, subject, t)
        growth = growth.merge(matched, on=["district_id", "year", "grade"], how="left")
        none = ~(growth["n_matched"] >= 2) | ~(growth["var_matched"] > 0)
        if none.any():
            log.drop("district-year-grade without two students present in both years (no matched growth)",
                     int(none.sum()))
            _mismatch(mism, "student_scores", "matched growth", growth.loc[none, ["district_id", "year"]],
                      "fewer than two students in the district in both years")
        growth = growth[~none]
        growth["growth"], growth["var_growth"] = growth.pop("matched_growth"), growth.pop("var_matched")
        growth["se_growth_total"] = np.sqrt(growth["var_growth"])

    districts = t["districts"].astype({"district_id": str})
    require_columns(districts, ["district_id", "state"], "districts", "analysis_panel")
    if scores is None:
        scores = practice_scores(t["practice_ratings"])
    scores, bad_index, reason = _check_scores(scores)
    if len(bad_index):  # growth rows of district-years whose index cannot be used (score rows are not counted)
        hit = growth[["district_id", "year"]].astype({"district_id": str, "year": int}).merge(
            bad_index, how="left", indicator=True)["_merge"].eq("both").to_numpy()
        log.drop(reason, int(hit.sum()))
        growth = growth[~hit]
    index = scores[scores["kind"] == "index"][["district_id", "year", "value", "se"]].rename(
        columns={"value": "practice_index", "se": "practice_index_se"})
    if index.duplicated(["district_id", "year"]).any():
        raise ModelSpecificationError("practice scores: more than one practice index per district and year")

    # districts in one table and not the other
    ach_ids, sc_ids = set(growth["district_id"]), set(index["district_id"])
    no_district = sorted((ach_ids | sc_ids) - set(districts["district_id"]))
    if no_district:
        raise ModelSpecificationError(f"districts: ids {no_district} appear in achievement or practice tables "
                                  "but not in the districts table")
    studied = set(districts.loc[districts.get("studied", pd.Series(True, index=districts.index))
                                .fillna(True).astype(bool), "district_id"])
    only_ach = sorted(ach_ids - sc_ids)
    comparison = [d for d in only_ach if d not in studied]
    missing_studied = [d for d in only_ach if d in studied]
    for ids, why in ((comparison, "comparison district: achievement but no practice scores"),
                     (missing_studied, "studied district with achievement but no practice scores")):
        if ids:
            keys = pd.DataFrame({"district_id": ids})
            _mismatch(mism, "practice_ratings", "practice scores", keys, why)
            log.drop(f"{why} ({len(ids)} districts: {ids})", int(growth["district_id"].isin(ids).sum()))
    if missing_studied:
        warnings.warn(f"analysis_panel: studied districts {missing_studied} have achievement but no practice "
                      "scores; their growth rows are dropped (see .mismatches)", DroppedRowsWarning, stacklevel=2)
    only_sc = sorted(sc_ids - ach_ids)
    if only_sc:
        _mismatch(mism, "state_assessment_aggregates", "achievement", pd.DataFrame({"district_id": only_sc}),
                  "district with practice scores but no linked achievement")
        warnings.warn(f"analysis_panel: districts {only_sc} have practice scores but no linked {subject} "
                      "achievement; they are left out (see .mismatches)", DroppedRowsWarning, stacklevel=2)
    growth = growth[~growth["district_id"].isin(only_ach)]

    # district-years in one table and not the other (a year missing for one table)
    gy = growth[["district_id", "year"]].drop_duplicates()
    both = gy.merge(index[["district_id", "year"]], how="outer", indicator=True)
    both = both[both["district_id"].isin(ach_ids & sc_ids)]
    ach_only = both[both["_merge"] == "left_only"][["district_id", "year"]]
    sc_only = both[both["_merge"] == "right_only"][["district_id", "year"]]
    first_year = int(means["year"].min())
    sc_only_real = sc_only[sc_only["year"] != first_year]  # no growth in the first year: expected
    if len(ach_only):
        _mismatch(mism, "practice_ratings", "practice scores", ach_only,
                  "district-year with growth but no practice score")
        n = int(growth.merge(ach_only).shape[0])
        log.drop(f"district-year with growth but no practice score ({len(ach_only)} district-years)", n)
        warnings.warn(f"analysis_panel: {len(ach_only)} district-years have growth but no practice score "
                      f"(years {sorted(ach_only['year'].unique().tolist())}); {n} rows dropped (see .mismatches)",
                      DroppedRowsWarning, stacklevel=2)
    if len(sc_only_real):
        _mismatch(mism, "state_assessment_aggregates", "achievement", sc_only_real,
                  "district-year with a practice score but no growth estimate")
        warnings.warn(f"analysis_panel: {len(sc_only_real)} district-years have a practice score but no growth "
                      f"(years {sorted(sc_only_real['year'].unique().tolist())}); see .mismatches",
                      DroppedRowsWarning, stacklevel=2)
    data = growth.merge(index, on=["district_id", "year"], how="inner")
    no_se = ~(np.isfinite(data["growth"]) & np.isfinite(data["var_growth"]) & (data["var_growth"] > 0))
    if no_se.any():
        ids = sorted(data.loc[no_se, "district_id"].unique())
        reason = f"linked growth without a finite sampling variance (districts {ids})"
        log.drop(reason, int(no_se.sum()))
        _mismatch(mism, "state_assessment_aggregates", "harmonization", data.loc[no_se, ["district_id", "year"]],
                  "linked mean without a standard error")
        warnings.warn(f"analysis_panel: {int(no_se.sum())} growth rows dropped: {reason}", DroppedRowsWarning,
                      stacklevel=2)
        data = data[~no_se]
    if data.empty:
        raise ModelSpecificationError("analysis_panel: no district-year has both growth and a practice score")

    cov = districts.set_index("district_id")
    for col in ("pct_frl", "pct_lep"):
        data[col] = data["district_id"].map(cov[col]).astype(float) if col in cov else np.nan
    if "enrollment" in cov:
        data["log_enrollment"] = np.log(data["district_id"].map(cov["enrollment"]).astype(float))
    data["p4p"] = _p4p(t["program_adoption"], data)
    data["cell"] = data["state"].astype(str) + ":" + data["year"].astype(str) + ":" + data["grade"].astype(str)
    data = data.sort_values(["district_id", "year", "grade"]).reset_index(drop=True)
    mism_df = pd.DataFrame(mism, columns=["table", "missing_from", "district_id", "year", "reason"])
    for reason, n in link_log.dropped.items():
        mism_df = pd.concat([mism_df, pd.DataFrame([{"table": "state_assessment_aggregates",
                                                     "missing_from": "harmonization", "district_id": pd.NA,
                                                     "year": pd.NA, "reason": f"{reason}: {n} rows"}])],
                            ignore_index=True) if "not unit_type" not in reason else mism_df
    return PanelResult(data, scores, mism_df, log, subject, t, means, study, growth_kind)
