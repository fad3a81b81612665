"""Randomized trials: ``pds.evaluate.randomized``.

Intention-to-treat (ITT) effects of an assignment randomized to students, teachers or
schools (individually, by cluster, within blocks), each row a ``method``:

* ``"difference in means"`` - design-based (:mod:`pdstats.evaluate.design_based`, the
  estimators of R's ``estimatr::difference_in_means``);
* ``"regression"`` - least squares on the assignment with block fixed effects and
  baseline covariates, HC2 (individual) or CR2 (cluster) standard errors and
  Bell-McCaffrey df (``pds.ols``; R's ``estimatr::lm_robust``);
* ``"multilevel"`` - a random intercept for the randomized cluster (``pds.lmm``) with
  the same fixed part, CR2 standard errors by cluster (``LMMResult.cr2``);
* ``"randomization"`` - the regression coefficient's randomization distribution under
  the sharp null, re-drawing the assignment as it was made (within blocks, whole
  clusters; :func:`pdstats.inference.randomization_test`), with the interval that
  inverts the test under a constant effect; ``std_error`` is the SD of the re-drawn
  coefficients.

With ``takeup`` (the share of the treatment a unit actually received, 0-1), the
effect on those treated (``term = "effect on the treated"``) is the two-stage least
squares estimate instrumenting take-up by assignment (linearmodels' ``IV2SLS``;
Angrist, Imbens & Rubin 1996), clustered (Stata's CR1, ``G - 1`` df) or HC1, and
``term = "take-up (first stage)"`` is the design-based difference in take-up.

A balance table (:attr:`RandomizedResult.balance`) compares baseline covariates across
arms: difference (with block fixed effects and the design's robust SE) and standardized
difference (divided by the pooled within-arm SD of the covariate, as the WWC's baseline
equivalence standard).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from pdstats._inputs import (
    as_bool,
    as_numeric,
    drop_missing,
    refuse,
    require_columns,
    require_frame,
)
from pdstats.errors import EstimationWarning, ModelSpecificationError
from pdstats.evaluate.design_based import difference_in_means
from pdstats.evaluate.randomized_results import RandomizedResult, pooled_sd
from pdstats.results import check_level

__all__ = ["LEVELS", "METHODS", "randomized"]

#: Levels at which a treatment can be randomized.
LEVELS = ("student", "teacher", "school")
#: ITT methods of :func:`randomized`.
METHODS = ("difference in means", "regression", "multilevel", "randomization")
_TABLE = "randomized trial data"


def _columns(argument: str, value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    vals = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) for v in vals):
        raise ModelSpecificationError(f"argument {argument!r} must name columns, got {value!r}")
    return vals


def _check_design(work: pd.DataFrame, treatment: str, blocks: str | None, cluster: str | None,
                  positions: np.ndarray) -> None:
    """Refuse assignments that cannot come from the stated design (rows named)."""
    if cluster is not None:
        spread = work.groupby("_c", sort=False)["_d"].transform("nunique").to_numpy()
        bad = np.flatnonzero(spread > 1)
        if len(bad):
            n_cl = work.loc[work.index[bad], "_c"].nunique()
            raise refuse(_TABLE, treatment,
                         f"constant within cluster {cluster!r} (the clusters were randomized "
                         f"as a whole; {n_cl} cluster(s) mix treated and control rows)",
                         positions[bad])
        if blocks is not None:
            nb = work.groupby("_c", sort=False)["_b"].transform("nunique").to_numpy()
            bad = np.flatnonzero(nb > 1)
            if len(bad):
                raise refuse(_TABLE, blocks, f"constant within cluster {cluster!r} (clusters are "
                             "nested in blocks)", positions[bad])
    unit = "_c" if cluster is not None else "_row"
    groups = work.assign(_row=np.arange(len(work))).groupby(
        "_b" if blocks is not None else np.zeros(len(work), int), sort=True)
    arms = groups.apply(lambda g: pd.Series({
        "treated": g.loc[g["_d"] == 1, unit].nunique(),
        "control": g.loc[g["_d"] == 0, unit].nunique()}), include_groups=False)
    one_arm = arms.index[(arms["treated"] == 0) | (arms["control"] == 0)]
    where = "" if blocks is None else f" in every block of {blocks!r}"
    if len(one_arm):
        in_bad = np.flatnonzero(work["_b"].isin(one_arm).to_numpy()) if blocks is not None \
            else np.arange(len(work))
        which = "" if blocks is None else f" (block(s) {', '.join(map(str, one_arm[:5]))}" + \
            (f" and {len(one_arm) - 5} more" if len(one_arm) > 5 else "") + ")"
        raise refuse(_TABLE, treatment, f"both arms{where}: some have only treated or only "
                     f"control units{which}", positions[in_bad])
    pairs = (arms["treated"] == 1) & (arms["control"] == 1)
    singles = ((arms["treated"] == 1) | (arms["control"] == 1)) & ~pairs
    if singles.any() or (blocks is None and pairs.any()):
        bad_b = arms.index[singles | (pairs if blocks is None else False)]
        in_bad = np.flatnonzero(work["_b"].isin(bad_b).to_numpy()) if blocks is not None \
            else np.arange(len(work))
        raise refuse(_TABLE, treatment, f"at least two {'clusters' if cluster else 'units'} "
                     f"per arm{where} unless every block is a matched pair", positions[in_bad])


def randomized(data: pd.DataFrame, outcome: str, treatment: str, level: str = "student",
               blocks: str | None = None, cluster: str | None = None,
               covariates: str | Sequence[str] | None = None, takeup: str | None = None,
               balance: str | Sequence[str] | None = None,
               methods: Sequence[str] | None = None, n_perm: int = 999,
               conf_level: float = 0.95, random_state: int | np.random.Generator | None = None,
               progress: bool = True) -> RandomizedResult:
    """Intention-to-treat (and take-up) effects of a randomized assignment.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per student (or per randomized unit).
    outcome : str
        Outcome column (e.g. a score on the harmonized scale).
    treatment : str
        Assignment column: 0/1 (or true/false). Constant within ``cluster``.
    level : {"student", "teacher", "school"}
        What was randomized. ``"student"``: the rows, individually (no ``cluster``).
        ``"teacher"``/``"school"``: whole clusters named by ``cluster`` (rows are
        students), or, without ``cluster``, the rows themselves are those units.
    blocks : str, optional
        Column of randomization blocks (strata, e.g. schools within which teachers were
        randomized); every block needs both arms.
    cluster : str, optional
        Column of the randomized units (teacher or school identifiers).
    covariates : str or sequence of str, optional
        Baseline covariates adjusted for in the regression, multilevel and IV methods
        (not in the difference in means).
    takeup : str, optional
        Treatment actually received (0-1 share). Adds the effect on the treated (IV) and
        the first stage.
    balance : str or sequence of str, optional
        Baseline columns of the balance table (default: ``covariates``).
    methods : sequence of str, optional
        ITT methods to run (default: all that apply; "multilevel" needs clusters).
    n_perm : int
        Re-randomizations for the randomization test.
    conf_level : float
        Confidence level of the intervals (``level`` names the randomized unit here).
    random_state : int or numpy.random.Generator, optional
        Seed of the re-randomizations.
    progress : bool
        Progress bar of the randomization test.

    Returns
    -------
    RandomizedResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"teacher": np.repeat(np.arange(30), 12)})
    >>> d["school"] = d["teacher"] // 6
    >>> d["bonus"] = (rng.permuted(np.tile([0, 0, 0, 1, 1, 1], 5)))[d["teacher"]]
    >>> d["prior"] = rng.normal(size=len(d))
    >>> d["score"] = 2 * d["bonus"] + 5 * d["prior"] + rng.normal(size=30)[d["teacher"]] \\
    ...     + rng.normal(size=len(d))
    >>> r = pds.evaluate.randomized(d, "score", "bonus", level="teacher", cluster="teacher",
    ...                             blocks="school", covariates="prior", n_perm=199,
    ...                             random_state=0, progress=False)
    >>> r.estimates["method"].tolist()
    ['difference in means', 'regression', 'multilevel', 'randomization']
    >>> bool(r.estimates.query("method == 'regression'")["ci_lower"].iloc[0] > 0)
    True
    """
    require_frame(data, _TABLE)
    conf_level = check_level(conf_level, "conf_level")
    if level not in LEVELS:
        raise ModelSpecificationError(f"argument 'level' must be one of {list(LEVELS)}, got {level!r}")
    if level == "student" and cluster is not None:
        raise ModelSpecificationError(
            "level='student' randomizes the rows one by one; cluster= is for a teacher- or "
            "school-randomized trial (level='teacher' or 'school')")
    covs = _columns("covariates", covariates)
    bal = _columns("balance", balance) if balance is not None else covs
    keys = [c for c in (blocks, cluster, takeup) if c is not None]
    require_columns(data, [outcome, treatment, *keys, *covs, *bal], _TABLE,
                    "outcome/treatment/blocks/cluster/covariates/takeup/balance")
    chosen = list(METHODS) if methods is None else list(methods)
    unknown = [m for m in chosen if m not in METHODS]
    if unknown or not chosen:
        raise ModelSpecificationError(f"methods must be some of {list(METHODS)}, got {methods!r}")
    if "multilevel" in chosen and cluster is None:
        if methods is not None:
            raise ModelSpecificationError("method 'multilevel' needs cluster=")
        chosen.remove("multilevel")

    work = pd.DataFrame(index=data.index)
    work["_y"] = as_numeric(data, outcome, _TABLE)
    arm = as_bool(data, treatment, _TABLE)
    work["_d"] = arm.astype("Float64").astype(float)
    if blocks is not None:
        work["_b"] = data[blocks].to_numpy()
    if cluster is not None:
        work["_c"] = data[cluster].to_numpy()
    if takeup is not None:
        work["_t"] = as_numeric(data, takeup, _TABLE, lower=0.0, upper=1.0)
    xnames = {c: f"_x{i}" for i, c in enumerate(covs)}
    for c, name in xnames.items():
        work[name] = as_numeric(data, c, _TABLE)
    positions = pd.Series(np.arange(len(data)), index=data.index)
    labels = {"_y": outcome, "_d": treatment, "_b": blocks, "_c": cluster, "_t": takeup,
              **{name: c for c, name in xnames.items()}}
    work, log = drop_missing(work, list(work.columns), _TABLE, stacklevel=3, labels=labels)
    positions = positions.loc[work.index].to_numpy()
    if len(work) < 4:
        raise ModelSpecificationError(f"{len(work)} usable rows; a trial needs at least 4")
    _check_design(work, treatment, blocks, cluster, positions)

    y, d = work["_y"].to_numpy(), work["_d"].to_numpy()
    bcodes = work["_b"].to_numpy() if blocks is not None else None
    ccodes = work["_c"].to_numpy() if cluster is not None else None
    rhs = " + ".join(["_d", *xnames.values(), *(["C(_b)"] if blocks is not None else [])])
    rows: list[dict[str, object]] = []

    def add(term: str, method: str, est: float, se: float, df: float, **extra: object) -> None:
        rows.append({"term": term, "method": method, "estimate": est, "std_error": se, "df": df,
                     **extra})

    if "difference in means" in chosen:
        dm = difference_in_means(y, d, bcodes, ccodes)
        add("ITT", "difference in means", dm.estimate, dm.std_error, dm.df, design=dm.design)
    if "regression" in chosen:
        from pdstats.inference.ols import ols

        res = ols(f"_y ~ {rhs}", work, cluster="_c" if cluster is not None else None)
        r = res.estimates.set_index("term").loc["_d"]
        add("ITT", "regression", r["estimate"], r["std_error"], r["df"],
            design=("CR2" if cluster is not None else "HC2")
            + (", block fixed effects" if blocks is not None else ""))
    if "multilevel" in chosen:
        from pdstats.multilevel.model import lmm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimationWarning)
            fit = lmm(f"_y ~ {rhs} + (1 | _c)", work)
        r = fit.cr2(cluster="_c").loc["_d"]
        add("ITT", "multilevel", r["estimate"], r["std_error"], r["df"],
            design="random intercept for the cluster, CR2")
    if "randomization" in chosen:
        from pdstats.inference.randomization import randomization_test

        scheme = "clustered" if cluster is not None else ("blocked" if blocks is not None else "complete")
        rt = randomization_test(f"_y ~ {rhs}", work, "_d", scheme=scheme,
                                block="_b" if blocks is not None else None,
                                cluster="_c" if cluster is not None else None, n_perm=n_perm,
                                ci=True, level=conf_level, random_state=random_state,
                                progress=progress)
        r = rt.estimates.iloc[0]
        add("ITT", "randomization", r["estimate"], r["std_error"], np.nan, p_value=r["p_value"],
            ci_lower=r["ci_lower"], ci_upper=r["ci_upper"],
            design=f"{scheme} re-randomization, {len(rt.distribution)} draws")
    if takeup is not None:
        t = work["_t"].to_numpy()
        fs = difference_in_means(t, d, bcodes, ccodes)
        add("take-up (first stage)", "difference in means", fs.estimate, fs.std_error, fs.df,
            design=fs.design)
        est, se, df, kind = _iv(work, list(xnames.values()), blocks is not None, cluster is not None)
        add("effect on the treated", "IV (2SLS)", est, se, df, design=kind)
    est = pd.DataFrame(rows)
    settings = {"Outcome": outcome, "Treatment": treatment, "Randomized": level,
                "Blocks": blocks, "Cluster": cluster, "Covariates": ", ".join(covs) or None,
                "Take-up": takeup}
    table = _balance(data.loc[work.index], work, bal, blocks is not None, cluster is not None)
    return RandomizedResult(est, table, log, settings, y, d, ccodes, conf_level)


def _iv(work: pd.DataFrame, xcols: list[str], blocked: bool, clustered: bool
        ) -> tuple[float, float, float, str]:
    """2SLS of the outcome on take-up instrumented by assignment (linearmodels IV2SLS)."""
    from linearmodels.iv import IV2SLS

    exog = pd.DataFrame({"const": 1.0}, index=work.index)
    for c in xcols:
        exog[c] = work[c]
    if blocked:
        dummies = pd.get_dummies(work["_b"], prefix="block", drop_first=True, dtype=float)
        exog = pd.concat([exog, dummies], axis=1)
    model = IV2SLS(work["_y"], exog, work[["_t"]], work[["_d"]])
    if clustered:
        codes = pd.Series(pd.factorize(work["_c"])[0], index=work.index)
        fit = model.fit(cov_type="clustered", clusters=codes, debiased=True)
        df, kind = float(codes.nunique() - 1), "2SLS, clustered (CR1, G - 1 df)"
    else:
        fit = model.fit(cov_type="robust", debiased=True)
        df, kind = float(len(work) - exog.shape[1] - 1), "2SLS, HC1"
    return float(fit.params["_t"]), float(fit.std_errors["_t"]), df, kind


def _balance(raw: pd.DataFrame, work: pd.DataFrame, columns: list[str], blocked: bool,
             clustered: bool) -> pd.DataFrame:
    """Balance of baseline covariates across arms (see the module docstring)."""
    from pdstats.inference.ols import ols

    out = []
    for c in columns:
        x = as_numeric(raw, c, _TABLE)
        frame = work[["_d", *(["_b"] if blocked else []), *(["_c"] if clustered else [])]].assign(_v=x)
        frame = frame[x.notna()]
        x1, x0 = frame.loc[frame["_d"] == 1, "_v"], frame.loc[frame["_d"] == 0, "_v"]
        sd = pooled_sd(x1, x0)
        rhs = "_d" + (" + C(_b)" if blocked else "")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimationWarning)
            r = ols(f"_v ~ {rhs}", frame, cluster="_c" if clustered else None
                    ).estimates.set_index("term").loc["_d"]
        out.append({"covariate": c, "n": len(frame), "mean_treated": x1.mean(),
                    "mean_control": x0.mean(), "difference": r["estimate"],
                    "std_error": r["std_error"], "df": r["df"], "p_value": r["p_value"],
                    "pooled_sd": sd, "std_difference": r["estimate"] / sd if sd > 0 else np.nan,
                    "std_difference_se": r["std_error"] / sd if sd > 0 else np.nan})
    cols = ["covariate", "n", "mean_treated", "mean_control", "difference", "std_error", "df",
            "p_value", "pooled_sd", "std_difference", "std_difference_se"]
    return pd.DataFrame(out, columns=cols)
