"""Exceptions of gmp-moments: one root, :class:`GMPError`.

Misuse raises; solver trouble never does (it becomes a status in the result).
Every message says what was expected, what was got, and what to do.
"""
from __future__ import annotations

__all__ = [
    "GMPError",
    "ModelError",
    "OrderError",
    "MissingMomentError",
    "BackendNotAvailableError",
    "UnknownBackendError",
    "BackendError",
    "OptionError",
]


class GMPError(Exception):
    """Root of every error raised by gmp-moments."""


class ModelError(GMPError, ValueError):
    """The problem as written is not a valid (generalized) moment problem."""


class OrderError(ModelError):
    """The relaxation order is too small for the data, or not an integer."""


class MissingMomentError(GMPError, KeyError):
    """A moment that the truncated sequence does not hold was asked for.

    A missing moment is not a zero moment.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class BackendNotAvailableError(GMPError, RuntimeError):
    """The backend is known but cannot solve here (not installed, no licence, ...)."""


class UnknownBackendError(GMPError, ValueError):
    """No backend of that name is known."""


class BackendError(GMPError, RuntimeError):
    """A backend broke its contract (not solver trouble: that is a status)."""


class OptionError(GMPError, ValueError):
    """A solver option has the wrong name, type or value."""
