"""A threshold-assigned teacher bonus on a simulated world, with known truth.

Districts often pay a bonus to teachers whose value-added is above a cut. :func:`threshold_bonus`
builds that program on a simulated study (:func:`pdstats.simulate.study`):

* running variable ``prior_va``: each teacher's first-year value-added as a district would
  measure it - the world's true teacher effect (``sim.truth.effects``, level "teacher") plus
  estimation noise of SD ``noise`` x the SD of the true effects - standardized to mean 0,
  SD 1 across teachers;
* eligibility ``prior_va >= cut``; the bonus is paid to each eligible teacher with
  probability ``takeup`` (1: sharp design; below 1: fuzzy);
* outcome ``growth``: the dosage-weighted mean yearly growth (NAEP points,
  ``sim.truth.achievement``) of the teacher's students in the second year, plus ``effect``
  points for every paid teacher. Adding the effect to a teacher's mean is what the
  simulator would produce if the bonus added ``effect`` to each student's growth
  (dosage-weighted), so the true RD effect is ``effect`` (``attrs["truth"]``).

:func:`rd_world` and :func:`rd_estimates` are the world builder and estimator for
:func:`pdstats.simulate.run`; :func:`rd_power` is simulation-based power of the RD through
the runner. The world switches off the simulator's own programs (``bonus_effect`` and
``p4p_effect`` 0) so the threshold bonus is the only program.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["threshold_bonus", "rd_world", "rd_estimates", "rd_power"]


def threshold_bonus(sim: Any, effect: float = 2.0, cut: float = 0.5, subject: str = "math",
                    noise: float = 0.5, takeup: float = 1.0,
                    random_state: Any = None) -> pd.DataFrame:
    """Teachers of a simulated world with a bonus paid above a value-added cut.

    Parameters
    ----------
    sim : pdstats.simulate.SimulatedStudy
        A world of at least two years.
    effect : float
        True effect of the bonus on the teacher's students' mean yearly growth (NAEP points).
    cut : float
        Cut on the standardized prior value-added.
    subject : str
        Subject whose value-added and growth are used.
    noise : float
        SD of the value-added estimation error, in SDs of the true teacher effects.
    takeup : float
        Probability an eligible teacher is paid (fuzzy design below 1).
    random_state : int, Generator or SeedSequence, optional
        Seed of the estimation noise and take-up draws.

    Returns
    -------
    pandas.DataFrame
        One row per teacher seen in both years: ``teacher_id``, ``prior_va``, ``eligible``,
        ``bonus``, ``growth``, ``n_students``; ``attrs["truth"]`` is ``effect``.

    Examples
    --------
    >>> import warnings, pdstats as pds
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     sim = pds.simulate.study(random_state=3, n_states=1, n_districts=4,
    ...                              years=(2005, 2006), n_comparison=0, progress=False)
    >>> d = threshold_bonus(sim, effect=2.0, cut=0.5, random_state=0)
    >>> bool((d["bonus"] == (d["prior_va"] >= 0.5)).all()), d.attrs["truth"]
    (True, 2.0)
    """
    from pdstats.errors import ModelSpecificationError

    if not 0 < takeup <= 1:
        raise ModelSpecificationError(f"takeup must be in (0, 1], got {takeup!r}")
    rng = np.random.default_rng(random_state)
    years = sorted(sim.truth.achievement["year"].unique())
    if len(years) < 2:
        raise ModelSpecificationError("threshold_bonus needs a world of at least two years")
    y1, y2 = years[0], years[1]
    eff = sim.truth.effects
    va = (eff[(eff["level"] == "teacher") & (eff["year"] == y1) & (eff["subject"] == subject)]
          .groupby("unit_id")["effect"].mean())
    ach = sim.truth.achievement
    ach = ach[ach["subject"] == subject].set_index(["student_id", "year"])["theta"]
    enr = sim.tables["enrollments"]
    enr = enr[(enr["year"] == y2) & (enr["subject"] == subject) & enr["teacher_id"].isin(va.index)]
    prev = ach.reindex(pd.MultiIndex.from_arrays([enr["student_id"], np.full(len(enr), y1)]))
    now = ach.reindex(pd.MultiIndex.from_arrays([enr["student_id"], np.full(len(enr), y2)]))
    g = pd.DataFrame({"teacher_id": enr["teacher_id"].to_numpy(), "w": enr["dosage"].to_numpy(float),
                      "growth": now.to_numpy() - prev.to_numpy()}).dropna()
    g["wg"] = g["w"] * g["growth"]
    by = g.groupby("teacher_id").agg(wg=("wg", "sum"), w=("w", "sum"), n_students=("w", "size"))
    out = pd.DataFrame({"teacher_id": by.index, "growth": (by["wg"] / by["w"]).to_numpy(),
                        "n_students": by["n_students"].to_numpy()})
    true_va = va.reindex(out["teacher_id"]).to_numpy()
    measured = true_va + rng.normal(0.0, noise * np.std(va.to_numpy()), len(out))
    out["prior_va"] = (measured - measured.mean()) / measured.std()
    out["eligible"] = out["prior_va"] >= cut
    out["bonus"] = out["eligible"] & (rng.uniform(size=len(out)) < takeup)
    out["growth"] += effect * out["bonus"]
    out = out[["teacher_id", "prior_va", "eligible", "bonus", "growth", "n_students"]]
    out.attrs["truth"] = float(effect)
    out.attrs["cut"] = float(cut)
    return out.reset_index(drop=True)


def rd_world(rng: np.random.Generator, effect: float = 2.0, cut: float = 0.5,
             n_districts: int = 28, takeup: float = 1.0) -> pd.DataFrame:
    """One world for the validation runner: a one-state, two-year study and its threshold bonus.

    Examples
    --------
    >>> d = rd_world(np.random.default_rng(1), n_districts=4)
    >>> sorted(d.columns)[:3]
    ['bonus', 'eligible', 'growth']
    """
    import pdstats as pds

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = pds.simulate.study(random_state=rng.bit_generator.seed_seq, n_states=1,
                                 n_districts=n_districts, years=(2005, 2006), progress=False,
                                 bonus_effect=0.0, p4p_effect=0.0)
    return threshold_bonus(sim, effect=effect, cut=cut, takeup=takeup, random_state=rng)


def rd_estimates(data: pd.DataFrame, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """The three RD rows of one world, ``term`` = method, with the truth attached.

    Sharp when every eligible teacher is paid, fuzzy otherwise.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=400)
    >>> d = pd.DataFrame({"prior_va": x, "eligible": x >= 0.5, "bonus": x >= 0.5})
    >>> d["growth"] = 10 + 2 * x + 2.0 * d["bonus"] + rng.normal(0, 3, 400)
    >>> d.attrs.update(truth=2.0, cut=0.5)
    >>> rd_estimates(d)["term"].tolist()
    ['conventional', 'bias-corrected', 'robust']
    """
    from pdstats.evaluate.rd import rd

    fuzzy = bool((data["eligible"] != data["bonus"]).any())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rd(data.assign(paid=data["bonus"].astype(int)), "growth", "prior_va",
                 data.attrs["cut"], treatment="paid" if fuzzy else None, density=False)
    out = res.estimates.assign(term=res.estimates["method"])
    out["truth"] = data.attrs["truth"]
    return out[["term", "estimate", "std_error", "ci_lower", "ci_upper", "p_value", "truth"]]


def rd_power(effects: Sequence[float], n_worlds: int = 100, cut: float = 0.5,
             n_districts: int = 28, random_state: int = 0, backend: str = "local",
             progress: bool = False) -> pd.DataFrame:
    """Simulated power of the robust RD test at each effect size (through ``pds.simulate.run``).

    Returns one row per effect: ``effect``, ``power`` (share of worlds whose robust 95%
    test rejects), its Monte Carlo ``mc_se``, the robust ``coverage`` and ``n_worlds``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     p = rd_power([0.0], n_worlds=1, n_districts=4)
    >>> p[["effect", "n_worlds"]].values.tolist()
    [[0.0, 1.0]]
    """
    from functools import partial

    from pdstats.simulate.runner import run

    rows = []
    for i, e in enumerate(effects):
        res = run(rd_estimates, partial(rd_world, effect=float(e), cut=cut, n_districts=n_districts),
                  n_worlds=n_worlds, backend=backend, random_state=random_state + i,
                  progress=progress)
        t = res.estimates[res.estimates["term"] == "robust"].set_index("quantity")
        rows.append({"effect": float(e), "power": float(t.loc["rejection", "estimate"]),
                     "mc_se": float(t.loc["rejection", "std_error"]),
                     "coverage": float(t.loc["coverage", "estimate"]),
                     "n_worlds": float(t.loc["rejection", "n_worlds"])})
    return pd.DataFrame(rows)
