"""What :func:`gmp.solve` returns: a frozen, readable :class:`Result`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .conic import ConicSolution
from .moments import MomentSequence
from .status import Status

__all__ = ["Status", "AtomCheck", "Result", "OrderAttempt", "SparsityReport"]


@dataclass(frozen=True)
class AtomCheck:
    """Checks of one extracted atom before it may be called a minimizer.

    Attributes
    ----------
    point : ndarray of shape (n,)
    weight : float
    objective_gap : float or None
        ``|f(point) - bound| / max(1, |bound|)`` (polynomial optimization only).
    violation : float
        Largest support-constraint violation: ``max(-g(point), |h(point)|)``, 0 if none.
    ok : bool
    """

    point: np.ndarray
    weight: float
    objective_gap: float | None
    violation: float
    ok: bool


@dataclass(frozen=True)
class OrderAttempt:
    """One order tried by ``order="auto"``."""

    order: int
    status: Status
    bound: float | None
    certified: bool
    ranks: tuple[tuple[int, ...], ...]
    backend: str = ""


def _fmt_point(p: np.ndarray) -> str:
    # rounding at 1e-9 first prints solver noise around 0 (and -0.0) as 0 on every machine
    return "(" + ", ".join(f"{v:.6g}" for v in np.round(np.ravel(p), 9) + 0.0) + ")"
@dataclass(frozen=True, eq=False)
class SparsityReport:
    """Which sparse relaxation was solved, and its certificate per clique.

    Attributes
    ----------
    kind : {"correlative", "term", "correlative+term"}
    description : str
        One line: cliques, chordal heuristic, running intersection, term steps, blocks.
    cliques : tuple of tuple of str
        Variable names of each clique (one clique of every variable without
        correlative sparsity).
    block_sizes : tuple of int
        Side of every PSD block (blocks of side 1 are passed as linear inequalities).
    rip : bool
        The cliques have the running intersection property.
    term_steps : int
        Term-sparsity steps done (0 without term sparsity).
    fixed_point : bool or None
        Term sparsity reached its fixed point (None without term sparsity).
    clique_moments : tuple of MomentSequence or None
        Per clique, its moments over its own variables (NaN: not in the relaxation).
    certificate : CliqueCertificate or None
        Flatness, atoms and gluing per clique (:mod:`gmp.sparse_certify`).
    plan : SparsityPlan
    """

    kind: str
    description: str
    cliques: tuple[tuple[str, ...], ...]
    block_sizes: tuple[int, ...]
    rip: bool
    term_steps: int
    fixed_point: bool | None
    clique_moments: tuple[MomentSequence, ...] | None = field(default=None, repr=False)
    certificate: Any = field(default=None, repr=False)
    plan: Any = field(default=None, repr=False)

    @property
    def max_block(self) -> int:
        return max(self.block_sizes, default=0)


def _fmt_point(p: np.ndarray, limit: int | None = None) -> str:
    p = np.ravel(p)
    if limit is not None and p.size > limit:
        return "(" + ", ".join(f"{v:.6g}" for v in p[:limit]) + f", ... [{p.size} coordinates])"
    return "(" + ", ".join(f"{v:.6g}" for v in p) + ")"


@dataclass(frozen=True)
class Result:
    """Outcome of a moment relaxation.

    Attributes
    ----------
    success : bool
        The solver returned a solution (status optimal or optimal_inaccurate);
        says nothing about exactness: see ``certified``.
    status : Status
    message : str
        What happened and, when relevant, what to try.
    bound : float or None
        Value of the relaxation: a lower bound for a minimization (an upper
        bound for a maximization) on the problem's optimum; ``±inf`` when the
        relaxation is infeasible / unbounded; None when the solver failed.
    order : int
        Relaxation order solved (the last one tried with ``order="auto"``).
    certified : bool
        True only when the moment matrices are flat [CF96], the atoms were
        extracted and passed every per-atom check, and the solver reported
        optimal: then ``bound`` is the optimum and ``atoms`` are minimizers.
    ranks : tuple of tuple of int
        Per measure, numerical ranks of ``M_0 .. M_order`` (per clique for a sparse
        relaxation).
    atoms : Atoms or None
        Atoms of the (first) measure; ``atoms_per_measure`` has all.
    moments : tuple of MomentSequence or None
        Per measure.
    backend : str
    timings : dict
        Seconds for ``build``, ``solve``, ``extract`` and ``total``.
    raw_status : str
        The solver's own status text.
    verified_bound : float
        A bound on the optimum (lower for a minimization, upper for a maximization)
        that holds whatever the solver's accuracy, from the dual (SOS) solution with
        explicit error terms (docs/certificates.md); ``-inf`` (``+inf`` for a
        maximization) when none could be derived, ``verified_bound_note`` says why and
        what to add (a ball constraint).
    verified_bound_note : str
    certificate : SOSCertificate or None
        The SOS multipliers and Gram matrices; ``certificate.check()`` evaluates the
        identity's residual.
    feasible_value : float or None
        The objective at ``feasible_point``, a feasible point found by local
        optimization from the atoms or the first-order moments: an upper bound on a
        minimum (a lower bound on a maximum).
    feasible_point : ndarray of shape (n,) or None
    gap : float or None
        ``|feasible_value - verified_bound|``: the optimum lies in between.
    sparsity : SparsityReport or None
        None for the dense relaxation. Otherwise the sparse relaxation that was solved:
        its ``bound`` is a bound of *that* relaxation, which can be weaker than the
        dense one of the same order; ``moments`` is None and the moments are per clique
        in ``sparsity.clique_moments``.
    """

    success: bool
    status: Status
    message: str
    bound: float | None
    order: int
    certified: bool
    ranks: tuple[tuple[int, ...], ...]
    atoms: Any | None
    moments: tuple[MomentSequence, ...] | None
    backend: str
    timings: dict[str, float]
    raw_status: str
    atoms_per_measure: tuple[Any | None, ...] = ()
    atom_checks: tuple[AtomCheck, ...] = ()
    flatness: tuple[Any, ...] = ()
    attempts: tuple[OrderAttempt, ...] = ()
    solution: ConicSolution | None = field(default=None, repr=False)
    verified_bound: float = -np.inf
    verified_bound_note: str = ""
    certificate: Any | None = field(default=None, repr=False)
    feasible_value: float | None = None
    feasible_point: np.ndarray | None = None
    gap: float | None = None
    sparsity: SparsityReport | None = field(default=None, repr=False)

    @property
    def minimizers(self) -> np.ndarray:
        """Certified minimizers, shape (k, n); empty when not certified."""
        if not self.certified or self.atoms is None:
            return np.zeros((0, 0))
        return np.asarray(self.atoms.points)

    @property
    def moment(self) -> MomentSequence | None:
        """The moment sequence of the single (first) measure."""
        return self.moments[0] if self.moments else None

    def __repr__(self) -> str:
        return f"<gmp.Result {self.summary()}>"

    def summary(self) -> str:
        if self.certified and self.atoms is not None:
            limit = None if self.sparsity is None else 8
            pts = ", ".join(
                f"{_fmt_point(p, limit)} w={w:.4g}" for p, w in zip(self.atoms.points, self.atoms.weights)
            )
            k = len(self.atoms.weights)
            if limit is not None and k > 4:
                pts = ", ".join(f"{_fmt_point(p, limit)} w={w:.4g}" for p, w in zip(self.atoms.points[:4],
                                                                                 self.atoms.weights[:4])) + ", ..."
            return (
                f"certified optimum {self.bound:.8g} at {k} atom{'s' if k != 1 else ''}: {pts} "
                f"[order {self.order}{self._relaxation()}, {self.backend}]"
            )
        b = "none" if self.bound is None else f"{self.bound:.8g}"
        return (f"{self.status.value}: bound {b}, not certified [order {self.order}{self._relaxation()}, "
                f"{self.backend}]; {self.message}")

    def _relaxation(self) -> str:
        if self.sparsity is None:
            return ""
        return f", {self.sparsity.kind} sparse relaxation, largest block {self.sparsity.max_block}"

    def __str__(self) -> str:
        return self.summary()
