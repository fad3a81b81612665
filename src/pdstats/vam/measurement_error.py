"""Errors-in-variables correction for prior scores measured with error.

A prior score ``x* = x + e`` with error variance ``s_e^2`` attenuates its coefficient
(and leaves part of the prior-achievement gap in the residual, biasing VA against units
teaching low scorers).  The classical correction (Fuller 1987, ch. 2) subtracts the
error part from the moment matrix: ``beta = (X'X - D)^{-1} X'y`` with ``D`` holding
``sum_i w_i s_e,i^2`` for the linear prior terms.  The error variance comes from the
test's reliability (``s_e^2 = (1 - rel) var(x)``) or from per-score conditional
standard errors of measurement (CSEM, ``s_e,i = csem_i``).  With unit fixed effects the
within transformation keeps ``1 - w_i / W_unit`` of each row's error variance.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pdstats.errors import ModelSpecificationError

__all__ = ["error_moment"]


def error_moment(
    data: pd.DataFrame,
    prior: list[str],
    linear_cols: list[int],
    n_cols: int,
    reliability: Mapping[str, float] | None = None,
    csem: Mapping[str, str] | None = None,
    weights: np.ndarray | None = None,
    unit_codes: np.ndarray | None = None,
) -> np.ndarray:
    """The ``(n_cols, n_cols)`` matrix ``D`` of measurement-error moments.

    Parameters
    ----------
    data : pandas.DataFrame
        The rows used.
    prior : list of str
        Prior-score columns, in the order of ``linear_cols``.
    linear_cols : list of int
        Positions of the (standardized) linear prior terms in the control matrix.
    n_cols : int
        Number of columns of the control matrix.
    reliability : mapping, optional
        ``{prior column: reliability}`` (0 < rel <= 1).
    csem : mapping, optional
        ``{prior column: CSEM column}`` (per-row standard error of measurement, on the
        prior's scale).
    weights, unit_codes : numpy.ndarray, optional
        Row weights and, for a within-unit regression, unit codes.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"p": [0.0, 1.0, 2.0, 3.0]})
    >>> D = error_moment(df, ["p"], [0], 1, reliability={"p": 0.8})
    >>> round(float(D[0, 0]), 3)   # 4 rows x (1 - 0.8) x (1 - 1/4)
    0.6
    """
    reliability = dict(reliability or {})
    csem = dict(csem or {})
    for key in [*reliability, *csem]:
        if key not in prior:
            raise ModelSpecificationError(
                f"measurement-error correction given for {key!r}, which is not a prior score "
                f"(prior={prior})"
            )
    both = set(reliability) & set(csem)
    if both:
        raise ModelSpecificationError(f"give reliability or csem for {sorted(both)}, not both")
    n = len(data)
    w = np.ones(n) if weights is None else weights
    if unit_codes is None:
        keep = 1.0 - w / w.sum()
    else:
        keep = 1.0 - w / np.bincount(unit_codes, weights=w)[unit_codes]
    D = np.zeros((n_cols, n_cols))
    for p, col in zip(prior, linear_cols, strict=True):
        x = data[p].to_numpy(dtype=float)
        var = x.var()
        if var <= 0:
            continue
        if p in reliability:
            rel = float(reliability[p])
            if not 0.0 < rel <= 1.0:
                raise ModelSpecificationError(
                    f"reliability[{p!r}]={rel}: a reliability must be in (0, 1]"
                )
            err = np.full(n, (1.0 - rel) * var)
        elif p in csem:
            c = csem[p]
            if c not in data.columns:
                raise ModelSpecificationError(f"csem column {c!r} (for prior {p!r}) is not in data")
            s = data[c].to_numpy(dtype=float)
            bad = ~np.isfinite(s) | (s < 0)
            if bad.any():
                raise ModelSpecificationError(
                    f"csem column {c!r}: {int(bad.sum())} row(s) missing or negative "
                    f"(first positions {np.flatnonzero(bad)[:5].tolist()})"
                )
            err = s**2
        else:
            continue
        # the control matrix holds the standardized prior (x - mean) / sd
        D[col, col] = float(np.sum(w * keep * err) / var)
    return D
