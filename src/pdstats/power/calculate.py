"""Minimum detectable effects, power and sample sizes of multilevel designs (analytic).

The formulas are in :mod:`pdstats.power.design`; every function returns a
:class:`~pdstats.power.results.PowerResult`.
"""

from __future__ import annotations

from typing import Any

from pdstats.errors import ModelSpecificationError
from pdstats.power.design import Design, _number
from pdstats.power.results import PowerResult
from pdstats.results import check_level

__all__ = ["mdes", "power", "sample_size"]

_DESIGN_ARGS = """levels : int
        2 or 3 nested levels (1 = students).
    assigned_at : int, optional
        Level of the treatment or predictor (default: the top level, a cluster design).
    n_clusters : float
        Number of top-level units (level-2 units of a two-level design, level-3 units of a
        three-level design).
    cluster_size : float
        Level-1 units per level-2 unit (their harmonic mean when sizes vary).
    subclusters : float, optional
        Level-2 units per level-3 unit (three-level designs).
    icc : float or sequence
        Share of the outcome's variance at level 2 (and 3): ``icc`` or ``(icc2, icc3)``.
    r2 : sequence, optional
        Share of each level's outcome variance explained by covariates, levels 1 to top.
    treated_share : float
        Share of level-``assigned_at`` units treated.
    predictor_variance : float, optional
        A continuous predictor instead of a treatment: its variance among
        level-``assigned_at`` units (net of covariates); the effect is then per unit of it.
    reliability : float
        Reliability of the predictor where it is measured with error (1: none).
    n_covariates : int
        Covariates counted in the degrees of freedom (top level for cluster and
        random-block designs; the predictor's level for fixed and constant blocks).
    block_effects : {"random", "fixed", "constant"}
        With the predictor below the top level, how its effect varies across blocks.
    effect_heterogeneity : float or sequence, optional
        Variance of random block effects relative to each block level's variance (omega),
        one per level above ``assigned_at``; default 0.
    alpha : float
        Significance level.
    two_sided : bool
        Two-sided test (default) or one-sided."""


def _design(levels: int, assigned_at: int | None, **kw: Any) -> Design:
    return Design(levels=levels, assigned_at=levels if assigned_at is None else assigned_at, **kw)


def _check(alpha: float, target: float) -> tuple[float, float]:
    return 1 - check_level(1 - _number("alpha", alpha, 0, 1, True, True)), check_level(target, "power")


def mdes(*, levels: int = 2, assigned_at: int | None = None, n_clusters: float, cluster_size: float,
         subclusters: float | None = None, icc: Any = 0.0, r2: Any = None, treated_share: float = 0.5,
         predictor_variance: float | None = None, reliability: float = 1.0, n_covariates: int = 0,
         block_effects: str = "random", effect_heterogeneity: Any = None, alpha: float = 0.05,
         power: float = 0.8, two_sided: bool = True) -> PowerResult:
    """Minimum detectable effect of a two- or three-level design.

    ``MDES = M x SE`` with ``M = t(1 - alpha/2, df) + t(power, df)`` and the design's
    standard error in the general form of :mod:`pdstats.power.design` (PowerUp!'s formulas
    for a treatment; a continuous, possibly unreliable predictor at any level otherwise).

    Parameters
    ----------
    {design}
    power : float
        Target power.

    Returns
    -------
    PowerResult
        ``.mdes`` (outcome SDs), ``.se``, ``.df``, ``.design``, ``.estimates``.

    Examples
    --------
    >>> import pdstats as pds
    >>> res = pds.power.mdes(levels=2, assigned_at=2, n_clusters=40, cluster_size=60, icc=0.2,
    ...                      r2=(0, 0), treated_share=0.5, alpha=0.05, power=0.8)
    >>> round(res.mdes, 3), res.df
    (0.42, 38.0)
    """
    alpha, power = _check(alpha, power)
    d = _design(levels, assigned_at, n_clusters=n_clusters, cluster_size=cluster_size, subclusters=subclusters,
                icc=icc, r2=r2, treated_share=treated_share, predictor_variance=predictor_variance,
                reliability=reliability, n_covariates=n_covariates, block_effects=block_effects,
                effect_heterogeneity=effect_heterogeneity)
    return PowerResult(d, alpha, power, bool(two_sided))


def power(effect: float, *, levels: int = 2, assigned_at: int | None = None, n_clusters: float,
          cluster_size: float, subclusters: float | None = None, icc: Any = 0.0, r2: Any = None,
          treated_share: float = 0.5, predictor_variance: float | None = None, reliability: float = 1.0,
          n_covariates: int = 0, block_effects: str = "random", effect_heterogeneity: Any = None,
          alpha: float = 0.05, two_sided: bool = True) -> PowerResult:
    """Power of a two- or three-level design to detect ``effect`` (noncentral t).

    Power is ``P(|T| > t(1 - alpha/2, df))`` for ``T`` noncentral t with ``df`` and
    noncentrality ``effect / SE``; the MDES of the same result uses PowerUp!'s multiplier,
    so the power at the MDES is close to, not exactly, the target.

    Parameters
    ----------
    effect : float
        Effect in outcome SDs (per unit of a continuous predictor).
    {design}

    Returns
    -------
    PowerResult
        ``.power``, and ``.mdes`` at 80% power.

    Examples
    --------
    >>> import pdstats as pds
    >>> res = pds.power.power(0.3, n_clusters=40, cluster_size=60, icc=0.2)
    >>> round(res.power, 3)
    0.517
    """
    alpha, _ = _check(alpha, 0.8)
    d = _design(levels, assigned_at, n_clusters=n_clusters, cluster_size=cluster_size, subclusters=subclusters,
                icc=icc, r2=r2, treated_share=treated_share, predictor_variance=predictor_variance,
                reliability=reliability, n_covariates=n_covariates, block_effects=block_effects,
                effect_heterogeneity=effect_heterogeneity)
    return PowerResult(d, alpha, 0.8, bool(two_sided), effect=_number("effect", effect))


def sample_size(effect: float, *, solve_for: str = "n_clusters", levels: int = 2, assigned_at: int | None = None,
                n_clusters: float | None = None, cluster_size: float | None = None,
                subclusters: float | None = None, icc: Any = 0.0, r2: Any = None, treated_share: float = 0.5,
                predictor_variance: float | None = None, reliability: float = 1.0, n_covariates: int = 0,
                block_effects: str = "random", effect_heterogeneity: Any = None, alpha: float = 0.05,
                power: float = 0.8, two_sided: bool = True, max_size: int = 1_000_000) -> PowerResult:
    """Smallest whole sample size at which the design's MDES reaches ``effect``.

    The size named by ``solve_for`` is increased one unit at a time (bisection over whole
    numbers) until ``M x SE <= effect``, the criterion PowerUp!'s minimum required sample
    size uses; the other sizes stay as given.

    Parameters
    ----------
    effect : float
        Target minimum detectable effect (outcome SDs).
    solve_for : {"n_clusters", "cluster_size", "subclusters"}
        The size to solve for (its own argument, if given, is ignored).
    {design}
    power : float
        Target power.
    max_size : int
        Give up above this size.

    Returns
    -------
    PowerResult
        ``.sample_size`` and the design at that size.

    Examples
    --------
    >>> import pdstats as pds
    >>> res = pds.power.sample_size(0.3, n_clusters=None, cluster_size=60, icc=0.2)
    >>> int(res.sample_size), res.mdes <= 0.3
    (77, True)
    """
    alpha, power = _check(alpha, power)
    effect = _number("effect", effect, 0, open_lower=True)
    sizes = {"n_clusters": n_clusters, "cluster_size": cluster_size, "subclusters": subclusters}
    allowed = ["n_clusters", "cluster_size"] + (["subclusters"] if levels == 3 else [])
    if solve_for not in allowed:
        raise ModelSpecificationError(f"argument 'solve_for' must be one of {allowed}, got {solve_for!r}")
    missing = [k for k, v in sizes.items() if v is None and k != solve_for and (k != "subclusters" or levels == 3)]
    if missing:
        raise ModelSpecificationError(f"sample_size needs {missing} (only {solve_for!r} is solved for)")

    def build(v: float) -> Design:
        kw = {**sizes, solve_for: v}
        return _design(levels, assigned_at, icc=icc, r2=r2, treated_share=treated_share,
                       predictor_variance=predictor_variance, reliability=reliability,
                       n_covariates=n_covariates, block_effects=block_effects,
                       effect_heterogeneity=effect_heterogeneity, **kw)

    def small_enough(v: int) -> bool:
        try:
            d = build(v)
        except ModelSpecificationError:
            return False
        return d.multiplier(alpha, power, two_sided) * d.se <= effect

    if not small_enough(max_size):
        raise ModelSpecificationError(
            f"no {solve_for} up to {max_size} reaches an MDES of {effect:g} (the other sizes or the "
            "variance at higher levels bound it); change the design")
    lo, hi = 1, max_size  # small_enough(hi) holds; find the smallest such whole number
    while lo < hi:
        mid = (lo + hi) // 2
        if small_enough(mid):
            hi = mid
        else:
            lo = mid + 1
    return PowerResult(build(lo), alpha, power, bool(two_sided), solved=solve_for)


for _f in (mdes, power, sample_size):
    _f.__doc__ = _f.__doc__.replace("{design}", _DESIGN_ARGS)  # type: ignore[union-attr]
