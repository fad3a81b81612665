"""The penalized least-squares system of crossed and multiple-membership designs.

:class:`~pdstats.multilevel.deviance.DevianceEvaluator` hands a design here when its
grouping factors are not nested (students crossed with teachers, InstEval's students
crossed with instructors) or when a term is multiple-membership.  The random effects are
split into a *first block* -- the single-membership term with most levels, whose block of
``Lambda'Z'WZ Lambda + I`` is block-diagonal (one ``k x k`` block per level) -- and the
*rest* (all other terms).  Eliminating the first block level by level leaves the Schur
complement of the rest,

    M = Lambda_r' (Z_r'WZ_r - Z_r'WZ_0 H Z_0'WZ_r) Lambda_r + I,
    H = blockdiag_l( T_0 (T_0' Z_0l'WZ_0l T_0 + I)^{-1} T_0' ),

whose sparsity pattern (pairs of rest levels that share a first-block level) does not
depend on theta.  The constructor finds that pattern once and stores the sparse map ``P``
from the per-level entries of ``H`` to the pattern, so forming ``M`` at a new theta is one
sparse matrix-vector product -- no sparse matrix-matrix products per evaluation.

``M`` is then factored densely (LAPACK Cholesky) or sparsely (SuperLU with a multiple
minimum degree fill-reducing ordering on ``M + M'``, found at the first factorization and
reused, since the pattern does not change; no pivoting, ``M`` being symmetric positive
definite).  Which one is chosen by timing both once at the starting value when
``M`` is of moderate size; large ``M`` (more than 6,000 rest effects) is always factored
sparsely and small ``M`` (under 2,000) densely: on InstEval (1,156 rest effects, 20 %
nonzero) LAPACK takes 16 ms and SuperLU 75 ms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pdstats.multilevel.soa import (
    aos,
    soa_cholesky,
    soa_const_left,
    soa_const_right,
    soa_mul_t,
    soa_sandwich,
    soa_tri_inv,
)

__all__ = ["CrossedSystem", "CrossedState", "term_z"]

_DENSE_BELOW = 2000
_SPARSE_ABOVE = 6000
_SUPERLU = {"diag_pivot_thresh": 0.0, "options": {"SymmetricMode": True}}


def term_z(term: object, n: int) -> sp.csr_matrix:
    """The term's block of ``Z`` (n x nlev*k) as a sparse matrix.

    Single-membership terms put row ``r``'s model-matrix row in the columns of level
    ``codes[r]``; multiple-membership terms (which have ``members``/``member_weights``)
    put each member's weight in the column of that member.
    """
    nlev, k = term.nlev, term.k
    members = getattr(term, "members", None)
    if members is not None:
        rows = np.repeat(np.arange(n), members.shape[1])
        cols = members.ravel()
        vals = term.member_weights.ravel()
        ok = cols >= 0
        return sp.csr_matrix((vals[ok], (rows[ok], cols[ok])), shape=(n, nlev))
    rows = np.repeat(np.arange(n), k)
    cols = (term.codes[:, None] * k + np.arange(k)[None, :]).ravel()
    return sp.csr_matrix((term.Xr.ravel(), (rows, cols)), shape=(n, nlev * k))


def _pairs_within_groups(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of positions (i, j), i <= j, whose ``group`` values are equal.

    ``group`` must be sorted.  Returns position arrays of length sum(count (count + 1) / 2).
    """
    n = group.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    counts = np.diff(np.r_[starts, n])
    partners = np.repeat(starts + counts, counts) - np.arange(n)  # j = i .. end of group
    first = np.repeat(np.arange(n), partners)
    block_start = np.repeat(np.cumsum(partners) - partners, partners)
    second = first + (np.arange(first.size) - block_start)
    return first, second


def _unique_keys(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for keys in [0, size), without sorting
    when a table of ``size`` entries is small."""
    if size > 50_000_000:
        return np.unique(keys, return_inverse=True)
    seen = np.zeros(size, dtype=bool)
    seen[keys] = True
    uniq = np.flatnonzero(seen)
    where = np.zeros(size, dtype=np.int64)
    where[uniq] = np.arange(uniq.size)
    return uniq, where[keys]


@dataclass
class CrossedState:
    """One factorization of the crossed system (kept for back-substitution)."""

    Linv0: np.ndarray  # (k0, k0, l0) inverse lower Cholesky factors of the first block
    D0inv: np.ndarray  # (k0, k0, l0) inverses of the first block's diagonal blocks
    M: object  # dense lower Cholesky (ndarray) or a SuperLU object
    B: np.ndarray  # (qr, p+1) rest x [X y] block after eliminating the first block
    MinvB: np.ndarray  # M^{-1} B
    lam_r: sp.csr_matrix  # Lambda of the rest terms
    factors: list[np.ndarray]


class CrossedSystem:
    """Blocked first term plus a dense or sparse Schur complement for the rest.

    Parameters
    ----------
    terms : list
        The design's random terms (single- or multiple-membership).
    w : numpy.ndarray
        Prior weights of the rows.
    Xy : numpy.ndarray
        ``[X y]`` (n x p+1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pdstats.multilevel.formula import parse_formula
    >>> from pdstats.multilevel.design import build_design
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"a": rng.integers(0, 30, 400), "b": rng.integers(0, 8, 400)})
    >>> df["y"] = rng.normal(size=400)
    >>> d = build_design("y ~ (1|a) + (1|b)", parse_formula("y ~ (1|a) + (1|b)"), df)
    >>> cs = CrossedSystem(d.terms, np.ones(400), np.column_stack([d.X, d.y]))
    >>> cs.qr, cs.backend
    (8, 'dense')
    """

    def __init__(self, terms: list, w: np.ndarray, Xy: np.ndarray) -> None:
        self.terms = terms
        self.XyXy = (Xy * w[:, None]).T @ Xy
        n = Xy.shape[0]
        self.p1 = Xy.shape[1]
        single = [i for i, t in enumerate(terms) if getattr(t, "members", None) is None]
        self.first = single[0] if single else None
        self.rest = [i for i in range(len(terms)) if i != self.first]
        if self.first is not None:
            t0 = terms[self.first]
            self.l0, self.k0 = t0.nlev, t0.k
            Z0 = term_z(t0, n)
            # first block: per-level Z_0l'WZ_0l and Z_0l'W[X y]
            ind = sp.csr_matrix((w, (t0.codes, np.arange(n))), shape=(self.l0, n))
            z0z0 = np.asarray(ind @ (t0.Xr[:, :, None] * t0.Xr[:, None, :]).reshape(n, -1)
                              ).reshape(self.l0, self.k0, self.k0)
            self.Z0Xy = np.asarray(ind @ (t0.Xr[:, :, None] * Xy[:, None, :]).reshape(n, -1)
                                   ).reshape(self.l0, self.k0, self.p1)
        else:
            self.l0, self.k0 = 0, 1
            Z0 = sp.csr_matrix((n, 0))
            z0z0 = np.zeros((0, 1, 1))
            self.Z0Xy = np.zeros((0, 1, self.p1))
        # structure-of-arrays copies: (k0, k0, l0) and (p+1, k0, l0)
        self.Z0Z0_soa = np.ascontiguousarray(np.moveaxis(z0z0, 0, -1))
        self.Z0Xy_soaT = np.ascontiguousarray(np.transpose(self.Z0Xy, (2, 1, 0)))
        zr = [term_z(terms[i], n) for i in self.rest]
        self.offsets = np.cumsum([0] + [z.shape[1] for z in zr])
        self.qr = int(self.offsets[-1])
        Zr = sp.hstack(zr, format="csr") if zr else sp.csr_matrix((n, 0))
        Z0w = (sp.diags(w) @ Z0).tocsc()
        A = (Zr.T @ Z0w).tocsr()  # qr x q0
        self.A = A
        self.ZrXy = np.asarray(Zr.T @ (Xy * w[:, None]))
        ZrZr = sp.triu((Zr.T @ (sp.diags(w) @ Zr)).tocoo()).tocoo()
        self._build_pattern(A, ZrZr)
        self.scalar_rest = all(terms[i].k == 1 for i in self.rest)
        self._order: np.ndarray | None = None  # sparse backend: fill-reducing permutation
        self._rank: np.ndarray | None = None
        self._template: sp.csc_matrix | None = None
        self._source: np.ndarray | None = None
        self.backend = "dense"
        self._choose_backend()

    # ------------------------------------------------------------------ set-up
    def _build_pattern(self, A: sp.csr_matrix, ZrZr: sp.coo_matrix) -> None:
        """Pattern of M (upper triangle) and the map P from vec(H) to it."""
        qr, k0 = self.qr, self.k0
        Ac = A.tocoo()
        level = Ac.col // k0
        eff = Ac.col % k0
        order = np.lexsort((eff, Ac.row, level))  # by level, then rest index
        r, lv, ef, val = Ac.row[order], level[order], eff[order], Ac.data[order]
        i, j = _pairs_within_groups(lv)
        key_schur = r[i].astype(np.int64) * qr + r[j]
        key_zz = ZrZr.row.astype(np.int64) * qr + ZrZr.col
        keys, inv = _unique_keys(np.r_[key_schur, key_zz, np.arange(qr, dtype=np.int64) * (qr + 1)],
                                 qr * qr)
        inv_schur, inv_zz = inv[: key_schur.size], inv[key_schur.size: key_schur.size + key_zz.size]
        npat = keys.size
        self.pat_row = (keys // qr).astype(np.int64)
        self.pat_col = (keys % qr).astype(np.int64)
        self.pat_diag = self.pat_row == self.pat_col
        hcol = lv[i] * k0 * k0 + ef[i] * k0 + ef[j]
        # two effects of one rest column in one level meet twice in A H A' (H symmetric)
        twice = np.where((r[i] == r[j]) & (i != j), 2.0, 1.0)
        # P in compressed-column form straight from the pairs (ordered by level already):
        # no coordinate sort, duplicates summed by the products
        by_col = np.argsort(hcol, kind="stable")
        indptr = np.r_[0, np.cumsum(np.bincount(hcol, minlength=self.l0 * k0 * k0))]
        self.P = sp.csc_matrix(((twice * val[i] * val[j])[by_col], inv_schur[by_col], indptr),
                               shape=(npat, self.l0 * k0 * k0))
        self.zz = np.bincount(inv_zz, weights=ZrZr.data, minlength=npat)

    def _choose_backend(self) -> None:
        """Dense or sparse factorization of M, by size and by timing both once."""
        if self.qr < _DENSE_BELOW:
            return
        if self.qr > _SPARSE_ABOVE:
            self.backend = "sparse"
            return
        factors = [np.eye(t.k) for t in self.terms]
        timing = {}
        for backend in ("dense", "sparse"):
            self.backend = backend
            t = time.perf_counter()
            for _ in range(2):
                self.factor(factors)
            timing[backend] = time.perf_counter() - t
        self.backend = min(timing, key=timing.get)

    # ------------------------------------------------------------------ per theta
    def _lambda_rest(self, factors: list[np.ndarray]) -> sp.csr_matrix:
        if self.scalar_rest:
            lam = np.repeat([factors[i][0, 0] for i in self.rest],
                            [self.terms[i].nlev for i in self.rest])
            return sp.diags(lam, format="csr") if lam.size else sp.csr_matrix((0, 0))
        mats = [sp.kron(sp.identity(self.terms[i].nlev), sp.csr_matrix(factors[i]))
                for i in self.rest]
        return sp.block_diag(mats, format="csr") if mats else sp.csr_matrix((0, 0))

    def _schur(self, Hvec: np.ndarray, lam_r: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray,
                                                                         np.ndarray]:
        """M's upper triangle as (rows, cols, values); ``Hvec`` is H per level, flattened."""
        x = self.zz - self.P @ Hvec if self.P.shape[1] else self.zz.copy()
        r, c = self.pat_row, self.pat_col
        if self.scalar_rest:
            lam = lam_r.diagonal()
            x = x * lam[r] * lam[c]
            x[self.pat_diag] += 1.0
            return r, c, x
        off = ~self.pat_diag
        X = sp.csr_matrix((np.r_[x, x[off]], (np.r_[r, c[off]], np.r_[c, r[off]])),
                          shape=(self.qr, self.qr))
        Mfull = (lam_r.T @ X @ lam_r).tocoo()
        up = Mfull.row <= Mfull.col
        rr, cc, vv = Mfull.row[up], Mfull.col[up], Mfull.data[up].copy()
        vv[rr == cc] += 1.0
        missing = np.setdiff1d(np.arange(self.qr), rr[rr == cc])
        return (np.r_[rr, missing], np.r_[cc, missing], np.r_[vv, np.ones(missing.size)])

    def _factor_m(self, r: np.ndarray, c: np.ndarray, v: np.ndarray) -> tuple[object, float]:
        qr = self.qr
        if self.backend == "dense":
            M = np.zeros((qr, qr))
            M[c, r] = v  # lower triangle
            L = sla.cholesky(M, lower=True, overwrite_a=True, check_finite=False) if qr else M
            d = np.diag(L)
            if np.any(d <= 0) or not np.all(np.isfinite(d)):
                raise np.linalg.LinAlgError("matrix not positive definite")
            return L, 2.0 * float(np.sum(np.log(d)))
        if self._order is None:  # fill-reducing ordering, found once (the pattern is fixed)
            Ms = self._symmetric_csc(r, c, v, np.arange(qr))
            lu = splu(Ms, permc_spec="MMD_AT_PLUS_A", **_SUPERLU)
            self._order = np.argsort(lu.perm_c)
            self._rank = np.argsort(self._order)
            self._template = None
        if self.scalar_rest:  # same entries every time: gather into a fixed CSC structure
            if self._template is None:
                self._template = self._symmetric_csc(r, c, np.arange(1.0, r.size + 1), self._rank)
                self._source = self._template.data.astype(np.int64) - 1
            Mp = self._template.copy()
            Mp.data = v[self._source]
        else:
            Mp = self._symmetric_csc(r, c, v, self._rank)
        try:
            lu = splu(Mp, permc_spec="NATURAL", **_SUPERLU)
        except RuntimeError as exc:  # exactly singular
            raise np.linalg.LinAlgError(str(exc)) from exc
        d = lu.U.diagonal()
        if np.any(d <= 0) or not np.all(np.isfinite(d)):
            raise np.linalg.LinAlgError("matrix not positive definite")
        return lu, float(np.sum(np.log(d)))

    def _symmetric_csc(self, r: np.ndarray, c: np.ndarray, v: np.ndarray,
                       rank: np.ndarray) -> sp.csc_matrix:
        """The full symmetric matrix from its upper triangle, rows/columns moved to ``rank``."""
        off = r != c
        rr, cc = rank[r], rank[c]
        return sp.csc_matrix((np.r_[v, v[off]], (np.r_[rr, cc[off]], np.r_[cc, rr[off]])),
                             shape=(self.qr, self.qr))

    def solve_m(self, Mfac: object, rhs: np.ndarray) -> np.ndarray:
        """M^{-1} rhs for a factor returned by :meth:`factor`."""
        if rhs.shape[0] == 0:
            return rhs.copy()
        if isinstance(Mfac, np.ndarray):
            return sla.cho_solve((Mfac, True), rhs, check_finite=False)
        return Mfac.solve(np.ascontiguousarray(rhs[self._order], dtype=float))[self._rank]

    def factor(self, factors: list[np.ndarray]) -> tuple[CrossedState, float, np.ndarray]:
        """Factor the system at the relative covariance factors ``factors``.

        Returns the state, ``log|L_theta|^2`` and the (p+1) x (p+1) Schur complement
        of ``[X y]'W[X y]`` after eliminating all random effects (the caller factors it).
        """
        k0, l0, p1 = self.k0, self.l0, self.p1
        if self.first is not None:
            T0 = factors[self.first]
            D0 = soa_sandwich(T0, self.Z0Z0_soa)
            for a in range(k0):
                D0[a, a] += 1.0
            C0, ld0 = soa_cholesky(D0)
            Linv0 = soa_tri_inv(C0)
            LinvT = np.ascontiguousarray(np.transpose(Linv0, (1, 0, 2)))
            D0inv = soa_mul_t(LinvT, LinvT)  # L^{-T} L^{-1}
            H = soa_const_left(T0, soa_const_right(D0inv, T0.T))  # T0 D0^{-1} T0'
            G = soa_mul_t(H, self.Z0Xy_soaT)  # (k0, p+1, l0): H Z_0'W[X y] per level
            G0 = np.moveaxis(G, -1, 0).reshape(l0 * k0, p1)
            Hvec = np.moveaxis(H, -1, 0).ravel()
        else:
            Linv0 = D0inv = np.zeros((1, 1, 0))
            G0, Hvec, ld0 = np.zeros((0, p1)), np.zeros(0), 0.0
        lam_r = self._lambda_rest(factors)
        Mfac, ldm = self._factor_m(*self._schur(Hvec, lam_r))
        B = np.asarray(lam_r.T @ (self.ZrXy - self.A @ G0)) if self.qr else np.zeros((0, p1))
        MinvB = self.solve_m(Mfac, B)
        C = self.XyXy - self.Z0Xy.reshape(-1, p1).T @ G0 - B.T @ MinvB
        state = CrossedState(Linv0, D0inv, Mfac, B, MinvB, lam_r, factors)
        return state, ld0 + ldm, C

    def spherical_effects(self, st: CrossedState, beta: np.ndarray) -> list[np.ndarray]:
        """Conditional modes u (per term, (nlev, k)) given the fixed effects."""
        return [e[..., 0] for e in self.effects_of(st, np.r_[-beta, 1.0][:, None])]

    def effects_of(self, st: CrossedState, coef: np.ndarray) -> list[np.ndarray]:
        """``A^{-1} Lambda'Z'W [X y] coef`` per term, (nlev, k, m), for ``coef`` (p+1, m).

        ``A = Lambda'Z'WZ Lambda + I``; ``coef = [-beta; 1]`` gives the conditional modes u.
        """
        m = coef.shape[1]
        ur = st.MinvB @ coef
        out: list[np.ndarray] = [np.empty(0)] * len(self.terms)
        for pos, i in enumerate(self.rest):
            seg = ur[self.offsets[pos]: self.offsets[pos + 1]]
            out[i] = seg.reshape(self.terms[i].nlev, self.terms[i].k, m)
        if self.first is not None:
            T0 = st.factors[self.first]
            rhs = (np.einsum("lkc,cm->lkm", self.Z0Xy, coef)
                   - np.asarray(self.A.T @ (st.lam_r @ ur)).reshape(self.l0, self.k0, m))
            rhs = np.einsum("ba,lbm->alm", T0, rhs)  # T0' rhs per level, (k0, l0, m)
            y = np.einsum("abl,blm->alm", st.Linv0, rhs)
            out[self.first] = np.einsum("bal,blm->lam", st.Linv0, y)  # D0^{-1} T0' rhs
        return out

    def inverse_block_sums(self, st: CrossedState) -> list[np.ndarray]:
        """Per term, the sum over its levels of the diagonal blocks of ``A^{-1}``.

        Needs the dense factor of ``M`` (:attr:`backend` ``"dense"``): ``M^{-1}`` comes
        from LAPACK's ``dpotri``.  The first block's sum is
        ``sum_l D_l^{-1} + D_l^{-1} T0' (A_l' W A_l) T0 D_l^{-1}`` with
        ``W = Lambda_r M^{-1} Lambda_r'``; the per-level quadratic forms ``A_l' W A_l``
        are gathered from ``W``'s entries on the pattern of ``M`` with the map ``P``
        (its transpose), so no ``qr x q0`` product is formed.
        """
        # callers check has_gradient first: the sparse factor has no dpotri
        assert isinstance(st.M, np.ndarray), "inverse block sums need the dense factorization"
        out: list[np.ndarray] = [np.empty(0)] * len(self.terms)
        qr = self.qr
        # the lower triangle of M^{-1} (the upper one is left as garbage by dpotri)
        Minv, info = sla.lapack.dpotri(st.M, lower=1) if qr else (np.zeros((0, 0)), 0)
        if info != 0:
            raise np.linalg.LinAlgError("M could not be inverted")
        if not self.scalar_rest:
            low = np.tril(Minv)
            Minv = low + np.tril(low, -1).T
        for pos, i in enumerate(self.rest):
            t = self.terms[i]
            base = self.offsets[pos]
            if t.k == 1:
                out[i] = np.trace(Minv[base: base + t.nlev, base: base + t.nlev]).reshape(1, 1)
                continue
            blk = Minv[base: base + t.nlev * t.k, base: base + t.nlev * t.k]
            idx = np.arange(t.nlev)
            out[i] = blk.reshape(t.nlev, t.k, t.nlev, t.k)[idx, :, idx, :].sum(axis=0)
        if self.first is not None:
            T0, k0 = st.factors[self.first], self.k0
            total = st.D0inv.sum(axis=-1)
            if qr and self.P.shape[1]:
                r, c = self.pat_row, self.pat_col
                if self.scalar_rest:  # the pattern is the upper triangle: read the lower one
                    lam = st.lam_r.diagonal()
                    w = Minv[c, r] * lam[r] * lam[c]
                else:
                    W = np.asarray(st.lam_r @ np.asarray(st.lam_r @ Minv).T)
                    w = W[r, c]
                w[~self.pat_diag] *= 2.0
                G = np.asarray(self.P.T @ w).reshape(self.l0, k0, k0)
                G = np.moveaxis(0.5 * (G + np.swapaxes(G, 1, 2)), 0, -1)  # (k0, k0, l0)
                DT = soa_const_right(st.D0inv, T0.T)  # D^{-1} T0' per level
                total = total + soa_mul_t(soa_mul_t(DT, G), DT).sum(axis=-1)  # G symmetric
            out[self.first] = total
        return out

    def conditional_cov(self, st: CrossedState, chunk: int = 1024) -> list[np.ndarray]:
        """Diagonal blocks of (Lambda'Z'WZ Lambda + I)^{-1}, per term and level."""
        out: list[np.ndarray] = [np.empty(0)] * len(self.terms)
        for pos, i in enumerate(self.rest):
            t = self.terms[i]
            k, base = t.k, self.offsets[pos]
            blk = np.empty((t.nlev, k, k))
            step = max(1, chunk // k)
            for lev0 in range(0, t.nlev, step):
                lev1 = min(t.nlev, lev0 + step)
                cols = np.arange(base + lev0 * k, base + lev1 * k)
                E = np.zeros((self.qr, cols.size))
                E[cols, np.arange(cols.size)] = 1.0
                S = self.solve_m(st.M, E)[cols].reshape(lev1 - lev0, k, lev1 - lev0, k)
                idx = np.arange(lev1 - lev0)
                blk[lev0:lev1] = S[idx, :, idx, :]
            out[i] = blk
        if self.first is not None:
            T0 = st.factors[self.first]
            D0inv = aos(st.D0inv)
            F = (st.lam_r.T @ self.A @ sp.kron(sp.identity(self.l0),
                                                 sp.csr_matrix(T0))).tocsc()  # qr x q0
            extra = np.empty((self.l0, self.k0, self.k0))
            step = max(1, chunk // self.k0)
            for lev0 in range(0, self.l0, step):
                lev1 = min(self.l0, lev0 + step)
                Fc = F[:, lev0 * self.k0: lev1 * self.k0].toarray()
                W = Fc.T @ self.solve_m(st.M, Fc) if self.qr else np.zeros((Fc.shape[1],) * 2)
                m = lev1 - lev0
                idx = np.arange(m)
                extra[lev0:lev1] = W.reshape(m, self.k0, m, self.k0)[idx, :, idx, :]
            out[self.first] = D0inv + D0inv @ extra @ D0inv
        return out
