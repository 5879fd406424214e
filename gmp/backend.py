"""The one interface every solver backend implements.

A backend declares its capability as data (``name``, ``required_modules``, ``pip_extra``,
``supported_options``), says whether it can run here, and why not, without importing its
solver (:meth:`Backend.availability`), and solves a :class:`gmp.conic.ConicProgram`
(:meth:`Backend.solve`). Callers use :meth:`Backend.run` (docs/algorithms.md, "Backend registry").
"""
from __future__ import annotations

import importlib
import importlib.util
import time
import traceback
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from .assess import assess
from .conic import ConicProgram, ConicSolution
from .errors import BackendError, BackendNotAvailableError, GMPError, ModelError
from .options import SolverOptions
from .status import Status

__all__ = ["Availability", "Backend"]


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here, and if not, why not and what to do.

    Attributes
    ----------
    installed : bool
        Every required module is found (``importlib.util.find_spec``, no import).
    importable : bool or None
        The modules import; ``None`` when not checked (the cheap default).
    usable : bool or None
        The solver can solve (e.g. a MOSEK licence is found); ``None`` when not checked.
    reason : str
        Why the backend is not usable (empty when it is).
    remedy : str
        What to do about it (empty when nothing is needed).
    """

    installed: bool
    importable: bool | None = None
    usable: bool | None = None
    reason: str = ""
    remedy: str = ""

    @property
    def level(self) -> str:
        """The highest level reached: ``'not installed'``, ``'installed'``,
        ``'not importable'``, ``'importable'``, ``'not usable'`` or ``'usable'``."""
        if not self.installed:
            return "not installed"
        if self.importable is None:
            return "installed"
        if not self.importable:
            return "not importable"
        if self.usable is None:
            return "importable"
        return "usable" if self.usable else "not usable"

    def __str__(self) -> str:
        parts = [self.level]
        if self.reason:
            parts.append(self.reason)
        if self.remedy:
            parts.append(f"remedy: {self.remedy}")
        return "; ".join(parts)


def _module_found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # broken parent package or odd sys.modules entry
        return False


class Backend(ABC):
    """A conic solver behind the neutral :class:`~gmp.conic.ConicProgram` interface.

    Subclasses set the class attributes and implement :meth:`solve`; they may
    override :meth:`check_usable` (e.g. to look for a licence).

    Attributes
    ----------
    name : str
        Registry name, lower case (``"cvxopt"``).
    required_modules : tuple of str
        Top-level modules the solver needs; imported lazily inside :meth:`solve`.
    pip_extra : str or None
        The ``gmp-moments[extra]`` that installs them, ``None`` if they are core
        dependencies.
    supported_options : frozenset of str
        Solver-neutral options (see :class:`SolverOptions`) the backend honours;
        setting any other one makes :meth:`run` warn, naming it.
    option_notes : dict of str to str
        Per unsupported option, a hint appended to that warning.
    """

    name: ClassVar[str] = ""
    required_modules: ClassVar[tuple[str, ...]] = ()
    pip_extra: ClassVar[str | None] = None
    supported_options: ClassVar[frozenset[str]] = frozenset(
        {"tol", "max_iters", "verbose", "time_limit"}
    )
    option_notes: ClassVar[Mapping[str, str]] = {}

    # -- availability ----------------------------------------------------
    def install_hint(self) -> str:
        """The command that installs what this backend needs."""
        if self.pip_extra:
            return f'pip install "gmp-moments[{self.pip_extra}]"'
        return "pip install " + " ".join(self.required_modules)

    def check_usable(self) -> tuple[str, str] | None:
        """Hook run after the modules imported: ``None`` if usable, else ``(reason, remedy)``."""
        return None

    def availability(self, check_import: bool = False) -> Availability:
        """Whether this backend can run here.

        Parameters
        ----------
        check_import : bool
            Also import the solver modules and run :meth:`check_usable`. The
            default only looks for the modules, importing nothing.
        """
        missing = [m for m in self.required_modules if not _module_found(m)]
        if missing:
            return Availability(
                installed=False, importable=False, usable=False,
                reason=f"Python module {missing[0]!r} is not installed",
                remedy=self.install_hint(),
            )
        if not check_import:
            return Availability(installed=True)
        for module in self.required_modules:
            try:
                importlib.import_module(module)
            except Exception as exc:  # any failure at import means "not importable"
                return Availability(
                    installed=True, importable=False, usable=False,
                    reason=f"import {module} failed with {type(exc).__name__}: {exc}",
                    remedy=f"reinstall it ({self.install_hint()}) and check its shared libraries",
                )
        problem = self.check_usable()
        if problem is not None:
            reason, remedy = problem
            return Availability(True, True, False, reason, remedy)
        return Availability(True, True, True)

    # -- solving ---------------------------------------------------------
    @abstractmethod
    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        """Solve ``program``; solver trouble is a status, misuse a :class:`GMPError`.

        Implementations may assume ``program`` was validated and the backend is
        usable: call :meth:`run`, which ensures both.
        """

    def run(
        self, program: ConicProgram, options: SolverOptions | Mapping[str, Any] | None = None
    ) -> ConicSolution:
        """Validate, check availability, solve, time, and check the answer.

        Raises
        ------
        ModelError
            ``program`` is not a ConicProgram or holds NaN/inf (no solver sees it).
        OptionError
            Bad options.
        BackendNotAvailableError
            The backend cannot run here (the message says why and what to do).
        BackendError
            The backend returned something that breaks the ConicSolution contract.
        """
        options = SolverOptions.from_any(options)
        if not isinstance(program, ConicProgram):
            raise ModelError(
                f"a backend solves a gmp.conic.ConicProgram, got {type(program).__name__}"
            )
        program.validate()
        avail = self.availability(check_import=True)
        if not avail.usable:
            raise BackendNotAvailableError(
                f"backend {self.name!r} is not usable here: {avail.reason}; {avail.remedy}"
            )
        self._warn_unsupported(options)
        start = time.perf_counter()
        try:
            sol = self.solve(program, options)
        except GMPError:
            raise
        except Exception as exc:  # solver trouble is a status, not a stack trace
            sol = ConicSolution(
                status=Status.SOLVER_ERROR,
                raw_status=type(exc).__name__,
                message=(
                    f"{self.name} failed with {type(exc).__name__}: {exc}; try another "
                    "backend (gmp.available_backends() lists them) or rescale the problem"
                ),
                info={"exception": repr(exc), "traceback": traceback.format_exc()},
            )
        wall = time.perf_counter() - start
        self._check_solution(sol, program)
        sol = assess(program, sol, options.tol)  # the core's own accuracy and certificate checks
        info = {**sol.info, "wall_time": wall}
        return replace(
            sol, solve_time=sol.solve_time or wall, backend=sol.backend or self.name, info=info
        )

    def _warn_unsupported(self, options: SolverOptions) -> None:
        for key, value in options.given().items():
            if key == "extra" or key in self.supported_options:
                continue
            note = self.option_notes.get(key, "")
            warnings.warn(
                f"backend {self.name!r} cannot honour solver option {key}={value!r}; "
                f"it is ignored{'; ' + note if note else ''}",
                UserWarning,
                stacklevel=3,
            )

    def _check_solution(self, sol: Any, program: ConicProgram) -> None:
        who = f"backend {self.name!r}"
        if not isinstance(sol, ConicSolution):
            raise BackendError(f"{who} must return a ConicSolution, got {type(sol).__name__}")
        if not isinstance(sol.status, Status):
            raise BackendError(f"{who} returned status {sol.status!r}, not a gmp.status.Status")
        if sol.status.has_solution and sol.x is None:
            raise BackendError(f"{who} reported {sol.status} without a primal point x")
        shapes = {"x": program.n_vars, "y_eq": program.n_eq, "z_ineq": program.n_ineq}
        for attr, size in shapes.items():
            value = getattr(sol, attr)
            if value is not None and np.shape(value) != (size,):
                raise BackendError(
                    f"{who} returned {attr} of shape {np.shape(value)}, expected ({size},)"
                )
        if sol.Z_psd is not None:
            got = tuple(np.shape(Z) for Z in sol.Z_psd)
            want = tuple((d, d) for d in program.psd_dims)
            if got != want:
                raise BackendError(f"{who} returned Z_psd of shapes {got}, expected {want}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
