"""Known-truth validation of the evaluate family through ``pds.simulate.run``.

* :func:`p4p_world` builds a simulated study of at least six years (one state, 28
  studied + 8 comparison districts, staggered district pay for performance adopted from
  the third year on, so that every cohort has a pre-period in growth) and returns
  its district panel of mean yearly growth on the linked scale (``pds.evaluate.panel``),
  where the true effect is ``p4p_effect`` in every treated district-year;
* :func:`did_estimates` fits Callaway & Sant'Anna (simple ATT), the imputation and Sun &
  Abraham averages (default small-sample inference, and ``"(analytic)"`` rows with the
  libraries' analytic inference) and TWFE on one panel (``estimator`` for the runner);
* :func:`exposure_world` is a small panel whose effect grows with exposure (TWFE's bias);
* :func:`normal_world` is a panel with the pay-for-performance worlds' adoption design and
  normal errors (no effect): the size of the tests on their own, free of the simulator.

Used by ``tests/evaluate/test_validation.py`` and ``benchmarks/evaluate_validation.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["p4p_world", "did_estimates", "exposure_world", "normal_world", "TERMS"]

TERMS = ("CS simple ATT", "imputation ATT", "Sun-Abraham ATT", "TWFE",
         "CS simple ATT (analytic)", "imputation ATT (analytic)", "Sun-Abraham ATT (analytic)")


def p4p_world(rng: np.random.Generator, years: int = 6, p4p_effect: float = 3.0,
              n_districts: int = 28, p4p_school_share: float = 0.25) -> pd.DataFrame:
    """District panel of one simulated world (outcome: mean yearly growth, NAEP scale).

    Examples
    --------
    >>> d = p4p_world(np.random.default_rng(1), years=3, n_districts=6)
    >>> sorted(d["year"].unique().tolist())
    [2006, 2007]
    """
    import pdstats as pds

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = pds.simulate.study(random_state=rng.bit_generator.seed_seq, n_states=1,
                                 n_districts=n_districts, years=tuple(range(2005, 2005 + years)),
                                 progress=False, p4p_effect=p4p_effect,
                                 p4p_school_share=p4p_school_share,
                                 p4p_years=tuple(range(2007, 2005 + years)))
        p = pds.evaluate.panel(sim.to_study())
    return p.data


def did_estimates(data: pd.DataFrame, rng: np.random.Generator | None = None,
                  terms: tuple[str, ...] = TERMS) -> pd.DataFrame:
    """The family's overall effects on one panel, as rows ``term``, ``estimate``, ...

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = exposure_world(rng, slope=0.0)
    >>> did_estimates(d, terms=("TWFE",))["term"].tolist()
    ['TWFE']
    """
    import pdstats as pds

    args = (data, "outcome", "unit_id", "year", "first_treated_year")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {
            "CS simple ATT": lambda inf: pds.evaluate.staggered_did(
                *args, n_boot=0, inference=inf).aggregate("simple").overall,
            "imputation ATT": lambda inf: pds.evaluate.imputation(*args, inference=inf).overall,
            "Sun-Abraham ATT": lambda inf: pds.evaluate.sun_abraham(*args,
                                                                    inference=inf).overall}
        for term in TERMS:
            if term not in terms:
                continue
            if term == "TWFE":
                d = data.assign(treated=((data["first_treated_year"].fillna(0) > 0)
                                         & (data["year"] >= data["first_treated_year"].fillna(0)))
                                .astype(int))
                rows.append(pds.evaluate.twfe(d, "outcome", "treated", "unit_id", "year").estimates)
            else:
                name, _, analytic = term.partition(" (")
                rows.append(fits[name]("analytic" if analytic else "small_sample"))
    out = pd.concat(rows, ignore_index=True)
    out["term"] = [t for t in TERMS if t in terms]
    return out[["term", "estimate", "std_error", "ci_lower", "ci_upper", "p_value"]]


def exposure_world(rng: np.random.Generator, n_units: int = 60, years: int = 8,
                   slope: float = 1.0) -> pd.DataFrame:
    """Panel whose effect is ``slope * (exposure + 1)`` (grows with years treated).

    Cohorts adopt in years 3, 5 and 7 (a quarter of units each) and a quarter never does;
    the true simple ATT (R did's weights) is returned in ``attrs["truth"]``.

    Examples
    --------
    >>> d = exposure_world(np.random.default_rng(0))
    >>> round(d.attrs["truth"], 3)
    2.833
    """
    g = np.repeat([0, 3, 5, 7], n_units // 4)
    t = np.arange(1, years + 1)
    d = pd.DataFrame({"unit_id": np.repeat(np.arange(len(g)), years), "year": np.tile(t, len(g)),
                      "first_treated_year": np.repeat(np.where(g > 0, g, np.nan), years)})
    gg = np.repeat(g, years)
    exposure = np.where((gg > 0) & (d["year"] >= gg), d["year"] - gg + 1, 0)
    d["outcome"] = (rng.normal(size=len(g))[d["unit_id"]] + 0.2 * d["year"]
                    + slope * exposure + rng.normal(size=len(d)))
    post = exposure > 0
    d.attrs["truth"] = float(np.mean(slope * exposure[post]))  # simple ATT: equal cell weights
    return d


def normal_world(rng: np.random.Generator, n_never: int = 8, ma: float = 0.0) -> pd.DataFrame:
    """Panel with the p4p worlds' design, unit effects and normal errors; no program effect.

    Outcome years 2006-2010; cohorts of 4 districts adopting in 2007 and 2008 and of 3 in
    2009 and 2010 (as :func:`p4p_world`'s 14 adopters), and ``n_never`` never-treated
    districts. The errors are MA(1) with coefficient ``ma`` (a negative one is the serial
    correlation that score measurement error gives yearly growth).

    Examples
    --------
    >>> d = normal_world(np.random.default_rng(0))
    >>> d.groupby("first_treated_year", dropna=False)["unit_id"].nunique().tolist()
    [4, 4, 3, 3, 8]
    """
    g = np.r_[np.full(n_never, np.nan), np.repeat([2007, 2008, 2009, 2010], [4, 4, 3, 3])]
    years = np.arange(2006, 2011)
    e = rng.normal(size=(len(g), len(years) + 1))
    y = rng.normal(size=len(g))[:, None] + e[:, 1:] + ma * e[:, :-1]
    return pd.DataFrame({"unit_id": np.repeat(np.arange(len(g)), len(years)),
                         "year": np.tile(years, len(g)),
                         "first_treated_year": np.repeat(g, len(years)), "outcome": y.ravel()})
