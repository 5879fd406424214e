"""Compact global keys of monomials in many variables, from clique-local exponents.

A monomial of degree ``<= D`` in ``n`` variables is the sorted multiset of its variables,
padded to length ``D`` with the sentinel ``n`` and packed into int64 words in base
``n + 1``: the same key from every clique, equal exactly when the monomials are equal, not
in graded order (docs/algorithms.md, "Compact monomial keys").
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import ModelError

__all__ = ["KeySpace", "local_positions"]


@lru_cache(maxsize=256)
def _positions_cached(exps_bytes: bytes, shape: tuple[int, int], D: int) -> np.ndarray:
    exps = np.frombuffer(exps_bytes, dtype=np.int64).reshape(shape)
    return _positions(exps, D)


def _positions(exps: np.ndarray, D: int) -> np.ndarray:
    E, s = exps.shape
    deg = exps.sum(axis=1)
    if E and int(deg.max(initial=0)) > D:
        raise ModelError(f"a monomial of degree {int(deg.max())} does not fit keys of degree <= {D}")
    out = np.full((E, D), s, dtype=np.int64)
    if E and s and D:
        rows, cols = np.nonzero(exps)          # row-major: ascending variables within a row
        mult = exps[rows, cols]
        var = np.repeat(cols, mult)
        row = np.repeat(rows, mult)
        start = np.concatenate([[0], np.cumsum(deg)[:-1]])
        col = np.arange(var.size) - start[row]
        out[row, col] = var
    out.setflags(write=False)
    return out


def local_positions(exps: np.ndarray, D: int) -> np.ndarray:
    """Multiset rows of local exponents: ``(E, D)`` ascending local variable positions.

    Parameters
    ----------
    exps : ndarray of int, shape (E, s)
        Exponents over ``s`` local variables, total degree ``<= D``.
    D : int

    Returns
    -------
    ndarray of int64, shape (E, D), read-only
        Row ``e`` lists variable ``i`` ``exps[e, i]`` times, ascending, padded with ``s``.

    >>> local_positions(np.array([[0, 2], [1, 1], [0, 0]]), 3).tolist()
    [[1, 1, 2], [0, 1, 2], [2, 2, 2]]
    """
    e = np.ascontiguousarray(exps, dtype=np.int64)
    if e.size <= 4096:
        return _positions_cached(e.tobytes(), e.shape, int(D))
    return _positions(e, int(D))


@dataclass(frozen=True)
class KeySpace:
    """Keys of monomials of degree ``<= degree`` in ``n`` variables.

    Attributes
    ----------
    n : int
    degree : int
        ``D``, the length of a multiset row.
    per_word : int
        Base-``(n + 1)`` digits per int64 word.
    words : int
        Words per key (``ceil(D / per_word)``).
    """

    n: int
    degree: int

    @property
    def per_word(self) -> int:
        k = 1
        while (self.n + 1) ** (k + 1) < 2**63:
            k += 1
        return k

    @property
    def words(self) -> int:
        return max(1, -(-self.degree // self.per_word))

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """Keys of sorted, padded multiset rows ``(..., D)``: int64 array ``(..., words)``."""
        rows = np.asarray(rows, dtype=np.int64)
        D, b, k = self.degree, self.n + 1, self.per_word
        if rows.shape[-1] != D:
            raise ModelError(f"multiset rows must have length {D}, got {rows.shape[-1]}")
        out = np.zeros(rows.shape[:-1] + (self.words,), dtype=np.int64)
        for w in range(self.words):           # a few words at most: a loop over words, not entries
            part = rows[..., w * k:(w + 1) * k]
            weights = b ** np.arange(part.shape[-1] - 1, -1, -1, dtype=np.int64)
            out[..., w] = part @ weights
        return out

    def global_keys(self, positions: np.ndarray, variables: np.ndarray) -> np.ndarray:
        """Keys of local monomials seen from several cliques at once.

        Parameters
        ----------
        positions : ndarray of int, shape (E, D)
            :func:`local_positions` of the local exponents (sentinel ``s``).
        variables : ndarray of int, shape (K, s)
            Global variable indices of ``K`` cliques of ``s`` variables, each row ascending.

        Returns
        -------
        ndarray of int64, shape (K, E, words)
        """
        variables = np.asarray(variables, dtype=np.int64)
        ext = np.concatenate([variables, np.full((variables.shape[0], 1), self.n, np.int64)], axis=1)
        return self.encode(ext[:, positions])

    def poly_keys(self, exps: np.ndarray, var_index: np.ndarray) -> np.ndarray:
        """Keys of the terms of a polynomial given over its own variables.

        Parameters
        ----------
        exps : ndarray of int, shape (T, p)
        var_index : ndarray of int, shape (p,)
            Global index of each of the polynomial's variables (any order).

        Returns
        -------
        ndarray of int64, shape (T, words)
        """
        exps = np.asarray(exps, dtype=np.int64)
        if exps.shape[0] and int(exps.sum(axis=1).max(initial=0)) > self.degree:
            raise ModelError(f"a term of degree {int(exps.sum(axis=1).max())} exceeds the relaxation's "
                             f"degree {self.degree}")
        ext = np.concatenate([np.asarray(var_index, dtype=np.int64), [self.n]])
        rows = np.sort(ext[_positions(exps, self.degree)], axis=1)
        return self.encode(rows)

    # -- sets of keys ------------------------------------------------------
    @staticmethod
    def flat(keys: np.ndarray) -> np.ndarray:
        """A 1-d array with one comparable element per key (int64, or bytes of the words)."""
        keys = np.ascontiguousarray(keys, dtype=np.int64).reshape(-1, keys.shape[-1])
        if keys.shape[1] == 1:
            return keys[:, 0]
        return keys.view(np.dtype((np.void, 8 * keys.shape[1]))).ravel()

    @classmethod
    def unique(cls, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distinct keys (as :meth:`flat` elements, sorted) and the inverse of each key."""
        f = cls.flat(keys)
        u, inv = np.unique(f, return_inverse=True)
        return u, inv.ravel()

    @classmethod
    def lookup(cls, keys: np.ndarray, table: np.ndarray) -> np.ndarray:
        """Position of each key in the sorted ``table`` (from :meth:`unique`); -1 when absent."""
        f = cls.flat(keys)
        if table.size == 0:
            return np.full(f.size, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(table, f), table.size - 1)
        return np.where(table[pos] == f, pos, -1).astype(np.int64)
