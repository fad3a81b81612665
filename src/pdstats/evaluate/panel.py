"""The analysis panel of a program from the study store: ``pds.evaluate.panel``.

Outcomes are on the NAEP (linked) scale. Each state test score ``x`` of a state, year,
grade and subject is placed on the state's NAEP scale by the linear linking of group
means used by ``pds.harmonize`` (reliability-adjusted, so that a group mean, in which
measurement error averages out, keeps its NAEP-scale distance):

    linked = naep_mean + naep_sd * (x - state_mean) / (state_sd * sqrt(reliability)),

with the state's published mean and SD (``state_assessment_aggregates``, unit "state",
subgroup "all"), the test's reliability (``cut_scores``) and the state's NAEP mean and
SD interpolated to the grade and year (``pds.harmonize.interpolate_naep``). The slope
``naep_sd / (state_sd * sqrt(reliability))`` is pooled over years (mean NAEP SD over
mean reliability-adjusted state SD, per state, grade and subject): year-to-year changes
of a published SD and of an interpolated NAEP SD are mostly sampling and interpolation
noise (several percent here), and a slope that moves by year would give every district a
year-specific shock proportional to its distance from the state mean - correlated
across districts, not removed by unit and year effects, and fatal to the standard
errors of a difference in differences (measured: 20 simulated worlds rejected a true
null 20% of the time with year-specific slopes).

* ``outcome="growth"``: a student's yearly growth is the linked score minus the linked
  score of the year before (same subject, next grade); the unit-year outcome is the mean
  over the students enrolled in the unit for the whole year (dosage 1), so that a
  program's effect on each student's growth is the effect on the mean.
* ``outcome="achievement"``: mean linked score of the unit's full-year students.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pdstats.errors import DroppedRowsWarning, ModelSpecificationError
from pdstats.results import SampleLog

__all__ = ["panel", "ProgramPanel"]


@dataclass
class ProgramPanel:
    """A program's analysis panel.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per unit and year: ``unit_id``, ``state``, ``year``, ``outcome``,
        ``n_students``, ``first_treated_year`` (missing: never treated).
    excluded : pandas.DataFrame
        Units left out and why (``unit_id``, ``reason``).
    student_sd : float
        Student-level SD of the linked scale (mean of the state NAEP SDs of the cells
        used), to express effects in student-SD units; ``sd_name`` says what it is.
    sample_log : SampleLog
        Units in, dropped by reason, used.
    """

    data: pd.DataFrame
    excluded: pd.DataFrame
    student_sd: float
    sd_name: str
    sample_log: SampleLog = field(repr=False)

    def __repr__(self) -> str:
        return (f"ProgramPanel({self.data['unit_id'].nunique()} units x "
                f"{self.data['year'].nunique()} years; {len(self.excluded)} units excluded)")


def _linked_scores(study: object, subject: str | None) -> tuple[pd.DataFrame, float]:
    from pdstats.harmonize import interpolate_naep

    scores = study.read("student_scores", columns=["student_id", "state", "year", "grade",
                                                   "subject", "scale_score"])
    if subject is not None:
        scores = scores[scores["subject"] == subject]
    agg = study.read("state_assessment_aggregates", unit_type="state", subgroup="all",
                     columns=["state", "year", "grade", "subject", "mean_scale", "sd_scale"])
    rel = study.read("cut_scores", columns=["state", "year", "grade", "subject", "reliability"])
    naep = study.read("naep_state")
    cells = agg.merge(rel, on=["state", "year", "grade", "subject"], how="left")
    rows = []
    for c in cells.itertuples(index=False):
        n = interpolate_naep(naep, c.state, int(c.year), int(c.grade), c.subject)
        rows.append((n["mean"], n["sd"]))
    cells[["naep_mean", "naep_sd"]] = np.asarray(rows, dtype=float)
    r = pd.to_numeric(cells["reliability"]).fillna(1.0).to_numpy(dtype=float)
    cells["scale_sd"] = cells["sd_scale"].astype(float) * np.sqrt(r)
    # one slope per state, grade and subject (pooled over years): see the module notes
    pooled = cells.groupby(["state", "grade", "subject"])[["naep_sd", "scale_sd"]].transform("mean")
    cells["slope"] = pooled["naep_sd"] / pooled["scale_sd"]
    key = ["state", "year", "grade", "subject"]
    s = scores.merge(cells[[*key, "mean_scale", "naep_mean", "slope"]], on=key, how="inner")
    s["linked"] = s["naep_mean"] + s["slope"] * (s["scale_score"].astype(float)
                                                   - s["mean_scale"].astype(float))
    return s[["student_id", "state", "year", "grade", "subject", "linked"]], float(
        cells["naep_sd"].mean())


def panel(study: object, program: str = "pay_for_performance", outcome: str = "growth",
          level: str = "district", subject: str | None = None) -> ProgramPanel:
    """Unit-by-year panel of a program's adoption and outcomes on the linked scale.

    Parameters
    ----------
    study : pdstats.Study
        The study store (``program_adoption``, ``student_scores``, ``enrollments``,
        ``state_assessment_aggregates``, ``cut_scores``, ``naep_state``, ``schools``).
    program : str
        Program name in ``program_adoption``.
    outcome : {"growth", "achievement"}
        Mean yearly growth or mean achievement, NAEP scale.
    level : {"district", "school"}
        Unit of adoption. At the district level, districts that did not adopt but some of
        whose schools adopted on their own are excluded (not clean comparisons).
    subject : str, optional
        One subject (default: both pooled).

    Returns
    -------
    ProgramPanel

    Examples
    --------
    >>> import pdstats as pds
    >>> sim = pds.simulate.study(random_state=2, n_states=1, n_districts=6, years=(2005, 2006, 2007),
    ...                          n_comparison=0, progress=False)
    >>> p = pds.evaluate.panel(sim.to_study(), outcome="growth")
    >>> sorted(p.data["year"].unique().tolist())
    [2006, 2007]
    """
    if outcome not in ("growth", "achievement"):
        raise ModelSpecificationError(f"outcome={outcome!r}; choose 'growth' or 'achievement'")
    if level not in ("district", "school"):
        raise ModelSpecificationError(f"level={level!r}; choose 'district' or 'school'")
    if not hasattr(study, "read"):
        raise ModelSpecificationError("study must be a pdstats.Study (e.g. sim.to_study())")
    adopt = study.read("program_adoption")
    adopt = adopt[adopt["program"] == program]
    if adopt.empty:
        raise ModelSpecificationError(f"program {program!r} is not in program_adoption")
    unit_col = f"{level}_id"
    units = adopt[adopt["unit_type"] == level][["unit_id", "first_treated_year"]]
    excluded: list[tuple[str, str]] = []
    schools = study.read("schools", columns=["school_id", "district_id"])
    if level == "district":
        own = adopt[(adopt["unit_type"] == "school") & adopt["first_treated_year"].notna()]
        mixed = set(schools.loc[schools["school_id"].isin(own["unit_id"]), "district_id"])
        mixed &= set(units.loc[units["first_treated_year"].isna(), "unit_id"])
        excluded += [(u, "not adopting, but some of its schools adopted on their own")
                     for u in sorted(mixed)]
        units = units[~units["unit_id"].isin(mixed)]
    enr = study.read("enrollments", columns=["student_id", "year", "subject", "school_id",
                                             "district_id", "dosage"])
    enr = enr[enr["dosage"].astype(float) >= 1.0]
    linked, sd = _linked_scores(study, subject)
    if outcome == "growth":
        prev = linked.assign(year=linked["year"] + 1, grade=linked["grade"] + 1)
        linked = linked.merge(prev, on=["student_id", "year", "grade", "subject", "state"],
                              suffixes=("", "_prev"))
        linked["value"] = linked["linked"] - linked["linked_prev"]
    else:
        linked["value"] = linked["linked"]
    s = linked.merge(enr, on=["student_id", "year", "subject"])
    out = (s.groupby([unit_col, "year"], as_index=False)
           .agg(outcome=("value", "mean"), n_students=("student_id", "nunique"),
                state=("state", "first"))
           .rename(columns={unit_col: "unit_id"}))
    known = set(units["unit_id"])
    with_outcomes = set(out["unit_id"])
    excluded += [(u, "no adoption information")
                 for u in sorted(with_outcomes - known - {u for u, _ in excluded})]
    excluded += [(u, "no outcomes") for u in sorted(known - with_outcomes)]
    data = out.merge(units, on="unit_id", how="inner")
    data = data[["unit_id", "state", "year", "outcome", "n_students", "first_treated_year"]]
    excl = pd.DataFrame(excluded, columns=["unit_id", "reason"])
    log = SampleLog(n_in=len(known | with_outcomes | set(excl["unit_id"])), unit="units")
    for reason, n in excl["reason"].value_counts().items():
        log.drop(str(reason), int(n))
    if len(excl):
        warnings.warn(f"panel: {len(excl)} unit(s) excluded ({ {str(k): int(v) for k, v in excl['reason'].value_counts().items()} });"
                      " see .excluded", DroppedRowsWarning, stacklevel=2)
    name = ("student SD of the linked (NAEP) scale: mean state NAEP SD over the grades, "
            "years and subjects used")
    return ProgramPanel(data.sort_values(["unit_id", "year"]).reset_index(drop=True), excl, sd,
                        name, log)
