"""Known-truth validation of the evaluate family through ``pds.simulate.run``.

* :func:`p4p_world` builds a simulated study of at least six years (one state, 28
  studied + 8 comparison districts, staggered district pay for performance) and returns
  its district panel of mean yearly growth on the linked scale (``pds.evaluate.panel``),
  where the true effect is ``p4p_effect`` in every treated district-year;
* :func:`did_estimates` fits Callaway & Sant'Anna (simple ATT), the imputation and Sun &
  Abraham averages (default small-sample inference, and ``"(analytic)"`` rows with the
  libraries' analytic inference) and TWFE on one panel (``estimator`` for the runner);
* :func:`exposure_world` is a small panel whose effect grows with exposure (TWFE's bias).

Used by ``tests/evaluate/test_validation.py`` and ``benchmarks/evaluate_validation.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["p4p_world", "did_estimates", "exposure_world", "TERMS"]

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
                                 p4p_school_share=p4p_school_share)
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
