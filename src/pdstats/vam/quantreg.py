"""Linear quantile regression: a Frisch-Newton interior-point solver with preprocessing.

``min_b sum_i rho_tau(y_i - x_i'b)`` is solved through its dual LP
``max_a y'a  s.t.  X'a = (1 - tau) X'1,  0 <= a <= 1`` by a primal-dual interior point
with Mehrotra's predictor-corrector (the algorithm of Portnoy & Koenker 1997, R's
``quantreg::rq(method = "fn")``); ``b`` is minus the dual of the equality constraints.

Two refinements:

* **vertex polish** - a QR solution interpolates ``p`` observations. After the interior
  point converges, the ``p`` observations with the smallest absolute residuals are taken
  as the basis and ``b`` is solved exactly from them; the vertex is kept when its
  objective is not worse.  The result is then the exact simplex (``method = "br"``)
  solution whenever that solution is unique, not an approximation to it;
* **preprocessing** for large ``n`` (Portnoy & Koenker's ``method = "pfn"``): solve on a
  subsample of ``m ~ (p n)^{2/3}`` rows, set aside the rows whose residual sign is
  clear, solve the reduced problem and check; rows found on the wrong side are returned
  to the free set and the problem re-solved.  Instead of Portnoy & Koenker's two "glob"
  pseudo-observations with huge responses, the set-aside rows enter exactly through the
  dual: their ``a_i`` is fixed at 1 (above) or 0 (below), which moves the right-hand
  side of ``X'a = b`` and keeps the reduced problem well conditioned.
"""

from __future__ import annotations

import numpy as np

from pdstats.errors import ConvergenceError, ModelSpecificationError

__all__ = ["rq_fit", "rq_objective"]


def rq_objective(y: np.ndarray, X: np.ndarray, beta: np.ndarray, tau: float) -> float:
    """Check-function loss ``sum rho_tau(y - X beta)``.

    Examples
    --------
    >>> import numpy as np
    >>> rq_objective(np.array([1.0, 2.0, 3.0]), np.ones((3, 1)), np.array([2.0]), 0.5)
    1.0
    """
    r = y - X @ beta
    return float(np.sum(r * (tau - (r < 0))))


def _newton(state: tuple, qz: np.ndarray, qw: np.ndarray) -> tuple[np.ndarray, ...]:
    """Newton direction: ``A D A' dlam = rp - A D (qz - qw - rd)``, then back-substitute."""
    X, XD, D, cf, rd, rp, x, s, z, w = state
    rhs = rp - XD.T @ (qz - qw - rd)
    dlam = np.linalg.solve(cf.T, np.linalg.solve(cf, rhs))
    dx = D * (X @ dlam + qz - qw - rd)
    ds = -dx
    dz = qz - (z / x) * dx
    dw = qw - (w / s) * ds
    return dx, ds, dlam, dz, dw


def _ratio(v: np.ndarray, dv: np.ndarray) -> float:
    neg = dv < 0
    return min(1.0, float(np.min(-v[neg] / dv[neg]))) if neg.any() else 1.0


def _steps(x, s, z, w, dx, ds, dz, dw) -> tuple[float, float]:
    """Largest primal and dual steps (<= 1) keeping every variable nonnegative."""
    return (min(_ratio(x, dx), _ratio(s, ds)), min(_ratio(z, dz), _ratio(w, dw)))


def _fnb(y: np.ndarray, X: np.ndarray, tau: float, eps: float = 1e-9,
         max_iter: int = 500, b: np.ndarray | None = None) -> np.ndarray:
    """Interior-point solution of the dual LP (minimizing ``-y'a``).

    ``b`` (default ``(1 - tau) X'1``) is the right-hand side of ``X'a = b``; the
    preprocessing passes the value left for the free rows once the rows of known sign
    are fixed at ``a = 1`` (above the fit) or ``a = 0`` (below).  The start need not be
    feasible: the Newton steps carry the primal residual.
    """
    n, p = X.shape
    c = -y
    if b is None:
        b = (1.0 - tau) * X.sum(axis=0)
        x = np.full(n, 1.0 - tau)          # feasible: X'x = b
    else:
        # near-feasible start: least-squares correction of a constant, kept inside (0, 1)
        x = np.full(n, 1.0 - tau)
        x = x + X @ np.linalg.lstsq(X.T @ X, b - X.T @ x, rcond=None)[0]
        x = np.clip(x, 1e-3, 1.0 - 1e-3)
    s = 1.0 - x
    lam = np.linalg.lstsq(X, c, rcond=None)[0]
    r = c - X @ lam
    z = np.maximum(r, 0.0)
    w = z - r
    z += 1e-3 * (np.abs(r).mean() + 1e-12)
    w += 1e-3 * (np.abs(r).mean() + 1e-12)
    scale = max(1.0, float(np.abs(y).mean()))
    bscale = 1.0 + float(np.abs(b).max())
    # X * D is the one n x p temporary of an iteration: one buffer for all of them (a fresh
    # n x p allocation per iteration is page-faulted in anew, which costs most in threads)
    XD = np.empty_like(X)
    for _ in range(max_iter):
        gap = float(x @ z + s @ w)
        rd = c - X @ lam - z + w
        rp = b - X.T @ x
        if gap < eps * n * scale and np.abs(rp).max() < 1e-9 * bscale:
            return -lam
        D = 1.0 / (z / x + w / s)
        np.multiply(X, D[:, None], out=XD)
        AtDA = XD.T @ X
        try:
            cf = np.linalg.cholesky(AtDA)
        except np.linalg.LinAlgError:
            AtDA = AtDA + 1e-10 * np.trace(AtDA) / p * np.eye(p)
            cf = np.linalg.cholesky(AtDA)

        state = (X, XD, D, cf, rd, rp, x, s, z, w)
        # predictor (affine scaling)
        dx, ds, dlam, dz, dw = _newton(state, -z, -w)
        ap, ad = _steps(x, s, z, w, dx, ds, dz, dw)
        mu = gap
        mu_aff = float((x + ap * dx) @ (z + ad * dz) + (s + ap * ds) @ (w + ad * dw))
        sigma = (mu_aff / mu) ** 3
        mu_t = sigma * mu / (2 * n)
        # corrector
        qz = (mu_t - x * z - dx * dz) / x
        qw = (mu_t - s * w - ds * dw) / s
        dx, ds, dlam, dz, dw = _newton(state, qz, qw)
        ap, ad = _steps(x, s, z, w, dx, ds, dz, dw)
        ap, ad = 0.99995 * ap, 0.99995 * ad
        x, s = x + ap * dx, s + ap * ds
        lam, z, w = lam + ad * dlam, z + ad * dz, w + ad * dw
    raise ConvergenceError(f"quantile regression (tau={tau}) did not converge in {max_iter} "
                           "interior-point iterations")


def _polish(y: np.ndarray, X: np.ndarray, beta: np.ndarray, tau: float) -> np.ndarray:
    p = X.shape[1]
    r = y - X @ beta
    h = np.argpartition(np.abs(r), p)[:p] if len(r) > p else np.arange(len(r))
    try:
        vertex = np.linalg.solve(X[h], y[h])
    except np.linalg.LinAlgError:
        return beta
    if rq_objective(y, X, vertex, tau) <= rq_objective(y, X, beta, tau) * (1 + 1e-12) + 1e-12:
        return vertex
    return beta


def _pfn(y: np.ndarray, X: np.ndarray, tau: float, rng: np.random.Generator) -> np.ndarray:
    n, p = X.shape
    m = int(round(((p + 1) * n) ** (2 / 3)))
    for _ in range(10):
        if m >= n:
            break
        sub = rng.choice(n, size=m, replace=False)
        b = _fnb(y[sub], X[sub], tau)
        L = np.linalg.cholesky(X[sub].T @ X[sub])
        band = np.sqrt(np.sum(np.linalg.solve(L, X.T) ** 2, axis=0))
        r = y - X @ b
        u = r / np.maximum(band, 1e-12)
        half = 0.8 * m / (2.0 * n)
        lo, hi = np.quantile(u, [max(tau - half, 0.0), min(tau + half, 1.0)])
        above, below = u > hi, u < lo
        free = ~(above | below)
        total = (1.0 - tau) * X.sum(axis=0)
        for _ in range(10):
            # rows above the fit have dual a = 1, rows below a = 0: only free rows remain
            try:
                b = _fnb(y[free], X[free], tau, b=total - X[above].sum(axis=0))
            except ConvergenceError:
                break                      # wrong split (infeasible reduced problem)
            r = y - X @ b
            wrong = (above & (r < 0)) | (below & (r > 0))
            k = int(wrong.sum())
            if k == 0:
                return b
            if k > 0.1 * m:
                break
            above &= ~wrong
            below &= ~wrong
            free |= wrong
        m *= 2
    return _fnb(y, X, tau)


def rq_fit(y: np.ndarray, X: np.ndarray, tau: float, preprocess: bool | None = None,
           random_state: int | np.random.Generator | None = 0, polish: bool = True
           ) -> np.ndarray:
    """Coefficients of the ``tau`` regression quantile of ``y`` on ``X``.

    Parameters
    ----------
    y : numpy.ndarray
        Response.
    X : numpy.ndarray
        Design matrix (include a column of ones for an intercept).
    tau : float
        Quantile in (0, 1).
    preprocess : bool, optional
        Use the subsample-and-globs preprocessing; default when ``n > 50,000``.
    random_state : int or numpy.random.Generator, optional
        Seed of the preprocessing subsample (the solution does not depend on it).
    polish : bool
        Move to the optimal vertex (exact ``"br"`` solution) when possible.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200); y = 1 + 2 * x + rng.standard_t(3, 200)
    >>> b = rq_fit(y, np.column_stack([np.ones(200), x]), 0.5)
    >>> np.round(b, 1).tolist()
    [1.0, 2.1]
    """
    if not 0.0 < tau < 1.0:
        raise ModelSpecificationError(f"tau={tau}: must be in (0, 1)")
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n = len(y)
    if preprocess is None:
        preprocess = n > 50_000
    if preprocess:
        rng = np.random.default_rng(random_state)
        beta = _pfn(y, X, tau, rng)
    else:
        beta = _fnb(y, X, tau)
    return _polish(y, X, beta, tau) if polish else beta
