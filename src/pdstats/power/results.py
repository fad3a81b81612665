"""The result of a power calculation: design quantities, not estimates.

A power calculation estimates nothing from data. :class:`PowerResult` keeps the contract's
shape this way:

* :attr:`PowerResult.design` is the table of design quantities (``quantity``, ``value``):
  the minimum detectable effect, the power, the sample sizes, the degrees of freedom, the
  multiplier and the standardized standard error. These are calculated; they have no
  standard error.
* :attr:`PowerResult.estimates` has one row, ``term = "effect"``: the effect the design
  is evaluated at (the MDES, or the effect given to :func:`~pdstats.power.power`), with
  ``std_error`` = the standard error the design gives an estimate of it (in outcome SDs),
  ``df`` = the test's degrees of freedom, the interval such an estimate would get
  (PowerUp!'s "MDES 95% CI"), and ``flag`` = ``"design"`` saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError
from pdstats.power.design import Design
from pdstats.results import ResultsBase, SampleLog, add_ci

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["PowerResult"]

_SIZES = ("n_clusters", "cluster_size", "subclusters")


class PowerResult(ResultsBase):
    """A design's minimum detectable effect, power and sample sizes (see the module docstring).

    Attributes
    ----------
    mdes : float
        Minimum detectable effect (outcome SDs per unit of the predictor) at ``power``.
    power : float
        Power against ``effect`` (the MDES when none was given, about ``power`` then).
    effect : float
        The effect the design is evaluated at.
    se : float
        Standard error of the effect estimate the design gives (outcome SDs).
    df : float
        Degrees of freedom of the test.
    multiplier : float
        ``M = t(1 - alpha/2, df) + t(power, df)``.
    sample_size : float or None
        The solved sample size (:func:`~pdstats.power.sample_size`), else None.
    design : pandas.DataFrame
        The design quantities (``quantity``, ``value``).
    estimates : pandas.DataFrame
        One row for the effect with the design's standard error (flag ``"design"``).
    """

    title = "Power and minimum detectable effect"

    def __init__(self, design: Design, alpha: float, target_power: float, two_sided: bool,
                 effect: float | None = None, solved: str | None = None) -> None:
        self.spec = design
        self.alpha = alpha
        self.target_power = target_power
        self.two_sided = two_sided
        self.se = design.se
        self.df = design.df
        self.multiplier = design.multiplier(alpha, target_power, two_sided)
        self.mdes = self.multiplier * self.se
        self.effect = self.mdes if effect is None else float(effect)
        self.power = design.power_at(self.effect, alpha, two_sided)
        self.solved = solved
        self.sample_size = None if solved is None else float(getattr(design, solved))
        n_units = design.units[0]
        self.sample_log = SampleLog(n_in=int(round(n_units)), unit="planned level-1 units")
        est = pd.DataFrame({"term": ["effect"], "estimate": [self.effect], "std_error": [self.se],
                            "df": [self.df]})
        add_ci(est, 1 - alpha)
        est["flag"] = "design"
        self.estimates = est

    @property
    def design(self) -> pd.DataFrame:
        """Design quantities: one row per quantity (``quantity``, ``value``)."""
        d = self.spec
        rows: list[tuple[str, Any]] = [
            ("mdes", self.mdes), ("power", self.power), ("effect", self.effect),
            ("target_power", self.target_power), ("alpha", self.alpha), ("two_sided", self.two_sided),
            ("se", self.se), ("df", self.df), ("multiplier", self.multiplier),
            ("levels", d.levels), ("assigned_at", d.assigned_at)]
        rows += [(k, getattr(d, k)) for k in _SIZES if getattr(d, k) is not None]
        rows += [(f"icc_{l + 2}", v) for l, v in enumerate(d.icc)]
        rows += [(f"r2_{l + 1}", v) for l, v in enumerate(d.r2)]
        rows += [("predictor_variance", d.predictor_var), ("reliability", d.reliability),
                 ("n_covariates", d.n_covariates)]
        if d.assigned_at < d.levels:
            rows.append(("block_effects", d.block_effects))
            rows += [(f"effect_heterogeneity_{d.assigned_at + 1 + i}", w)
                     for i, w in enumerate(d.effect_heterogeneity)]
        if self.solved:
            rows.append(("solved_for", self.solved))
        return pd.DataFrame(rows, columns=["quantity", "value"])

    def _info(self) -> dict[str, object]:
        d = self.spec
        sizes = ", ".join(f"{k}={getattr(d, k):g}" for k in _SIZES if getattr(d, k) is not None)
        return {"Design": f"{d.levels} levels, predictor at level {d.assigned_at}; {sizes}",
                "MDES": f"{self.mdes:.4g} (power {self.target_power:g}, alpha {self.alpha:g}, "
                        f"{'two' if self.two_sided else 'one'}-sided)",
                "Power at effect": f"{self.power:.4g} at {self.effect:.4g}",
                "Standard error, df": f"{self.se:.4g}, {self.df:g}"}

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Design quantities (calculated, not estimated)", self.design),
                ("Effect with the design's standard error", self.estimates)]

    def curve(self, over: str = "n_clusters", values: Any = None, effect: float | None = None) -> pd.DataFrame:
        """Power and MDES as one sample size varies (the rest of the design held).

        Parameters
        ----------
        over : str
            ``"n_clusters"``, ``"cluster_size"`` or (three levels) ``"subclusters"``.
        values : sequence of float, optional
            Sizes to evaluate (default: 25% to 300% of the design's, 30 points).
        effect : float, optional
            Effect the power is computed against (default: this result's effect).

        Returns
        -------
        pandas.DataFrame
            ``over``, ``power``, ``mdes``, ``df``.
        """
        from pdstats.power.design import size_argument

        size_argument(self.spec, over)
        effect = self.effect if effect is None else float(effect)
        if values is None:
            here = float(getattr(self.spec, over))
            lo = 3 if over == "n_clusters" else 1
            values = np.unique(np.round(np.linspace(max(lo, 0.25 * here), 3 * here, 30)))
        rows = []
        for v in values:
            try:
                d = self.spec.with_size(**{over: float(v)})
            except ModelSpecificationError:
                continue  # too small to leave degrees of freedom
            rows.append((float(v), d.power_at(effect, self.alpha, self.two_sided),
                         d.multiplier(self.alpha, self.target_power, self.two_sided) * d.se, d.df))
        return pd.DataFrame(rows, columns=[over, "power", "mdes", "df"])

    def plot(self, over: str = "n_clusters", values: Any = None, ax: Axes | None = None) -> Axes:
        """Power curve: power against one sample size, the design and the target marked.

        Parameters
        ----------
        over : str
            The sample size on the x axis (see :meth:`curve`).
        values : sequence of float, optional
            Sizes to draw.
        ax : matplotlib.axes.Axes, optional
            Axes to draw on.
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        c = self.curve(over, values)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        sns.lineplot(data=c, x=over, y="power", ax=ax, marker="o", markersize=3)
        ax.axhline(self.target_power, color="0.5", lw=0.8, ls="--")
        ax.axvline(float(getattr(self.spec, over)), color="black", lw=0.8, ls=":")
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"power against an effect of {self.effect:.3g} SD")
        ax.set_title(f"{self.spec.levels}-level design, predictor at level {self.spec.assigned_at}", loc="left")
        return ax
