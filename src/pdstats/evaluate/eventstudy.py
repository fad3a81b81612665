"""Heterogeneity-robust event studies: Sun & Abraham (2021) and imputation (Borusyak,
Jaravel & Spiess 2024), both from ``diff_diff`` on a checked panel.

Default inference is the small-sample one (``inference="small_sample"``), because a state
program has a few districts per adoption year and a handful of comparison districts:
Sun & Abraham uses CR2 standard errors with Bell-McCaffrey (Satterthwaite) df of the
aggregated contrast (diff-diff's ``vcov_type="hc2_bm"``, the method of
:func:`pdstats.ols`; checked against it in the tests); imputation uses the
leave-one-out refinement of the conservative variance (Borusyak, Jaravel & Spiess 2024,
Supplementary Appendix A.9; an option of the authors' Stata ``did_imputation``).
``inference="analytic"`` gives the libraries' defaults (HC1 and normal critical values;
Theorem 3 variance without the refinement, as R ``didimputation``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError
from pdstats.evaluate._data import prepare_panel
from pdstats.evaluate.results import EventStudyResult, stat_frame
from pdstats.results import check_level

__all__ = ["sun_abraham", "imputation"]


def _fit(estimator: Any, panel: Any, **kwargs: Any) -> Any:
    work = panel.data.rename(columns={"unit": "u", "time": "t"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return estimator.fit(work, outcome="y", unit="u", time="t", first_treat="g", **kwargs)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ModelSpecificationError(f"{type(estimator).__name__} could not estimate: {exc}") from exc


_INFERENCE = ("small_sample", "analytic")


def _check_inference(inference: str) -> None:
    if inference not in _INFERENCE:
        raise ModelSpecificationError(
            f"inference={inference!r}; choose 'small_sample' or 'analytic'")


def _result(title: str, res: Any, panel: Any, settings: dict[str, object], level: float
            ) -> EventStudyResult:
    eff = pd.DataFrame(res.event_study_effects).T
    eff = eff[eff["se"].astype(float) > 0] if "n_obs" in eff else eff
    eff = eff.sort_index()
    keys = np.asarray(eff.index, dtype=int)
    es_df = getattr(res, "event_study_df", None)  # Bell-McCaffrey df per event time (hc2_bm)
    df = None if not es_df else np.array([es_df.get(k, np.inf) for k in keys], dtype=float)
    all_df = getattr(res, "inference_df", None) if es_df else None
    est = stat_frame({"event_time": keys}, eff["effect"].to_numpy(float), eff["se"].to_numpy(float),
                     None, level, df)
    overall = stat_frame({"term": ["ATT (post-treatment average)"]}, np.array([res.overall_att]),
                         np.array([res.overall_se]), None, level,
                         None if all_df is None else np.array([all_df]))
    vcov = None
    v = getattr(res, "event_study_vcov", None)
    idx = getattr(res, "event_study_vcov_index", None)
    if v is not None and idx is not None:
        pos = {int(k): i for i, k in enumerate(idx)}
        sel = [pos[k] for k in keys if k in pos]
        if len(sel) == len(keys):
            vcov = np.asarray(v, dtype=float)[np.ix_(sel, sel)]
    return EventStudyResult(title, est, overall, vcov, panel.sample_log, settings, level)


def sun_abraham(data: pd.DataFrame, outcome: str, unit: str, time: str, first_treated: str,
                control: str = "never", cluster: str | None = None,
                inference: str = "small_sample", level: float = 0.95) -> EventStudyResult:
    """Sun & Abraham interaction-weighted event study.

    Cohort x relative-period effects from a saturated two-way fixed-effects regression
    (reference period -1), averaged over cohorts with their sample shares.

    Parameters
    ----------
    data, outcome, unit, time, first_treated
        As :func:`staggered_did`.
    control : {"never", "notyet"}
        Never-treated units, or the last-treated cohort, as the comparison.
    cluster : str, optional
        Cluster column (default: the unit).
    inference : {"small_sample", "analytic"}
        CR2 standard errors with Bell-McCaffrey df (default), or cluster-robust HC1 with
        normal critical values (see the module docstring).
    level : float
        Confidence level.

    Returns
    -------
    EventStudyResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(60), 5), "t": np.tile(np.arange(1, 6), 60)})
    >>> d["g"] = np.repeat(np.r_[np.zeros(20), np.full(20, 3), np.full(20, 4)], 5)
    >>> d["y"] = rng.normal(size=300) + 2.0 * ((d.g > 0) & (d.t >= d.g))
    >>> es = pds.evaluate.sun_abraham(d, "y", "id", "t", "g")
    >>> es.estimates["event_time"].tolist()
    [-3, -2, 0, 1, 2]
    """
    from diff_diff import SunAbraham

    level = check_level(level)
    _check_inference(inference)
    panel = prepare_panel(data, outcome, unit, time, first_treated, table="sun_abraham data",
                          control=control, extra=(cluster,) if cluster else ())
    est = SunAbraham(control_group="never_treated" if control == "never" else "not_yet_treated",
                     alpha=1 - level, cluster=cluster,
                     vcov_type="hc2_bm" if inference == "small_sample" else "hc1")
    res = _fit(est, panel)
    return _result("Event study (Sun & Abraham interaction-weighted)", res, panel,
                   {"Comparison": control, "Reference period": -1,
                    "Clusters": cluster or unit,
                    "Inference": "CR2, Bell-McCaffrey df" if inference == "small_sample"
                    else "HC1 (cluster-robust), normal"}, level)


def imputation(data: pd.DataFrame, outcome: str, unit: str, time: str, first_treated: str,
               cluster: str | None = None, horizon_max: int | None = None,
               inference: str = "small_sample", level: float = 0.95) -> EventStudyResult:
    """Imputation event study (Borusyak, Jaravel & Spiess).

    Unit and period effects are fitted on untreated observations only; each treated
    observation's effect is its outcome minus the imputed untreated outcome, averaged
    by event time. Point estimates equal Gardner's two-stage estimator.

    Parameters
    ----------
    data, outcome, unit, time, first_treated
        As :func:`staggered_did`.
    cluster : str, optional
        Cluster column (default: the unit).
    horizon_max : int, optional
        Largest event time reported.
    inference : {"small_sample", "analytic"}
        Conservative variance with the leave-one-out refinement (default), or without it
        (R ``didimputation``); see the module docstring.
    level : float
        Confidence level.

    Returns
    -------
    EventStudyResult

    Examples
    --------
    >>> import numpy as np, pdstats as pds
    >>> from pdstats.evaluate.validation import exposure_world
    >>> d = exposure_world(np.random.default_rng(0), slope=0.0)  # cohorts 3, 5, 7 of 8 years
    >>> d["outcome"] += 2.0 * (d["year"] >= d["first_treated_year"])
    >>> es = pds.evaluate.imputation(d, "outcome", "unit_id", "year", "first_treated_year")
    >>> es.estimates["event_time"].tolist(), round(float(es.overall["estimate"].iloc[0]))
    ([0, 1, 2, 3, 4, 5], 2)
    """
    from diff_diff import ImputationDiD

    level = check_level(level)
    _check_inference(inference)
    panel = prepare_panel(data, outcome, unit, time, first_treated, table="imputation data",
                          control="notyet", extra=(cluster,) if cluster else ())
    est = ImputationDiD(alpha=1 - level, cluster=cluster, horizon_max=horizon_max,
                        leave_one_out=inference == "small_sample")
    res = _fit(est, panel, aggregate="event_study")
    return _result("Event study (imputation, Borusyak-Jaravel-Spiess)", res, panel,
                   {"Comparison": "not-yet-treated observations", "Clusters": cluster or unit,
                    "Inference": "conservative variance, leave-one-out refinement"
                    if inference == "small_sample" else "conservative variance (Theorem 3)"},
                   level)
