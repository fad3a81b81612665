"""Input and design checks of a mixed model, at the public edge of :func:`pds.lmm`.

Two steps, both lme4's rules where lme4 has one:

* :func:`clean_rows` - before the model matrices: every numeric variable the formula uses
  must be finite and at most :data:`BOUND` in magnitude (``+-inf`` and ``1e300``
  refused), the response must be numeric, weights and known variances positive and
  finite; rows missing any of them are dropped, logged and warned
  about (:func:`pdstats._inputs.drop_missing`);
* :func:`check_design` - after them: every grouping factor has at least 2 levels (lme4:
  "grouping factors must have > 1 sampled level"), there are more observations than
  fixed effects, the response is not constant or an exact linear function of the fixed
  effects (nothing would be left for the variance components: lme4 stops with a
  convergence failure there), and no random term's model matrix has collinear columns
  (``(c | g)`` with a constant ``c``: lme4 reports a degenerate Hessian).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pdstats._inputs import as_numeric, drop_missing, refuse
from pdstats.errors import ModelSpecificationError
from pdstats.results import SampleLog

if TYPE_CHECKING:  # pragma: no cover
    from pdstats.multilevel.design import Design

__all__ = ["TABLE", "check_design", "clean_rows", "response_offset"]

TABLE = "lmm data"
#: Largest magnitude accepted in a numeric variable: cross-products of the model matrices
#: (squares summed over rows) must stay finite in double precision.
BOUND = 1e100


def clean_rows(data: pd.DataFrame, variables: list[str], response: str,
               extra: dict[str, np.ndarray], keep: np.ndarray | None = None,
               log: SampleLog | None = None,
               ) -> tuple[pd.DataFrame, dict[str, np.ndarray], SampleLog, np.ndarray]:
    """Refuse non-finite values, drop (and log) rows with missing ones.

    Parameters
    ----------
    data : pandas.DataFrame
        The data as passed to ``lmm``.
    variables : list of str
        Columns the formula uses (response first).
    response : str
        The response column (must be numeric).
    extra : dict
        ``weights``/``known_variance`` arrays aligned with ``data`` (NaN = missing).
    keep : numpy.ndarray of bool, optional
        Rows already excluded by the caller (e.g. no member of a multiple-membership
        factor), counted in ``log``.
    log : SampleLog, optional
        The log those exclusions were counted in.

    Returns
    -------
    used : pandas.DataFrame
        The used columns of the complete rows (index reset).
    extra : dict
        The per-row arrays of the complete rows.
    log : SampleLog
    rows : numpy.ndarray
        Positions (0-based, in ``data``) of the rows used.
    """
    frame = data[variables].copy()
    frame.index = pd.RangeIndex(len(frame))
    for v in variables:
        col = frame[v]
        if v == response:  # numbers, or text holding numbers / missing marks; else refused
            frame[v] = as_numeric(frame, v, TABLE, lower=-BOUND, upper=BOUND)
        elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            as_numeric(frame, v, TABLE, lower=-BOUND, upper=BOUND)  # refuses +-inf, 1e300
    for name, arr in extra.items():
        frame[f"__{name}"] = arr
        bad = np.flatnonzero(np.isinf(arr))
        if bad.size:
            raise refuse(TABLE, name, "finite (+-inf is not a number)", bad)
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero((arr <= 1 / BOUND) | (arr > BOUND))
        if bad.size:
            raise refuse(TABLE, name, f"range (0, {BOUND:g}]: {name} must be > 0", bad)
    log = log if log is not None else SampleLog(n_in=len(frame))
    if keep is not None:
        frame = frame.loc[np.asarray(keep, dtype=bool)]
    kept, log = drop_missing(frame, [*variables, *(f"__{n}" for n in extra)], TABLE, log,
                             stacklevel=6)
    rows = kept.index.to_numpy()
    kept = kept.reset_index(drop=True)
    if len(kept) == 0:
        raise ModelSpecificationError(
            f"table {TABLE!r}: no rows left after dropping rows with missing values "
            f"({log})")
    out_extra = {n: kept.pop(f"__{n}").to_numpy(dtype=float) for n in extra}
    return kept, out_extra, log, rows


def response_offset(design: Design) -> np.ndarray:
    """Least-squares coefficients of the response on the fixed effects.

    The profiled deviance is unchanged when ``X @ offset`` is subtracted from the
    response, and the fixed effects move by exactly ``offset``; fitting the residual
    keeps a response with a huge mean (``y + 1e8``) from cancelling catastrophically in
    the penalized residual sum of squares.
    """
    X, y = design.X, design.y
    if X.shape[1] == 0:
        return np.zeros(0)
    sw = np.sqrt(design.prior_weights)
    beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    return beta


def check_design(design: Design, offset: np.ndarray) -> None:
    """Refuse designs lme4 refuses or cannot estimate (see the module docstring)."""
    formula = design.formula
    for t in design.terms:
        if t.nlev < 2:
            raise ModelSpecificationError(
                f"table {TABLE!r}, column {t.group!r}: grouping factor has {t.nlev} level in "
                f"the {design.n} rows used; rule (as lme4): grouping factors must have > 1 "
                "sampled level")
        if np.linalg.matrix_rank(t.Xr) < t.k:
            const = [n for n, c in zip(t.names, t.Xr.T, strict=True)
                     if n != "Intercept" and np.ptp(c) == 0]
            why = f" ({', '.join(const)} is constant)" if const else ""
            raise ModelSpecificationError(
                f"random term ({' + '.join(t.names)} | {t.group}) of {formula!r}: the columns of "
                f"its model matrix are collinear{why}; rule: random effects must be "
                "identifiable (drop the term or use (0 + x | g))")
    if design.n <= design.p:
        raise ModelSpecificationError(
            f"table {TABLE!r}: {design.n} rows for {design.p} fixed effects of {formula!r}; "
            "rule: more observations than fixed effects")
    resid = design.y - design.X @ offset if design.p else design.y - 0.0
    scale = float(np.max(np.abs(design.y))) if design.n else 0.0
    if float(np.max(np.abs(resid), initial=0.0)) <= 100 * np.finfo(float).eps * max(scale, 1e-300):
        what = ("constant" if np.ptp(design.y) <= 100 * np.finfo(float).eps * max(scale, 1e-300)
                else "an exact linear function of the fixed effects")
        raise ModelSpecificationError(
            f"table {TABLE!r}, column {design.response!r}: the response is {what} in the "
            f"{design.n} rows used (to machine precision); rule: a mixed model needs residual "
            "variation to estimate its variance components")
