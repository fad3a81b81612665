"""Parametric bootstrap of a linear mixed model (lme4's ``bootMer`` with ``use.u = FALSE``).

Each replicate draws new random effects ``b* ~ N(0, sigma^2 Lambda Lambda')`` and
residuals ``e* ~ N(0, sigma^2 / w)`` around the fitted fixed part, refits the model from
the original estimate, and records the fixed effects and the variance components (as
variances and covariances, and as SDs and correlations).
Percentile intervals and bootstrap standard errors summarize the replicates.

Replicate ``i`` draws from its own stream, ``default_rng(seed_i)`` with ``seed_i`` the
``i``-th child of ``SeedSequence(random_state)`` (:func:`pdstats._parallel.piece_seeds`),
so the replicates are the same whether they run here or on a dask cluster
(``backend="dask"``) and whatever the number of workers. (Before issue 19 one generator
drew the replicates in sequence; the same ``random_state`` now gives other, equally
valid, replicates.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pdstats._parallel import check_backend, map_pieces, piece_seeds, raise_failures, seed_of
from pdstats.errors import EstimationWarning, ModelSpecificationError, PdstatsError
from pdstats.results import ResultsBase, SampleLog, check_level, flag_unestimated

if TYPE_CHECKING:  # pragma: no cover
    from pdstats.multilevel.results import LMMResult

__all__ = ["BootstrapResult", "parametric_bootstrap", "simulate_response"]


def simulate_response(res: LMMResult, rng: np.random.Generator) -> np.ndarray:
    """One draw of the response from the fitted model (new random effects and residuals)."""
    d = res._design
    y = d.X @ res._sol.beta
    s = res.sigma
    for t, T in zip(d.terms, res._sol.factors, strict=True):
        b = (rng.standard_normal((t.nlev, t.k)) @ T.T) * s
        y = y + np.einsum("nk,nk->n", t.Xr, b[t.codes])
    return y + rng.standard_normal(d.n) * s / np.sqrt(d.prior_weights)


def _labels(res: LMMResult) -> tuple[list[str], list[str]]:
    """Names of the variance/covariance rows of ``varcomp`` and of their SD/correlation."""
    vc = res.varcomp
    est, sdcor = [], []
    for g, a, b in zip(vc.group, vc.term1, vc.term2, strict=True):
        if g == "Residual":
            est.append("var(Residual)")
            sdcor.append("sd(Residual)")
        elif b is None or (isinstance(b, float) and np.isnan(b)):
            est.append(f"var({a}|{g})")
            sdcor.append(f"sd({a}|{g})")
        else:
            est.append(f"cov({a},{b}|{g})")
            sdcor.append(f"corr({a},{b}|{g})")
    return est, sdcor


def _draw(fit: LMMResult) -> np.ndarray:
    """Fixed effects, variances/covariances and SDs/correlations of one fit, in order."""
    vc = fit.varcomp
    sdcor = np.where(vc["term2"].isna(), vc["sd"], vc["corr"])
    return np.concatenate([fit._sol.beta, vc["estimate"].to_numpy(), sdcor])


def _replicate(res: LMMResult, seed: int) -> np.ndarray | None:
    """One replicate (a piece): draw a response, refit; None when the refit fails."""
    y = simulate_response(res, np.random.default_rng(seed))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EstimationWarning)
            fit = res.with_response(y)
    except (np.linalg.LinAlgError, ValueError, PdstatsError):
        return None
    return _draw(fit)


@dataclass
class BootstrapResult(ResultsBase):
    """Replicates and percentile intervals of a parametric bootstrap.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per parameter (the result contract): term (``Intercept``,
        ``var(term|group)``, ``sd(Residual)``, ...), estimate (original fit), std_error
        (SD of the replicates), ci_lower, ci_upper (percentile interval at ``level``),
        flag (no usable bootstrap SE).
    table : pandas.DataFrame
        Alias of ``estimates`` indexed by parameter.
    replicates : pandas.DataFrame
        One row per replicate: fixed effects, variances and covariances
        (``var(term|group)``, ``cov(a,b|group)``, ``var(Residual)``), SDs and correlations
        (``sd(term|group)``, ``corr(a,b|group)``, ``sd(Residual)``).
    """

    replicates: pd.DataFrame
    estimates: pd.DataFrame
    n_failed: int
    sample_log: SampleLog
    title: str = "Parametric bootstrap"

    @property
    def table(self) -> pd.DataFrame:
        """Alias of :attr:`estimates` indexed by parameter."""
        return self.estimates.set_index("term")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Percentile intervals of the replicates at ``level``."""
        level = check_level(level)
        a = (1 - level) / 2
        out = self.estimates[["term", "estimate"]].copy()
        out["ci_lower"] = self.replicates.quantile(a).to_numpy()
        out["ci_upper"] = self.replicates.quantile(1 - a).to_numpy()
        return out


def parametric_bootstrap(
    res: LMMResult,
    n_boot: int = 500,
    random_state: int | np.random.Generator | None = None,
    progress: bool = True,
    level: float = 0.95,
    backend: str = "local",
    client: Any = None,
) -> BootstrapResult:
    """Parametric bootstrap of fixed effects and variance components.

    Parameters
    ----------
    res : LMMResult
        The fitted model.
    n_boot : int
        Number of replicates.
    random_state : int or numpy.random.Generator, optional
        Seed for reproducible draws: replicate ``i`` uses the ``i``-th seed spawned from
        ``SeedSequence(random_state)`` (a Generator gives one integer seed first).
    progress : bool
        Show a tqdm progress bar.
    level : float
        Level of the percentile intervals.
    backend : {"local", "dask"}
        Refit the replicates here or as tasks on a ``dask.distributed`` cluster (the
        current client, or ``client``); the replicates are identical.
    client : distributed.Client, optional
        The dask client for ``backend="dask"``.

    Returns
    -------
    BootstrapResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(20), 5)
    >>> df = pd.DataFrame({"g": g, "y": rng.normal(size=20)[g] + rng.normal(size=100)})
    >>> fit = pds.lmm("y ~ 1 + (1 | g)", df)
    >>> boot = parametric_bootstrap(fit, n_boot=20, random_state=1, progress=False)
    >>> boot.estimates["term"].iloc[0]
    'Intercept'
    """
    level = check_level(level)
    from pdstats.multilevel.results import LMMResult

    if not isinstance(res, LMMResult):
        raise ModelSpecificationError(
            f"parametric_bootstrap needs a fitted LMMResult, got {type(res).__name__}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 2:
        raise ModelSpecificationError(f"n_boot={n_boot!r}: an integer >= 2")
    check_backend(backend, client)
    seeds = piece_seeds(seed_of(random_state), n_boot)
    est_names, sdcor_names = _labels(res)
    names = list(res.fixed_names) + est_names + sdcor_names
    original = _draw(res)
    outcome = map_pieces(_replicate, list(range(n_boot)), [(s,) for s in seeds], backend=backend,
                         client=client, progress=progress, desc="parametric bootstrap", shared=(res,),
                         chunksize=max(1, n_boot // 100))
    raise_failures(outcome, "bootstrap replicates")
    rows = [outcome[i] for i in range(n_boot) if outcome[i] is not None]
    failed = n_boot - len(rows)
    reps = pd.DataFrame(rows, columns=names)
    a = (1 - level) / 2
    table = pd.DataFrame({
        "term": names,
        "estimate": original,
        "std_error": reps.std(ddof=1).to_numpy() if len(reps) > 1 else np.nan,
        "ci_lower": reps.quantile(a).to_numpy() if len(reps) else np.nan,
        "ci_upper": reps.quantile(1 - a).to_numpy() if len(reps) else np.nan,
    })
    # a parameter fixed by the model (a correlation at +/-1) has no bootstrap spread
    flag_unestimated(table, "parametric_bootstrap")
    log = SampleLog(n_in=n_boot, unit="replicates")
    log.drop("refit failed", failed)
    return BootstrapResult(replicates=reps, estimates=table, n_failed=failed, sample_log=log)
