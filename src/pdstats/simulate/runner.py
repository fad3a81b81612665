"""The validation runner: fit any estimator on many simulated worlds with known truth.

:func:`run` builds ``n_worlds`` worlds, each from its own random stream, fits the
estimator to each, and summarizes the draws per term: bias, RMSE, interval coverage,
rejection rate, mean standard error and the SD of the estimates, each with its Monte
Carlo standard error (Morris, White & Crowther 2019, Statistics in Medicine 38:2074-2102,
Table 6).

How the per-world numbers are pooled. An estimator may return several rows of one term
in a world (e.g. one per teacher-year, all with the term "teacher effect"). Each world
first averages its rows of a term (its bias ``b_w``, mean squared error ``m_w``, share
covered ``c_w``, share rejected ``r_w``, mean SE ``s_w``, mean estimate ``e_w``); the worlds
are the independent replications, so with ``W`` worlds:

* bias ``= mean(b_w)``, MC SE ``= sd(b_w) / sqrt(W)`` (sd with ``ddof=1``);
* RMSE ``= sqrt(mean(m_w))``, MC SE ``= sd(m_w) / (2 RMSE sqrt(W))`` (delta method);
* coverage ``= mean(c_w)``, MC SE ``= sqrt(mean((c_w - coverage)^2) / W)``; with one row
  per world this is the binomial ``sqrt(p (1 - p) / W)``; rejection likewise;
* mean_se ``= mean(s_w)``, MC SE ``= sd(s_w) / sqrt(W)``; mean ``= mean(e_w)`` likewise;
* sd_estimate ``= sd(e_w)`` (``ddof=1``; the empirical SE when a term has one row per
  world), MC SE ``= sd_estimate / sqrt(2 (W - 1))``.

The Monte Carlo intervals are normal: estimate -+ z x MC SE at ``level``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from pdstats._parallel import PieceFailure, map_pieces, piece_seeds, piece_streams
from pdstats.errors import EstimationWarning, ModelSpecificationError, WorldsFailedError
from pdstats.results import ResultsBase, SampleLog, add_ci, check_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["QUANTITIES", "ValidationResult", "run", "summarize_draws"]

#: The quantities :func:`run` reports per term, in this order.
QUANTITIES = ("bias", "rmse", "coverage", "rejection", "mean", "mean_se", "sd_estimate")


def _as_frame(out: Any) -> pd.DataFrame:
    """The estimator's output as a tidy frame with the runner's columns."""
    frame = getattr(out, "estimates", out)
    if not isinstance(frame, pd.DataFrame):
        raise ModelSpecificationError(
            "the estimator must return a pdstats result (with .estimates) or a DataFrame, "
            f"not {type(out).__name__}")
    if "term" not in frame.columns or "estimate" not in frame.columns:
        raise ModelSpecificationError(
            "the estimator's table needs the columns 'term' and 'estimate' "
            f"(and std_error, ci_lower, ci_upper, optionally p_value, truth); got {list(frame.columns)}")
    d = frame.reset_index(drop=True).copy()
    d["estimate"] = d["estimate"].astype(float)
    d["term"] = d["term"].astype(str)
    if "std_error" not in d:
        d["std_error"] = np.nan
    # rows without an interval get the 95% one from their SE (and df where given)
    ci = add_ci(d[["estimate", "std_error", *(["df"] if "df" in d else [])]].astype(float), 0.95)
    for c in ("ci_lower", "ci_upper"):
        d[c] = d[c].astype(float).fillna(ci[c]) if c in d else ci[c]
    # rows without a p-value get the two-sided one of estimate / SE (t with df where given)
    p = d["p_value"].astype(float) if "p_value" in d else pd.Series(np.nan, index=d.index)
    z = (d["estimate"].astype(float) / d["std_error"].astype(float)).abs().to_numpy()
    dfs = d["df"].to_numpy(dtype=float) if "df" in d else np.full(len(d), np.inf)
    finite = np.isfinite(dfs) & (dfs > 0)
    from_se = np.where(finite, 2 * stats.t.sf(z, np.where(finite, dfs, 1.0)), 2 * stats.norm.sf(z))
    d["p_value"] = p.fillna(pd.Series(from_se, index=d.index))
    return d


def _one_world(world: Callable, estimator: Callable, truth: Any, seed: int) -> pd.DataFrame:
    """Build world ``seed``, fit the estimator, attach the truth (runs on a worker)."""
    world_rng, fit_rng = piece_streams(seed)
    w = world(world_rng)
    d = _as_frame(estimator(w, fit_rng))
    if truth is not None:
        values = truth(w) if callable(truth) else truth
        if not isinstance(values, Mapping):
            raise ModelSpecificationError("truth must be a dict term -> value (or a callable returning one)")
        mapped = d["term"].map({str(k): float(v) for k, v in values.items()}).astype(float)
        d["truth"] = mapped if "truth" not in d else d["truth"].astype(float).fillna(mapped)
    elif "truth" not in d:
        d["truth"] = np.nan
    return d


def _mcse_mean(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1) / np.sqrt(len(x))) if len(x) > 1 else np.nan


def _summarize_term(per_world: pd.DataFrame) -> list[tuple[str, float, float]]:
    """(quantity, estimate, MC SE) for one term from its per-world means."""
    w = len(per_world)
    rows: list[tuple[str, float, float]] = []
    has_truth = per_world["err"].notna().all()
    if has_truth:
        rows.append(("bias", per_world["err"].mean(), _mcse_mean(per_world["err"].to_numpy())))
        mse = per_world["sq"].to_numpy()
        rmse = float(np.sqrt(mse.mean()))
        rows.append(("rmse", rmse, _mcse_mean(mse) / (2 * rmse) if rmse > 0 else np.nan))
        if per_world["covered"].notna().all():
            c = per_world["covered"].to_numpy()
            rows.append(("coverage", c.mean(), float(np.sqrt(np.mean((c - c.mean()) ** 2) / w))))
    if per_world["rejected"].notna().all():
        r = per_world["rejected"].to_numpy()
        rows.append(("rejection", r.mean(), float(np.sqrt(np.mean((r - r.mean()) ** 2) / w))))
    e = per_world["estimate"].to_numpy()
    rows.append(("mean", e.mean(), _mcse_mean(e)))
    if per_world["std_error"].notna().all():
        rows.append(("mean_se", per_world["std_error"].mean(), _mcse_mean(per_world["std_error"].to_numpy())))
    if w > 1:
        sd = float(np.std(e, ddof=1))
        rows.append(("sd_estimate", sd, sd / np.sqrt(2 * (w - 1))))
    return rows


def summarize_draws(draws: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per-term bias, RMSE, coverage, rejection, mean, mean SE and SD with Monte Carlo SEs.

    ``draws`` has the columns ``world``, ``term``, ``estimate``, ``std_error``, ``truth``,
    ``covered``, ``rejected`` (as :attr:`ValidationResult.draws`); the formulas are in the
    module docstring. Returns the long table of :attr:`ValidationResult.estimates`.

    Examples
    --------
    >>> d = pd.DataFrame({"world": [0, 1, 2, 3], "term": "x", "estimate": [0.1, -0.1, 0.2, 0.0],
    ...                   "std_error": 0.1, "truth": 0.0, "covered": [1.0, 1.0, 0.0, 1.0],
    ...                   "rejected": [0.0, 0.0, 1.0, 0.0]})
    >>> s = summarize_draws(d).set_index("quantity")
    >>> round(float(s.loc["coverage", "estimate"]), 2), round(float(s.loc["coverage", "std_error"]), 4)
    (0.75, 0.2165)
    """
    level = check_level(level)
    d = draws.assign(err=draws["estimate"] - draws["truth"],
                     sq=(draws["estimate"] - draws["truth"]) ** 2)
    cols = ["estimate", "std_error", "err", "sq", "covered", "rejected"]
    # NaN rows are skipped; a world with no truth / no interval for a term keeps NaN
    per_world = d.groupby(["term", "world"], sort=False)[cols].mean()
    rows = []
    for term, pw in per_world.groupby(level="term", sort=False):
        for quantity, est, se in _summarize_term(pw):
            rows.append((term, quantity, float(est), se, len(pw)))
    out = pd.DataFrame(rows, columns=["term", "quantity", "estimate", "std_error", "n_worlds"])
    order = {q: i for i, q in enumerate(QUANTITIES)}
    out = out.sort_values(["term", "quantity"], key=lambda s: s.map(order) if s.name == "quantity" else s,
                          kind="stable").reset_index(drop=True)
    zero = out["std_error"].eq(0)
    share = out["quantity"].isin(["coverage", "rejection"])
    out["flag"] = np.select(
        [zero & share, zero],
        ["every world at 0 or 1: Monte Carlo SE not estimable, reported as missing",
         "the same in every world: no Monte Carlo error, SE reported as missing"], "")
    if (zero & share).any():
        z = (out.loc[zero & share, "term"] + " " + out.loc[zero & share, "quantity"]).tolist()
        warnings.warn(f"{len(z)} rate(s) ({', '.join(z[:3])}{', ...' if len(z) > 3 else ''}) at 0 or 1 in every world: "
                      "the Monte Carlo SE is reported as missing (run more worlds)",
                      EstimationWarning, stacklevel=3)
    out.loc[zero, "std_error"] = np.nan
    add_ci(out, level)
    return out[["term", "quantity", "estimate", "std_error", "ci_lower", "ci_upper", "n_worlds", "flag"]]


class ValidationResult(ResultsBase):
    """What :func:`run` measured: per-term Monte Carlo summaries and every world's draws.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per term x quantity (``bias``, ``rmse``, ``coverage``, ``rejection``,
        ``mean``, ``mean_se``, ``sd_estimate``): ``estimate``, ``std_error`` (its Monte Carlo
        SE), ``ci_lower``, ``ci_upper`` (normal, at the run's level), ``n_worlds``, ``flag``.
    draws : pandas.DataFrame
        One row per world x estimator row: ``world``, ``seed``, the estimator's columns,
        ``truth``, ``covered``, ``rejected``.
    failures : pandas.DataFrame
        Worlds whose builder or estimator raised (``errors="record"``): ``world``,
        ``seed``, ``error``, ``message``, ``traceback``; empty otherwise.
    sample_log : SampleLog
        Worlds requested, failed (by error type) and used.
    level : float
        Level of the Monte Carlo intervals; the rejection threshold is ``1 - level``.
    """

    title = "Validation on simulated worlds"

    def __init__(self, estimates: pd.DataFrame, draws: pd.DataFrame, failures: pd.DataFrame,
                 sample_log: SampleLog, level: float, backend: str, random_state: Any) -> None:
        self.estimates = estimates
        self.draws = draws
        self.failures = failures
        self.sample_log = sample_log
        self.level = level
        self.backend = backend
        self.random_state = random_state

    def table(self) -> pd.DataFrame:
        """The estimates as a wide table: one row per term, one column per quantity."""
        return self.estimates.pivot(index="term", columns="quantity", values="estimate").reindex(
            columns=[q for q in QUANTITIES if q in set(self.estimates["quantity"])])

    def _info(self) -> dict[str, object]:
        info: dict[str, object] = {}
        info["Worlds used"] = f"{self.sample_log.n_used} of {self.sample_log.n_in}"
        info["Backend"] = self.backend
        info["random_state"] = self.random_state
        info["Rejection threshold"] = f"p < {1 - self.level:.3g}"
        return info

    def plot(self, quantity: str = "coverage", nominal: float | None = None, ax: Axes | None = None) -> Axes:
        """Each term's ``quantity`` with its Monte Carlo interval (default: coverage vs 0.95).

        Parameters
        ----------
        quantity : str
            One of :data:`QUANTITIES` present in :attr:`estimates`.
        nominal : float, optional
            Reference line (default 0.95 for coverage, ``1 - level`` for rejection, 0 for bias).
        ax : matplotlib.axes.Axes, optional
            Axes to draw on.
        """
        from pdstats.figures.estimates import coefplot

        d = self.estimates[self.estimates["quantity"] == quantity]
        if d.empty:
            raise ModelSpecificationError(
                f"no {quantity!r} rows to plot; quantities here: {sorted(set(self.estimates['quantity']))}")
        ax = coefplot(d, term="term", ax=ax)
        if nominal is None:
            nominal = {"coverage": 0.95, "rejection": 1 - self.level, "bias": 0.0}.get(quantity)
        if nominal is not None:
            ax.axvline(nominal, color="black", lw=0.8, ls="--")
        ax.set_xlabel(f"{quantity} (Monte Carlo {self.level:.0%} interval), {self.sample_log.n_used} worlds")
        return ax


def run(
    estimator: Callable[[Any, np.random.Generator], Any],
    world: Callable[[np.random.Generator], Any],
    n_worlds: int = 200,
    truth: Mapping[str, float] | Callable[[Any], Mapping[str, float]] | None = None,
    backend: str = "local",
    client: Any = None,
    random_state: int | None = 0,
    level: float = 0.95,
    progress: bool = True,
    errors: str = "raise",
    seeds: Any = None,
) -> ValidationResult:
    """Fit ``estimator`` on ``n_worlds`` simulated worlds and compare it with the truth.

    Parameters
    ----------
    estimator : callable
        ``estimator(world, rng)`` returns a pdstats result (its ``.estimates`` are used)
        or a DataFrame with ``term``, ``estimate`` and ideally ``std_error``, ``ci_lower``,
        ``ci_upper`` (95% from ``std_error`` when missing), ``p_value`` and ``truth``; a
        term may have several rows per world (e.g. one per teacher), other columns are
        kept in :attr:`ValidationResult.draws`.
    world : callable
        ``world(rng)`` builds one world (a simulated study, a data frame, ...).
    n_worlds : int
        Number of worlds.
    truth : dict or callable, optional
        Term -> true value, or ``truth(world)`` returning that dict; a ``truth`` column of
        the estimator's table fills terms it leaves out. None: no bias/RMSE/coverage.
    backend : {"local", "dask"}
        ``"dask"`` maps the worlds on ``client`` or the current ``dask.distributed``
        client; each world's numbers are identical on both backends.
    client : distributed.Client, optional
        The dask client.
    random_state : int, optional
        Seed of the one :class:`numpy.random.SeedSequence` whose spawned children give
        each world its seed (:attr:`ValidationResult.draws` ``seed``).
    level : float
        Level of the Monte Carlo intervals; a world rejects ``H0: term = 0`` when its
        ``p_value < 1 - level`` (rows without a p-value get the two-sided one of
        ``estimate / std_error``, Student t where a ``df`` column gives degrees of freedom).
    progress : bool
        Show a progress bar.
    errors : {"raise", "record"}
        A world whose builder or estimator raises: ``"raise"`` raises
        :class:`pdstats.errors.WorldsFailedError` after all worlds ran, listing every
        failed world with its seed; ``"record"`` keeps the rest and lists the failures in
        ``.failures`` and ``.sample_log``.
    seeds : sequence of int, optional
        Explicit world seeds instead of spawned ones (e.g. to rerun a failed world, or a
        study's historical seeds 100-299); ``n_worlds`` is then ``len(seeds)``.

    Returns
    -------
    ValidationResult

    Notes
    -----
    World ``i`` with seed ``s`` is built by ``world(np.random.default_rng(s))`` and fitted
    with a second stream, ``np.random.default_rng(np.random.SeedSequence(s).spawn(1)[0])``.
    A builder that takes an integer or a SeedSequence (like :func:`pdstats.simulate.study`)
    uses ``rng.bit_generator.seed_seq``, which is ``SeedSequence(s)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> def estimator(x, rng):
    ...     se = x.std(ddof=1) / np.sqrt(len(x))
    ...     return pd.DataFrame({"term": ["mean"], "estimate": [x.mean()], "std_error": [se]})
    >>> res = run(estimator, lambda rng: rng.normal(0.5, 1, 50), n_worlds=40,
    ...           truth={"mean": 0.5}, progress=False)
    >>> res.table().round(2).loc["mean", ["bias", "coverage", "rejection"]].tolist()
    [-0.01, 0.9, 0.88]
    """
    level = check_level(level)
    if errors not in ("raise", "record"):
        raise ModelSpecificationError(f"errors must be 'raise' or 'record', not {errors!r}")
    if seeds is None:
        if isinstance(n_worlds, bool) or not isinstance(n_worlds, (int, np.integer)) or n_worlds < 1:
            raise ModelSpecificationError(f"n_worlds must be a positive integer, got {n_worlds!r}")
        seeds = piece_seeds(random_state, n_worlds)
    else:
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ModelSpecificationError("seeds= is empty")
    n = len(seeds)
    outcome = map_pieces(_one_world, list(range(n)), [(world, estimator, truth, s) for s in seeds],
                         backend=backend, client=client, progress=progress, desc="worlds")
    failed = [(i, seeds[i], o) for i, o in outcome.items() if isinstance(o, PieceFailure)]
    failures = pd.DataFrame([(i, s, f.error, f.message, f.traceback) for i, s, f in failed],
                            columns=["world", "seed", "error", "message", "traceback"])
    if failed and errors == "raise":
        raise WorldsFailedError(failures, n)
    log = SampleLog(n_in=n, unit="worlds")
    for err, k in failures["error"].value_counts(sort=False).items():
        log.drop(f"failed: {err}", int(k))
    parts = [o.assign(world=i, seed=seeds[i]) for i, o in outcome.items() if not isinstance(o, PieceFailure)]
    if not parts:
        raise WorldsFailedError(failures, n)
    draws = pd.concat(parts, ignore_index=True)
    alpha = 1 - level
    has_p = draws["p_value"].notna()
    lo, hi = draws["ci_lower"], draws["ci_upper"]
    covered = (lo <= draws["truth"]) & (draws["truth"] <= hi)
    draws["covered"] = covered.astype(float).where(draws["truth"].notna() & lo.notna() & hi.notna())
    by_ci = ((lo > 0) | (hi < 0)).astype(float).where(lo.notna() & hi.notna())
    draws["rejected"] = (draws["p_value"] < alpha).astype(float).where(has_p, by_ci)
    first = ["world", "seed", "term"]
    draws = draws[[*first, *[c for c in draws.columns if c not in first]]]
    return ValidationResult(summarize_draws(draws, level), draws, failures, log, level, backend, random_state)
