"""The size of a relaxation, estimated from counts alone before anything is allocated.

:func:`relaxation_size` counts the moments, the PSD blocks' sides and the nonzero
coefficients and estimates the memory of assembling them; :func:`check_size` refuses a
relaxation above the limit, with the numbers, before :func:`gmp.build_relaxation`
allocates. The limit (default 8 GB) is raised with :func:`set_size_limit` or the
environment variable ``GMP_MAX_RELAXATION_GB`` (docs/algorithms.md).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ModelError
from .matrices import half_degree
from .monomials import count

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP

__all__ = ["RelaxationSize", "RelaxationTooLarge", "relaxation_size", "check_size", "set_size_limit",
           "size_limit", "ENV_VAR"]

ENV_VAR = "GMP_MAX_RELAXATION_GB"
_DEFAULT_GB = 8.0
_BYTES_PER_COEFFICIENT = 24
_limit_gb: float | None = None


class RelaxationTooLarge(ModelError, MemoryError):
    """The relaxation would exceed the size limit (:func:`set_size_limit`)."""


@dataclass(frozen=True)
class RelaxationSize:
    """Counts of the order-``order`` relaxation.

    Attributes
    ----------
    n_moments : int
        Decision variables (moments of every measure).
    psd_sides : tuple of int
        Side of each PSD block (moment and localizing matrices).
    n_coefficients : int
        Nonzero coefficients of the PSD blocks and the equality rows (an upper bound).
    bytes : int
        Estimated memory of building them.
    """

    order: int
    n_moments: int
    psd_sides: tuple[int, ...]
    n_coefficients: int
    bytes: int

    def __str__(self) -> str:
        big = max(self.psd_sides, default=0)
        return (f"{self.n_moments:,} moments, {len(self.psd_sides)} PSD blocks (largest side "
                f"{big:,}), {self.n_coefficients:,} coefficients, about {self.bytes / 1e9:.3g} GB")


def relaxation_size(problem: GMP, order: int) -> RelaxationSize:
    """Counts of the dense order-``order`` relaxation of ``problem`` (no allocation)."""
    r = int(order)
    n_mom, sides, nnz = 0, [], 0
    for m in problem.measures:
        n = m.n_vars
        n_mom += count(n, 2 * r)
        N = count(n, r)
        sides.append(N)
        nnz += N * N
        for g in m.inequalities:
            Ng = count(n, r - half_degree(g.degree))
            sides.append(Ng)
            nnz += Ng * Ng * max(1, g.n_terms)
        for h in m.equalities:
            nnz += count(n, 2 * r - h.degree) * max(1, h.n_terms)
    nnz += sum(sum(p.n_terms for _, p in c.expr.terms.values()) for c in problem.constraints)
    return RelaxationSize(r, n_mom, tuple(sides), nnz, _BYTES_PER_COEFFICIENT * nnz + 8 * n_mom)


def size_limit() -> float:
    """The limit in bytes: :func:`set_size_limit`, else ``GMP_MAX_RELAXATION_GB``, else 8 GB."""
    if _limit_gb is not None:
        return _limit_gb * 1e9
    env = os.environ.get(ENV_VAR)
    if env:
        try:
            return float(env) * 1e9
        except ValueError:
            raise ModelError(f"{ENV_VAR} must be a number of gigabytes, got {env!r}") from None
    return _DEFAULT_GB * 1e9


def set_size_limit(gigabytes: float | None) -> None:
    """Set the largest relaxation :func:`gmp.build_relaxation` builds (None: the default)."""
    global _limit_gb
    if gigabytes is not None and not (float(gigabytes) > 0):
        raise ModelError(f"the size limit must be a positive number of gigabytes, got {gigabytes!r}")
    _limit_gb = None if gigabytes is None else float(gigabytes)


def check_size(problem: GMP, order: int) -> RelaxationSize:
    """:func:`relaxation_size`, raising :class:`RelaxationTooLarge` above :func:`size_limit`."""
    size = relaxation_size(problem, order)
    limit = size_limit()
    if size.bytes > limit:
        raise RelaxationTooLarge(
            f"the order-{order} relaxation would have {size}, above the limit of "
            f"{limit / 1e9:.3g} GB; lower the order, use fewer variables or a sparse relaxation, "
            f"or raise the limit with gmp.set_size_limit(gigabytes) or {ENV_VAR}"
        )
    return size
