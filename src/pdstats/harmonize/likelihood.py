"""Log-likelihood of proficiency-level counts under a (heteroskedastic) ordered probit.

Group ``g`` has latent scores ``N(mu_g, sigma_g^2)`` with ``sigma_g = exp(s_g)``; the
shared cut scores ``c_1 < ... < c_{K-1}`` cut the latent scale into ``K`` levels, so the
probability of level ``k`` is ``P_gk = Phi(z_gk) - Phi(z_g,k-1)`` with
``z_gj = (c_j - mu_g) / sigma_g`` (``z_g0 = -inf``, ``z_gK = +inf``). The log-likelihood
of the counts ``n_gk`` is ``sum_gk n_gk log P_gk``.

:func:`derivatives` returns the log-likelihood with its analytic gradient and either the
observed or the expected (Fisher) negative Hessian, kept in the blocks that the
arrowhead solver of :mod:`pdstats.harmonize.arrowhead` needs: per group the
``(mu, s)`` block, the group-by-cut coupling and the cut-by-cut block.

Derivatives of a finite boundary ``z_j``: ``dz/dmu = -1/sigma``, ``dz/ds = -z``,
``dz/dc_j = 1/sigma``; second derivatives ``d2z/dmu ds = 1/sigma``, ``d2z/ds2 = z``,
``d2z/dc_j ds = -1/sigma`` (all others zero). With ``A_j = phi(z_j)`` and
``D_j = (n_j/P_j - n_{j+1}/P_{j+1}) A_j``, the gradient is ``sum_j D_j dz_j``, and the
Hessian is ``sum_j D_j (d2z_j - z_j dz_j dz_j') - sum_k n_k/P_k^2 dP_k dP_k'``. The
expected information replaces the whole Hessian by ``-N_g sum_k dP_k dP_k' / P_k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

__all__ = ["Derivatives", "cell_probabilities", "derivatives", "loglik"]

_TINY = 1e-300
_SQRT2PI = np.sqrt(2.0 * np.pi)


@dataclass
class Derivatives:
    """Log-likelihood, gradient and negative Hessian blocks of one cell.

    Arrays are per group (length ``G``) or per group and cut (``G x (K-1)``);
    ``h_cc`` is summed over groups (``(K-1) x (K-1)``).
    """

    loglik: float
    g_mu: np.ndarray
    g_s: np.ndarray
    g_c: np.ndarray
    h_mumu: np.ndarray
    h_mus: np.ndarray
    h_ss: np.ndarray
    h_muc: np.ndarray
    h_sc: np.ndarray
    h_cc: np.ndarray


def _boundaries(mu: np.ndarray, s: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sig = np.exp(s)
    z = (cuts[None, :] - mu[:, None]) / sig[:, None]
    return z, sig


def cell_probabilities(mu: np.ndarray, s: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Probabilities of the ``K`` levels for each group (rows sum to one).

    Parameters
    ----------
    mu, s : numpy.ndarray
        Group means and log standard deviations (length ``G``).
    cuts : numpy.ndarray
        Increasing cut scores (length ``K-1``).

    Returns
    -------
    numpy.ndarray
        ``G x K`` probabilities, computed from the nearer tail for accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> p = cell_probabilities(np.array([0.0]), np.array([0.0]), np.array([-1.0, 0.0, 1.0]))
    >>> np.round(p, 4).tolist()
    [[0.1587, 0.3413, 0.3413, 0.1587]]
    """
    z, _ = _boundaries(np.asarray(mu, float), np.asarray(s, float), np.asarray(cuts, float))
    g = z.shape[0]
    lo = np.hstack([np.full((g, 1), -np.inf), z])
    hi = np.hstack([z, np.full((g, 1), np.inf)])
    upper = lo > 0
    p = np.where(upper, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))
    return np.maximum(p, _TINY)


def loglik(counts: np.ndarray, mu: np.ndarray, s: np.ndarray, cuts: np.ndarray) -> float:
    """Multinomial log-likelihood ``sum n_gk log P_gk`` (constant terms omitted).

    Examples
    --------
    >>> import numpy as np
    >>> round(loglik(np.array([[5, 10, 5]]), np.zeros(1), np.zeros(1), np.array([-1.0, 1.0])), 3)
    -22.227
    """
    p = cell_probabilities(mu, s, cuts)
    return float(np.sum(counts * np.log(p)))


def derivatives(
    counts: np.ndarray, mu: np.ndarray, s: np.ndarray, cuts: np.ndarray, observed: bool = True
) -> Derivatives:
    """Log-likelihood, analytic gradient and negative Hessian (observed or expected).

    Parameters
    ----------
    counts : numpy.ndarray
        ``G x K`` level counts.
    mu, s : numpy.ndarray
        Group means and log-SDs.
    cuts : numpy.ndarray
        Cut scores (``K-1``).
    observed : bool
        Observed information (minus the Hessian) when True, expected (Fisher)
        information otherwise.

    Returns
    -------
    Derivatives

    Examples
    --------
    >>> import numpy as np
    >>> d = derivatives(np.array([[5, 10, 5]]), np.zeros(1), np.zeros(1), np.array([-1.0, 1.0]))
    >>> bool(abs(d.g_mu[0]) < 1e-12)  # symmetric counts: the mean is at its optimum
    True
    """
    counts = np.asarray(counts, float)
    z, sig = _boundaries(mu, s, cuts)
    p = cell_probabilities(mu, s, cuts)
    n = counts.sum(axis=1)
    a = np.exp(-0.5 * z * z) / _SQRT2PI  # phi at the K-1 finite boundaries
    w = counts / p
    d = (w[:, :-1] - w[:, 1:]) * a  # G x (K-1)
    inv = 1.0 / sig
    g_mu = -inv * d.sum(axis=1)
    g_s = -(d * z).sum(axis=1)
    g_c = d * inv[:, None]

    # dP_k for mu and s: difference of boundary terms (boundaries at +-inf contribute 0)
    zero = np.zeros((z.shape[0], 1))
    a_ext = np.hstack([zero, a, zero])
    za_ext = np.hstack([zero, a * z, zero])
    dp_mu = -inv[:, None] * (a_ext[:, 1:] - a_ext[:, :-1])
    dp_s = -(za_ext[:, 1:] - za_ext[:, :-1])
    # weight of the outer-product part: N/P (expected) or n/P^2 (observed)
    if observed:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            wt = np.where(counts > 0, counts / p / p, 0.0)
    else:
        wt = n[:, None] / p
    h_mumu = (wt * dp_mu * dp_mu).sum(axis=1)
    h_mus = (wt * dp_mu * dp_s).sum(axis=1)
    h_ss = (wt * dp_s * dp_s).sum(axis=1)
    # dP_k/dc_j = (A_j/sigma) (delta_{k,j} - delta_{k,j+1})
    ac = a * inv[:, None]
    h_muc = ac * (wt[:, :-1] * dp_mu[:, :-1] - wt[:, 1:] * dp_mu[:, 1:])
    h_sc = ac * (wt[:, :-1] * dp_s[:, :-1] - wt[:, 1:] * dp_s[:, 1:])
    km1 = z.shape[1]
    diag = (ac * ac * (wt[:, :-1] + wt[:, 1:])).sum(axis=0)
    h_cc = np.diag(diag)
    if km1 > 1:
        off = -(ac[:, :-1] * ac[:, 1:] * wt[:, 1:-1]).sum(axis=0)
        h_cc += np.diag(off, 1) + np.diag(off, -1)
    if observed:
        # minus the second-derivative part sum_j D_j (d2z_j - z_j dz_j dz_j')
        h_mumu = h_mumu - (d * (-z * inv[:, None] ** 2)).sum(axis=1)
        h_mus = h_mus - (d * (inv[:, None] - z * z * inv[:, None])).sum(axis=1)
        h_ss = h_ss - (d * (z - z ** 3)).sum(axis=1)
        h_muc = h_muc - d * (z * inv[:, None] ** 2)
        h_sc = h_sc - d * (-inv[:, None] + z * z * inv[:, None])
        h_cc = h_cc - np.diag((d * (-z * inv[:, None] ** 2)).sum(axis=0))
    ll = float(np.sum(counts * np.log(p)))
    return Derivatives(ll, g_mu, g_s, g_c, h_mumu, h_mus, h_ss, h_muc, h_sc, h_cc)
