"""Solver-neutral options, validated once and translated by each backend.

A backend that cannot honour an option warns, naming it; it never drops an
option silently (see :meth:`gmp_backends.Backend.run`).
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from typing import Any

import numpy as np

from .errors import OptionError

__all__ = ["SolverOptions"]


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _positive_float(name: str, value: Any, example: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise OptionError(
            f"solver option {name} must be a positive number or None, "
            f"got {_describe(value)}; pass e.g. {name}={example}"
        )
    value = float(value)
    if not (value > 0 and math.isfinite(value)):
        raise OptionError(
            f"solver option {name} must be a positive finite number or None, "
            f"got {value!r}; pass e.g. {name}={example}"
        )
    return value


@dataclass(frozen=True)
class SolverOptions:
    """Options understood by every backend.

    Parameters
    ----------
    tol : float or None
        Relative duality gap and feasibility tolerance; ``None`` keeps the
        solver's default.
    max_iters : int or None
        Iteration limit; ``None`` keeps the solver's default.
    verbose : bool
        Let the solver print its progress.
    time_limit : float or None
        Wall-clock limit in seconds; ``None`` means no limit.
    extra : dict
        Backend-specific raw options, passed through to the solver (the
        backend checks their names). They override the translated values above.

    Examples
    --------
    >>> SolverOptions.from_any({"tol": 1e-9, "max_iters": 200}).max_iters
    200
    """

    tol: float | None = None
    max_iters: int | None = None
    verbose: bool = False
    time_limit: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "tol", _positive_float("tol", self.tol, "1e-8"))
        set_(self, "time_limit", _positive_float("time_limit", self.time_limit, "60.0"))
        it = self.max_iters
        if it is not None:
            if isinstance(it, bool) or not isinstance(it, Integral) or it < 1:
                raise OptionError(
                    "solver option max_iters must be a positive integer or None, "
                    f"got {_describe(it)}; pass e.g. max_iters=200"
                )
            set_(self, "max_iters", int(it))
        if not isinstance(self.verbose, (bool, np.bool_)):
            raise OptionError(
                f"solver option verbose must be True or False, got {_describe(self.verbose)}"
            )
        set_(self, "verbose", bool(self.verbose))
        if not isinstance(self.extra, Mapping):
            raise OptionError(
                "solver option extra must be a dict of backend-specific options, "
                f"got {_describe(self.extra)}; pass e.g. extra={{'refinement': 2}}"
            )
        bad = [k for k in self.extra if not isinstance(k, str)]
        if bad:
            raise OptionError(
                f"the keys of solver option extra must be strings, got {bad[0]!r}"
            )
        set_(self, "extra", dict(self.extra))  # defensive copy

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of the solver-neutral options, in declaration order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_any(cls, options: SolverOptions | Mapping[str, Any] | None) -> SolverOptions:
        """Build options from ``None``, a dict, or an existing :class:`SolverOptions`.

        Raises
        ------
        OptionError
            For an unknown key (the message lists the valid ones) or a value of
            the wrong type.
        """
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        if not isinstance(options, Mapping):
            raise OptionError(
                "solver options must be None, a dict or a SolverOptions, "
                f"got {_describe(options)}"
            )
        valid = cls.names()
        for key in options:
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise OptionError(
                    f"unknown solver option {key!r}{hint}; valid options are: "
                    f"{', '.join(valid)}; put backend-specific options in extra={{...}}"
                )
        return cls(**options)

    def given(self) -> dict[str, Any]:
        """The solver-neutral options that differ from their defaults."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            default = f.default_factory() if callable(f.default_factory) else f.default
            if value != default:
                out[f.name] = value
        return out
