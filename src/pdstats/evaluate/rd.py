"""Regression discontinuity: a bonus (or any treatment) assigned by a cut on a score.

:func:`rd` estimates the jump in an outcome at the cutoff of a running variable with the
local-polynomial methods of Calonico, Cattaneo & Titiunik (2014) and Calonico, Cattaneo,
Farrell & Titiunik (2017), computed by ``rdrobust`` (the method authors' package):

* three rows per effect (``method``): ``conventional`` (local-polynomial estimate, its
  standard error), ``bias-corrected`` (bias-corrected estimate, conventional SE) and
  ``robust`` (bias-corrected estimate with the robust SE: the interval to report);
* data-driven bandwidths (``bwselect``, default MSE-optimal common bandwidth), reported
  in :attr:`RDResult.bandwidths` with the effective number of observations on each side;
* a manipulation test of the running variable's density at the cutoff (``rddensity``,
  Cattaneo, Jansson & Ma 2020) in :attr:`RDResult.density_test`;
* covariate balance: the same RD estimate on each pre-treatment covariate, which should
  show no jump (:attr:`RDResult.balance`);
* fuzzy RD when ``treatment`` is given (the bonus is not paid to everyone above the cut, or
  is paid to some below it): the effect on those whose treatment the cut changes, with the
  first-stage jump in :attr:`RDResult.first_stage`.

Input rules (:mod:`pdstats._inputs`): rows missing the outcome, running variable or
treatment are dropped and logged; ``+-inf`` and non-numeric text are refused; a cutoff
outside the running variable's range, or fewer than ``min_per_side`` observations on a side,
raise :class:`~pdstats.ModelSpecificationError` naming the table, column and counts.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats._inputs import as_numeric, drop_missing, require_columns, require_frame
from pdstats.errors import EstimationWarning, ModelSpecificationError, PdstatsError
from pdstats.results import ResultsBase, SampleLog, add_ci, check_level, flag_unestimated

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["RDResult", "rd", "METHODS"]

#: The three inference methods of rdrobust, in its order.
METHODS = ("conventional", "bias-corrected", "robust")
_KERNELS = {"triangular": "tri", "epanechnikov": "epa", "uniform": "uni"}


def _rdrobust(y: np.ndarray, x: np.ndarray, cutoff: float, what: str, **kw: Any) -> Any:
    """Call rdrobust, translating its exceptions (raised at the public edge)."""
    from rdrobust import rdrobust

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rdrobust(y, x, c=cutoff, **kw)
    except Exception as exc:  # rdrobust raises bare Exception/ValueError/LinAlgError
        raise PdstatsError(f"rdrobust failed for {what}: {type(exc).__name__}: {exc}") from exc


def _method_rows(fit: Any, term: str, level: float) -> pd.DataFrame:
    """The three rows (conventional, bias-corrected, robust) of one rdrobust fit."""
    out = pd.DataFrame({"term": term, "method": list(METHODS),
                        "estimate": np.asarray(fit.coef).ravel().astype(float),
                        "std_error": np.asarray(fit.se).ravel().astype(float)})
    add_ci(out, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["statistic"] = out["estimate"] / out["std_error"]
    out["p_value"] = 2 * stats.norm.sf(np.abs(out["statistic"]))
    return out


def _bandwidth_row(fit: Any, term: str) -> dict[str, Any]:
    bws = fit.bws
    return {"term": term, "h_left": float(bws.iloc[0, 0]), "h_right": float(bws.iloc[0, 1]),
            "b_left": float(bws.iloc[1, 0]), "b_right": float(bws.iloc[1, 1]),
            "n_left": int(fit.N[0]), "n_right": int(fit.N[1]),
            "n_eff_left": int(fit.N_h[0]), "n_eff_right": int(fit.N_h[1])}


def _density_test(x: np.ndarray, cutoff: float) -> pd.DataFrame:
    """rddensity's manipulation test (jackknife SE, robust bias-corrected)."""
    from rddensity import rddensity

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = rddensity(X=x, c=cutoff)
    except Exception as exc:
        raise PdstatsError(f"rddensity failed: {type(exc).__name__}: {exc}") from exc
    return pd.DataFrame({
        "test": ["density continuous at the cutoff (rddensity, robust bias-corrected)"],
        "statistic": [float(r.test["t_jk"])], "p_value": [float(r.test["p_jk"])],
        "h_left": [float(r.h["left"])], "h_right": [float(r.h["right"])],
        "n_left": [int(np.sum(x < cutoff))], "n_right": [int(np.sum(x >= cutoff))]})


class RDResult(ResultsBase):
    """A regression-discontinuity estimate (:func:`pds.evaluate.rd <rd>`).

    Attributes
    ----------
    estimates : pandas.DataFrame
        Three rows per effect, ``term`` (``"RD effect"``) x ``method`` (``conventional``,
        ``bias-corrected``, ``robust``): ``estimate``, ``std_error``, 95% ``ci_lower`` /
        ``ci_upper``, ``statistic``, ``p_value``, ``flag``. Report the ``robust`` row.
    bandwidths : pandas.DataFrame
        The bandwidths used (``h`` estimation, ``b`` bias; left and right of the cutoff), the
        observations on each side and the effective ones inside ``h``.
    density_test : pandas.DataFrame
        rddensity's manipulation test (empty with ``density=False``).
    balance : pandas.DataFrame
        Robust RD estimates of the jump in each covariate at the cutoff (``covariate``,
        ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``, ``h``).
    first_stage : pandas.DataFrame or None
        Fuzzy RD: the jump in the probability of treatment (three ``method`` rows).
    sample_log : SampleLog
        Rows received, dropped (by reason) and used.
    """

    def __init__(self, estimates: pd.DataFrame, bandwidths: pd.DataFrame,
                 density_test: pd.DataFrame, balance: pd.DataFrame,
                 first_stage: pd.DataFrame | None, sample_log: SampleLog,
                 settings: dict[str, object], plot_data: dict[str, Any], level: float) -> None:
        self.estimates = estimates
        self.bandwidths = bandwidths
        self.density_test = density_test
        self.balance = balance
        self.first_stage = first_stage
        self.sample_log = sample_log
        self.settings = settings
        self.level = level
        self._plot_data = plot_data
        self.title = ("Fuzzy" if first_stage is not None else "Sharp") + \
            " regression discontinuity (rdrobust)"

    @property
    def robust(self) -> pd.Series:
        """The row to report: the bias-corrected estimate with its robust interval."""
        return self.estimates.loc[self.estimates["method"] == "robust"].iloc[0]

    def _info(self) -> dict[str, object]:
        info = dict(self.settings)
        bw = self.bandwidths.iloc[0]
        info["Bandwidth h (left, right)"] = f"{bw['h_left']:.4g}, {bw['h_right']:.4g}"
        info["Bandwidth b (left, right)"] = f"{bw['b_left']:.4g}, {bw['b_right']:.4g}"
        info["Effective n (left, right)"] = f"{bw['n_eff_left']}, {bw['n_eff_right']}"
        if len(self.density_test):
            info["Density test p-value"] = f"{self.density_test['p_value'].iloc[0]:.4g}"
        return {**info, **super()._info()}

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        blocks = [("Estimates", self.estimates)]
        if self.first_stage is not None:
            blocks.append(("First stage (jump in treatment)", self.first_stage))
        if len(self.balance):
            blocks.append(("Covariate balance at the cutoff (robust)", self.balance))
        return blocks

    def plot(self, ax: Axes | None = None, nbins: int | None = None) -> Axes:
        """RD plot: binned means of the outcome and the local-polynomial fits inside ``h``.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on.
        nbins : int, optional
            Bins on each side (default: rdrobust's ``rdplot`` mimicking-variance choice).
        """
        import matplotlib.pyplot as plt
        from rdrobust import rdplot

        d = self._plot_data
        ax = ax or plt.subplots(figsize=(7, 4.5))[1]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bins = rdplot(d["y"], d["x"], c=d["c"], hide=True,
                              nbins=None if nbins is None else [nbins, nbins]).vars_bins
        except Exception as exc:
            raise PdstatsError(f"rdplot failed: {type(exc).__name__}: {exc}") from exc
        right = bins["rdplot_mean_x"] >= d["c"]
        for side, colour in ((~right, "C0"), (right, "C1")):
            ax.scatter(bins.loc[side, "rdplot_mean_x"], bins.loc[side, "rdplot_mean_y"], s=14,
                       color=colour, alpha=0.8)
        for lo, hi, beta, colour in ((d["c"] - d["h"][0], d["c"], d["beta_l"], "C0"),
                                     (d["c"], d["c"] + d["h"][1], d["beta_r"], "C1")):
            grid = np.linspace(lo, hi, 50)
            ax.plot(grid, np.polyval(beta[::-1], grid - d["c"]), color=colour, lw=2)
        ax.axvline(d["c"], color="black", lw=0.8, ls="--")
        est = self.robust
        ax.set_title(f"RD estimate {est['estimate']:.3g} (robust 95% CI {est['ci_lower']:.3g} "
                     f"to {est['ci_upper']:.3g}); fits inside h")
        ax.set_xlabel(str(self.settings["Running variable"]))
        ax.set_ylabel(str(self.settings["Outcome"]))
        return ax


def _check_sides(x: np.ndarray, cutoff: float, running: str, table: str, min_per_side: int) -> None:
    if isinstance(min_per_side, bool) or not isinstance(min_per_side, numbers.Integral) or min_per_side < 1:
        raise ModelSpecificationError(f"argument 'min_per_side' must be an integer >= 1, got {min_per_side!r}")
    if not np.isfinite(cutoff):
        raise ModelSpecificationError(f"cutoff must be a finite number, got {cutoff!r}")
    lo, hi = float(np.min(x)), float(np.max(x))
    if not lo < cutoff < hi:
        raise ModelSpecificationError(
            f"table {table!r}: cutoff {cutoff:g} is outside the range of running variable "
            f"{running!r} ({lo:g} to {hi:g}); an RD needs observations on both sides")
    n_left, n_right = int(np.sum(x < cutoff)), int(np.sum(x >= cutoff))
    if min(n_left, n_right) < min_per_side:
        raise ModelSpecificationError(
            f"table {table!r}: running variable {running!r} has {n_left} observation(s) below "
            f"and {n_right} at or above the cutoff {cutoff:g}; at least {min_per_side} are "
            "needed on each side (min_per_side)")


def rd(data: pd.DataFrame, outcome: str, running: str, cutoff: float, *,
       treatment: str | None = None, covariates: Sequence[str] = (), cluster: str | None = None,
       p: int = 1, kernel: str = "triangular", bwselect: str = "mserd",
       h: float | None = None, density: bool = True, min_per_side: int = 20,
       level: float = 0.95, table: str = "data") -> RDResult:
    """Local-polynomial regression-discontinuity estimate at ``cutoff`` (rdrobust).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (teacher, school, student).
    outcome : str
        Outcome column.
    running : str
        Running variable (score) column; treatment is assigned at ``running >= cutoff``.
    cutoff : float
        The cut; must lie strictly inside the running variable's range.
    treatment : str, optional
        0/1 treatment actually received: fuzzy RD (effect on those whose treatment the cut
        changes). Without it the design is sharp.
    covariates : sequence of str
        Pre-treatment covariates checked for a jump at the cutoff (:attr:`RDResult.balance`);
        rows missing a covariate are left out of that covariate's check only.
    cluster : str, optional
        Cluster column (rdrobust's cluster-robust variance and bandwidths).
    p : int
        Order of the local polynomial (1: local linear).
    kernel : {"triangular", "epanechnikov", "uniform"}
    bwselect : str
        rdrobust's bandwidth selector (``"mserd"``, ``"msetwo"``, ``"cerrd"``, ...); ignored
        when ``h`` is given.
    h : float, optional
        A fixed bandwidth instead of the data-driven one.
    density : bool
        Run the rddensity manipulation test.
    min_per_side : int
        Fewest observations accepted on each side of the cutoff.
    level : float
        Confidence level of ``ci_lower``/``ci_upper`` (the contract's default 0.95).
    table : str
        Name of ``data`` in messages.

    Returns
    -------
    RDResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 1000)
    >>> d = pd.DataFrame({"score": x, "y": 0.5 * x + 1.0 * (x >= 0) + rng.normal(0, 0.3, 1000)})
    >>> res = pds.evaluate.rd(d, "y", "score", cutoff=0.0, density=False)
    >>> res.estimates["method"].tolist()
    ['conventional', 'bias-corrected', 'robust']
    >>> bool(res.robust["ci_lower"] < 1.0 < res.robust["ci_upper"])
    True
    """
    level = check_level(level)
    data = require_frame(data, table)
    covariates = list(covariates)
    cols = [outcome, running, *([treatment] if treatment else []), *([cluster] if cluster else [])]
    require_columns(data, [*cols, *covariates], table, "outcome/running/treatment/cluster/covariates")
    if kernel not in _KERNELS:
        raise ModelSpecificationError(f"kernel={kernel!r}; choose one of {sorted(_KERNELS)}")
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 <= p <= 4:
        raise ModelSpecificationError(f"p must be an integer 0-4, got {p!r}")
    try:
        cutoff = float(cutoff)
    except (TypeError, ValueError):
        raise ModelSpecificationError(f"cutoff must be a number, got {cutoff!r}") from None
    work = pd.DataFrame({outcome: as_numeric(data, outcome, table),
                         running: as_numeric(data, running, table)}, index=data.index)
    if treatment:
        work[treatment] = as_numeric(data, treatment, table, lower=0, upper=1)
    if cluster:
        work[cluster] = data[cluster]
    for c in covariates:
        work[c] = as_numeric(data, c, table)
    work = work.reset_index(drop=True)
    work, log = drop_missing(work, cols, table, SampleLog(n_in=len(data)), stacklevel=3)
    x = work[running].to_numpy(dtype=float)
    if len(x) == 0:
        raise ModelSpecificationError(f"table {table!r}: no rows left after dropping missing values")
    _check_sides(x, cutoff, running, table, min_per_side)
    y = work[outcome].to_numpy(dtype=float)
    kw: dict[str, Any] = {"p": int(p), "kernel": _KERNELS[kernel], "bwselect": bwselect,
                          "level": 100 * level}
    if h is not None:
        if isinstance(h, bool) or not isinstance(h, numbers.Real) or not np.isfinite(h) or h <= 0:
            raise ModelSpecificationError(f"argument 'h' must be a finite bandwidth > 0, got {h!r}")
        kw["h"] = float(h)
    if cluster:
        kw["cluster"] = pd.factorize(work[cluster])[0]
    fuzzy = work[treatment].to_numpy(dtype=float) if treatment else None
    if fuzzy is not None and np.ptp(fuzzy) == 0:
        raise ModelSpecificationError(f"table {table!r}: treatment {treatment!r} is constant; "
                                      "a fuzzy RD needs treated and untreated units")
    fit = _rdrobust(y, x, cutoff, f"outcome {outcome!r}", fuzzy=fuzzy, **kw)
    term = "RD effect" + (" (fuzzy: on those the cut moves)" if treatment else "")
    est = _method_rows(fit, term, level)
    flag_unestimated(est, "rd")
    first = None
    if treatment:
        first = pd.DataFrame({"term": "jump in treatment", "method": list(METHODS),
                              "estimate": np.ravel(fit.tau_T).astype(float),
                              "std_error": np.ravel(fit.se_T).astype(float)})
        add_ci(first, level)
        first["p_value"] = 2 * stats.norm.sf(np.abs(first["estimate"] / first["std_error"]))
    bal_rows = []
    for c in covariates:
        ok = work[c].notna().to_numpy()
        n_miss = int((~ok).sum())
        if n_miss:
            warnings.warn(f"table {table!r}: balance check of {c!r} leaves out {n_miss} row(s) "
                          "missing it", EstimationWarning, stacklevel=2)
        cfit = _rdrobust(work.loc[ok, c].to_numpy(float), x[ok], cutoff, f"covariate {c!r}",
                         **{k: (v[ok] if k == "cluster" else v) for k, v in kw.items()})
        r = _method_rows(cfit, c, level).iloc[2]
        bal_rows.append({"covariate": c, "estimate": r["estimate"], "std_error": r["std_error"],
                         "ci_lower": r["ci_lower"], "ci_upper": r["ci_upper"],
                         "p_value": r["p_value"], "h": float(cfit.bws.iloc[0, 0]),
                         "n": int(ok.sum())})
    balance = pd.DataFrame(bal_rows, columns=["covariate", "estimate", "std_error", "ci_lower",
                                              "ci_upper", "p_value", "h", "n"])
    dens = _density_test(x, cutoff) if density else pd.DataFrame()
    settings: dict[str, object] = {
        "Outcome": outcome, "Running variable": running, "Cutoff": cutoff,
        "Design": "fuzzy" if treatment else "sharp", "Polynomial order p": int(p),
        "Kernel": kernel, "Bandwidth selector": "fixed h" if h is not None else bwselect,
        "Variance": "cluster-robust by " + cluster if cluster else "nearest-neighbour (rdrobust nn)"}
    plot_data = {"y": y, "x": x, "c": cutoff, "h": (float(fit.bws.iloc[0, 0]), float(fit.bws.iloc[0, 1])),
                 "beta_l": np.ravel(fit.beta_p_l), "beta_r": np.ravel(fit.beta_p_r)}
    if treatment:  # the plot shows the outcome's reduced form
        red = _rdrobust(y, x, cutoff, "the reduced form", **kw)
        plot_data.update(beta_l=np.ravel(red.beta_p_l), beta_r=np.ravel(red.beta_p_r),
                         h=(float(red.bws.iloc[0, 0]), float(red.bws.iloc[0, 1])))
    return RDResult(est, pd.DataFrame([_bandwidth_row(fit, term)]), dens, balance, first, log,
                    settings, plot_data, level)
