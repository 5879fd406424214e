"""Checks of :func:`polymom_apps.estimate`'s arguments, each raising :class:`gmp.ModelError` with the remedy."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gmp import ModelError, Polynomial

__all__ = ["METHODS", "check_basis", "check_k", "check_method", "min_samples", "param_index"]

METHODS = ("exact", "robust")


def check_method(method: Any) -> str:
    """``"exact"`` or ``"robust"`` (``"gmm"`` is an alias of ``"robust"``)."""
    if method == "gmm":
        return "robust"
    if method not in METHODS:
        raise ModelError(
            f"method must be one of {', '.join(map(repr, METHODS))} (or 'gmm', an alias of 'robust'), got {method!r}"
        )
    return method


def check_basis(basis: Any) -> None:
    if not isinstance(basis, str) or basis not in ("model", "full"):
        raise ModelError(f"basis must be 'model' (the model's moment sub-basis, if any) or 'full', got {basis!r}")


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ModelError(f"n_components must be a positive integer, got {k!r}")
    return int(k)


def min_samples(n_moments: int) -> int:
    """Fewest samples for which ``n_moments`` empirical moments mean anything (and a covariance)."""
    return max(2 * n_moments, 10)


def param_index(params: Sequence[Polynomial], p: object, what: str) -> int:
    """Position of the gmp variable ``p`` among the model's ``params``; a ModelError naming them if absent."""
    for i, q in enumerate(params):
        if q.vars == getattr(p, "vars", None):
            return i
    names = ", ".join(q.vars[0].name for q in params)
    raise ModelError(f"{what} {p!r} is not a parameter of the model ({names}); build it from spec.parameters")
