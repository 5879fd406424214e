"""Certificates of a sparse relaxation: flatness and atoms per clique, glued across overlaps.

Each clique's moments get the flatness test and the atom extraction [CF96, HL05]; the
atoms are glued along the clique tree with the junction-tree weights [Las06, Sec. 3; ND08]
and checked as dense atoms are. The relaxation is certified only when every clique is flat,
every overlap matches and every glued point passes; anything else is "bound only" with the
reason (docs/algorithms.md, "Certificates per clique, glued across overlaps").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .extraction import Atoms, ExtractionFailure, _extract_at_flat_order
from .flatness import FlatnessReport, flatness
from .matrices import half_degree
from .sparsity import SparsityPlan

__all__ = ["GluedAtoms", "CliqueCertificate", "certify_cliques", "glue_atoms"]

#: Coordinates of two atoms on shared variables agree when they differ by at most this,
#: relative to ``max(1, |coordinate|)``.
GLUE_TOL = 1e-4
#: Largest number of glued points (combinations across cliques) examined.
MAX_GLUED_POINTS = 4096


@dataclass(frozen=True, eq=False, repr=False)
class GluedAtoms:
    """Points in all ``n`` variables glued from the atoms of every clique.

    Attributes
    ----------
    points : ndarray of shape (k, n)
    weights : ndarray of shape (k,)
    clique_atoms : tuple of Atoms
        The atoms of each clique they were glued from.
    overlap_gap : float
        Largest relative disagreement of matched atoms on shared variables.
    """

    success: bool = field(default=True, init=False)
    points: np.ndarray
    weights: np.ndarray
    clique_atoms: tuple[Atoms, ...]
    overlap_gap: float
    method: str = "glued"
    notes: tuple[str, ...] = ()

    @property
    def n_atoms(self) -> int:
        return int(self.points.shape[0])

    def __repr__(self) -> str:
        pts = ", ".join("(" + ", ".join(f"{v:.4g}" for v in p[:6]) + (", ..." if p.size > 6 else "") + f") w={w:.4g}"
                        for p, w in zip(self.points[:4], self.weights[:4]))
        more = f", ... ({self.n_atoms} in all)" if self.n_atoms > 4 else ""
        return (f"{self.n_atoms} glued atom{'s' if self.n_atoms != 1 else ''}: {pts}{more} "
                f"[from {len(self.clique_atoms)} cliques, overlap gap {self.overlap_gap:.1e}]")


@dataclass(frozen=True, eq=False)
class CliqueCertificate:
    """Flatness, atoms and gluing of a sparse relaxation.

    Attributes
    ----------
    flatness : tuple of FlatnessReport or None
        Per clique; None when the relaxation does not hold all of the clique's moments
        (term sparsity), so there is no moment matrix to test.
    atoms : tuple of Atoms, ExtractionFailure or None
        Per clique (None when not flat or not testable).
    glued : GluedAtoms or None
    reason : str or None
        Why there are no glued atoms (None when there are).
    """

    flatness: tuple[FlatnessReport | None, ...]
    atoms: tuple[Atoms | ExtractionFailure | None, ...]
    glued: GluedAtoms | None
    reason: str | None

    @property
    def all_flat(self) -> bool:
        return bool(self.flatness) and all(f is not None and f.is_flat for f in self.flatness)

    @property
    def ranks(self) -> tuple[tuple[int, ...], ...]:
        return tuple(() if f is None else f.ranks for f in self.flatness)


def _clique_offsets(problem, plan: SparsityPlan) -> list[int]:
    """``d_l = max(1, ceil(deg / 2))`` over the constraints assigned to each clique."""
    m = problem.measures[0]
    d = [1] * len(plan.cliques)
    for mp in plan.matrices:
        if mp.constraint is not None:
            d[mp.clique] = max(d[mp.clique], half_degree(m.inequalities[mp.constraint].degree))
    for e in plan.equalities:
        d[e.clique] = max(d[e.clique], half_degree(m.equalities[e.constraint].degree))
    return d


def certify_cliques(problem, plan: SparsityPlan, clique_moments, rule, method: str = "schur") -> CliqueCertificate:
    """Flatness and extraction per clique, then :func:`glue_atoms`.

    Parameters
    ----------
    problem : GMP
    plan : SparsityPlan
    clique_moments : sequence of MomentSequence
        One per clique, from :meth:`SparseRelaxationMap.decode`.
    rule : RankRule
    method : {"schur", "projection"}

    Returns
    -------
    CliqueCertificate
    """
    offsets = _clique_offsets(problem, plan)
    reports: list[FlatnessReport | None] = []
    atoms: list = []
    first_reason = None
    for k, (c, ms) in enumerate(zip(plan.cliques, clique_moments)):
        y = ms.values
        if not np.all(np.isfinite(y)):
            reports.append(None)
            atoms.append(None)
            first_reason = first_reason or (
                f"the {plan.kind} relaxation does not hold every moment of clique {k}, so its moment "
                "matrix cannot be tested for flatness; solve with sparsity='correlative' (or None) to certify")
            continue
        rep = flatness(y, len(c), plan.order, d=offsets[k], rule=rule)
        reports.append(rep)
        if not rep.is_flat:
            atoms.append(None)
            first_reason = first_reason or (
                f"clique {k} ({_names(problem, c)}) is not flat: {rep.message}")
            continue
        out = _extract_at_flat_order(y, len(c), rep, method, None)
        atoms.append(out)
        if not getattr(out, "success", False):
            first_reason = first_reason or f"atom extraction failed on clique {k}: {out.reason}"
    if first_reason is not None:
        return CliqueCertificate(tuple(reports), tuple(atoms), None, first_reason)
    glued = glue_atoms(plan, atoms, problem.measures[0].n_vars)
    if isinstance(glued, str):
        return CliqueCertificate(tuple(reports), tuple(atoms), None, glued)
    return CliqueCertificate(tuple(reports), tuple(atoms), glued, None)


def _names(problem, c) -> str:
    vs = problem.measures[0].variables
    names = [vs[i].name for i in c[:6]]
    return ", ".join(names) + (", ..." if len(c) > 6 else "")


def glue_atoms(plan: SparsityPlan, atoms, n: int, tol: float = GLUE_TOL) -> GluedAtoms | str:
    """Join the atoms of the cliques along the clique tree; a reason string on failure.

    Parameters
    ----------
    plan : SparsityPlan
        Its ``cliques`` and ``clique_tree`` (parent, child) edges, parents first.
    atoms : sequence of Atoms
        One per clique, points over the clique's variables (ascending).
    n : int
        Number of variables.
    tol : float
        Agreement on shared variables, relative to ``max(1, |x|)``; also the tolerance
        on overlap weights.

    Returns
    -------
    GluedAtoms or str
    """
    cliques = plan.cliques
    parent = {c: p for p, c in plan.clique_tree}
    roots = [k for k in range(len(cliques)) if k not in parent]
    children: dict[int, list[int]] = {}
    for p, c in plan.clique_tree:
        children.setdefault(p, []).append(c)
    gap = 0.0
    comp_points, comp_weights = [], []
    for root in roots:
        a = atoms[root]
        P = np.full((a.points.shape[0], n), np.nan)
        P[:, list(cliques[root])] = a.points
        W = np.asarray(a.weights, dtype=float).copy()
        queue = list(children.get(root, []))
        while queue:
            ch = queue.pop(0)
            queue += children.get(ch, [])
            par = parent[ch]
            shared = sorted(set(cliques[ch]) & set(cliques[par]))
            b = atoms[ch]
            Q = b.points
            wq = np.asarray(b.weights, dtype=float)
            cpos = np.searchsorted(np.array(cliques[ch]), shared)
            if not shared:   # a tree edge without shared variables: independent cliques
                match = np.ones((P.shape[0], Q.shape[0]), bool)
            else:
                left, right = P[:, shared], Q[:, cpos]
                scale = np.maximum(1.0, np.maximum(np.abs(left)[:, None, :], np.abs(right)[None, :, :]))
                diff = np.abs(left[:, None, :] - right[None, :, :]) / scale
                match = np.all(diff <= tol, axis=2)
                if match.any():
                    gap = max(gap, float(diff[match].max()))
            lonely_p = np.flatnonzero(~match.any(axis=1))
            lonely_c = np.flatnonzero(~match.any(axis=0))
            if lonely_p.size or lonely_c.size:
                where = "clique" if lonely_c.size else "glued point"
                return (f"the atoms of cliques {par} and {ch} disagree on their shared variables "
                        f"{list(shared)[:6]}: a {where} atom has no partner within {tol:g}, so the clique atoms are "
                        "not the marginals of one atomic measure (try a higher order or sparsity=None)")
            # overlap weights: both sides must give the same marginal on the shared variables
            w_par = match.T.astype(float) @ W        # per child atom: parent mass on its overlap point
            same = (match.T.astype(float) @ match.astype(float)) > 0        # child atoms sharing a point
            w_child_overlap = same.astype(float) @ wq
            if np.any(np.abs(w_par - w_child_overlap) > tol * max(1.0, float(np.abs(W).sum()))):
                return (f"the atoms of cliques {par} and {ch} put different weights on their shared "
                        f"variables {list(shared)[:6]}: they are not marginals of one measure")
            i, j = np.nonzero(match)
            if i.size > MAX_GLUED_POINTS:
                return f"gluing cliques {par} and {ch} gives more than {MAX_GLUED_POINTS} points; not examined"
            newP = P[i].copy()
            newP[:, list(cliques[ch])] = Q[j]
            W = W[i] * wq[j] / w_child_overlap[j]
            P = newP
        comp_points.append(P)
        comp_weights.append(W)
    # independent components: every combination (their masses multiply; each is 1 for a probability)
    P, W = comp_points[0], comp_weights[0]
    for Q, wq in zip(comp_points[1:], comp_weights[1:]):
        if P.shape[0] * Q.shape[0] > MAX_GLUED_POINTS:
            return f"combining independent cliques gives more than {MAX_GLUED_POINTS} points; not examined"
        i, j = np.divmod(np.arange(P.shape[0] * Q.shape[0]), Q.shape[0])
        total = float(W.sum())
        newP = np.where(np.isnan(P[i]), Q[j], P[i])
        P, W = newP, W[i] * wq[j] / (total if total > 0 else 1.0)
    if np.isnan(P).any():   # pragma: no cover - every variable lies in a clique
        return "some variable is in no clique"
    order = np.lexsort(P.T[::-1])
    return GluedAtoms(P[order], W[order], tuple(atoms), gap)
