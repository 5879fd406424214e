"""Empirical moments of the data: ``mean_t phi_n(x_t)`` and the covariance of ``phi(x)`` [Han82].

Both are computed in chunks of rows, or as parallel reductions over a dask array's chunks, so
that ``Phi`` (T, N) is never held whole (docs/polymom.md, "Empirical moments" and "Large data").

>>> X = np.array([[1.0], [2.0], [3.0]])
>>> empirical_moments(lambda X: np.column_stack([X[:, 0], X[:, 0] ** 2]), X)
array([2.        , 4.66666667])
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gmp import ModelError

__all__ = ["check_data", "empirical_moments", "is_dask_array", "moment_covariance", "monomial_features"]

DEFAULT_CHUNK = 65536


def is_dask_array(X: Any) -> bool:
    """True for a ``dask.array.Array`` (checked without importing dask)."""
    return type(X).__module__.startswith("dask.array") and hasattr(X, "to_delayed")


def _reduce_blocks(fn: Callable[[np.ndarray], Any], X: Any, chunk_size: int = DEFAULT_CHUNK) -> Any:
    """``sum(fn(block))`` over row chunks of X: numpy slices of ``chunk_size`` rows, or the
    dask array's own row chunks in one parallel computation."""
    if not is_dask_array(X):
        return sum(fn(X[start:start + chunk_size]) for start in range(0, X.shape[0], chunk_size))
    import dask

    blocks = X.rechunk({1: -1}).to_delayed().ravel()
    return sum(dask.compute(*[dask.delayed(fn)(b) for b in blocks]))


def _check_shape(X: Any, data_dim: int | None, what: str, kind: str) -> Any:
    """``X`` as 2-d (a 1-d array is one column when ``data_dim`` is 1 or None)."""
    if X.ndim == 1 and data_dim in (None, 1):
        X = X[:, None]
    if X.ndim != 2:
        want = f"(n_samples, {data_dim})" if data_dim else "(n_samples, n_features)"
        raise ModelError(f"{what} must be a 2-d array of shape {want}, got {kind} of shape {X.shape}")
    if data_dim is not None and X.shape[1] != data_dim:
        raise ModelError(
            f"{what} must have {data_dim} columns, got shape {X.shape}; check which model "
            "(and dimension) you built the spec for"
        )
    return X


def _check_rows(what: str, n_bad: int, row: int, col: int, value: float, T: int, min_samples: int) -> None:
    if n_bad:
        raise ModelError(
            f"{what} has a non-finite value ({value!r}) in row {row}, column {col} "
            f"({n_bad} row(s) in all); remove or impute those rows before estimating"
        )
    if T < min_samples:
        raise ModelError(
            f"{what} has {T} samples, but at least {min_samples} are needed; "
            "collect more data or use fewer moments"
        )


def _check_dask(X: Any, data_dim: int | None, what: str, min_samples: int) -> Any:
    import dask
    import dask.array as da

    X = _check_shape(X, data_dim, what, "a dask array")
    if not np.issubdtype(X.dtype, np.number):
        raise ModelError(f"{what} must be a numeric array of shape (n_samples, n_features), got dtype {X.dtype}")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    X = X.astype(float).rechunk({1: -1})
    bad_rows = ~da.isfinite(X).all(axis=1)
    n_bad, first = dask.compute(bad_rows.sum(), da.argmax(bad_rows, axis=0))
    row, col, value = 0, 0, 0.0
    if n_bad:
        row = int(first)
        vals = np.asarray(X[row].compute())
        col = int(np.flatnonzero(~np.isfinite(vals))[0])
        value = float(vals[col])
    _check_rows(what, int(n_bad), row, col, value, X.shape[0], min_samples)
    return X


def check_data(X: Any, data_dim: int | None = None, *, what: str = "data", min_samples: int = 1) -> np.ndarray:
    """Validate data: a finite float array of shape (T, data_dim) with ``T >= min_samples``.

    A 1-d array is read as T samples of a 1-d observation when ``data_dim`` is 1 (or None).
    A dask array is checked chunk by chunk and returned as a dask array (float, one
    chunk across the columns).
    """
    if is_dask_array(X):
        return _check_dask(X, data_dim, what, min_samples)
    if X is None:
        raise ModelError(f"{what}: got None; pass an array of shape (n_samples, n_features)")
    try:
        arr = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{what} must be a numeric array of shape (n_samples, n_features): {exc}") from None
    arr = _check_shape(arr, data_dim, what, "an array")
    bad = ~np.isfinite(arr)
    row = col = 0
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
    _check_rows(what, int(bad.any(axis=1).sum()), row, col, float(arr[row, col]) if bad.any() else 0.0,
                arr.shape[0], min_samples)
    return arr


def _phi_chunk(observations: Callable[[np.ndarray], np.ndarray], Xc: np.ndarray, n_expected: int | None) -> np.ndarray:
    phi = np.asarray(observations(Xc), dtype=float)
    if phi.ndim == 1:
        phi = phi[:, None]
    if phi.ndim != 2 or phi.shape[0] != Xc.shape[0]:
        raise ModelError(
            f"observations(X) must return an array of shape (T, N) with one row per sample; for "
            f"{Xc.shape[0]} rows it returned shape {phi.shape}"
        )
    if n_expected is not None and phi.shape[1] != n_expected:
        raise ModelError(
            f"observations(X) returned {phi.shape[1]} columns but the model has {n_expected} moment "
            "polynomials; give one polynomial per observation function"
        )
    return phi


def empirical_moments(
    observations: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    *,
    n_moments: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> np.ndarray:
    """``m_n = (1/T) sum_t phi_n(x_t)``, computed in chunks of rows.

    Parameters
    ----------
    observations : callable X -> Phi of shape (T, N)
    X : ndarray of shape (T, data_dim)
        Validated data (see :func:`check_data`).
    n_moments : int, optional
        Expected N (checked).
    chunk_size : int

    Returns
    -------
    ndarray of shape (N,)
    """
    T = X.shape[0]
    total = _reduce_blocks(lambda B: _phi_chunk(observations, B, n_moments).sum(axis=0), X, chunk_size)
    out = total / T
    if not np.all(np.isfinite(out)):
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ModelError(
            f"empirical moment {bad} is not finite (overflow in the observation functions); "
            "standardize the data first"
        )
    return out


def moment_covariance(
    observations: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    *,
    mean: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> np.ndarray:
    """Sample covariance ``(1/T) sum_t (phi(x_t) - m)(phi(x_t) - m)^T`` of shape (N, N)."""
    m = empirical_moments(observations, X, chunk_size=chunk_size) if mean is None else mean
    T = X.shape[0]

    def part(B: np.ndarray) -> np.ndarray:
        d = _phi_chunk(observations, B, m.size) - m
        return d.T @ d

    return _reduce_blocks(part, X, chunk_size) / T


class _MonomialFeatures:
    """``X -> monomial_values(X, exps)``: a class, not a closure, so that specs and fitted
    estimators holding it pickle (and dask can ship it to worker processes)."""

    def __init__(self, exps: np.ndarray) -> None:
        self.exps = np.asarray(exps, dtype=np.int64)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        from gmp.extraction import monomial_values

        return monomial_values(X, self.exps)


def monomial_features(exps: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Observation functions ``phi_alpha(x) = x^alpha`` for exponent rows ``exps`` (N, D)."""
    return _MonomialFeatures(exps)
