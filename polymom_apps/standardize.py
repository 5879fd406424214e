"""Per-coordinate shift and scale of the data, and the maps back for the estimates.

Raw moments of shifted data make the parameter moment matrix ill-conditioned, so the built-in
models estimate on ``z = (x - shift) / scale`` and map the parameters back (docs/polymom.md,
"Standardization").

>>> a = Affine.fit(np.array([[0.0], [2.0]]))
>>> a.shift, a.scale
(array([1.]), array([1.]))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Affine", "eager"]


def eager(*arrays: Any) -> tuple[np.ndarray, ...]:
    """numpy values of ``arrays``, computing lazy (dask) ones together in one pass."""
    if any(hasattr(a, "compute") and hasattr(a, "dask") for a in arrays):
        import dask

        arrays = dask.compute(*arrays)
    return tuple(np.asarray(a, dtype=float) for a in arrays)


@dataclass(frozen=True)
class Affine:
    """``z = (x - shift) / scale`` per column.

    Attributes
    ----------
    shift : ndarray of shape (D,)
    scale : ndarray of shape (D,)
    """

    shift: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, *, center: bool = True, common_scale: bool = False) -> Affine:
        """Mean and standard deviation per column (one scale for all with ``common_scale``).

        For a dask array both statistics come from one parallel pass.
        """
        shift = X.mean(axis=0) if center else np.zeros(X.shape[1])
        if center:
            scale = X.std(axis=0)
        else:
            scale = np.sqrt(np.mean(X**2, axis=0))
        shift, scale = eager(shift, scale)
        scale = np.where(scale > 0, scale, 1.0)
        if common_scale:
            scale = np.full_like(scale, float(np.sqrt(np.mean(scale**2))))
        return cls(np.asarray(shift, dtype=float), np.asarray(scale, dtype=float))

    def apply(self, X: np.ndarray) -> np.ndarray:
        return (X - self.shift) / self.scale

    def location_back(self, z: np.ndarray) -> np.ndarray:
        """Means: ``shift + scale * z`` (columns match the data columns)."""
        return self.shift + self.scale * z

    def variance_back(self, cz: np.ndarray) -> np.ndarray:
        """Variances: ``scale**2 * cz``."""
        return self.scale**2 * cz
