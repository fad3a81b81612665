"""Does the stage matrix build up in stages?  Guttman and Mokken scalability.

For 0/1 items ordered from most to least popular, a *Guttman error* is a pair in which a
person passes the less popular item and fails the more popular one. With ``F_ij`` the
observed and ``E_ij = n * p_hard * (1 - p_easy)`` the expected number of errors under
independence, Loevinger's coefficients are (Mokken 1971; Sijtsma & Molenaar 2002)::

    H_ij = 1 - F_ij / E_ij,   H_i = 1 - sum_j F_ij / sum_j E_ij,   H = 1 - sum F / sum E.

H = 1 for a perfect Guttman scale, about 0 for independent items; Mokken's rule of thumb
calls a scale weak for 0.3 <= H < 0.4, medium below 0.5 and strong above. Guttman's
coefficient of reproducibility (Goodenough-Edwards counting) is
``1 - (cells differing from the ideal pattern of each person's total) / (n * k)``, with
the minimal marginal reproducibility ``mean(max(p, 1 - p))`` as its chance baseline.
Standard errors are bootstrap standard errors over persons (districts).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from pdstats._inputs import as_numeric, drop_missing, require_frame
from pdstats.errors import DataValidationError, EstimationWarning
from pdstats.practices.instrument import PRACTICES, STAGES, stage_matrix
from pdstats.results import IntervalResultsBase, SampleLog, check_level

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "loevinger_h",
    "loevinger_h_ordinal",
    "guttman_reproducibility",
    "scalability",
    "matrix_from",
    "ScalabilityResult",
]


def _check01(x: np.ndarray, name: str = "items") -> None:
    if not np.isin(x, [0, 1]).all():
        raise DataValidationError(
            name,
            pd.DataFrame({"table": [name], "column": ["*"], "rule": ["items must be 0/1"],
                          "row": [None], "key": [""], "value": [None]}),
        )


def loevinger_h(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Loevinger's H for the scale, the items and the item pairs (0/1 data).

    Parameters
    ----------
    x : array (n, k) of 0/1
        Items without variance must be removed beforehand.

    Returns
    -------
    (H, H_i, H_ij) : float, array (k,), array (k, k) with NaN diagonal

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import loevinger_h
    >>> x = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]])
    >>> loevinger_h(x)[0]
    1.0
    """
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    p = x.mean(axis=0)
    both = x.T @ x  # n11 for every pair
    idx = np.arange(k)
    # the "hard" item of a pair is the less popular one (ties: the first)
    i_hard = (p[:, None] < p[None, :]) | ((p[:, None] == p[None, :]) & (idx[:, None] < idx[None, :]))
    hard = np.where(i_hard, idx[:, None], idx[None, :])
    easy = np.where(i_hard, idx[None, :], idx[:, None])
    # errors: pass the hard one, fail the easy one
    f = both[hard, hard] - both[hard, easy]
    e = n * p[hard] * (1 - p[easy])
    np.fill_diagonal(f, 0.0)
    np.fill_diagonal(e, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        hij = 1 - f / e
        np.fill_diagonal(hij, np.nan)
        hi = 1 - f.sum(axis=1) / e.sum(axis=1)
        h = 1 - f.sum() / e.sum()
    return float(h), hi, hij


def loevinger_h_ordinal(x: np.ndarray) -> tuple[float, np.ndarray]:
    """Loevinger's H for ordered-category items (Molenaar): covariances over their maxima.

    ``H = sum_{i<j} cov(X_i, X_j) / sum_{i<j} cov_max(X_i, X_j)``, where ``cov_max`` is the
    covariance of the two items' sorted score vectors (the largest covariance their
    marginal distributions allow). For 0/1 items this equals :func:`loevinger_h`.

    Returns
    -------
    (H, H_i)

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import loevinger_h_ordinal
    >>> x = np.array([[0, 0], [1, 0], [2, 1], [2, 2]])
    >>> round(loevinger_h_ordinal(x)[0], 10)
    1.0
    """
    x = np.asarray(x, dtype=float)
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / len(x)
    s = np.sort(x, axis=0)
    sc = s - s.mean(axis=0)
    cmax = sc.T @ sc / len(x)
    np.fill_diagonal(cov, 0.0)
    np.fill_diagonal(cmax, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(cov.sum() / cmax.sum()), cov.sum(axis=1) / cmax.sum(axis=1)


def guttman_reproducibility(x: np.ndarray) -> tuple[float, float, int]:
    """Guttman's reproducibility (Goodenough-Edwards), the minimal marginal one, errors.

    Examples
    --------
    >>> import numpy as np
    >>> from pdstats.practices import guttman_reproducibility
    >>> guttman_reproducibility(np.array([[1, 0], [1, 1], [0, 1]]))[2]
    2
    """
    x = np.asarray(x, dtype=int)
    n, k = x.shape
    order = np.argsort(-x.mean(axis=0), kind="stable")
    xs = x[:, order]
    total = xs.sum(axis=1)
    ideal = (np.arange(k)[None, :] < total[:, None]).astype(int)
    errors = int((xs != ideal).sum())
    p = x.mean(axis=0)
    return 1 - errors / (n * k), float(np.maximum(p, 1 - p).mean()), errors


class ScalabilityResult(IntervalResultsBase):
    """Scalability of the stage matrix.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Long and tidy: one row per scale ``coefficient`` that the data define (``H``,
        ``reproducibility``, ``minimal_marginal_reproducibility`` and, for stage-matrix
        columns, ``H_practices_ordinal``) with ``estimate``, bootstrap ``std_error``,
        percentile ``ci_lower``/``ci_upper`` (:meth:`conf_int` recomputes them at another
        level) and ``flag`` (no standard error).
    scale : pandas.DataFrame
        ``H`` (the 0/1 cells), Guttman reproducibility, minimal marginal reproducibility
        and ``H_practices_ordinal`` (Molenaar's H of the 12 practices scored 0-4; NaN when
        the columns are not stage-matrix cells), with bootstrap SE and percentile CI.
    items : pandas.DataFrame
        ``H_i`` per cell with SE and CI, and the share of districts evidencing it.
    stage_checks : pandas.DataFrame
        Per practice and stage k = 2..4: districts with stage k, with stage k but not k-1
        (violations of "stage k implies k-1"), the lower bound on such violations implied
        by the published counts alone, and the practice's own 4-item H.
    """

    title = "Stage-matrix scalability (Guttman / Mokken)"

    def __init__(self, scale: pd.DataFrame, items: pd.DataFrame, stage_checks: pd.DataFrame,
                 pairs: pd.DataFrame, sample_log: SampleLog, n_boot: int, boot: np.ndarray,
                 dropped_items: list[str]) -> None:
        self.scale = scale
        self.items = items
        self.stage_checks = stage_checks
        self.pairs = pairs
        self.sample_log = sample_log
        self.n_boot = n_boot
        self.dropped_items = dropped_items
        from pdstats.practices._agreement import bootstrap_summary

        defined = scale["estimate"].notna().to_numpy()
        self._intervals = bootstrap_summary(boot[:, defined])[1]
        est = scale.loc[defined, ["estimate", "se", "ci_lower", "ci_upper"]].reset_index()
        est = est.rename(columns={"se": "std_error"})
        est["std_error"] = est["std_error"].where(est["std_error"] > 0)
        est["flag"] = est["std_error"].isna()
        self.estimates = est
        if est["flag"].any():
            warnings.warn("scalability: no bootstrap standard error for "
                          + ", ".join(est.loc[est["flag"], "coefficient"]) + " (no variation across "
                          "replicates); flagged", EstimationWarning, stacklevel=3)

    def _info(self) -> dict[str, object]:
        info = super()._info()
        info["Bootstrap replicates"] = self.n_boot
        if self.dropped_items:
            info["Items without variance (left out)"] = ", ".join(self.dropped_items)
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Scale", self.scale), ("Items", self.items), ("Stage checks", self.stage_checks)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Item scalability coefficients with bootstrap intervals."""
        from pdstats.figures.practices import plot_item_scalability

        return plot_item_scalability(self, ax=ax)


def matrix_from(data: pd.DataFrame, rule: str) -> tuple[pd.DataFrame, SampleLog]:
    """Persons x items 0/1 matrix from ratings (combined by ``rule``) or from a 0/1 matrix.

    Matrix rows with a missing cell are dropped (logged, with a warning); values other
    than 0/1 (including ``+-inf``) are refused. Returns the matrix and the row log.

    Examples
    --------
    >>> import pandas as pd, warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     m, log = matrix_from(pd.DataFrame({"a": [1, 0, None], "b": [1, 1, 0]}), "any")
    >>> m.shape, log.n_dropped
    ((2, 2), 1)
    """
    require_frame(data, "data")
    if {"practice", "stage", "evidence"} <= set(data.columns):
        from pdstats.practices.scoring import evidence_matrix

        mat = evidence_matrix(data, rule=rule)
        return mat, mat.attrs["sample_log"]
    log = SampleLog(n_in=len(data), unit="district rows")
    mat = pd.DataFrame({c: as_numeric(data, c, "data", lower=0, upper=1, integer=True) for c in data.columns},
                       index=data.index)
    if len(mat.columns):
        mat, log = drop_missing(mat, list(mat.columns), "data", log, stacklevel=4)
    return mat.astype(int), log


def scalability(
    data: pd.DataFrame,
    rule: str = "any",
    n_boot: int = 500,
    level: float = 0.95,
    random_state: int | None = 0,
    progress: bool = True,
) -> ScalabilityResult:
    """Guttman reproducibility, Loevinger's H (items, scale) and per-practice stage checks.

    Parameters
    ----------
    data : pandas.DataFrame
        Either a ``practice_ratings`` table (combined by ``rule``) or a persons x items 0/1
        matrix (any columns; the per-practice checks then need ``<practice>_s<stage>``
        column names). Rows with a missing cell are dropped and logged; values other than
        0/1 are refused; fewer than 2 persons or 2 items with variance are refused.
    rule : {"any", "majority", "all"}
        Informant combination rule for ratings.
    n_boot : int
        Bootstrap replicates (resampling persons) for standard errors and CIs.
    level : float
        Level of the percentile intervals.
    random_state : int or None
        Seed of the bootstrap.
    progress : bool
        Show a progress bar over replicates.

    Returns
    -------
    ScalabilityResult

    Notes
    -----
    The report says the practices "appear to build upon one another; however, this cannot
    be fully determined without additional research". The published counts of Table 6.1
    alone already contradict strict cumulation: they rise from one stage to the next in
    five rows (Information Systems 8 -> 10 and Linking Assessment to Instruction 12 -> 13,
    Senior Administrators 7 -> 8 and Site Leadership 7 -> 14 from stage 2 to 3; Focusing
    on Improvement 5 -> 7 from stage 3 to 4), so at least ``n_k - n_{k-1}`` districts show
    stage k without stage k-1 there (13 district-practice pairs in all; column
    ``published_lower_bound`` of ``stage_checks``). H and reproducibility computed on
    :func:`pdstats.practices.reconstruct_year1` describe the reconstruction, whose joint
    structure is partly a modelling choice; only the lower bounds are facts.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pdstats.practices import scalability
    >>> x = pd.DataFrame((np.arange(4)[:, None] >= np.arange(1, 4)[None, :]).astype(int))
    >>> float(scalability(x, n_boot=20, progress=False).scale.loc["H", "estimate"])
    1.0
    """
    from pdstats.practices._agreement import check_bootstrap

    check_bootstrap(n_boot, random_state)
    level = check_level(level)
    mat, log = matrix_from(data, rule)
    x_all = mat.to_numpy()
    _check01(x_all)
    var = x_all.std(axis=0) > 0 if len(x_all) else np.zeros(x_all.shape[1], bool)
    if len(x_all) < 2 or var.sum() < 2:
        raise DataValidationError("data", pd.DataFrame({
            "table": ["data"], "column": ["*"], "rule": ["at least 2 persons and 2 items with variance"],
            "row": [None], "key": [""], "value": [f"{len(x_all)} persons, {int(var.sum())} varying items"]}))
    dropped = [str(c) for c, v in zip(mat.columns, var, strict=True) if not v]
    cols = [c for c, v in zip(mat.columns, var, strict=False) if v]
    x = x_all[:, var]
    h, hi, hij = loevinger_h(x)
    rep, mmr, errors = guttman_reproducibility(x)
    names = [f"{p}_s{s}" for p in PRACTICES for s in STAGES]
    counts = None
    if all(c in mat.columns for c in names):
        counts = np.column_stack([mat[[f"{p}_s{s}" for s in STAGES]].sum(axis=1) for p in PRACTICES])
    h_prac = loevinger_h_ordinal(counts)[0] if counts is not None else np.nan
    rng = np.random.default_rng(random_state)
    n = len(x)
    boot_scale = np.full((n_boot, 4), np.nan)
    boot_items = np.full((n_boot, x.shape[1]), np.nan)
    for b in tqdm(range(n_boot), disable=not progress, desc="bootstrap"):
        idx_b = rng.integers(0, n, n)
        xb = x[idx_b]
        ok = xb.std(axis=0) > 0
        if ok.sum() < 2:
            continue
        hb, hib, _ = loevinger_h(xb[:, ok])
        rb, mb, _ = guttman_reproducibility(xb[:, ok])
        hp = np.nan
        if counts is not None:
            cb = counts[idx_b]
            hp = loevinger_h_ordinal(cb[:, cb.std(axis=0) > 0])[0]
        boot_scale[b] = (hb, rb, mb, hp)
        boot_items[b, ok] = hib
    a = (1 - level) / 2
    est = np.array([h, rep, mmr, h_prac])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # items never varying in a replicate
        se_s, lo_s, hi_s = (np.nanstd(boot_scale, axis=0, ddof=1),
                            np.nanquantile(boot_scale, a, axis=0),
                            np.nanquantile(boot_scale, 1 - a, axis=0))
        se_i, lo_i, hi_i = (np.nanstd(boot_items, axis=0, ddof=1),
                            np.nanquantile(boot_items, a, axis=0),
                            np.nanquantile(boot_items, 1 - a, axis=0))
    scale = pd.DataFrame(
        {"estimate": est, "se": se_s, "ci_lower": lo_s, "ci_upper": hi_s},
        index=pd.Index(["H", "reproducibility", "minimal_marginal_reproducibility",
                        "H_practices_ordinal"], name="coefficient"),
    )
    scale["guttman_errors"] = [np.nan, errors, np.nan, np.nan]
    items = pd.DataFrame(
        {"item": cols, "p": x.mean(axis=0), "H_i": hi, "se": se_i, "ci_lower": lo_i,
         "ci_upper": hi_i}
    )
    iu = np.triu_indices(len(cols), 1)
    pairs = pd.DataFrame({"item_a": np.asarray(cols)[iu[0]], "item_b": np.asarray(cols)[iu[1]],
                          "H_ij": hij[iu]})
    checks = _stage_checks(mat)
    return ScalabilityResult(scale, items, checks, pairs, log, n_boot, boot_scale, dropped)


#: Former name, kept so existing code keeps working.
ScalabilityResults = ScalabilityResult


def _stage_checks(mat: pd.DataFrame) -> pd.DataFrame:
    sm = stage_matrix().set_index("item")["n_districts"]
    rows = []
    for p in PRACTICES:
        names = [f"{p}_s{s}" for s in STAGES]
        if not all(c in mat.columns for c in names):
            continue
        xp = mat[names].to_numpy()
        keep = xp.std(axis=0) > 0
        hp = loevinger_h(xp[:, keep])[0] if keep.sum() >= 2 else np.nan
        for k in STAGES[1:]:
            cur, prev = xp[:, k - 1], xp[:, k - 2]
            n_k = int(cur.sum())
            viol = int(((cur == 1) & (prev == 0)).sum())
            published_bound = max(0, int(sm[f"{p}_s{k}"]) - int(sm[f"{p}_s{k - 1}"]))
            rows.append((p, k, n_k, int(prev.sum()), viol, viol / n_k if n_k else np.nan,
                         published_bound, hp))
    return pd.DataFrame(rows, columns=["practice", "stage", "n_stage", "n_previous_stage",
                                       "n_without_previous", "share_without_previous",
                                       "published_lower_bound", "H_practice"])
