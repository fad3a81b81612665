"""Kane-Staiger (2008) empirical-Bayes value-added, and the unshrunken (OLS) unit means.

The residual of student ``i`` in class ``c`` of unit ``j`` is ``theta_j + v_c + e_i``.

* ``var(e)``: within-class residual variance (``individual``);
* ``var(theta)``: covariance of the mean residuals of consecutive classes of the same
  unit (ordered by year, then class), weighted by the students in both (``between``);
* ``var(v) = var_total - var(theta) - var(e)`` (``class``).

When no unit has two classes, ``var(theta) = var_total - var(e)`` and ``var(v) = 0``
(a warning says so): the unit effect then includes its class's shock.

A unit's precision-weighted mean ``abar_j = sum h_c abar_c / sum h_c`` with
``h_c = 1 / (var(v) + var(e) / n_c)`` is shrunk by its reliability
``lambda_j = var(theta) / (var(theta) + 1 / sum h_c)``: the EB estimate is
``lambda_j abar_j`` with posterior SD ``sqrt(var(theta) (1 - lambda_j))``.

The OLS estimate is the student-weighted mean residual; its SE,
``sqrt(sum_c n_c^2 (var(v) + var(e) / n_c)) / N_j``, counts the class shocks as noise
around the unit's persistent effect.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from pdstats.errors import EstimationWarning
from pdstats.vam.cfr import class_table
from pdstats.vam.variance import (
    Moment,
    consecutive_pairs,
    individual_variance,
    total_variance,
    weighted_cov,
)

__all__ = ["ks_pieces", "eb_effects", "ols_effects"]


def ks_pieces(r: np.ndarray, w: np.ndarray, key_codes: np.ndarray, years: np.ndarray,
              class_codes: np.ndarray, cluster_codes: np.ndarray, n_params: int
              ) -> tuple[pd.DataFrame, dict[str, Moment]]:
    """Class table and the Kane-Staiger variance pieces (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> unit = np.repeat(np.arange(100), 40); cls = np.repeat(np.arange(400), 10)
    >>> r = rng.normal(0, .3, 100)[unit] + rng.normal(size=4000)
    >>> _, p = ks_pieces(r, np.ones(4000), unit, np.zeros(4000, int), cls, unit, 0)
    >>> sorted(p)
    ['between', 'class', 'individual', 'total']
    """
    G = int(cluster_codes.max()) + 1
    classes = class_table(r, w, key_codes, years, class_codes)
    a, b = consecutive_pairs(classes["unit"].to_numpy())
    total = total_variance(r, w, cluster_codes, n_params, G)
    ind = individual_variance(r, w, class_codes, cluster_codes, n_params, G)
    if len(a) < 2:
        warnings.warn(
            "eb: no unit has two classes, so unit and class effects cannot be told apart; "
            "the unit variance is var_total - var_ind and includes class shocks",
            EstimationWarning, stacklevel=3)
        between = total - ind
        return classes, {"total": total, "individual": ind, "between": between,
                         "class": Moment(0.0, np.zeros(G), total.n)}
    mean, n = classes["mean"].to_numpy(), classes["n"].to_numpy()
    # cluster of each class: the cluster of its first row
    cl_of_class = np.zeros(int(class_codes.max()) + 1, dtype=np.int64)
    cl_of_class[class_codes] = cluster_codes
    cl = cl_of_class[classes["class"].to_numpy()]
    between = weighted_cov(mean[a], mean[b], n[a] + n[b], cl[a], G)
    return classes, {"total": total, "individual": ind, "between": between,
                     "class": total - ind - between}


def _clipped(pieces: dict[str, Moment]) -> tuple[float, float, float]:
    var_u = pieces["between"].estimate
    var_c = pieces["class"].estimate
    var_e = pieces["individual"].estimate
    if var_u <= 0:
        warnings.warn(f"eb: unit variance estimated as {var_u:.3g} (<= 0): every unit is shrunk "
                      "to the mean", EstimationWarning, stacklevel=3)
        var_u = 0.0
    if var_c < 0:
        warnings.warn(f"eb: class-shock variance estimated negative ({var_c:.3g}); set to 0",
                      EstimationWarning, stacklevel=3)
        var_c = 0.0
    return var_u, var_c, var_e


def _by_key(classes: pd.DataFrame, values: dict[str, np.ndarray]) -> pd.DataFrame:
    tmp = pd.DataFrame({"key": classes["unit"].to_numpy(), **values})
    g = tmp.groupby("key", sort=True)
    out = g.sum()
    out["n_classes"] = g.size().astype(float)
    return out


def eb_effects(classes: pd.DataFrame, pieces: dict[str, Moment]) -> pd.DataFrame:
    """Shrunken estimates by key: estimate, std_error (posterior SD), reliability, counts.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> unit = np.repeat(np.arange(100), 40); cls = np.repeat(np.arange(400), 10)
    >>> r = rng.normal(0, .3, 100)[unit] + rng.normal(size=4000)
    >>> classes, p = ks_pieces(r, np.ones(4000), unit, np.zeros(4000, int), cls, unit, 0)
    >>> e = eb_effects(classes, p)
    >>> bool((e["estimate"].abs() <= ols_effects(classes, p)["estimate"].abs() + 1e-12).all())
    True
    """
    var_u, var_c, var_e = _clipped(pieces)
    n = classes["n"].to_numpy()
    h = 1.0 / (var_c + var_e / n)
    out = _by_key(classes, {"hm": h * classes["mean"].to_numpy(), "h": h, "n_students": n})
    raw = out["hm"] / out["h"]
    lam = var_u / (var_u + 1.0 / out["h"])
    return pd.DataFrame({"estimate": lam * raw, "std_error": np.sqrt(var_u * (1.0 - lam)),
                         "reliability": lam, "n_students": out["n_students"],
                         "n_classes": out["n_classes"]})


def ols_effects(classes: pd.DataFrame, pieces: dict[str, Moment]) -> pd.DataFrame:
    """Unshrunken student-weighted mean residuals by key, with their sampling SEs.

    Examples
    --------
    >>> import numpy as np
    >>> unit = np.repeat([0, 1], 4); cls = np.repeat([0, 1, 2, 3], 2)
    >>> r = np.array([1.0, 2, 3, 4, -1, -2, -3, -4])
    >>> classes, p = ks_pieces(r, np.ones(8), unit, np.zeros(8, int), cls, unit, 0)
    >>> ols_effects(classes, p)["estimate"].tolist()
    [2.5, -2.5]
    """
    var_u, var_c, var_e = _clipped(pieces)
    n = classes["n"].to_numpy()
    out = _by_key(classes, {"nm": n * classes["mean"].to_numpy(), "n_students": n,
                            "v": n**2 * var_c + n * var_e})
    N = out["n_students"]
    se = np.sqrt(out["v"]) / N
    rel = var_u / (var_u + se**2) if var_u > 0 else 0.0 * se
    return pd.DataFrame({"estimate": out["nm"] / N, "std_error": se, "reliability": rel,
                         "n_students": N, "n_classes": out["n_classes"]})
