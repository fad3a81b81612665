"""Recovery checks: coarsen real student scores into levels, compare estimates with truth.

Used by the validation tests and notebooks: student-level scores (e.g. Tennessee STAR,
``mlmRev/star``) are cut into proficiency levels at fixed cut scores, the level counts per
school are fitted with :func:`pdstats.harmonize.hetop`, and the estimates are compared
with the schools' true means and SDs computed from the students themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError
from pdstats.harmonize.checks import require_columns

__all__ = ["coarsen_scores", "recovery_draws", "recovery_metrics", "simulate_counts", "world_recovery"]


def coarsen_scores(
    students: pd.DataFrame,
    score: str,
    group: str,
    by: Sequence[str] = (),
    quantiles: Sequence[float] = (0.2, 0.5, 0.8),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cut student scores into levels and return level counts and true group moments.

    Within each ``by`` cell the cut scores are the pooled ``quantiles`` of the score (the
    same fixed cuts for every group of the cell). The truth is on the cell's star scale:
    scores standardized by the cell's student mean and SD (``ddof=0``), so that the
    student-weighted group means average 0 and the total variance is 1.

    Parameters
    ----------
    students : pandas.DataFrame
        One row per student (rows with a missing score or group are left out).
    score, group : str
        Score column and grouping column (e.g. school id).
    by : sequence of str
        Cell columns (e.g. grade); none for one cell.
    quantiles : sequence of float
        Pooled quantiles used as cut scores (``K - 1`` of them for ``K`` levels).

    Returns
    -------
    counts : pandas.DataFrame
        ``by`` columns, ``group``, ``level_1..level_K``.
    truth : pandas.DataFrame
        ``by`` columns, ``group``, ``n``, ``true_mean``, ``true_sd`` (star scale).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> st = pd.DataFrame({"school": np.repeat(["a", "b"], 50), "x": rng.normal(size=100)})
    >>> counts, truth = coarsen_scores(st, "x", "school")
    >>> int(counts.filter(like="level_").sum().sum()), abs(round(float(np.average(truth.true_mean, weights=truth.n)), 12))
    (100, 0.0)
    """
    by = list(by)
    require_columns(students, [score, group, *by], "students", "score/group/by")
    d = students.dropna(subset=[score, group, *by]).copy()
    k = len(quantiles) + 1
    pieces_c, pieces_t = [], []
    cells = d.groupby(by, sort=True) if by else [((), d)]
    for key, cell in cells:
        key = key if isinstance(key, tuple) else (key,)
        x = cell[score].to_numpy(float)
        cuts = np.quantile(x, quantiles)
        level = np.searchsorted(cuts, x, side="right")
        z = (x - x.mean()) / x.std()
        tmp = pd.DataFrame({group: cell[group].to_numpy(), "level": level, "z": z})
        tab = pd.crosstab(tmp[group], tmp["level"]).reindex(columns=range(k), fill_value=0)
        tab.columns = [f"level_{j + 1}" for j in range(k)]
        tab = tab.reset_index()
        mom = tmp.groupby(group)["z"].agg(n="size", true_mean="mean", true_sd=lambda v: v.std(ddof=0))
        mom = mom.reset_index()
        for b, v in zip(by, key, strict=True):
            tab.insert(0, b, v)
            mom.insert(0, b, v)
        pieces_c.append(tab)
        pieces_t.append(mom)
    return pd.concat(pieces_c, ignore_index=True), pd.concat(pieces_t, ignore_index=True)


def recovery_metrics(
    estimates: pd.DataFrame,
    truth: pd.DataFrame,
    on: Sequence[str],
    pairs: Sequence[tuple[str, str, str | None]] = (("mean", "true_mean", "se_mean"),
                                                    ("sd", "true_sd", "se_sd")),
    level: float = 0.95,
) -> pd.DataFrame:
    """Correlation, bias, RMSE and interval coverage of estimates against the truth.

    Parameters
    ----------
    estimates, truth : pandas.DataFrame
        Joined on the ``on`` columns.
    on : sequence of str
        Key columns.
    pairs : sequence of (estimate, truth, se)
        Columns compared; ``se`` may be None (no coverage).
    level : float
        Interval level for the coverage.

    Returns
    -------
    pandas.DataFrame
        One row per pair: n, correlation, bias, rmse, coverage.

    Examples
    --------
    >>> import pandas as pd
    >>> e = pd.DataFrame({"u": [1, 2, 3], "mean": [0.1, 0.5, 0.9], "se_mean": [0.1] * 3})
    >>> t = pd.DataFrame({"u": [1, 2, 3], "true_mean": [0.0, 0.5, 1.0]})
    >>> recovery_metrics(e, t, ["u"], [("mean", "true_mean", "se_mean")])["coverage"].tolist()
    [1.0]
    """
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    m = estimates.merge(truth, on=list(on), how="inner", suffixes=("", "_truth"))
    rows = []
    for est, tru, se in pairs:
        d = m.dropna(subset=[est, tru])
        err = d[est] - d[tru]
        cov = float(np.mean(np.abs(err) <= z * d[se])) if se is not None else np.nan
        rows.append({"quantity": est, "n": len(d), "correlation": float(np.corrcoef(d[est], d[tru])[0, 1]),
                     "bias": float(err.mean()), "rmse": float(np.sqrt(np.mean(err**2))), "coverage": cov})
    return pd.DataFrame(rows)


def simulate_counts(
    n_groups: int = 50,
    n_per_group: tuple[int, int] = (50, 300),
    cuts: Sequence[float] = (-0.9, 0.0, 0.9),
    mean_sd: float = 0.4,
    log_sd_sd: float = 0.15,
    random_state: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw level counts of one cell from known group normal distributions.

    Group means ``~ N(0, mean_sd^2)``, log-SDs ``~ N(log 0.9, log_sd_sd^2)``, sizes uniform on
    ``n_per_group``; each student's score is cut at ``cuts``. The truth is returned on the
    star scale of the model population (weights ``n_g / N``): ``(mu_g - M) / S`` and
    ``sigma_g / S`` with ``S^2 = sum p_g ((mu_g - M)^2 + sigma_g^2)``.

    Returns
    -------
    counts : pandas.DataFrame
        ``unit_id``, ``level_1..level_K``.
    truth : pandas.DataFrame
        ``unit_id``, ``n``, ``true_mean``, ``true_sd``.

    Examples
    --------
    >>> counts, truth = simulate_counts(5, random_state=1)
    >>> counts.shape, list(truth.columns)
    ((5, 5), ['unit_id', 'n', 'true_mean', 'true_sd'])
    """
    rng = np.random.default_rng(random_state)
    cuts = np.asarray(cuts, float)
    mu = rng.normal(0.0, mean_sd, n_groups)
    sig = np.exp(rng.normal(np.log(0.9), log_sd_sd, n_groups))
    n = rng.integers(n_per_group[0], n_per_group[1] + 1, n_groups)
    k = len(cuts) + 1
    tab = np.array([np.bincount(np.searchsorted(cuts, rng.normal(m, s, j)), minlength=k)
                    for m, s, j in zip(mu, sig, n, strict=True)])
    ids = [f"u{i:04d}" for i in range(n_groups)]
    counts = pd.DataFrame(tab, columns=[f"level_{j + 1}" for j in range(k)])
    counts.insert(0, "unit_id", ids)
    p = n / n.sum()
    m_all = float(p @ mu)
    spread = float(np.sqrt(p @ ((mu - m_all) ** 2 + sig**2)))
    truth = pd.DataFrame({"unit_id": ids, "n": n, "true_mean": (mu - m_all) / spread,
                          "true_sd": sig / spread})
    return counts, truth


def world_recovery(
    world: object,
    variants: dict[str, tuple[str, float | str] | tuple[str, float | str, str | None]] | None = None,
    unit_type: str = "district",
) -> pd.DataFrame:
    """Errors of NAEP-linked unit means against a simulated world's truth.

    Runs :func:`pdstats.harmonize.pipeline.star_estimates` on the world's
    ``state_assessment_aggregates`` once, links with
    :func:`pdstats.harmonize.link_to_naep` for each variant (the tests' reliabilities from
    ``cut_scores``, the simulated ``naep_state``), and joins ``truth.units`` (subgroup
    "all": the mean and SD of the tested students' true achievement on the NAEP scale).

    Parameters
    ----------
    world : pdstats.simulate.SimulatedStudy
        A simulated study (``pds.simulate.study(...)``).
    variants : dict, optional
        Name -> (estimand, linking_error) or (estimand, linking_error, interpolation);
        default ``{"population": ("population", 0.0)}``. ``linking_error="estimated"``
        estimates it from the world's own ``naep_district`` rows with
        :func:`pdstats.harmonize.estimate_linking_error` (after a first linking without the
        term) and links again with the estimate; the estimate is in the output columns
        ``linking_error``, ``link_bias`` and ``link_tau``. ``interpolation="estimated"``
        adds the interpolation-error term estimated from the world's own ``naep_state``
        by :func:`pdstats.harmonize.estimate_interpolation_error` (its mean-persistent
        and mean-transient SDs in the columns ``interp_u`` and ``interp_v``).
    unit_type : str
        Units compared.

    Returns
    -------
    pandas.DataFrame
        One row per unit-cell and variant: variant, state, source, unit_id, year, grade,
        subject, mean, se_mean, se_interpolation, true_mean, err, sd, true_sd, sd_err,
        naep_interpolated (the cell's state NAEP values were interpolated), linking_error,
        link_bias, link_tau, interp_u, interp_v, tuda (the unit has NAEP district results).

    Examples
    --------
    >>> import pdstats as pds
    >>> world = pds.simulate.study(random_state=0, progress=False)  # doctest: +SKIP
    >>> world_recovery(world)["err"].abs().mean() < 10  # doctest: +SKIP
    True
    """
    from pdstats.harmonize.interpolation_error import estimate_interpolation_error
    from pdstats.harmonize.linking import link_to_naep
    from pdstats.harmonize.linking_error import estimate_linking_error
    from pdstats.harmonize.pipeline import star_estimates

    keys = ["unit_id", "year", "grade", "subject"]
    variants = variants or {"population": ("population", 0.0)}
    tables, truth = world.tables, world.truth.units  # type: ignore[attr-defined]
    units = truth[(truth["unit_type"] == unit_type) & (truth["subgroup"] == "all")]
    units = units[[*keys, "naep_mean", "naep_sd"]].rename(columns={"naep_mean": "true_mean", "naep_sd": "true_sd"})
    units = units.astype({"year": int, "grade": int})
    star, _ = star_estimates(tables["state_assessment_aggregates"], unit_type=unit_type, progress=False)
    reliability = tables["cut_scores"][["state", "year", "grade", "subject", "reliability"]]
    tuda = tables["naep_district"] if "naep_district" in tables else None
    tuda_ids = set() if tuda is None else set(tuda["district_id"].astype(str))
    out = []
    interp = None
    for name, spec in variants.items():
        estimand, link = spec[0], spec[1]
        interp_spec = spec[2] if len(spec) > 2 else None
        if interp_spec not in (None, "estimated"):
            raise ModelSpecificationError(f"variant {name!r}: interpolation must be None or 'estimated'")
        if interp_spec and interp is None:
            interp = estimate_interpolation_error(tables["naep_state"])
        use_interp = interp if interp_spec else None
        bias = tau = np.nan
        if isinstance(link, str):
            if link != "estimated" or tuda is None:
                raise ModelSpecificationError(f"variant {name!r}: linking_error must be a number or 'estimated' "
                                              "(which needs a naep_district table)")
            first = link_to_naep(star, tables["naep_state"], reliability=reliability, estimand=estimand,
                                 interpolation_error=use_interp)
            fitted = estimate_linking_error(first, tuda)
            link, bias, tau = fitted.linking_error, fitted.bias, fitted.tau
        res = link_to_naep(star, tables["naep_state"], reliability=reliability, linking_error=link,
                           interpolation_error=use_interp, estimand=estimand)
        est = res.scale("naep").astype({"year": int, "grade": int})
        m = est.merge(units, on=keys)
        m = m.assign(variant=name, err=m["mean"] - m["true_mean"], sd_err=m["sd"] - m["true_sd"],
                     linking_error=float(link), link_bias=bias, link_tau=tau,
                     interp_u=use_interp.omega("mean", "persistent") if use_interp else np.nan,
                     interp_v=use_interp.omega("mean", "transient") if use_interp else np.nan,
                     tuda=m["unit_id"].astype(str).isin(tuda_ids))
        out.append(m[["variant", "state", "source", *keys, "mean", "se_mean", "se_interpolation", "true_mean",
                      "err", "sd", "true_sd", "sd_err", "naep_interpolated", "linking_error", "link_bias",
                      "link_tau", "interp_u", "interp_v", "tuda"]])
    return pd.concat(out, ignore_index=True)


def recovery_draws(
    world: object,
    rng: np.random.Generator | None = None,
    variants: dict[str, tuple[str, float | str] | tuple[str, float | str, str | None]] | None = None,
    unit_type: str = "district",
) -> pd.DataFrame:
    """:func:`world_recovery` as an estimator of the validation runner (:func:`pdstats.simulate.run`).

    One row per unit-cell and variant: ``term`` (the variant), ``estimate`` (the linked
    mean), ``std_error`` (``se_mean``), ``truth`` (``true_mean``), normal 95% intervals, and
    :func:`world_recovery`'s other columns. The world is built by the runner, e.g.
    ``pds.simulate.run(recovery_draws, functools.partial(pds.simulate.study, progress=False))``.

    Examples
    --------
    >>> import functools, pdstats as pds
    >>> res = pds.simulate.run(recovery_draws, functools.partial(pds.simulate.study, progress=False),
    ...                        seeds=[0], progress=False)  # doctest: +SKIP
    >>> res.table().loc["population", "coverage"] > 0.9  # doctest: +SKIP
    True
    """
    from pdstats.results import add_ci

    out = world_recovery(world, variants, unit_type).rename(
        columns={"variant": "term", "mean": "estimate", "se_mean": "std_error", "true_mean": "truth"})
    return add_ci(out, 0.95)
