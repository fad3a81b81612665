"""Two-way fixed effects (``twfe``) and its Goodman-Bacon decomposition (``bacon``).

``twfe`` is ``pds.ols`` with unit and period dummies, so its standard errors are the
shared CR2 + Bell-McCaffrey df (or CR1/CR0) and ``.wild_bootstrap`` is the shared wild
cluster bootstrap. ``bacon`` wraps ``diff_diff.bacon_decompose`` (exact weights).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pdstats._inputs import require_columns, require_frame
from pdstats.errors import ModelSpecificationError
from pdstats.evaluate._data import check_absorbing, prepare_panel
from pdstats.evaluate.results import DiDResultBase
from pdstats.inference import ols
from pdstats.results import SampleLog, check_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from pdstats.inference import OLSResult, RandomizationResult, WildBootstrapResult

__all__ = ["twfe", "bacon", "TWFEResult", "BaconResult"]

_TABLE = "twfe data"


class TWFEResult(DiDResultBase):
    """Two-way fixed-effects estimate of a treatment indicator.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row, ``term`` = the treatment column, with the cluster-robust SE and df.
    ols : OLSResult
        The underlying ``pds.ols`` fit (all dummies).
    """

    title = "Two-way fixed effects"

    def __init__(self, fit: OLSResult, treatment: str, settings: dict[str, object]) -> None:
        self.ols = fit
        self.treatment = treatment
        self.settings = settings
        est = fit.estimates
        row = est[est["term"] == "d__"].copy()
        row["term"] = treatment
        self.estimates = row.reset_index(drop=True)
        self.sample_log = fit.sample_log

    def wild_bootstrap(self, null: float = 0.0, **kwargs: Any) -> WildBootstrapResult:
        """Wild cluster bootstrap test and interval of the treatment coefficient.

        Keyword arguments go to :func:`pdstats.inference.wild.wild_bootstrap`
        (``restricted``, ``weights``, ``n_boot``, ``random_state``, ``progress`` ...).
        """
        return self.ols.wild_bootstrap("d__", null=null, **kwargs)

    def randomization_test(self, n_perm: int = 1999, block: str | None = None,
                           ci: bool = False, random_state: int | np.random.Generator | None = None,
                           progress: bool = True) -> RandomizationResult:
        """Randomization test of no effect, reshuffling adoption times across units.

        Uses ``pds.inference.randomization_test(scheme="timing")`` on the same
        regression (exact under the sharp null; ``ci=True`` inverts it under a constant
        effect). ``block`` names a column of the data (e.g. state) to reshuffle within.
        """
        from pdstats.inference import randomization_test

        work = self._work
        if block is not None:
            work = work.assign(b__=self._data[block].to_numpy())
        out = randomization_test("y__ ~ d__ + C(u__) + C(t__)", work, "d__", scheme="timing",
                                 unit="u__", time="t__", block="b__" if block else None,
                                 n_perm=n_perm, ci=ci, random_state=random_state,
                                 progress=progress)
        out.estimates["term"] = self.treatment
        return out

    def _info(self) -> dict[str, object]:
        return {**self.settings, **super()._info()}


def twfe(data: pd.DataFrame, outcome: str, treatment: str, unit: str, time: str,
         cluster: str | None = None, vcov: str = "CR2", level: float = 0.95) -> TWFEResult:
    """Two-way fixed effects: ``outcome ~ treatment + unit dummies + period dummies``.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel.
    outcome, treatment, unit, time : str
        Columns; ``treatment`` is 0/1 and absorbing (refused if it switches off).
    cluster : str, optional
        Cluster column (default: the unit).
    vcov : {"CR2", "CR1", "CR0"}
        Cluster-robust covariance (CR2 with Bell-McCaffrey df by default).
    level : float
        Confidence level.

    Returns
    -------
    TWFEResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(20), 4), "t": np.tile(np.arange(4), 20)})
    >>> d["d"] = ((d.id < 10) & (d.t >= 2)).astype(int)
    >>> d["y"] = d.d * 1.5 + rng.normal(size=80)
    >>> r = pds.evaluate.twfe(d, "y", "d", "id", "t")
    >>> r.estimates["term"].tolist(), bool(r.estimates["estimate"].iloc[0] > 0.5)
    (['d'], True)
    """
    level = check_level(level)
    require_frame(data, _TABLE)
    require_columns(data, [outcome, treatment, unit, time], _TABLE, "columns")
    if vcov not in ("CR2", "CR1", "CR0"):
        raise ModelSpecificationError(f"vcov={vcov!r}; choose 'CR2', 'CR1' or 'CR0'")
    d = check_absorbing(data, treatment, unit, time, _TABLE)
    work = pd.DataFrame({"y__": data[outcome].to_numpy(), "d__": d.to_numpy(),
                         "u__": data[unit].to_numpy(), "t__": data[time].to_numpy()})
    work["c__"] = data[cluster].to_numpy() if cluster else work["u__"].to_numpy()
    fit = ols("y__ ~ d__ + C(u__) + C(t__)", work, cluster="c__", vcov=vcov, level=level)
    settings = {"Outcome": outcome, "Fixed effects": f"{unit} and {time}",
                "Covariance": vcov, "Clusters": f"{cluster or unit} ({fit.n_clusters})"}
    out = TWFEResult(fit, treatment, settings)
    out._work, out._data = work, data
    return out


class BaconResult(DiDResultBase):
    """Goodman-Bacon decomposition of the TWFE estimate into 2x2 comparisons.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per comparison: ``treated`` and ``control`` cohorts (0 = never treated),
        ``type`` (treated vs never, earlier vs later, later vs earlier (already treated
        controls)), ``estimate`` (the 2x2 DiD) and ``weight``. The decomposition is an
        identity, not a sampling model: ``std_error``, ``ci_lower`` and ``ci_upper`` are
        present for the result contract and always missing.
    twfe : float
        The TWFE coefficient, equal to ``sum(weight * estimate)``.
    by_type : pandas.DataFrame
        Weights and weighted average estimates by comparison type.
    """

    title = "Goodman-Bacon decomposition"

    def __init__(self, estimates: pd.DataFrame, twfe_estimate: float, log: SampleLog) -> None:
        self.estimates = estimates.assign(std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan)
        self.twfe = float(twfe_estimate)
        self.sample_log = log
        g = estimates.groupby("type", sort=False)
        self.by_type = pd.DataFrame({
            "weight": g["weight"].sum(),
            "estimate": g.apply(lambda x: np.average(x["estimate"], weights=x["weight"]),
                                include_groups=False)}).reset_index()

    def _info(self) -> dict[str, object]:
        return {"TWFE estimate": f"{self.twfe:.6g}",
                "Weight on already-treated controls": f"{self.by_type.set_index('type')['weight'].get('later vs earlier treated', 0.0):.3f}",
                **super()._info()}

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("By comparison type", self.by_type), ("Comparisons", self.estimates)]

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Not defined: the decomposition is descriptive (intervals are missing)."""
        check_level(level)
        return self.estimates.assign(ci_lower=np.nan, ci_upper=np.nan)[
            [*self.key_columns, "estimate", "ci_lower", "ci_upper"]]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Bacon scatter: each comparison's estimate against its weight."""
        from pdstats.evaluate.plots import bacon_scatter

        return bacon_scatter(self.estimates, ax=ax)


_TYPES = {"treated_vs_never": "treated vs never treated",
          "earlier_vs_later": "earlier vs later treated",
          "later_vs_earlier": "later vs earlier treated"}


def bacon(data: pd.DataFrame, outcome: str, unit: str, time: str,
          first_treated: str) -> BaconResult:
    """Goodman-Bacon (2021) decomposition of the TWFE estimate on a balanced panel.

    Parameters
    ----------
    data : pandas.DataFrame
        Long balanced panel.
    outcome, unit, time, first_treated : str
        Columns; ``first_treated`` missing or 0 for never-treated units.

    Returns
    -------
    BaconResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(30), 6), "t": np.tile(np.arange(1, 7), 30)})
    >>> d["g"] = np.repeat(np.r_[np.zeros(10), np.full(10, 3), np.full(10, 5)], 6)
    >>> d["y"] = rng.normal(size=180) + (d.g > 0) * (d.t >= d.g)
    >>> b = pds.evaluate.bacon(d, "y", "id", "t", "g")
    >>> round(float((b.estimates.weight * b.estimates.estimate).sum() - b.twfe), 10)
    0.0
    """
    import warnings

    from diff_diff import bacon_decompose

    panel = prepare_panel(data, outcome, unit, time, first_treated, table="bacon data",
                          control="notyet")
    work = panel.data.rename(columns={"unit": "u", "time": "t"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bacon_decompose(work, outcome="y", unit="u", time="t", first_treat="g",
                              weights="exact")
    comp = res.to_dataframe()
    out = pd.DataFrame({
        "treated": comp["treated_group"].astype("Int64"),
        "control": pd.to_numeric(comp["control_group"].replace("never_treated", 0)).astype("Int64"),
        "type": comp["comparison_type"].map(_TYPES).fillna(comp["comparison_type"]),
        "estimate": comp["estimate"].astype(float), "weight": comp["weight"].astype(float)})
    return BaconResult(out, res.twfe_estimate, panel.sample_log)
