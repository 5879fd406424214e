"""A fake backend that replays scripted answers: for tests of status handling only.

It is never registered as a built-in; tests register it by hand (or pass the
instance) when they need a backend whose answer they control::

    >>> from gmp.conic import ConicSolution
    >>> from gmp.status import Status
    >>> fake = ScriptedBackend([ConicSolution(Status.INFEASIBLE, "primal infeasible", "scripted")])
    >>> fake.solve(program, SolverOptions()).status            # doctest: +SKIP
    <Status.INFEASIBLE: 'infeasible'>
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from gmp.backend import Availability, Backend
from gmp.conic import ConicProgram, ConicSolution
from gmp.errors import BackendError
from gmp.options import SolverOptions

__all__ = ["ScriptedBackend"]

Response = ConicSolution | BaseException | Callable[[ConicProgram, SolverOptions], ConicSolution]


class ScriptedBackend(Backend):
    """Answer each :meth:`solve` call with the next scripted response.

    Parameters
    ----------
    responses : iterable
        One item per expected call: a :class:`ConicSolution` (returned), an
        exception instance (raised), or a callable ``f(program, options)``
        returning a solution (to build answers that depend on the program).
    name : str
        Registry name of this instance.
    availability : Availability or None
        What :meth:`availability` reports; usable by default.

    Attributes
    ----------
    calls : list of (ConicProgram, SolverOptions)
        Every call received, in order: tests use it to prove a solver was (not) called.
    """

    required_modules: ClassVar[tuple[str, ...]] = ()
    pip_extra: ClassVar[str | None] = None

    def __init__(
        self,
        responses: Iterable[Response] = (),
        *,
        name: str = "scripted",
        availability: Availability | None = None,
    ) -> None:
        self.name = name  # type: ignore[misc]  # instance attribute shadows the ClassVar
        self._responses = list(responses)
        self._availability = availability or Availability(True, True, True)
        self.calls: list[tuple[ConicProgram, SolverOptions]] = []

    def availability(self, check_import: bool = False) -> Availability:
        """The scripted availability (``check_import`` is ignored)."""
        return self._availability

    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        self.calls.append((program, options))
        if not self._responses:
            raise BackendError(
                f"ScriptedBackend {self.name!r} ran out of responses after "
                f"{len(self.calls) - 1} call(s); script one response per expected call"
            )
        response = self._responses.pop(0)
        if isinstance(response, BaseException):
            raise response
        if callable(response) and not isinstance(response, ConicSolution):
            return response(program, options)
        return response
