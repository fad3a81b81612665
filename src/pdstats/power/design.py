"""Multilevel designs and the standard error of their effect estimate (the general form).

A design has ``levels`` nested levels (1 = students, 2 = classrooms or schools, 3 =
schools or districts) and a predictor ``x`` at level ``a = assigned_at`` (a randomized
treatment or a continuous predictor such as a practice score). The outcome's variance is 1,
split into shares ``icc_l`` at the levels above 1 and ``1 - sum(icc)`` at level 1; covariates
explain a share ``r2_l`` of level ``l``'s variance. With ``N_l`` units at level ``l``, the
standard error of the predictor's coefficient, in outcome SDs per unit of ``x``, is

.. math::

    SE^2 = \\sum_{l \\le a} \\frac{s_l (1 - R^2_l)}{v_x \\lambda N_l}
         + \\sum_{l > a} \\frac{\\omega_l s_l}{N_l}

where ``v_x`` is the variance of ``x`` among level-``a`` units (``P (1 - P)`` for a
treatment given to a share ``P``), ``lambda`` its reliability where it is measured with error
(an unreliable predictor attenuates the slope to ``lambda beta`` while its observed variance
is ``v_x / lambda``), and the second sum is the effect heterogeneity across random blocks
above ``a`` (``omega_l`` = variance of the block effects relative to the level's variance;
fixed or constant block effects drop it). The minimum detectable effect is ``M x SE`` with
the multiplier ``M = t(1 - alpha/2, df) + t(power, df)``.

Degrees of freedom, with ``g`` covariates counted at the level that sets them:

* cluster design (``a`` = top level): ``N_top - g - 2``;
* random block effects (``a`` below the top): ``N_top - g - 1``;
* fixed block effects (``a`` one level below the top): ``N_a - 2 N_top - g``;
* constant block effect: ``N_a - N_top - g - 1``.

PowerUp!'s designs (Dong & Maynard 2013, J. Res. Educ. Effectiveness 6:24-67) are the
special case of a treatment (``v_x = P(1 - P)``, ``lambda = 1``): CRA2-2r is ``levels=2,
assigned_at=2``; CRA3-3r ``levels=3, assigned_at=3``; BIRA2-1r/-1f/-1c ``levels=2,
assigned_at=1`` with random/fixed/constant block effects; BCRA3-2r/-2f ``levels=3,
assigned_at=2``; BIRA3-1r ``levels=3, assigned_at=1``. PowerUp's fixed- and constant-block
sheets standardize by the within-block SD: pass ``icc`` 0 at the block level to reproduce them.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from pdstats.errors import ModelSpecificationError

__all__ = ["BLOCK_EFFECTS", "Design"]

#: How the effect varies across blocks when the predictor sits below the top level.
BLOCK_EFFECTS = ("random", "fixed", "constant")


def _number(name: str, value: Any, lower: float = -np.inf, upper: float = np.inf,
            open_lower: bool = False, open_upper: bool = False, integer: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok:
        v = float(value)
        ok = (v > lower if open_lower else v >= lower) and (v < upper if open_upper else v <= upper)
        ok = ok and (not integer or v == int(v))
    if not ok:
        lo = "(" if open_lower else "["
        hi = ")" if open_upper else "]"
        kind = "an integer" if integer else "a number"
        raise ModelSpecificationError(f"argument {name!r} must be {kind} in {lo}{lower}, {upper}{hi}, got {value!r}")
    return float(value)


def _per_level(name: str, value: Any, n: int, default: float, lower: float, upper: float) -> tuple[float, ...]:
    if value is None:
        return (default,) * n
    vals = [value] if isinstance(value, numbers.Real) and not isinstance(value, bool) else list(value)
    if len(vals) != n:
        raise ModelSpecificationError(f"argument {name!r} needs {n} value(s) here, got {value!r}")
    return tuple(_number(name, v, lower, upper) for v in vals)


@dataclass(frozen=True)
class Design:
    """A two- or three-level design with a predictor at one level (see the module docstring).

    Parameters
    ----------
    levels : int
        2 or 3.
    assigned_at : int
        Level of the treatment or predictor (1 .. ``levels``).
    n_clusters : float
        Number of top-level units (level-2 units in a two-level design, level-3 units in a
        three-level design).
    cluster_size : float
        Level-1 units per level-2 unit (harmonic mean when sizes vary).
    subclusters : float, optional
        Level-2 units per level-3 unit (three-level designs).
    icc : float or sequence
        Outcome variance shares of levels 2 (and 3).
    r2 : sequence, optional
        Share of each level's variance explained by covariates, levels 1 .. ``levels``.
    treated_share : float
        Share of level-``assigned_at`` units treated (binary predictor).
    predictor_variance : float, optional
        Variance of a continuous predictor among level-``assigned_at`` units (given
        covariates); replaces ``treated_share * (1 - treated_share)``.
    reliability : float
        Reliability of the predictor (1: measured without error).
    n_covariates : int
        Covariates counted in the degrees of freedom (at the top level for cluster and
        random-block designs, at the predictor's level for fixed and constant blocks).
    block_effects : {"random", "fixed", "constant"}
        Predictor below the top level: how its effect varies over the blocks above.
    effect_heterogeneity : float or sequence, optional
        ``omega`` per level above ``assigned_at`` (random block effects), ``(1 - R^2_T)``
        included.

    Examples
    --------
    >>> d = Design(levels=2, assigned_at=2, n_clusters=20, cluster_size=15, icc=0.17)
    >>> round(d.se, 3), d.df
    (0.212, 18.0)
    """

    levels: int
    assigned_at: int
    n_clusters: float
    cluster_size: float
    subclusters: float | None = None
    icc: Any = 0.0
    r2: Any = None
    treated_share: float = 0.5
    predictor_variance: float | None = None
    reliability: float = 1.0
    n_covariates: int = 0
    block_effects: str = "random"
    effect_heterogeneity: Any = None

    def __post_init__(self) -> None:
        if self.levels not in (2, 3) or isinstance(self.levels, bool):
            raise ModelSpecificationError(f"argument 'levels' must be 2 or 3, got {self.levels!r}")
        if self.assigned_at not in range(1, self.levels + 1) or isinstance(self.assigned_at, bool):
            raise ModelSpecificationError(
                f"argument 'assigned_at' must be a level between 1 and {self.levels}, got {self.assigned_at!r}")
        _number("n_clusters", self.n_clusters, 1, open_lower=True)
        _number("cluster_size", self.cluster_size, 1)
        if self.levels == 3:
            if self.subclusters is None:
                raise ModelSpecificationError("a three-level design needs 'subclusters' (level-2 units per "
                                              "level-3 unit)")
            _number("subclusters", self.subclusters, 1)
        elif self.subclusters is not None:
            raise ModelSpecificationError("'subclusters' is for three-level designs only")
        icc = _per_level("icc", self.icc, self.levels - 1, 0.0, 0.0, 1.0)
        if sum(icc) >= 1:
            raise ModelSpecificationError(f"the icc values must sum to less than 1, got {self.icc!r}")
        object.__setattr__(self, "icc", icc)
        object.__setattr__(self, "r2", _per_level("r2", self.r2, self.levels, 0.0, 0.0, 1.0))
        if any(v == 1 for v in self.r2):
            raise ModelSpecificationError(f"an r2 of 1 leaves no variance to test against, got {self.r2!r}")
        if self.predictor_variance is None:
            _number("treated_share", self.treated_share, 0, 1, open_lower=True, open_upper=True)
        else:
            _number("predictor_variance", self.predictor_variance, 0, open_lower=True)
        _number("reliability", self.reliability, 0, 1, open_lower=True)
        _number("n_covariates", self.n_covariates, 0, integer=True)
        if self.block_effects not in BLOCK_EFFECTS:
            raise ModelSpecificationError(
                f"argument 'block_effects' must be one of {list(BLOCK_EFFECTS)}, got {self.block_effects!r}")
        above = self.levels - self.assigned_at
        if above and self.block_effects != "random" and above > 1:
            raise ModelSpecificationError(
                "fixed or constant block effects need the predictor one level below the top "
                f"(here assigned_at={self.assigned_at} in a {self.levels}-level design)")
        omega = _per_level("effect_heterogeneity", self.effect_heterogeneity, above, 0.0, 0.0, np.inf)
        object.__setattr__(self, "effect_heterogeneity", omega)
        if self.df < 1:
            raise ModelSpecificationError(f"the design leaves {self.df:g} degrees of freedom; it needs at least 1")

    # ------------------------------------------------------------------ pieces
    @property
    def units(self) -> tuple[float, ...]:
        """Number of units at levels 1 .. ``levels`` (``N_l``)."""
        top = float(self.n_clusters)
        if self.levels == 2:
            return (top * self.cluster_size, top)
        j = top * float(self.subclusters)  # type: ignore[arg-type]
        return (j * self.cluster_size, j, top)

    @property
    def shares(self) -> tuple[float, ...]:
        """Outcome variance shares of levels 1 .. ``levels``."""
        return (1.0 - sum(self.icc), *self.icc)

    @property
    def predictor_var(self) -> float:
        """Variance of the predictor at its level (``P(1-P)`` for a treatment)."""
        if self.predictor_variance is not None:
            return float(self.predictor_variance)
        return self.treated_share * (1 - self.treated_share)

    @property
    def se(self) -> float:
        """Standard error of the predictor's coefficient, in outcome SDs (the general form)."""
        a, n, s = self.assigned_at, self.units, self.shares
        vx = self.predictor_var * self.reliability
        var = sum(s[l] * (1 - self.r2[l]) / (vx * n[l]) for l in range(a))
        if self.block_effects == "random":
            var += sum(w * s[a + i] / n[a + i] for i, w in enumerate(self.effect_heterogeneity))
        return float(np.sqrt(var))

    @property
    def df(self) -> float:
        """Degrees of freedom of the test of the predictor (see the module docstring)."""
        n, g = self.units, self.n_covariates
        top = n[-1]
        if self.assigned_at == self.levels:
            return top - g - 2
        if self.block_effects == "random":
            return top - g - 1
        if self.block_effects == "fixed":
            return n[self.assigned_at - 1] - 2 * top - g
        return n[self.assigned_at - 1] - top - g - 1

    def critical(self, alpha: float, two_sided: bool) -> float:
        """Critical t value of the test."""
        return float(stats.t.ppf(1 - (alpha / 2 if two_sided else alpha), self.df))

    def multiplier(self, alpha: float, power: float, two_sided: bool) -> float:
        """``M = t(1 - alpha/2, df) + t(power, df)`` (one-sided: ``t(1 - alpha, df)``)."""
        return self.critical(alpha, two_sided) + float(stats.t.ppf(power, self.df))

    def power_at(self, effect: float, alpha: float, two_sided: bool) -> float:
        """Power of the t test against ``effect``: noncentral t with ``effect / SE``."""
        q, ncp = self.critical(alpha, two_sided), effect / self.se
        p = stats.nct.sf(q, self.df, ncp)
        if two_sided:
            p += stats.nct.cdf(-q, self.df, ncp)
        return float(p)

    def with_size(self, **sizes: float) -> Design:
        """A copy with other sample sizes (``n_clusters``, ``cluster_size``, ``subclusters``)."""
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        fields["icc"] = self.icc if self.levels == 3 else self.icc[0]
        fields.update(sizes)
        return Design(**fields)


def size_argument(design: Design, solve_for: str) -> str:
    """Check that ``solve_for`` names a sample size of ``design``."""
    allowed = ["n_clusters", "cluster_size"] + (["subclusters"] if design.levels == 3 else [])
    if solve_for not in allowed:
        raise ModelSpecificationError(f"argument 'solve_for' must be one of {allowed}, got {solve_for!r}")
    return solve_for
