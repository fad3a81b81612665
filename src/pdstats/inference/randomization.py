"""Randomization (permutation) inference for an assigned treatment.

The statistic is the least-squares coefficient of the treatment in ``formula`` (other
terms are covariates). Its randomization distribution re-draws the assignment by the
design that produced it:

* ``"complete"`` - the treated rows are a random subset of fixed size;
* ``"blocked"`` - the same within each ``block``;
* ``"clustered"`` - whole ``cluster``s are assigned (within blocks when ``block`` is given);
* ``"timing"`` - staggered adoption: each ``unit`` adopts at a time and stays treated;
  the adoption times (never = no adoption) are permuted across units (within blocks).

The p-value of the sharp null "no effect for anyone" is ``(1 + #{|T*| >= |T|}) / (1 + B)``.
Under a constant effect ``tau`` the same draws test ``y - tau d``; because the
coefficient is linear in the outcome, every null costs ``O(B)`` and the interval inverts
the test exactly (bisection on the same draws).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pdstats._inputs import drop_missing, require_columns
from pdstats.errors import ModelSpecificationError
from pdstats.inference.ols import ols_fit
from pdstats.inference.results import RandomizationResult
from pdstats.inference.wild import invert_test
from pdstats.results import check_level

__all__ = ["SCHEMES", "randomization_test"]

SCHEMES = ("complete", "blocked", "clustered", "timing")
_TABLE = "randomization data"


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values, sort=True)[0]


def _unit_design(scheme: str, d: np.ndarray, frame: pd.DataFrame, block: str | None,
                 cluster: str | None, unit: str | None, time: str | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(row -> unit code, unit labels, unit strata, row times) of the assignment."""
    n = len(d)
    if scheme == "complete" and block is not None:
        raise ModelSpecificationError("scheme='complete' takes no block=; use scheme='blocked'")
    strata_rows = _codes(frame[block]) if block is not None else np.zeros(n, dtype=np.int64)
    if scheme in ("complete", "blocked"):
        if scheme == "blocked" and block is None:
            raise ModelSpecificationError("scheme='blocked' needs block=")
        return np.arange(n), d.copy(), strata_rows, None
    key = cluster if scheme == "clustered" else unit
    if key is None:
        raise ModelSpecificationError(
            f"scheme={scheme!r} needs {'cluster' if scheme == 'clustered' else 'unit'}=")
    row_unit = _codes(frame[key])
    n_units = row_unit.max() + 1
    strata = np.full(n_units, -1)
    strata[row_unit] = strata_rows
    if not np.array_equal(strata[row_unit], strata_rows):
        raise ModelSpecificationError(f"block {block!r} is not constant within {key!r}")
    if scheme == "clustered":
        label = np.full(n_units, np.nan)
        label[row_unit] = d
        if not np.array_equal(label[row_unit], d):
            raise ModelSpecificationError(
                f"scheme='clustered': the treatment is not constant within cluster {key!r}")
        return row_unit, label, strata, None
    if time is None:
        raise ModelSpecificationError("scheme='timing' needs time=")
    t = frame[time].to_numpy(dtype=float)
    adopt = np.full(n_units, np.inf)
    np.minimum.at(adopt, row_unit, np.where(d == 1, t, np.inf))
    if not np.array_equal((t >= adopt[row_unit]).astype(float), d):
        raise ModelSpecificationError(
            "scheme='timing' needs staggered adoption: a unit is treated from its first "
            "treated time on and never before")
    return row_unit, adopt, strata, t


def _draw(rng: np.random.Generator, labels: np.ndarray, strata: np.ndarray, B: int) -> np.ndarray:
    """(n_units, B) labels permuted within strata."""
    out = np.empty((len(labels), B))
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        perm = np.argsort(rng.random((B, len(idx))), axis=1)
        out[idx] = labels[idx][perm].T
    return out


def randomization_test(formula: str, data: pd.DataFrame, treatment: str,
                       scheme: str = "complete", block: str | None = None,
                       cluster: str | None = None, unit: str | None = None,
                       time: str | None = None, n_perm: int = 1999, ci: bool = False,
                       level: float = 0.95, random_state: int | np.random.Generator | None = None,
                       progress: bool = True) -> RandomizationResult:
    """Randomization test (and optional interval) for the coefficient of an assigned treatment.

    Parameters
    ----------
    formula : str
        Regression whose coefficient on ``treatment`` is the statistic, e.g.
        ``"score ~ treated + prior_score"``.
    data : pandas.DataFrame
        One row per observation.
    treatment : str
        0/1 treatment column (a main effect of ``formula``).
    scheme : {"complete", "blocked", "clustered", "timing"}
        How the treatment was assigned (see the module docstring).
    block, cluster, unit, time : str, optional
        Columns the scheme needs: blocks (``"blocked"``, optional for the others),
        clusters (``"clustered"``), panel units and times (``"timing"``).
    n_perm : int
        Re-randomizations.
    ci : bool
        Also invert the test under a constant effect for an interval at ``level``.
    level : float
        Confidence level.
    random_state : int or numpy.random.Generator, optional
        Seed.
    progress : bool
        tqdm progress bar.

    Returns
    -------
    RandomizationResult

    Examples
    --------
    >>> import numpy as np, pandas as pd, pdstats as pds
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"district": np.repeat(np.arange(16), 10)})
    >>> d["treated"] = np.isin(d.district, rng.permutation(16)[:8]).astype(int)
    >>> d["y"] = 0.8 * d.treated + rng.normal(size=16)[d.district] + rng.normal(size=160)
    >>> r = pds.inference.randomization_test("y ~ treated", d, "treated", scheme="clustered",
    ...                                      cluster="district", random_state=1, progress=False)
    >>> round(r.p_value, 3) < 0.1
    True
    """
    level = check_level(level)
    if scheme not in SCHEMES:
        raise ModelSpecificationError(f"scheme={scheme!r}; choose one of {list(SCHEMES)}")
    if int(n_perm) < 19:
        raise ModelSpecificationError("n_perm must be at least 19")
    extras = [c for c in (block, cluster, unit, time) if c is not None]
    require_columns(data, [treatment, *extras], _TABLE, "treatment/block/cluster/unit/time")
    work, log = drop_missing(data, extras, _TABLE, stacklevel=3)
    fit, info = ols_fit(formula, work)
    for reason, k in info["sample_log"].dropped.items():
        log.drop(reason, k)
    if treatment not in fit.names:
        raise ModelSpecificationError(
            f"treatment {treatment!r} is not a term of {formula!r} (terms {fit.names})")
    X, y = info["X"], info["y"]
    frame = work.loc[info["data"].index]
    k = fit.names.index(treatment)
    d = X[:, k]
    if not np.isin(d, (0.0, 1.0)).all():
        raise ModelSpecificationError(f"treatment {treatment!r} must be 0/1")
    row_unit, labels, strata, times = _unit_design(scheme, d, frame, block, cluster, unit, time)
    Q, _ = np.linalg.qr(np.delete(X, k, axis=1))

    def stats_of(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Dr = D - Q @ (Q.T @ D)
        denom = np.sum(Dr * D, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return Dr.T @ y / denom, Dr.T @ d / denom

    rng = np.random.default_rng(random_state)
    B = int(n_perm)
    ay, ad = np.empty(B), np.empty(B)
    chunk = max(1, min(B, 500))
    with tqdm(total=B, desc="re-randomizing", disable=not progress) as bar:
        for start in range(0, B, chunk):
            stop = min(B, start + chunk)
            lab = _draw(rng, labels, strata, stop - start)[row_unit]
            D = (times[:, None] >= lab).astype(float) if times is not None else lab
            ay[start:stop], ad[start:stop] = stats_of(D)
            bar.update(stop - start)
    ok = np.isfinite(ay) & np.isfinite(ad)
    ay, ad = ay[ok], ad[ok]
    b_obs = float(fit.beta[k])

    def pvalue_at(tau: float) -> float:
        t_obs = abs(b_obs - tau)
        return float((1 + np.sum(np.abs(ay - tau * ad) >= t_obs - 1e-12 * max(t_obs, 1.0)))
                     / (1 + len(ay)))

    spread = float(np.std(ay))

    def interval(lev: float) -> tuple[float, float]:
        alpha = 1 - check_level(lev)
        return (invert_test(pvalue_at, b_obs, spread, alpha, -1.0),
                invert_test(pvalue_at, b_obs, spread, alpha, 1.0))

    lo, hi = interval(level) if ci else (np.nan, np.nan)
    est = pd.DataFrame({"term": [treatment], "estimate": [b_obs], "std_error": [spread],
                        "p_value": [pvalue_at(0.0)], "ci_lower": [lo], "ci_upper": [hi]})
    settings: dict[str, object] = {"Formula": formula, "Scheme": scheme}
    for name, col in (("Blocks", block), ("Clusters", cluster), ("Units", unit), ("Time", time)):
        if col is not None:
            settings[name] = col
    return RandomizationResult(est, ay, interval if ci else None, settings, log)

