"""``practice_growth``: do districts further along the stage matrix raise achievement faster?

Four models, one result class (:class:`~pdstats.linkage.results.LinkageResult`):

``"district"``
    District x year x grade growth on the linked scale, as a V-known meta-regression
    (``pds.lmm(known_variance=...)``): the growth estimates' sampling variances known,
    fixed effects for state x year x grade cells (which absorb the state-level NAEP,
    linking and interpolation errors; a handful of states cannot support a state
    variance), a district and a district-by-year random effect; CR2 clustered by
    district. Growth is matched growth (the students in the district in both years) when
    the study has student tables, so the estimand is the per-student effect; on an
    aggregate-only study it is cohort growth of district means, whose estimand is the
    effect on mean growth, diluted by mobility (entrants carry none of the district's past
    practice effect): the effect row is flagged ``composition-diluted`` and
    ``benchmarks/linkage_oracle.py`` shows the size of the dilution.
``"student"``
    Students' yearly gains on the linked scale (:mod:`pdstats.linkage.students`): gains
    (occasions) within schools, with a school random intercept, the same cell fixed effects,
    and districts as the clusters of CR2. The district's score of that year is the effect on
    the yearly growth rate (the practice x time interaction of a growth-curve model under
    pure-gain persistence). A student random intercept is left out: with at most two gains
    per student it is barely identified, and leaving it out changed the default world's
    estimate by less than 0.001 points while making the fit 55 times faster.
``"within"``
    District fixed effects: does a change in a district's score go with a change in its
    growth? Over three years such changes are mostly measurement error, so the model is
    descriptive: its conditional reliability is reported and the row is flagged unless
    the reliability is at least 0.5.
``"value_added"``
    District-year value-added from :func:`pdstats.vam.value_added` (``method="ols"``,
    unshrunk covariate-adjusted means, by state and grade) with their sampling variances
    as known variances, in the same meta-regression as ``"district"`` - never
    empirical-Bayes estimates as an outcome. The prior score is corrected for its
    measurement error with the students' CSEMs (``csem=``) when ``student_scores`` has
    them: with an error-prone prior the prior slope falls below 1 and part of a district's
    past practice effect, carried in its students' prior scores, is credited to the
    current year.

Every score effect is corrected for measurement error in the practice score by the
conditional reliability (:mod:`pdstats.linkage.measurement`), with the naive estimate in
``.naive``; effects are per SD of the error-free score among year-1 districts.

Inference. ``"cr2"`` (the only option): CR2 standard errors with Bell-McCaffrey df,
clustered by district - deterministic, fast, and validated for size and coverage with 28
districts (the README). The wild cluster bootstrap is not offered here: its interval would
have to be carried through the measurement-error correction, and it has not been
validated for these models; ``inference="wild"`` raises an error pointing at ``"cr2"``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.linkage.measurement import conditional_reliability, true_score_sd
from pdstats.linkage.panel import PanelResult, analysis_panel, read_tables
from pdstats.linkage.results import LinkageResult
from pdstats.linkage.scores import INDEX
from pdstats.results import SampleLog, add_ci, check_level

__all__ = ["MODELS", "practice_growth"]

MODELS = ("district", "student", "within", "value_added")
_INFERENCE = ("cr2",)
#: Fewer districts than this: a warning that only few-cluster inference is left.
MIN_CLUSTERS = 10


def _design_z(data: pd.DataFrame, covariates: list[str], district_fe: bool) -> np.ndarray:
    parts = [pd.get_dummies(data["cell"], dtype=float).to_numpy()]
    if district_fe:
        parts.append(pd.get_dummies(data["district_id"], dtype=float).to_numpy()[:, 1:])
    if covariates:
        parts.append(data[covariates].to_numpy(float))
    return np.column_stack(parts)


def _fit_one(data: pd.DataFrame, outcome: str, var: str | None, covariates: list[str],
             model: str) -> tuple[pd.Series, Any]:
    """Fit the model for the score in column ``score``; return its naive row and the fit."""
    import pdstats as pds

    rhs = " + ".join(["cell", "score", *covariates])
    if model in ("district", "value_added"):
        fit = pds.lmm(f"{outcome} ~ {rhs} + (1 | district_id) + (1 | district_year)", data,
                      known_variance=var)
        row = fit.cr2(cluster="district_id").loc["score"]
    elif model == "student":
        # a student who changes district starts a new spell, so students nest in districts
        data = data.assign(student_spell=data["student_id"].astype(str) + ":" + data["district_id"].astype(str))
        fit = pds.lmm(f"{outcome} ~ {rhs} + (1 | school_id)", data)
        row = fit.cr2(cluster="district_id").loc["score"]
    else:  # within
        # district dummies less one per state (the state is already in the cells)
        first = data.groupby("state")["district_id"].transform("min")
        data = data.assign(district_fe=np.where(data["district_id"] == first, "0_reference", data["district_id"]))
        fit = pds.ols(f"{outcome} ~ {rhs} + C(district_fe)", data, cluster="district_id")
        row = fit.estimates.set_index("term").loc["score"]
    row = row[["estimate", "std_error", "df", "p_value"]].astype(float)
    return row, fit


def _gls_covariance(fit: Any, data: pd.DataFrame, var: str | None,
                    model: str) -> tuple[np.ndarray | None, list[tuple[np.ndarray, float]]]:
    """Row weights (inverse residual variances) and random intercepts of the fitted model."""
    if model == "within":
        return None, []
    vc = fit.varcomp.set_index("group")["estimate"]
    if model == "student":
        return (np.full(len(data), 1.0 / float(vc["Residual"])),
                [(data["school_id"].to_numpy(), float(vc.get("school_id", 0.0)))])
    return (1.0 / data[var].to_numpy(float),
            [(data[g].to_numpy(), float(vc.get(g, 0.0))) for g in ("district_id", "district_year")])


def _holm_bh(p: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.multitest import multipletests

    ok = p.notna().to_numpy()
    holm = np.full(len(p), np.nan)
    bh = np.full(len(p), np.nan)
    if ok.any():
        holm[ok] = multipletests(p[ok], method="holm")[1]
        bh[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return holm, bh


def _model_data(panel: PanelResult, model: str, log: SampleLog, random_state: Any,
                progress: bool) -> tuple[pd.DataFrame, str, str | None]:
    """Rows of the model, its outcome column and known-variance column."""
    if model in ("district", "within"):
        return panel.data.copy(), "growth", ("var_growth" if model == "district" else None)
    from pdstats.linkage.students import student_gains

    t = dict(panel.tables)
    t.update(read_tables(panel.source, ("student_scores", "enrollments")))
    gains = student_gains(t, panel.means, panel.subject, log)
    keep = panel.data[["district_id", "year", "practice_index", "practice_index_se", "p4p", "naep_sd"]]
    keep = keep.drop_duplicates(["district_id", "year"])
    gains = gains.merge(keep, on=["district_id", "year"], how="inner")
    gains["cell"] = gains["state"].astype(str) + ":" + gains["year"].astype(str) + ":" + gains["grade"].astype(str)
    if model == "student":
        return gains, "gain", None
    import pdstats as pds

    with warnings.catch_warnings():  # vam's note on class vs unit effects concerns its EB variance only
        warnings.filterwarnings("ignore", message="eb: no unit has two classes", category=EstimationWarning)
        # the prior's measurement error would credit part of a district's past practice effect to the
        # current year (a prior slope below 1); pds.vam corrects it with the scores' CSEMs where known
        no_csem = int(gains["prior_csem"].isna().sum())
        csem = {"prior": "prior_csem"} if no_csem == 0 else None
        if no_csem:
            warnings.warn(f"value_added: {no_csem} of {len(gains)} student gains have no prior-score "
                          "CSEM (table 'student_scores', column 'csem'): the prior's measurement-error "
                          "correction is off for every student", EstimationWarning, stacklevel=3)
        va = pds.vam.value_added(gains, "score", prior="prior", unit="district_id", year="year", method="ols",
                                 by=["state", "grade"], by_year=True, absorb_unit=False, degree=1, csem=csem,
                                 random_state=random_state, progress=progress)
    eff = va.effects.rename(columns={"unit": "district_id"}).astype({"district_id": str, "year": int})
    eff = eff.dropna(subset=["estimate", "std_error"])
    eff = eff[eff["std_error"] > 0]
    eff["var_va"] = eff["std_error"] ** 2
    eff = eff.rename(columns={"estimate": "va"})[["district_id", "state", "grade", "year", "va", "var_va"]]
    eff = eff.merge(keep, on=["district_id", "year"], how="inner")
    eff["cell"] = eff["state"].astype(str) + ":" + eff["year"].astype(str) + ":" + eff["grade"].astype(str)
    return eff, "va", "var_va"


def _score_columns(panel: PanelResult, scores: str) -> list[tuple[str, str]]:
    s = panel.scores
    if scores == "index":
        return [("index", INDEX)]
    if scores != "all":
        raise ModelSpecificationError(f"scores must be 'index' or 'all', got {scores!r}")
    kinds = s[["kind", "score"]].drop_duplicates()
    order = {"index": 0, "practice": 1, "group": 2}
    kinds = kinds.assign(o=kinds["kind"].map(order)).sort_values("o", kind="stable")
    return list(kinds[["kind", "score"]].itertuples(index=False, name=None))


def practice_growth(study: Any, model: str = "district", subject: str = "math", scores: str = "index",
                    inference: str = "cr2", correction: bool = True, covariates: tuple[str, ...] = ("p4p",),
                    level: float = 0.95, random_state: int | np.random.Generator | None = 0,
                    progress: bool = True) -> LinkageResult:
    """Estimate the link between practice scores and achievement growth.

    Parameters
    ----------
    study : pdstats.Study, simulated study, dict of tables, or PanelResult
        The study (see :func:`~pdstats.linkage.analysis_panel`), or a panel already built.
    model : {"district", "student", "within", "value_added"}
        See the module docstring.
    subject : str
        "math" or "reading" (ignored when a panel is passed).
    scores : {"index", "all"}
        The practice index only, or also each of the 12 practices and 5 groups (one model
        per score; Holm and Benjamini-Hochberg p-values across the 12 practices).
    inference : {"cr2"}
        CR2 + Bell-McCaffrey df, clustered by district (validated: see the README). The
        wild cluster bootstrap is not validated for these models and is refused.
    correction : bool
        Errors-in-variables correction by the conditional reliability (default on); the
        naive estimates are always in ``.naive``.
    covariates : tuple of str
        District-year covariates beside the cell fixed effects (panel columns: ``p4p``,
        ``pct_frl``, ``pct_lep``, ``log_enrollment``).
    level : float
        Confidence level of the intervals.
    random_state : int or numpy.random.Generator, optional
        Seeds the value-added model.
    progress : bool
        Progress bars.

    Returns
    -------
    LinkageResult

    Examples
    --------
    >>> import pdstats as pds
    >>> sim = pds.simulate.study(random_state=0, progress=False)  # doctest: +SKIP
    >>> fit = pds.linkage.practice_growth(sim, model="district", progress=False)  # doctest: +SKIP
    >>> fit.effect()["estimate"] > 0  # doctest: +SKIP
    True
    """
    if model not in MODELS:
        raise ModelSpecificationError(f"model must be one of {MODELS}, got {model!r}")
    if inference == "wild":
        raise ModelSpecificationError(
            "inference='wild' is not available in pds.linkage: the wild cluster bootstrap has not been validated "
            "for the practice-growth models (its interval would also have to carry the measurement-error "
            "correction); use inference='cr2' (CR2 with Bell-McCaffrey df by district, validated for size and "
            "coverage in src/pdstats/linkage/README.md)")
    if inference not in _INFERENCE:
        raise ModelSpecificationError(f"inference must be one of {_INFERENCE}, got {inference!r}")
    level = check_level(level)
    panel = study if isinstance(study, PanelResult) else analysis_panel(study, subject=subject)
    covariates = list(covariates)
    missing = [c for c in covariates if c not in panel.data.columns]
    if missing:
        raise ModelSpecificationError(f"covariates {missing} are not panel columns")
    log = SampleLog(n_in=panel.sample_log.n_in, dropped=dict(panel.sample_log.dropped),
                    unit=panel.sample_log.unit)
    data, outcome, var = _model_data(panel, model, log, random_state, progress)
    if model in ("student", "value_added"):
        log = SampleLog(n_in=len(data), unit="student gains" if model == "student" else "district-year VA estimates")
    data["district_year"] = data["district_id"].astype(str) + ":" + data["year"].astype(str)
    n_clusters = int(data["district_id"].nunique())
    notes = []
    if n_clusters < MIN_CLUSTERS:
        msg = (f"only {n_clusters} districts: few-cluster inference (CR2 with Bell-McCaffrey df) "
               "is all that is left, and intervals are wide")
        warnings.warn(msg, EstimationWarning, stacklevel=2)
        notes.append(msg)
    if n_clusters < 3:
        raise ModelSpecificationError(f"{n_clusters} districts: too few to estimate a district-level link")

    # the SD of the error-free score among year-1 districts (one row per district)
    first = int(panel.scores["year"].min())
    student_sd = float(panel.data["naep_sd"].mean())
    rows, naive_rows, att = [], [], []
    fit_index = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for kind, name in _score_columns(panel, scores):
            _one_score(panel, data, kind, name, first, covariates, model, var, outcome, correction, student_sd,
                       rows, naive_rows, att)
    seen = set()
    for w in caught:
        key = (w.category, str(w.message))
        if key not in seen:
            seen.add(key)
            warnings.warn(w.message, w.category, stacklevel=2)
    index_rows = [r for r in att if "_fit" in r]
    if not index_rows:
        raise ModelSpecificationError("the practice index has no variation: nothing to estimate")
    fit_index, data_index = index_rows[0].pop("_fit"), index_rows[0].pop("_data")
    if model in ("district", "within") and panel.growth_kind == "cohort":
        msg = ("cohort growth of district means (growth='cohort' or no student tables): composition-diluted - "
               "entrants carry none of "
               "the district's past practice effect, so the effect on mean growth is below the per-student effect")
        notes.append(msg)
        rows = [{**r, "flag": "; ".join(x for x in (r.get("flag", ""), "composition-diluted") if x)} for r in rows]
    for r in att:
        r.pop("_fit", None)
        r.pop("_data", None)
    # covariate rows from the index model
    cov_tab = _covariate_rows(fit_index, covariates, model)
    est = _finish(pd.DataFrame(rows), cov_tab, level)
    naive_df = _finish(pd.DataFrame(naive_rows), cov_tab, level)
    log_used = len(data_index)
    if log.n_used != log_used:  # rows of the score merge (district-years without that score)
        log.drop("no practice-index score for the district-year", log.n_used - log_used)
    vc = fit_index.varcomp if hasattr(fit_index, "varcomp") else None
    return LinkageResult(model, panel.subject, inference, est, naive_df, pd.DataFrame(att), student_sd,
                         n_clusters, log, vc, fit_index, notes)


def _one_score(panel: PanelResult, data: pd.DataFrame, kind: str, name: str, first: int, covariates: list[str],
               model: str, var: str | None, outcome: str, correction: bool, student_sd: float, rows: list,
               naive_rows: list, att: list) -> None:
    """Fit the model for one score and append its corrected, naive and attenuation rows."""
    s = panel.scores[(panel.scores["kind"] == kind) & (panel.scores["score"] == name)]
    y1 = s[s["year"] == first]
    sd, sd_var = true_score_sd(y1["value"], y1["se"], y1["district_id"])
    d = data.drop(columns=["score", "score_se"], errors="ignore").merge(
        s[["district_id", "year", "value", "se"]].rename(columns={"value": "score", "se": "score_se"}),
        on=["district_id", "year"], how="inner")
    if d["score"].std() == 0 or not np.isfinite(sd):
        naive_rows.append({"term": name, "kind": kind})
        rows.append({"term": name, "kind": kind, "flag": "score without true variation"})
        return
    row, fit = _fit_one(d, outcome, var, covariates, model)
    weights, random = _gls_covariance(fit, d, var, model)
    rel = conditional_reliability(d["score"], d["score_se"], _design_z(d, covariates, model == "within"),
                                  d["district_year"], d["district_id"], weights, random)
    b, se_b = row["estimate"], row["std_error"]
    naive = {"term": name, "kind": kind, "estimate": b * sd, "std_error": se_b * sd, "df": row["df"],
             "p_value": row["p_value"]}
    corr_b = b / rel.value
    var_c = se_b**2 / rel.value**2 + b**2 * rel.inverse_variance
    corr = {"term": name, "kind": kind, "estimate": corr_b * sd,
            "std_error": float(np.sqrt(var_c * sd**2 + corr_b**2 * sd_var)), "df": row["df"],
            "p_value": row["p_value"]}
    out = corr if correction else naive
    flag = ""
    if not rel.value > 0.05:
        corr = {**corr, "estimate": np.nan, "std_error": np.nan}
        out = naive
        flag = f"naive: conditional reliability {rel.value:.2f}, correction not determined"
    if model == "within" and rel.value < 0.5:
        out = naive
        flag = f"descriptive (naive): conditional reliability {rel.value:.2f}"
    rows.append({**out, "flag": flag})
    naive_rows.append(naive)
    att.append({"term": name, "kind": kind, "naive": naive["estimate"], "corrected": corr["estimate"],
                "conditional_reliability": rel.value, "marginal_reliability": rel.marginal, "sd_true": sd,
                "estimate_student_sd": (out["estimate"] / student_sd),
                **({"_fit": fit, "_data": d} if kind == "index" else {})})


def _covariate_rows(fit: Any, covariates: list[str], model: str) -> pd.DataFrame:
    if not covariates:
        return pd.DataFrame()
    if model == "within":
        tab = fit.estimates.set_index("term")
    else:
        tab = fit.cr2(cluster="district_id")
    tab = tab.loc[[c for c in covariates if c in tab.index], ["estimate", "std_error", "df", "p_value"]]
    return tab.reset_index().assign(kind="covariate")


def _finish(rows: pd.DataFrame, cov: pd.DataFrame, level: float) -> pd.DataFrame:
    est = pd.concat([rows, cov], ignore_index=True)
    for c in ("estimate", "std_error", "df", "p_value"):
        if c not in est:
            est[c] = np.nan
    if "flag" not in est:
        est["flag"] = ""
    est["flag"] = est["flag"].fillna("")
    add_ci(est, level)
    prac = est["kind"] == "practice"
    est["p_holm"] = np.nan
    est["p_bh"] = np.nan
    if prac.any():
        holm, bh = _holm_bh(est.loc[prac, "p_value"])
        est.loc[prac, "p_holm"] = holm
        est.loc[prac, "p_bh"] = bh
    cols = ["term", "kind", "estimate", "std_error", "df", "ci_lower", "ci_upper", "p_value", "p_holm", "p_bh",
            "flag"]
    return est[cols].reset_index(drop=True)
