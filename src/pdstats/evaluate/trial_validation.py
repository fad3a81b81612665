"""Known-truth validation of :func:`pdstats.evaluate.randomized` through ``pds.simulate.run``.

* :func:`bonus_trial` simulates one state over 2005-2006 with the engine of
  ``pds.simulate.study`` (world, students, teachers and the randomized teacher bonus,
  without the published aggregate tables, which the trial does not use) and returns
  the bonus as a trial: in one studied district every teacher teaching in 2006 was
  randomized 1:1 (the ``program_adoption`` rows of program ``teacher_bonus``); a
  treated teacher adds ``bonus_effect`` points to her students'
  growth that year. Rows are the students of those teachers in math with one math teacher
  all year (dosage 1; movers are left out) and a prior-year score; the outcome is the
  student's achievement on the harmonized (NAEP-like) scale that year as the world drew
  it (``truth.achievement``, i.e. harmonization taken as exact) and the covariate the
  prior year's. The ITT is then exactly ``bonus_effect``.
* :func:`bonus_estimates` runs :func:`~pdstats.evaluate.randomized` (teachers randomized
  as clusters; prior score as covariate) and returns one runner row per method.

Used by ``tests/evaluate/test_randomized_validation.py`` and
``benchmarks/randomized_validation.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["bonus_estimates", "bonus_trial"]


def bonus_trial(rng: np.random.Generator, bonus_effect: float = 2.0, n_districts: int = 2,
                **knobs: Any) -> pd.DataFrame:
    """The teacher-bonus experiment of one simulated world, as a student-level trial.

    Parameters
    ----------
    rng : numpy.random.Generator
        The world's stream (its SeedSequence is split into the world, the choice of the
        experiment district and the state's students).
    bonus_effect : float
        True effect of the bonus (points on the harmonized scale).
    n_districts : int
        Studied districts of the world (one, drawn at random, holds the experiment).
    **knobs
        Other ``pds.simulate`` knobs (e.g. ``class_size``).

    Returns
    -------
    pandas.DataFrame
        ``student_id``, ``teacher_id``, ``school_id``, ``grade``, ``bonus`` (0/1),
        ``score``, ``prior``; ``attrs["truth"]`` is the true ITT.

    Examples
    --------
    >>> d = bonus_trial(np.random.default_rng(4))
    >>> sorted(d["bonus"].unique().tolist()), d.attrs["truth"]
    ([0, 1], 2.0)
    """
    from pdstats.simulate.achievement import simulate_state
    from pdstats.simulate.params import resolve_params
    from pdstats.simulate.world import build_world

    year = 2006
    p = resolve_params("small", 1, n_districts, (year - 1, year),
                       {"n_comparison": 0, "bonus_effect": bonus_effect, **knobs})
    r_world, r_exp, r_state = (np.random.default_rng(s) for s in rng.bit_generator.seed_seq.spawn(3))
    world = build_world(r_world, p)
    studied = np.flatnonzero(world.districts["studied"].to_numpy())
    chunks = list(simulate_state(world, p, str(world.states["state"].iloc[0]), r_state,
                                 int(r_exp.choice(studied))))
    arms = pd.concat([c.experiment for c in chunks if len(c.experiment)], ignore_index=True)
    en = pd.concat([c.enrollments for c in chunks], ignore_index=True)
    en = en[(en["year"] == year) & (en["subject"] == "math")]
    one = en.groupby("student_id")["teacher_id"].transform("size") == 1
    en = en[one & (en["dosage"] == 1) & en["teacher_id"].isin(arms["unit_id"])]
    ach = pd.concat([c.achievement for c in chunks], ignore_index=True)
    ach = ach[ach["subject"] == "math"].set_index(["student_id", "year"])["theta"]
    out = pd.DataFrame({
        "student_id": en["student_id"].to_numpy(), "teacher_id": en["teacher_id"].to_numpy(),
        "school_id": en["school_id"].to_numpy(), "grade": en["grade"].to_numpy(),
        "bonus": en["teacher_id"].map(arms.set_index("unit_id")["arm"].eq("treatment"))
        .astype(int).to_numpy()})
    out["score"] = ach.reindex(pd.MultiIndex.from_arrays([out["student_id"], np.full(len(out), year)])).to_numpy()
    out["prior"] = ach.reindex(pd.MultiIndex.from_arrays([out["student_id"], np.full(len(out), year - 1)])).to_numpy()
    out = out.dropna(subset=["score", "prior"]).reset_index(drop=True)
    out.attrs["truth"] = float(bonus_effect)
    return out


def bonus_estimates(data: pd.DataFrame, rng: np.random.Generator | None = None,
                    methods: Sequence[str] = ("difference in means", "regression", "multilevel",
                                              "randomization"),
                    n_perm: int = 199) -> pd.DataFrame:
    """ITT of the teacher bonus by each method, as runner rows (``term = "ITT: <method>"``).

    Examples
    --------
    >>> d = bonus_trial(np.random.default_rng(4))
    >>> bonus_estimates(d, methods=["regression"])["term"].tolist()
    ['ITT: regression']
    """
    import pdstats as pds

    seed = None if rng is None else int(rng.integers(2**31))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = pds.evaluate.randomized(data, "score", "bonus", level="teacher", cluster="teacher_id",
                                    covariates="prior", methods=list(methods), n_perm=n_perm,
                                    random_state=seed, progress=False)
    est = r.estimates
    out = est[["estimate", "std_error", "ci_lower", "ci_upper", "df", "p_value"]].copy()
    out.insert(0, "term", "ITT: " + est["method"])
    out["truth"] = data.attrs.get("truth", np.nan)
    return out
