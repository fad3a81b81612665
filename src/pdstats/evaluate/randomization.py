"""Randomization inference over adoption timing, for any estimator of this family.

With a few dozen adopting districts, asymptotic standard errors can mislead. Under the
sharp null of no effect, and an adoption schedule assigned at random (as in the
simulated pay-for-performance rollout), every reshuffling of the units' adoption years
(keeping how many units adopt in each year, optionally within blocks such as states) was
equally likely; the p-value is the share of reshufflings whose statistic is at least as
extreme as the observed one.

For a regression coefficient (TWFE) the shared
``pds.inference.randomization_test(..., scheme="timing")`` is exact and fast
(``TWFEResult.randomization_test`` calls it). The estimators whose statistic is not a
least-squares coefficient (Callaway & Sant'Anna, Sun & Abraham, imputation) go through
this function, which re-fits the estimator on each reshuffling (drawn by the shared
``pdstats.inference.randomization`` permutation) and returns the shared
:class:`~pdstats.inference.RandomizationResult`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pdstats._inputs import require_columns, require_frame
from pdstats.errors import ModelSpecificationError
from pdstats.inference import RandomizationResult
from pdstats.results import SampleLog

__all__ = ["randomization_test", "permute_adoption"]


def permute_adoption(data: pd.DataFrame, unit: str, first_treated: str,
                     rng: np.random.Generator, block: str | None = None) -> pd.DataFrame:
    """A copy of ``data`` whose units' adoption years are reshuffled (within ``block``).

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3], "g": [2, 2, 0, 0, 3, 3]})
    >>> out = permute_adoption(d, "id", "g", np.random.default_rng(0))
    >>> sorted(out.drop_duplicates("id")["g"].tolist())
    [0.0, 2.0, 3.0]
    """
    from pdstats.inference.randomization import _draw

    units = data.drop_duplicates(unit)[[unit, first_treated] + ([block] if block else [])]
    strata = (pd.factorize(units[block])[0] if block else np.zeros(len(units), dtype=int))
    g = _draw(rng, units[first_treated].to_numpy(dtype=float), strata, 1)[:, 0]
    mapping = pd.Series(g, index=units[unit].to_numpy())
    out = data.copy()
    out[first_treated] = mapping.reindex(data[unit].to_numpy()).to_numpy()
    return out


def randomization_test(statistic: Callable[[pd.DataFrame], float], data: pd.DataFrame,
                       unit: str, first_treated: str, block: str | None = None,
                       n_perm: int = 999, random_state: int | np.random.Generator | None = None,
                       progress: bool = True, term: str = "ATT") -> RandomizationResult:
    """Randomization test of no effect, reshuffling adoption years across units.

    Parameters
    ----------
    statistic : callable
        ``statistic(data) -> float``, e.g. ``lambda d: pds.evaluate.staggered_did(d, ...,
        n_boot=0).aggregate("simple").overall["estimate"].iloc[0]``; any estimator of
        this family (TWFE needs its 0/1 treatment rebuilt from ``first_treated`` inside).
    data : pandas.DataFrame
        Long panel.
    unit, first_treated : str
        Unit column and its adoption year (missing or 0: never treated).
    block : str, optional
        Reshuffle within blocks (e.g. state), keeping each block's adoption schedule.
    n_perm : int
        Reshufflings.
    random_state : int or numpy.random.Generator, optional
        Seed.
    progress : bool
        tqdm progress bar.
    term : str
        Name of the statistic in ``.estimates``.

    Returns
    -------
    RandomizationResult
        ``estimates`` (observed statistic, SD of the permutation distribution, p-value),
        ``distribution``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(16), 4), "t": np.tile(np.arange(4), 16)})
    >>> d["g"] = np.repeat([0] * 8 + [2] * 4 + [3] * 4, 4)
    >>> d["y"] = rng.normal(size=64) + 3.0 * ((d.g > 0) & (d.t >= d.g))
    >>> def diff(x):
    ...     post = (x.g > 0) & (x.t >= x.g)
    ...     return x.y[post].mean() - x.y[~post].mean()
    >>> r = pds.evaluate.randomization_test(diff, d, "id", "g", n_perm=199, random_state=1,
    ...                                     progress=False)
    >>> bool(r.p_value < 0.05)
    True
    """
    require_frame(data, "randomization data")
    require_columns(data, [unit, first_treated] + ([block] if block else []),
                    "randomization data", "columns")
    if int(n_perm) < 19:
        raise ModelSpecificationError("n_perm must be at least 19")
    rng = np.random.default_rng(random_state)
    work = data.copy()
    work[first_treated] = pd.to_numeric(work[first_treated]).fillna(0)
    if work.groupby(unit)[first_treated].nunique().max() > 1:
        raise ModelSpecificationError(f"{first_treated!r} must be constant within {unit!r}")
    observed = float(statistic(work))
    dist = np.empty(int(n_perm))
    for b in tqdm(range(int(n_perm)), desc="randomization", disable=not progress):
        dist[b] = float(statistic(permute_adoption(work, unit, first_treated, rng, block)))
    ok = np.isfinite(dist)
    p = (1 + np.sum(np.abs(dist[ok]) >= abs(observed) - 1e-12)) / (1 + ok.sum())
    est = pd.DataFrame({"term": [term], "estimate": [observed],
                        "std_error": [float(np.std(dist[ok], ddof=1))], "p_value": [p],
                        "ci_lower": [np.nan], "ci_upper": [np.nan]})
    settings: dict[str, object] = {"Scheme": "adoption timing (units' adoption years reshuffled"
                                   + (f" within {block})" if block else ")"),
                                   "Null": "no effect in any unit and period"}
    return RandomizationResult(est, dist, None, settings,
                               SampleLog(n_in=work[unit].nunique(), unit="units"))
