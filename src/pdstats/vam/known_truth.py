"""Value-added worlds with known truth, and their estimators for the validation runner.

* :func:`simulate_va` - a minimal world: teacher effects drifting as a stationary AR(1),
  classes with shocks, scores ``beta * true_prior + effect + shock + noise``, an observed
  prior that may carry measurement error, optional sorting on the true prior;
* :func:`study_world` - the value-added analysis file of a :func:`pdstats.simulate.study`
  world and the true teacher-year effects on its scale;
* :func:`compare` - estimates joined to the truth, centred where the data identify it;
* :func:`cfr_on_study_world` - the runner's estimator: CFR value-added by subject and
  school level on a :func:`study_world`, one row per teacher-year plus the forecast
  coefficient (truth 1).

The 200-world validation is ``pds.simulate.run(cfr_on_study_world, study_world, ...)``
(tests/vam/test_vam_simulate_worlds.py, benchmarks/runner_speed.py).
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["CELL", "PRIORS", "StudyWorld", "cfr_on_study_world", "compare", "simulate_va", "study_world",
           "value_added_on_study_world"]

#: The cells within which ``analysis_file`` standardizes scores.
CELL = ["state", "year", "grade", "subject"]
#: The prior scores the study-world analyses use.
PRIORS = ["prior_same", "prior_other"]


def simulate_va(n_teachers: int = 300, years: tuple = (2001, 2002, 2003, 2004), classes: int = 2,
                class_size: int = 20, sd_teacher: float = 0.2, rho: float = 0.8, sd_class: float = 0.1,
                sd_student: float = 0.6, beta: float = 0.7, reliability: float = 1.0, sorting: float = 0.0,
                random_state: int | np.random.Generator | None = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A minimal known-truth value-added world (see the module docstring).

    Returns
    -------
    data : pandas.DataFrame
        teacher, year, classroom, prior (observed), score, true_prior.
    truth : pandas.DataFrame
        teacher, year, effect.

    Examples
    --------
    >>> df, truth = simulate_va(n_teachers=5, years=(1, 2), class_size=3, random_state=1)
    >>> df.shape, truth.shape
    ((60, 6), (10, 3))
    """
    rng = np.random.default_rng(random_state)
    T = len(years)
    mu = np.empty((n_teachers, T))
    mu[:, 0] = rng.normal(0, sd_teacher, n_teachers)
    for t in range(1, T):
        mu[:, t] = rho * mu[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(0, sd_teacher, n_teachers)
    n_cls = n_teachers * T * classes
    teacher = np.repeat(np.arange(n_teachers), T * classes * class_size)
    t_idx = np.tile(np.repeat(np.arange(T), classes * class_size), n_teachers)
    cls = np.repeat(np.arange(n_cls), class_size)
    n = len(teacher)
    true_prior = rng.normal(size=n) + sorting * mu[teacher, t_idx] / sd_teacher
    shock = rng.normal(0, sd_class, n_cls)
    y = beta * true_prior + mu[teacher, t_idx] + shock[cls] + rng.normal(0, sd_student, n)
    var_x = true_prior.var()
    err_sd = np.sqrt(var_x * (1 - reliability) / reliability) if reliability < 1 else 0.0
    prior = true_prior + rng.normal(0, 1, n) * err_sd
    df = pd.DataFrame({"teacher": teacher, "year": np.asarray(years)[t_idx],
                       "classroom": cls % classes, "prior": prior, "score": y,
                       "true_prior": true_prior})
    truth = pd.DataFrame({"teacher": np.repeat(np.arange(n_teachers), T),
                          "year": np.tile(np.asarray(years), n_teachers), "effect": mu.ravel()})
    return df, truth


class StudyWorld(NamedTuple):
    """A study world's value-added analysis file, its true effects and true prior slope."""

    analysis: pd.DataFrame
    truth: pd.DataFrame
    slope: float


def study_world(random_state: Any = 0, **knobs: Any) -> StudyWorld:
    """Analysis file, true teacher-year effects on its scale, and the true prior slope.

    The estimable effect of a teacher on her students' standardized growth is her own
    effect plus her school's and district's (NAEP points per year), divided by the SD of
    the observed state scores (true SD and measurement error).

    Parameters
    ----------
    random_state : int, SeedSequence or numpy.random.Generator
        Seed of :func:`pdstats.simulate.study` (a Generator, as the runner passes, stands
        for its SeedSequence: ``default_rng(s)`` builds the same world as the seed ``s``).
    **knobs
        Passed to :func:`pdstats.simulate.study` (e.g. ``years``).

    Examples
    --------
    >>> w = study_world(3, n_states=1, n_districts=2, years=(2005, 2006))
    >>> {"teacher_id", "effect"} <= set(w.truth.columns), round(w.slope, 1)
    (True, 1.0)
    """
    import pdstats as pds

    sim = pds.simulate.study(random_state=random_state, progress=False, **knobs)
    af = pds.vam.analysis_file(sim.tables["enrollments"], sim.tables["student_scores"])
    af["level"] = np.where(af["grade"] >= 6, "middle", "elementary")
    st = sim.truth.state_tests
    st = st.assign(scale=np.sqrt(st["naep_sd"] ** 2
                                 + st["ref_sd"] ** 2 * (1 - st["reliability"]) / st["reliability"]))
    eff = sim.truth.effects
    keys = ["year", "subject"]
    info = (af.groupby(["teacher_id", *keys])
            .agg(grade=("grade", "first"), school_id=("school_id", "first"),
                 district_id=("district_id", "first"), state=("state", "first")).reset_index())

    def part(level: str, col: str, name: str) -> pd.DataFrame:
        return eff[eff["level"] == level][["unit_id", *keys, "effect"]].rename(
            columns={"unit_id": col, "effect": name})

    truth = (info.merge(part("teacher", "teacher_id", "teacher"), on=["teacher_id", *keys])
             .merge(part("school", "school_id", "school"), on=["school_id", *keys])
             .merge(part("district", "district_id", "district"), on=["district_id", *keys])
             .merge(st[["state", "year", "grade", "subject", "scale"]],
                    on=["state", "year", "grade", "subject"]))
    truth["effect"] = (truth["teacher"] + truth["school"] + truth["district"]) / truth["scale"]
    # true slope on the standardized observed prior (growth persistence 1): sd_x / sd_y
    prev = st.assign(year=st["year"] + 1, grade=st["grade"] + 1)[
        ["state", "year", "grade", "subject", "scale"]].rename(columns={"scale": "scale_prior"})
    rows = af.dropna(subset=["score", *PRIORS]).merge(
        st[["state", "year", "grade", "subject", "scale"]], on=["state", "year", "grade", "subject"]
    ).merge(prev, on=["state", "year", "grade", "subject"])
    slope = float(np.mean(rows["scale_prior"] / rows["scale"]))
    return StudyWorld(af, truth[["teacher_id", "year", "subject", "state", "grade", "effect"]], slope)


def compare(effects: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Estimates joined to truth, truth centred at its student-weighted mean per cell.

    Scores are standardized within state x year x grade x subject, which removes the
    cell's mean growth: what the data identify is a teacher's effect relative to the
    (student-weighted) mean effect of her cell, so the truth is centred there.

    Examples
    --------
    >>> eff = pd.DataFrame({"subject": "math", "unit": [1, 2], "year": 2005, "estimate": [0.1, -0.1],
    ...                     "ci_lower": [-0.1, -0.3], "ci_upper": [0.3, 0.1], "n_students": [10, 10]})
    >>> tru = pd.DataFrame({"subject": "math", "teacher_id": [1, 2], "year": 2005, "state": "CA",
    ...                     "grade": 4, "effect": [0.3, 0.1]})
    >>> compare(eff, tru)["truth"].round(3).tolist()
    [0.1, -0.1]
    """
    e = effects.merge(truth, left_on=["subject", "unit", "year"],
                      right_on=["subject", "teacher_id", "year"]).dropna(subset=["estimate"])
    wsum = (e["effect"] * e["n_students"]).groupby([e[c] for c in CELL]).transform("sum")
    e["truth"] = e["effect"] - wsum / e.groupby(CELL)["n_students"].transform("sum")
    e["covered"] = (e["ci_lower"] <= e["truth"]) & (e["truth"] <= e["ci_upper"])
    return e


def value_added_on_study_world(world: StudyWorld, method: str = "cfr", **kw: Any) -> Any:
    """Teacher value-added on a :func:`study_world` by subject and school level.

    Examples
    --------
    >>> w = study_world(3, n_states=1, n_districts=2, years=(2005, 2006))
    >>> value_added_on_study_world(w, "ols", degree=1).method
    'ols'
    """
    import pdstats as pds
    from pdstats.errors import EstimationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        return pds.vam.value_added(world.analysis, "score", prior=PRIORS, unit="teacher_id", year="year",
                                   classroom="class_id", dosage="dosage", method=method,
                                   by=["subject", "level"], progress=False, **kw)


def cfr_on_study_world(world: StudyWorld, rng: np.random.Generator | None = None,
                       degree: int = 3) -> pd.DataFrame:
    """The runner's estimator: CFR teacher effects against the truth, and the forecast test.

    Returns
    -------
    pandas.DataFrame
        One row per teacher-year (``term = "teacher effect"``, with ``level``, ``subject``,
        ``unit``, ``year``, the centred ``truth``) and one ``term = "forecast coefficient"``
        row (truth 1).

    Examples
    --------
    >>> w = study_world(3, n_states=1, n_districts=3, years=(2005, 2006, 2007))
    >>> sorted(cfr_on_study_world(w)["term"].unique())
    ['forecast coefficient', 'teacher effect']
    """
    import pdstats as pds

    res = value_added_on_study_world(world, "cfr", degree=degree)
    e = compare(res.effects, world.truth)
    teachers = e[["subject", "level", "unit", "year", "estimate", "std_error", "ci_lower", "ci_upper",
                  "truth"]].assign(term="teacher effect")
    fb = pds.vam.forecast_bias(res).iloc[0]
    forecast = pd.DataFrame({"term": ["forecast coefficient"], "estimate": [fb["coefficient"]],
                             "std_error": [fb["std_error"]], "ci_lower": [fb["ci_lower"]],
                             "ci_upper": [fb["ci_upper"]], "truth": [1.0]})
    return pd.concat([teachers, forecast], ignore_index=True)
