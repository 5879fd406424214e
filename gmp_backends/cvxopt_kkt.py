"""A KKT solver for cvxopt that uses the sparsity of moment and localizing matrices.

:class:`SparseSchurKKT` forms the Schur complement ``H[alpha, beta] = tr(S_alpha V S_beta V)``
from the few entries of each moment's matrix, as SDP solvers (SDPA, CSDP, MOSEK) do, instead of
cvxopt's dense scaled ``G``, and hands the remaining iterations to cvxopt's "qr" when its normal
equations lose accuracy; :class:`BlockSchurKKT` does the same for the thousands of small blocks of
a sparse relaxation, with a sparse factorization. Both follow cvxopt's ``kktsolver`` contract
(``conelp``, "Exploiting structure"). The method: docs/backends.md, "cvxopt KKT solvers".
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

__all__ = ["SparseSchurKKT", "BlockSchurKKT", "schur_density"]

#: Entries of the work arrays of one chunk of moments (doubles): 2 MB, so that one chunk's
#: arrays stay in cache (chosen with bench/schur_chunks.py: docs/benchmarks.md, "cvxopt KKT
#: solvers").
CHUNK_ENTRIES = 262_144
#: The remaining iterations use the fallback (cvxopt's QR on the scaled ``G``) once the
#: reciprocal condition number of the reduced Schur complement (LAPACK ``dpocon`` on its
#: Cholesky factor) falls below this: chosen on the dense quartic (``bench/_common``), between
#: the smallest reciprocal condition at which the residuals were kept and the one at which
#: they were lost (docs/benchmarks.md).
SWITCH_RCOND = 3e-14


class _Block:
    """Precomputed index data of one PSD block of ``G`` (lower-triangle rows, column-major).

    ``H[alpha, beta] += tr(S_alpha V S_beta V) = <S_alpha, T_beta>`` with
    ``T_beta = V S_beta V``: ``S_beta V`` is a sparse product (``S_beta`` has a few
    entries), ``V (S_beta V)`` one dense product for a chunk of moments at once, and
    the Frobenius product with the sparse ``S_alpha`` a gather and a sparse product.
    """

    def __init__(self, G_rows: sp.csr_matrix, dim: int):
        n = dim
        csc = G_rows.tocsc()
        self.active = np.flatnonzero(np.diff(csc.indptr))          # moments in this block
        coo = csc[:, self.active].tocoo()
        i, j = coo.row % n, coo.row // n                               # i >= j
        # S_v[(k, beta), l] = S_beta[k, l] for every active moment (rows k-major: then
        # (S_v V).reshape(n, a n) is [S_1 V, ..., S_a V] side by side, ready for V @ .)
        off = i != j
        a = self.active.size
        cols = np.concatenate([j, i[off]])
        vals = np.concatenate([coo.data, coo.data[off]])
        self.all_active = a == G_rows.shape[1]
        self.step = step = max(1, CHUNK_ENTRIES // (n * n))
        self.chunks = []
        beta = np.concatenate([coo.col, coo.col[off]])
        krow = np.concatenate([i, j[off]])
        for s in range(0, a, step):
            c = min(step, a - s)
            sel = (beta >= s) & (beta < s + c)
            S_v = sp.csr_matrix((vals[sel], (krow[sel] * c + beta[sel] - s, cols[sel])), shape=(n * c, n))
            self.chunks.append((s, c, S_v))
        # rows e of the block with an entry, and (w_e G[e, alpha])^T with w_e = 2 off the diagonal
        local = np.flatnonzero(np.diff(G_rows.indptr))
        self.i, self.j = local % n, local // n
        w = np.where(self.i == self.j, 1.0, 2.0)
        self.WGT = (sp.diags(w) @ G_rows[local][:, self.active]).T.tocsr()
        self.dim = n
        self._work: dict[int, np.ndarray] = {}

    def _buffer(self, c: int) -> np.ndarray:
        """The work array ``V [S_beta V ...]`` for a chunk of ``c`` moments, kept between iterations."""
        if c not in self._work:
            self._work[c] = np.empty((self.dim, c * self.dim))
        return self._work[c]

    def schur(self, V: np.ndarray, out: np.ndarray) -> None:
        n, act = self.dim, self.active
        for s, c, S_v in self.chunks:
            Y = (S_v @ V).reshape(n, c * n)                       # [S_beta V] side by side
            T = self._buffer(c)
            np.matmul(V, Y, out=T)                                # T[:, (k, :)] = V S_beta V
            HT = self.WGT @ T.reshape(n, c, n)[self.i, :, self.j]   # (a, c): <S_alpha, T_beta>
            if self.all_active:
                out[:, s:s + c] += HT                              # a column slice of the F-ordered H
            else:
                out[np.ix_(act, act[s:s + c])] += HT


class SparseSchurKKT:
    """cvxopt ``kktsolver`` for ``conelp`` with ``G`` and ``A`` given as scipy matrices.

    Parameters
    ----------
    G : scipy sparse, shape (l + sum q + sum s_k^2, m)
        cvxopt's ``G`` (PSD blocks: column-major, lower triangle only).
    dims : cvxopt's ``dims`` dict.
    A : scipy sparse, shape (p, m), or None.
    fallback : callable ``W -> solve``, optional
        cvxopt's "qr" for ``G, dims, A``: used from the first iteration whose Cholesky
        factorization fails or has a reciprocal condition below ``SWITCH_RCOND`` on.
    """

    def __init__(self, G: sp.spmatrix, dims: dict, A: sp.spmatrix | None = None, fallback: Any = None):
        import cvxopt
        from cvxopt import misc

        self._cvx, self._misc = cvxopt, misc
        G = sp.csr_matrix(G)
        self.m = G.shape[1]
        self.nlq = dims["l"] + sum(dims["q"])
        self.G_lq = G[:self.nlq].toarray() if self.nlq else None
        self.blocks: list[_Block] = []
        offset = self.nlq
        weight = np.ones(G.shape[0])
        upper = []
        for d in dims["s"]:
            self.blocks.append(_Block(G[offset:offset + d * d], d))
            r = np.arange(d * d)
            weight[offset + r[(r % d) != (r // d)]] = 2.0   # off-diagonal entries count twice
            upper.append(offset + r[(r % d) < (r // d)])
            offset += d * d
        self.upper = np.concatenate(upper) if upper else np.zeros(0, np.intp)
        self.G = G.tocsc()
        # the adjoint G' of cvxopt's symmetric storage: tr(S_alpha Z) from the lower triangle of Z
        self.GadjT = (sp.diags(weight) @ G).T.tocsr()
        self.p = 0 if A is None else A.shape[0]
        self._fixed = None
        if self.p:
            A = sp.csr_matrix(A)
            if np.all(np.diff(A.indptr) == 1) and np.unique(A.indices).size == self.p:
                # every row fixes one variable (y_0 = 1, a measured moment): A^T is a scaled
                # selection, the null space is the other variables, no QR is needed
                self._fixed, self._a = A.indices.copy(), A.data.copy()
                self._free = np.setdiff1d(np.arange(self.m), self._fixed)
        if self.p and self._fixed is None:
            # A^T = Q R once: Householder vectors for dormqr, and R (p x p, upper)
            (qr, tau), R = la.qr(A.T.toarray() if sp.issparse(A) else np.asarray(A).T, mode="raw")
            self._qr = (np.asfortranarray(qr), tau)
            self._R = np.triu(R[:self.p, :self.p])
            if np.any(np.abs(np.diag(self._R)) <= 1e-12 * max(1.0, np.abs(self._R).max())):
                raise ValueError("Rank(A) < p: the equality rows are linearly dependent")
            self._ormqr = la.get_lapack_funcs("ormqr", (self._qr[0],))
        self.fallback = fallback
        self.fallbacks = 0
        self.switched = False
        self.rcond = 1.0

    # -- cvxopt interface ------------------------------------------------------
    def __call__(self, W: dict):
        if self.switched:
            self.fallbacks += 1
            return self.fallback(W)
        try:
            K = self._schur(W)
            p = self.p
            if self._fixed is not None:
                K22 = K[np.ix_(self._free, self._free)].T   # symmetric: the F-ordered view LAPACK wants
            else:
                if p:
                    # K := [Q1 Q2]^T H [Q1 Q2] with A^T = Q1 R (Householder, as cvxopt's "chol")
                    K = self._apply_q(K, "L", "T")
                    K = self._apply_q(K, "R", "N")
                K22 = K[p:, p:]
            anorm = float(np.abs(K22).sum(axis=0).max()) if K22.size else 1.0
            c22 = la.cho_factor(K22, lower=True, check_finite=False)
        except (la.LinAlgError, ValueError):
            if self.fallback is None:
                raise ArithmeticError("singular KKT system") from None
            self.switched = True
            self.fallbacks += 1
            return self.fallback(W)
        if c22[0].size:
            pocon = la.get_lapack_funcs("pocon", (c22[0],))
            self.rcond = float(pocon(c22[0], anorm, uplo="L")[0])
        if self.rcond < SWITCH_RCOND and self.fallback is not None:
            # the normal equations are losing digits: cvxopt's QR for the rest of the run
            self.switched = True
            self.fallbacks += 1
            return self.fallback(W)
        return self._solver(W, K, c22)

    # -- pieces ----------------------------------------------------------------
    def _apply_q(self, C: np.ndarray, side: str, trans: str) -> np.ndarray:
        qr, tau = self._qr
        out, _, info = self._ormqr(side, trans, qr, tau, C, self._lwork(C, side))
        if info != 0:
            raise ValueError(f"dormqr failed ({info})")
        return out

    @staticmethod
    def _lwork(C: np.ndarray, side: str) -> int:
        return max(1, C.shape[1] if side == "L" else C.shape[0]) * 64

    def _schur(self, W: dict) -> np.ndarray:
        """``H = G^T (W^T W)^{-1} G``."""
        H = np.zeros((self.m, self.m), order="F")
        if self.nlq:
            Wlq = {"d": W["d"], "di": W["di"], "v": W["v"], "beta": W["beta"], "r": [], "rti": []}
            Gs = self._cvx.matrix(self.G_lq)
            self._misc.scale(Gs, Wlq, trans="T", inverse="I")
            Gs = np.array(Gs)
            H += Gs.T @ Gs
        for blk, rti in zip(self.blocks, W["rti"]):
            R = np.array(rti)
            blk.schur(R @ R.T, H)
        if not np.isfinite(H).all():
            raise ValueError("non-finite Schur complement")
        return H

    def _solver(self, W: dict, K: np.ndarray, c22):
        cvx, scale = self._cvx, self._misc.scale
        G, GadjT, p, upper = self.G, self.GadjT, self.p, self.upper
        R = self._R if p and self._fixed is None else None
        fixed, free, a = (self._fixed, self._free, self._a) if self._fixed is not None else (None, None, None)
        if fixed is not None:
            H_free_fixed, H_fixed = K[np.ix_(free, fixed)], K[fixed]

        def solve(x, y, z):
            # r = bx + G' (W'W)^{-1} bz
            u = cvx.matrix(z)
            scale(u, W, trans="T", inverse="I")
            scale(u, W, trans="N", inverse="I")
            r = np.array(x).ravel() + GadjT @ np.array(u).ravel()
            # [H A'; A 0] [ux; uy] = [r; by], with ux = Q1 v + Q2 w
            if fixed is not None:
                # ux[fixed] = by / a; H[free, :] ux = r[free]; a uy = r[fixed] - H[fixed, :] ux
                ux = np.empty_like(r)
                ux[fixed] = np.array(y).ravel() / a
                ux[free] = la.cho_solve(c22, r[free] - H_free_fixed @ ux[fixed], check_finite=False)
                y[:] = cvx.matrix((r[fixed] - H_fixed @ ux) / a)
            elif p:
                qr = self._apply_q(r[:, None], "L", "T").ravel()
                v = la.solve_triangular(R, np.array(y).ravel(), trans="T", check_finite=False)
                w = la.cho_solve(c22, qr[p:] - K[p:, :p] @ v, check_finite=False)
                uy = la.solve_triangular(R, qr[:p] - K[:p, :p] @ v - K[:p, p:] @ w, check_finite=False)
                ux = self._apply_q(np.concatenate([v, w])[:, None], "L", "N").ravel()
                y[:] = cvx.matrix(uy)
            else:
                ux = la.cho_solve(c22, r, check_finite=False)
            x[:] = cvx.matrix(ux)
            # W uz = W^{-T} (G ux - bz)
            bz = np.array(z).ravel()
            t = cvx.matrix(G @ ux - bz)
            scale(t, W, trans="T", inverse="I")
            out = np.array(t).ravel()
            out[upper] = bz[upper]   # like cvxopt's solvers: strict upper triangles untouched
            z[:] = cvx.matrix(out)

        return solve


# -- Schur complements that are themselves sparse (sparse relaxations) ---------------------
#: :func:`schur_density` below which the backend uses :class:`BlockSchurKKT` (with at least
#: ``BLOCK_SCHUR_MIN_VARS`` variables): a sparse relaxation's thousands of small cliques
#: couple each moment with a few dozen others, so ``H`` has a few nonzeros per row.
BLOCK_SCHUR_MAX_DENSITY = 0.05
BLOCK_SCHUR_MIN_VARS = 500
#: Entries of the work array ``T`` of one batch of equal blocks (doubles).
BATCH_ENTRIES = 4_000_000


def schur_density(program: Any) -> float:
    """``sum_k a_k^2 / m^2``: an upper bound on the fill of the Schur complement.

    ``a_k`` is the number of variables PSD block ``k`` involves and ``m`` the number of
    variables; a dense relaxation (one block with every moment) gives 1.
    """
    m = max(program.n_vars, 1)
    a = [np.count_nonzero(np.diff(b.F.indptr)) for b in program.psd]
    lin = program.A_ineq
    extra = float(np.diff(lin.indptr).astype(float) @ np.diff(lin.indptr)) if lin.nnz else 0.0
    return (float(np.sum(np.square(a, dtype=float))) + extra) / (float(m) * m)


class _Group:
    """Blocks with the same side and the same coefficient matrices ``S_alpha`` (dense,
    ``(a, d, d)``) on different variables: their Schur contributions are one batched product."""

    def __init__(self, S: np.ndarray, members: list[int], active: np.ndarray):
        self.S = S                       # (a, d, d), symmetric slices
        self.members = np.array(members)  # positions in dims['s']
        self.active = active             # (K, a) variables of each member
        a, d = S.shape[0], S.shape[1]
        self.step = max(1, BATCH_ENTRIES // max(1, a * d * d))

    def contributions(self, V: np.ndarray) -> np.ndarray:
        """``(K, a, a)``: ``tr(S_alpha V_k S_beta V_k)`` for every member ``k``; ``V`` (K, d, d)."""
        out = np.empty((V.shape[0], self.S.shape[0], self.S.shape[0]))
        for s in range(0, V.shape[0], self.step):       # batches bounded in memory
            v = V[s:s + self.step]
            T = v[:, None] @ self.S[None] @ v[:, None]     # (k, a, d, d): V S_beta V
            out[s:s + self.step] = np.einsum("aij,kbij->kab", self.S, T, optimize=True)
        return out


class BlockSchurKKT:
    """cvxopt ``kktsolver`` for programs whose Schur complement ``H`` is sparse.

    A sparse relaxation has thousands of small PSD blocks, each on the few moments of
    one clique: ``H[alpha, beta] = sum_k tr(S_alpha V_k S_beta V_k)`` is nonzero only
    for moments that share a block. The blocks are grouped by their coefficient
    matrices (a chain of equal cliques is one group); each group's contributions are
    one batched product, added into a fixed sparse pattern, and ``[H A^T; A 0]`` is
    factored by SuperLU (scipy, COLAMD ordering, which is much faster here than the
    symmetric MMD ordering: docs/benchmarks.md), never as a dense matrix.
    Linear rows are scaled by cvxopt's ``W['d']``; second-order cones are not supported
    (the backend then uses :class:`SparseSchurKKT`). On a failed factorization the
    fallback (cvxopt's "qr", when memory allows) takes over, as in :class:`SparseSchurKKT`.

    Parameters
    ----------
    G : scipy sparse, shape (l + sum s_k^2, m)
        cvxopt's ``G`` (PSD blocks: column-major, lower triangle only).
    dims : cvxopt's ``dims`` dict (``dims['q']`` empty).
    A : scipy sparse, shape (p, m), or None.
    fallback : callable ``W -> solve``, optional
    """

    def __init__(self, G: sp.spmatrix, dims: dict, A: sp.spmatrix | None = None, fallback: Any = None):
        import cvxopt
        from cvxopt import misc

        if dims["q"]:
            raise ValueError("BlockSchurKKT does not take second-order cones")
        self._cvx, self._misc = cvxopt, misc
        G = sp.csr_matrix(G)
        self.m = m = G.shape[1]
        self.nl = nl = dims["l"]
        self.G_l = G[:nl].tocsr()
        weight = np.ones(G.shape[0])
        groups: dict[bytes, tuple[np.ndarray, list[int], list[np.ndarray]]] = {}
        offset, upper = nl, []
        for k, d in enumerate(dims["s"]):
            rows = G[offset:offset + d * d].tocoo()
            active, col = np.unique(rows.col, return_inverse=True)
            S = np.zeros((active.size, d, d))
            i, j = rows.row % d, rows.row // d
            S[col, i, j] = rows.data
            S[col, j, i] = rows.data
            key = np.int64(d).tobytes() + S.tobytes()
            if key not in groups:
                groups[key] = (S, [], [])
            groups[key][1].append(k)
            groups[key][2].append(active)
            r = np.arange(d * d)
            weight[offset + r[(r % d) != (r // d)]] = 2.0
            upper.append(offset + r[(r % d) < (r // d)])
            offset += d * d
        self.groups = [_Group(S, members, np.array(act)) for S, members, act in groups.values()]
        self.upper = np.concatenate(upper) if upper else np.zeros(0, np.intp)
        self.G = G.tocsc()
        self.GadjT = (sp.diags(weight) @ G).T.tocsr()
        # the pattern of H: every pair of moments in one block, the linear rows' products, the diagonal
        pr = [np.repeat(g.active, g.active.shape[1], axis=1).ravel() for g in self.groups]
        pc = [np.tile(g.active, (1, g.active.shape[1])).ravel() for g in self.groups]
        lin = (self.G_l.T @ self.G_l).tocoo() if nl else sp.coo_matrix((m, m))
        rows = np.concatenate(pr + [lin.row, np.arange(m)]).astype(np.int64)
        cols = np.concatenate(pc + [lin.col, np.arange(m)]).astype(np.int64)
        key, inv = np.unique(cols * m + rows, return_inverse=True)     # CSC order: by column, then row
        self._H_indices = (key % m).astype(np.int32)
        self._H_indptr = np.searchsorted(key // m, np.arange(m + 1)).astype(np.int32)
        sizes = [g.active.size * g.active.shape[1] for g in self.groups]
        self._block_pos = inv[:sum(sizes)]
        self._lin_keys = key
        self.nnz = key.size
        self.p = 0 if A is None else A.shape[0]
        self.A = None if A is None else sp.csr_matrix(A)
        self.fallback = fallback
        self.fallbacks = 0
        self.switched = False

    def _schur(self, W: dict) -> sp.csc_matrix:
        rti = W["rti"]
        parts = []
        for g in self.groups:
            R = np.stack([np.array(rti[k]) for k in g.members])       # (K, d, d)
            V = R @ R.transpose(0, 2, 1)                              # (r r^T) = V of the NT scaling
            parts.append(g.contributions(V).ravel())
        data = np.bincount(self._block_pos, weights=np.concatenate(parts) if parts else None,
                           minlength=self.nnz) if parts else np.zeros(self.nnz)
        if self.nl:
            d = np.array(W["d"]).ravel()
            L = (self.G_l.T @ sp.diags(1.0 / d**2) @ self.G_l).tocoo()
            pos = np.searchsorted(self._lin_keys, L.col.astype(np.int64) * self.m + L.row)
            data += np.bincount(pos, weights=L.data, minlength=self.nnz)
        if not np.isfinite(data).all():
            raise ValueError("non-finite Schur complement")
        return sp.csc_matrix((data, self._H_indices, self._H_indptr), shape=(self.m, self.m))

    def __call__(self, W: dict):
        from scipy.sparse.linalg import splu

        if self.switched:
            self.fallbacks += 1
            return self.fallback(W)
        try:
            H = self._schur(W)
            K = H if not self.p else sp.bmat([[H, self.A.T], [self.A, None]], format="csc")
            lu = splu(K, permc_spec="COLAMD")
        except (RuntimeError, ValueError, la.LinAlgError):
            if self.fallback is None:
                raise ArithmeticError("singular KKT system") from None
            self.switched = True
            self.fallbacks += 1
            return self.fallback(W)
        return self._solver(W, lu)

    def _solver(self, W: dict, lu):
        cvx, scale = self._cvx, self._misc.scale
        G, GadjT, m, upper = self.G, self.GadjT, self.m, self.upper

        def solve(x, y, z):
            u = cvx.matrix(z)
            scale(u, W, trans="T", inverse="I")
            scale(u, W, trans="N", inverse="I")
            r = np.array(x).ravel() + GadjT @ np.array(u).ravel()
            if self.p:
                sol = lu.solve(np.concatenate([r, np.array(y).ravel()]))
                ux = sol[:m]
                y[:] = cvx.matrix(sol[m:])
            else:
                ux = lu.solve(r)
            x[:] = cvx.matrix(ux)
            bz = np.array(z).ravel()
            t = cvx.matrix(G @ ux - bz)
            scale(t, W, trans="T", inverse="I")
            out = np.array(t).ravel()
            out[upper] = bz[upper]
            z[:] = cvx.matrix(out)

        return solve
