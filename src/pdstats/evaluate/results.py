"""Result classes of the difference-in-differences family (the pdstats result contract)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats.errors import ModelSpecificationError
from pdstats.results import ResultsBase, SampleLog, add_ci, check_level, critical_value

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["DiDResultBase", "StaggeredDiDResult", "AggregateResult", "EventStudyResult",
           "stat_frame"]


def stat_frame(keys: dict[str, Any], est: np.ndarray, se: np.ndarray,
               crit: float | None = None, level: float = 0.95,
               df: np.ndarray | None = None) -> pd.DataFrame:
    """Tidy estimates: key columns, estimate, std_error, interval, p-value, uniform band.

    With ``df`` the intervals and p-values are Student t (column ``df``), else normal; the
    uniform band is never narrower than the pointwise interval.

    Examples
    --------
    >>> stat_frame({"term": ["a"]}, np.array([1.0]), np.array([0.5]))[["estimate", "ci_lower"]].round(2).values.tolist()
    [[1.0, 0.02]]
    """
    out = pd.DataFrame(keys)
    for c in out.columns:  # nullable integer keys (periods, cohorts, event times)
        if pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].astype("Int64")
    out["estimate"] = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    flag = ~np.isfinite(se) | (se <= 0)
    out["std_error"] = np.where(flag, np.nan, se)
    if df is not None:
        out["df"] = np.broadcast_to(np.asarray(df, dtype=float), len(out)).copy()
    add_ci(out, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["statistic"] = out["estimate"] / out["std_error"]
    dfs = out["df"].to_numpy() if df is not None else np.full(len(out), np.inf)
    fin = np.isfinite(dfs) & (dfs > 0)
    tail = np.where(fin, stats.t.sf(np.abs(out["statistic"]), np.where(fin, dfs, 1.0)),
                    stats.norm.sf(np.abs(out["statistic"])))
    out["p_value"] = 2 * tail
    if crit is not None:
        band = crit if df is None else np.maximum(crit, critical_value(level, dfs))
        out["cband_lower"] = out["estimate"] - band * out["std_error"]
        out["cband_upper"] = out["estimate"] + band * out["std_error"]
    out["flag"] = np.where(flag, "standard error not estimable", "")
    if flag.any():
        import warnings

        from pdstats.errors import EstimationWarning

        warnings.warn(f"{int(flag.sum())} estimate(s) have no estimable standard error "
                      "(flagged, SE missing)", EstimationWarning, stacklevel=3)
    return out


class DiDResultBase(ResultsBase):
    """Shared parts: effects in student-SD units and the ``sample_log``."""

    sample_log: SampleLog
    estimates: pd.DataFrame

    def in_sd_units(self, sd: float, sd_name: str) -> pd.DataFrame:
        """The estimates divided by a student SD, with the SD named in column ``scale``.

        Parameters
        ----------
        sd : float
            Student-level SD of the outcome's scale (e.g. the NAEP national SD of the
            grade and subject, ``pds.evaluate.student_sd``).
        sd_name : str
            What the SD is, shown with every row (e.g. ``"NAEP national student SD,
            grade 4 math 2005"``).

        Examples
        --------
        >>> import pandas as pd, pdstats as pds
        >>> class R(pds.evaluate.results.DiDResultBase):
        ...     estimates = pd.DataFrame({"term": ["att"], "estimate": [3.0], "std_error": [1.0],
        ...                               "ci_lower": [1.04], "ci_upper": [4.96]})
        >>> R().in_sd_units(30.0, "NAEP SD")[["estimate", "scale"]].values.tolist()
        [[0.1, 'NAEP SD = 30']]
        """
        if not np.isfinite(sd) or sd <= 0:
            raise ModelSpecificationError(f"sd must be a positive number, got {sd!r}")
        out = self.estimates.copy()
        cols = [c for c in out.columns if c in ("estimate", "std_error") or c.startswith(
            ("ci_", "cband_"))]
        out[cols] = out[cols] / float(sd)
        out["scale"] = f"{sd_name} = {sd:g}"
        return out


def _bootstrap_crit(inf: np.ndarray, n: int, n_boot: int, level: float, cluster: Any,
                    random_state: Any) -> tuple[float, np.ndarray]:
    """Uniform critical value and bootstrap SEs from the multiplier bootstrap (moderndid)."""
    from moderndid import mboot

    inf = np.asarray(inf, dtype=float)
    if inf.ndim == 1:
        inf = inf[:, None]
    out = mboot(inf, n, biters=int(n_boot), alp=1 - level, cluster=cluster,
                random_state=random_state)
    crit = float(out["crit_val"]) if np.isfinite(out["crit_val"]) else float(critical_value(level))
    return crit, np.asarray(out["se"], dtype=float)


class StaggeredDiDResult(DiDResultBase):
    """Callaway & Sant'Anna group-time effects (``pds.evaluate.staggered_did``).

    Attributes
    ----------
    att_gt, estimates : pandas.DataFrame
        One row per (``group``, ``time``): ``event_time``, ``estimate``, analytic
        ``std_error``, pointwise 95% ``ci_lower``/``ci_upper``, ``p_value`` and the
        multiplier-bootstrap uniform band ``cband_lower``/``cband_upper``.
    pretest : pandas.DataFrame
        Wald test that every pre-treatment ATT(g,t) is zero (``statistic``, ``df``,
        ``p_value``).
    critical_value : float
        Uniform-band critical value (bootstrap; 1.96 with ``n_boot=0``).
    """

    title = "Staggered difference-in-differences (Callaway & Sant'Anna)"

    def __init__(self, mp: Any, panel: Any, settings: dict[str, object], level: float,
                 n_boot: int, cluster: Any, random_state: Any) -> None:
        self._mp = mp
        self._panel = panel
        self.settings = settings
        self.level = level
        self.n_boot = int(n_boot)
        self._cluster = cluster
        self._rng = np.random.default_rng(random_state)
        self.sample_log = panel.sample_log
        inf = np.asarray(mp.influence_func, dtype=float)
        se = np.asarray(mp.se_gt, dtype=float)
        crit = float(critical_value(level))
        if self.n_boot:
            crit, _ = _bootstrap_crit(inf[:, np.isfinite(se) & (se > 0)], mp.n_units,
                                      self.n_boot, level, cluster, self._rng)
        self.critical_value = crit
        groups = np.asarray(mp.groups).astype(int)
        times = np.asarray(mp.times).astype(int)
        keep = self._not_reference(times - groups)
        se, df = self._inference(inf, se)
        self.estimates = stat_frame({"group": groups[keep], "time": times[keep],
                                     "event_time": (times - groups)[keep]},
                                    np.asarray(mp.att_gt)[keep], se[keep], crit, level,
                                    None if df is None else df[keep])
        self.pretest = pd.DataFrame({
            "test": ["all pre-treatment ATT(g,t) = 0"],
            "statistic": [float(mp.wald_stat) if mp.wald_stat is not None else np.nan],
            "df": [int((self.estimates["event_time"] < 0).sum())],
            "p_value": [float(mp.wald_pvalue) if mp.wald_pvalue is not None else np.nan]})

    def _inference(self, inf: np.ndarray, se: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray | None]:
        """(SE, t df) of estimates with influence functions ``inf`` (units x estimates).

        ``inference="small_sample"``: :func:`~pdstats.evaluate.smallsample.cohort_t`;
        ``"analytic"``: R ``did``'s analytic SEs ``se`` and normal critical values.
        """
        if self.settings.get("Inference", "").startswith("analytic"):
            return np.asarray(se, dtype=float), None
        from pdstats.evaluate.smallsample import cohort_t

        cohort = np.asarray(self._mp.G, dtype=float)  # the influence functions' row order
        inf = np.asarray(inf, dtype=float).reshape(len(cohort), -1)
        out_se, df = cohort_t(inf, cohort, self._cluster)
        return out_se, df

    def _not_reference(self, event_time: np.ndarray) -> np.ndarray:
        """Rows that are estimates (the universal base period -1 is a normalization)."""
        if self.settings.get("_base_period") == "universal":
            return np.asarray(event_time) != -1 - int(self.settings.get("_anticipation", 0))
        return np.ones(len(event_time), dtype=bool)

    @property
    def att_gt(self) -> pd.DataFrame:
        """Alias of :attr:`estimates` (R ``did``'s name)."""
        return self.estimates

    def aggregate(self, type: str = "event", min_e: float = -np.inf, max_e: float = np.inf,
                  balance_e: int | None = None) -> AggregateResult:
        """Aggregate the ATT(g,t): ``"simple"``, ``"event"``, ``"group"`` or ``"calendar"``.

        Parameters
        ----------
        type : {"simple", "event", "group", "calendar"}
            Weighted averages with weights proportional to cohort size, as R ``did``'s
            ``aggte`` (``"event"`` is its ``"dynamic"``).
        min_e, max_e, balance_e
            Event-time window and balancing, as ``aggte``.

        Returns
        -------
        AggregateResult
            ``.overall`` (one row) and ``.estimates`` (by event time, group or period).
        """
        from moderndid import aggte

        kinds = {"simple": "simple", "event": "dynamic", "dynamic": "dynamic",
                 "group": "group", "calendar": "calendar"}
        if type not in kinds:
            raise ModelSpecificationError(
                f"type={type!r}; choose 'simple', 'event', 'group' or 'calendar'")
        agg = aggte(self._mp, type=kinds[type], min_e=min_e, max_e=max_e, balance_e=balance_e,
                    boot=False, cband=False, clustervars=self.settings.get("_clustervars"))
        return AggregateResult(agg, type, self)

    def _info(self) -> dict[str, object]:
        info = {k: v for k, v in self.settings.items() if not k.startswith("_")}
        info["Pre-trend Wald p-value"] = f"{self.pretest['p_value'].iloc[0]:.4g}"
        info["Uniform-band critical value"] = f"{self.critical_value:.3f}"
        return {**info, **super()._info()}

    def plot(self, ax: Axes | None = None) -> Axes:
        """Cohort-by-period heat map of the ATT(g,t)."""
        from pdstats.evaluate.plots import heatmap

        return heatmap(self.estimates, ax=ax)


class AggregateResult(DiDResultBase):
    """An aggregation of ATT(g,t) (``StaggeredDiDResult.aggregate``).

    Attributes
    ----------
    overall : pandas.DataFrame
        One row: ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``.
    estimates : pandas.DataFrame
        The disaggregated effects (key ``event_time``, ``group`` or ``time``) with analytic
        SEs, pointwise intervals and the multiplier-bootstrap uniform band.
    """

    def __init__(self, agg: Any, kind: str, parent: StaggeredDiDResult) -> None:
        self.kind = kind
        self.title = f"Aggregated ATT ({kind})"
        self.sample_log = parent.sample_log
        self.level = parent.level
        self.influence_overall = np.asarray(agg.influence_func_overall, dtype=float)
        se_all, df_all = parent._inference(self.influence_overall, np.array([agg.overall_se]))
        self.overall = stat_frame({"term": [f"ATT ({kind})"]}, np.array([agg.overall_att]),
                                  se_all, None, parent.level, df_all)
        if kind == "simple":
            self.estimates = self.overall.copy()
            self.critical_value = float(critical_value(parent.level))
            return
        key = {"event": "event_time", "dynamic": "event_time", "group": "group",
               "calendar": "time"}[kind]
        se = np.asarray(agg.se_by_event, dtype=float)
        crit = float(critical_value(parent.level))
        inf = np.asarray(agg.influence_func, dtype=float)
        keys = np.asarray(agg.event_times).astype(int)
        keep = parent._not_reference(keys) if key == "event_time" else np.ones(len(keys), bool)
        se, inf, keys = se[keep], inf[:, keep], keys[keep]
        se, df = parent._inference(inf, se)
        if parent.n_boot:
            ok = np.isfinite(se) & (se > 0)
            crit, _ = _bootstrap_crit(inf[:, ok], parent._mp.n_units, parent.n_boot,
                                      parent.level, parent._cluster, parent._rng)
        self.critical_value = crit
        self.influence = inf
        self.estimates = stat_frame({key: keys}, np.asarray(agg.att_by_event)[keep], se, crit,
                                    parent.level, df)

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Overall", self.overall), ("Estimates", self.estimates)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Event-study (or group / calendar) plot with pointwise intervals and uniform bands."""
        from pdstats.evaluate.plots import event_plot

        return event_plot(self.estimates, ax=ax)


class EventStudyResult(DiDResultBase):
    """An event study by relative period (Sun & Abraham, imputation, TWFE leads and lags).

    ``estimates`` has ``event_time``, ``estimate``, ``std_error``, intervals, p-values;
    ``overall`` the average post-treatment effect; ``vcov`` the covariance of the
    event-time coefficients where the estimator provides it (used by ``honest_did``).
    """

    def __init__(self, title: str, estimates: pd.DataFrame, overall: pd.DataFrame,
                 vcov: np.ndarray | None, sample_log: SampleLog, settings: dict[str, object],
                 level: float = 0.95) -> None:
        self.title = title
        self.estimates = estimates
        self.overall = overall
        self.vcov = vcov
        self.sample_log = sample_log
        self.settings = settings
        self.level = check_level(level)

    def _info(self) -> dict[str, object]:
        return {**self.settings, **super()._info()}

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Overall", self.overall), ("Event study", self.estimates)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Event-study plot."""
        from pdstats.evaluate.plots import event_plot

        return event_plot(self.estimates, ax=ax)
