"""Knobs of the simulated world: defaults, size presets and their checks.

Every number that shapes a simulated world is a knob with a documented default; the
values used are returned as ``SimulationTruth.params`` so a world can be rebuilt.
"""

from __future__ import annotations

from typing import Any

from pdstats.errors import SimulationSpecError

__all__ = ["DEFAULTS", "SIZES", "SimulationSpecError", "resolve_params"]


#: Default knobs (NAEP-like scale points unless stated). Growth components are the
#: standard deviations of each level's contribution to one year of growth.
DEFAULTS: dict[str, Any] = {
    # growth components (NAEP points per year)
    "sd_teacher": 4.0,
    "sd_school": 3.0,
    "sd_district": 2.0,
    "sd_student": 8.0,
    "teacher_ar": 0.8,  # AR(1) coefficient of a teacher's effect from year to year
    "teacher_subject_corr": 0.5,  # corr. of an elementary teacher's math and reading effects
    "teacher_turnover": 0.10,  # share of teaching posts with a new teacher each year
    "persistence": 1.0,  # share of last year's deviation from the grade mean kept
    # status (level) components (NAEP points)
    "sd_state_status": 5.0,
    "sd_district_status": 5.0,
    "sd_school_status": 5.0,
    "student_subject_corr": 0.7,
    # practices
    "practice_effect": 2.0,  # growth points per SD of the latent practice index
    "practice_drift": 0.25,  # mean yearly change of the practice index (SD units)
    "practice_drift_sd": 0.20,
    "practice_loading": 1.0,  # loading of the cell propensities on the index
    "practice_cell_sd": 0.8,  # persistent cell-specific propensity SD
    "practice_year_sd": 0.3,  # transient cell x year propensity SD
    # programs
    "p4p_effect": 3.0,  # growth points per treated year, pay for performance (districts)
    "p4p_share": 0.4,  # share of districts that adopt (spread evenly over p4p_years)
    "p4p_years": None,  # adoption years; None: every study year after the first
    "p4p_school_share": 0.25,  # share of the schools of never-adopting districts that adopt alone
    "bonus_effect": 2.0,  # growth points per treated year, randomized teacher bonus
    # mobility and participation (shares per year)
    "exit_rate": 0.05,
    "entry_rate": 0.05,
    "move_within": 0.06,
    "move_between": 0.03,
    "midyear_move": 0.03,
    "absent_rate": 0.02,
    # classes and tests
    "class_size": 22,
    "csem_curvature": 0.3,  # error variance grows with (1 + c z^2) away from the centre
    "naep_years": None,  # None: the odd (NAEP) years among the study years
    "n_tuda_per_state": 3,  # largest studied districts per state with NAEP (TUDA-like) results
    "n_comparison": None,  # comparison districts; None: the size preset
}

#: Size presets: comparison districts, students per grade per district
#: ``clip(enrollment * fraction / 13, lo, hi)``, and students per grade per school.
SIZES: dict[str, dict[str, Any]] = {
    "small": {"n_comparison": 8, "fraction": 0.01, "lo": 40, "hi": 110, "elem": 28, "mid": 90},
    "medium": {"n_comparison": 12, "fraction": 0.08, "lo": 60, "hi": None, "elem": 60, "mid": 220},
    "state": {"n_comparison": 8, "fraction": 0.9, "lo": 60, "hi": None, "elem": 70, "mid": 250},
}

_SHARES = ("teacher_ar", "teacher_subject_corr", "teacher_turnover", "student_subject_corr",
           "p4p_share", "p4p_school_share", "exit_rate", "entry_rate", "move_within", "move_between",
           "midyear_move", "absent_rate")  # fmt: skip


def resolve_params(size: str, n_states: int, n_districts: int, years: tuple[int, ...],
                   knobs: dict[str, Any]) -> dict[str, Any]:
    """Merge knobs over the defaults and the size preset, checking every value.

    Examples
    --------
    >>> from pdstats.simulate.params import resolve_params
    >>> p = resolve_params("small", 3, 28, (2005, 2006, 2007), {"sd_teacher": 5.0})
    >>> p["sd_teacher"], p["n_comparison"], p["naep_years"], p["growth_var"]
    (5.0, 8, (2005, 2007), 106.0)
    """
    if size not in SIZES:
        raise SimulationSpecError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    unknown = sorted(set(knobs) - set(DEFAULTS))
    if unknown:
        raise SimulationSpecError(f"unknown knob(s) {unknown}; known knobs: {sorted(DEFAULTS)}")
    if not 1 <= int(n_states) <= 10:
        raise SimulationSpecError(f"n_states must be between 1 and 10, not {n_states}")
    if int(n_districts) < 1:
        raise SimulationSpecError(f"n_districts must be at least 1, not {n_districts}")
    years = tuple(int(y) for y in years)
    if len(years) < 1 or any(b != a + 1 for a, b in zip(years, years[1:], strict=False)):
        raise SimulationSpecError(f"years must be consecutive spring years, not {years}")
    if not (1995 <= years[0] and years[-1] <= 2030):
        raise SimulationSpecError(f"years must lie in 1995..2030, not {years}")
    p = {**DEFAULTS, **knobs}
    preset = SIZES[size]
    if p["n_comparison"] is None:
        p["n_comparison"] = preset["n_comparison"]
    for k in _SHARES:
        if not 0 <= float(p[k]) <= 1:
            raise SimulationSpecError(f"knob {k} must lie in [0, 1], not {p[k]}")
    for k in ("sd_teacher", "sd_school", "sd_district", "sd_student", "sd_state_status",
              "sd_district_status", "sd_school_status", "practice_cell_sd", "practice_year_sd",
              "practice_drift_sd", "csem_curvature"):  # fmt: skip
        if float(p[k]) < 0:
            raise SimulationSpecError(f"knob {k} must be non-negative, not {p[k]}")
    if int(p["class_size"]) < 5:
        raise SimulationSpecError(f"knob class_size must be at least 5, not {p['class_size']}")
    if int(p["n_tuda_per_state"]) < 0:
        raise SimulationSpecError(f"knob n_tuda_per_state must be >= 0, not {p['n_tuda_per_state']}")
    if int(p["n_comparison"]) < 0:
        raise SimulationSpecError(f"knob n_comparison must be >= 0, not {p['n_comparison']}")
    if p["naep_years"] is None:
        p["naep_years"] = tuple(y for y in years if y % 2 == 1) or (years[0],)
    p["naep_years"] = tuple(int(y) for y in p["naep_years"])
    bad = [y for y in p["naep_years"] if y not in years]
    if bad:
        raise SimulationSpecError(f"knob naep_years {bad} are not study years {years}")
    if p["p4p_years"] is None:
        p["p4p_years"] = years[1:]
    p["p4p_years"] = tuple(int(y) for y in p["p4p_years"])
    bad = [y for y in p["p4p_years"] if y not in years[1:]]
    if bad:
        raise SimulationSpecError(f"knob p4p_years {bad} are not study years after the first {years[1:]}")
    p.update(size=size, n_states=int(n_states), n_districts=int(n_districts), years=years,
             **{f"size_{k}": v for k, v in preset.items() if k != "n_comparison"})
    # yearly growth variance of the reference population (sets the scale's SD by grade)
    p["growth_var"] = float(p["sd_teacher"] ** 2 + p["sd_school"] ** 2 + p["sd_district"] ** 2
                            + p["sd_student"] ** 2 + p["practice_effect"] ** 2)  # fmt: skip
    return p
