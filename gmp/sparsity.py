"""Sparsity plans: on which monomials each moment and localizing matrix of a relaxation is built.

Correlative sparsity [WKKM06, Las06] (the cliques of a chordal extension of the variables'
graph) and term sparsity [WML21, WMLM22] (blocks from the basis monomials' graph, repeated
to a fixed point) give a :class:`SparsityPlan`, built by
:func:`gmp.sparse_relaxation.build_sparse_relaxation`; the dense relaxation is the plan with
one clique and one block per matrix (docs/algorithms.md, "Sparsity plans"; docs/sparsity.md).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache

import networkx as nx
import numpy as np

from .errors import ModelError
from .matrices import half_degree
from .monokeys import KeySpace, local_positions
from .monomials import basis, count

__all__ = ["Sparsity", "as_sparsity", "SparsityPlan", "MatrixPlan", "EqualityPlan", "make_plan", "dense_plan",
           "csp_graph", "chordal_extension", "maximal_cliques", "running_intersection",
           "term_blocks", "SPARSITY_KINDS", "CHORDAL_METHODS", "TERM_EXTENSIONS"]

SPARSITY_KINDS = ("auto", "correlative", "term", "correlative+term")
CHORDAL_METHODS = ("min_degree", "min_fill")
TERM_EXTENSIONS = ("block", "chordal")
#: Largest ``count(n, r) * n`` (entries of the dense exponent array of the basis of all
#: ``n`` variables) that ``sparsity="term"`` alone builds; beyond it, use "correlative+term".
TERM_DENSE_BASIS_LIMIT = 20_000_000
#: Term-sparsity steps tried before giving up on a fixed point (the support only grows,
#: so a fixed point exists; this bounds the work).
MAX_TERM_STEPS = 20


@dataclass(frozen=True)
class Sparsity:
    """Which sparsity a relaxation exploits, and how.

    Parameters
    ----------
    kind : {"auto", "correlative", "term", "correlative+term"}
        "auto" uses correlative sparsity when the chordal extension has more than one
        clique, and term sparsity on top when it makes the largest PSD block smaller
        (term sparsity leaves the cliques' moment matrices incomplete, so it gives up
        the flatness certificate: "auto" pays that only for smaller blocks).
    chordal : {"min_degree", "min_fill"}
        Elimination heuristic of the chordal extension of the CSP graph (and of the
        term sparsity graphs when ``term_extension="chordal"``).
    term_extension : {"block", "chordal"}
        Block closure (connected components made complete, [WML21]) or chordal
        extension with maximal cliques as blocks (Chordal-TSSOS).
    term_steps : int or None
        Sparse steps of term sparsity; None iterates to the fixed point.

    Examples
    --------
    >>> Sparsity("correlative", chordal="min_fill")
    Sparsity(kind='correlative', chordal='min_fill', term_extension='block', term_steps=None)
    """

    kind: str = "auto"
    chordal: str = "min_degree"
    term_extension: str = "block"
    term_steps: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in SPARSITY_KINDS:
            raise ModelError(f"sparsity must be None or one of {', '.join(map(repr, SPARSITY_KINDS))}, "
                             f"got {self.kind!r}")
        if self.chordal not in CHORDAL_METHODS:
            raise ModelError(f"chordal must be one of {', '.join(map(repr, CHORDAL_METHODS))}, "
                             f"got {self.chordal!r}")
        if self.term_extension not in TERM_EXTENSIONS:
            raise ModelError(f"term_extension must be one of {', '.join(map(repr, TERM_EXTENSIONS))}, "
                             f"got {self.term_extension!r}")
        s = self.term_steps
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1):
            raise ModelError(f"term_steps must be a positive integer or None (to the fixed point), got {s!r}")


def as_sparsity(value: object) -> Sparsity | None:
    """None (dense), or a :class:`Sparsity` from a kind name or a Sparsity."""
    if value is None or isinstance(value, Sparsity):
        return value
    if isinstance(value, str):
        return Sparsity(value)
    raise ModelError(f"sparsity must be None, one of {', '.join(map(repr, SPARSITY_KINDS))} or a "
                     f"gmp.Sparsity, got {type(value).__name__} {value!r}")


# -- plans ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MatrixPlan:
    """One moment matrix (``constraint`` None) or localizing matrix of a clique.

    Attributes
    ----------
    clique : int
    constraint : int or None
        Index of the inequality ``g_j >= 0`` in the measure's ``inequalities``.
    order : int
        Degree ``s`` of the basis (``r`` for a moment matrix, ``r - ceil(deg g / 2)``).
    basis : ndarray of shape (N, len(clique))
        Clique-local exponents, graded order (all of ``basis(len(clique), s)``).
    blocks : tuple of ndarray of int
        Rows of ``basis`` in each PSD block (one block of all rows without term sparsity).
    """

    clique: int
    constraint: int | None
    order: int
    basis: np.ndarray
    blocks: tuple[np.ndarray, ...]

    @property
    def block_sizes(self) -> tuple[int, ...]:
        return tuple(int(b.size) for b in self.blocks)


@dataclass(frozen=True, eq=False)
class EqualityPlan:
    """``L(h x^a) = 0`` for the multipliers ``x^a`` (clique-local exponents) of equality ``h``."""

    clique: int
    constraint: int
    multipliers: np.ndarray


@dataclass(frozen=True, eq=False)
class SparsityPlan:
    """The monomial sets of every matrix of a relaxation of one measure.

    Attributes
    ----------
    kind : {"dense", "correlative", "term", "correlative+term"}
        The relaxation this plan builds (``"auto"`` resolved).
    n_vars, order : int
    cliques : tuple of tuple of int
        Variable positions (in the measure's variables) of each clique, ascending.
    rip : bool
        The cliques satisfy the running intersection property.
    clique_tree : tuple of (int, int)
        Edges (parent, child) of a maximum-overlap spanning forest of the cliques
        (a junction tree when ``rip``); gluing follows it.
    matrices : tuple of MatrixPlan
    equalities : tuple of EqualityPlan
    chordal : str or None
        Heuristic of the chordal extension (None: no correlative sparsity).
    term_extension : str or None
    term_steps : int
        Term-sparsity steps done (0 without term sparsity).
    fixed_point : bool or None
        The last term-sparsity step left the support unchanged (None without it).
    """

    kind: str
    n_vars: int
    order: int
    cliques: tuple[tuple[int, ...], ...]
    rip: bool
    clique_tree: tuple[tuple[int, int], ...]
    matrices: tuple[MatrixPlan, ...]
    equalities: tuple[EqualityPlan, ...]
    chordal: str | None = None
    term_extension: str | None = None
    term_steps: int = 0
    fixed_point: bool | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def block_sizes(self) -> tuple[int, ...]:
        """Sides of every PSD block, matrix after matrix."""
        return tuple(s for m in self.matrices for s in m.block_sizes)

    @property
    def clique_sizes(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.cliques)

    def describe(self) -> str:
        """One line: the relaxation, its cliques and blocks."""
        sizes = self.block_sizes
        text = f"{self.kind} relaxation of order {self.order}"
        if self.kind != "dense" and "correlative" in self.kind:
            cs = self.clique_sizes
            text += (f": {len(cs)} cliques of {min(cs)}-{max(cs)} variables ({self.chordal}), "
                     f"running intersection {'holds' if self.rip else 'fails'}")
        if self.term_extension is not None:
            text += (f"; term sparsity ({self.term_extension}), {self.term_steps} step"
                     f"{'s' if self.term_steps != 1 else ''}"
                     f"{', fixed point' if self.fixed_point else ''}")
        text += f"; {len(sizes)} PSD blocks, largest {max(sizes, default=0)}"
        return text


# -- graphs ---------------------------------------------------------------------------
def csp_graph(n: int, term_vars: list[np.ndarray], constraint_vars: list[np.ndarray]) -> nx.Graph:
    """The correlative sparsity graph on variables ``0..n-1``.

    Parameters
    ----------
    n : int
    term_vars : list of ndarray of int, shape (T, D)
        Per polynomial (objective, moment constraints), each term's variables as a
        multiset row padded with ``n`` (:class:`gmp.monokeys.KeySpace` rows): the
        variables of one term are pairwise adjacent.
    constraint_vars : list of ndarray of int
        The variables of each support constraint: pairwise adjacent.
    """
    G = nx.Graph()
    G.add_nodes_from(range(n))
    pairs = [np.zeros((0, 2), np.int64)]
    for rows in term_vars:
        D = rows.shape[1]
        for i, j in itertools.combinations(range(D), 2):   # a loop over the few columns of a term
            a, b = rows[:, i], rows[:, j]
            ok = (a != b) & (a < n) & (b < n)
            pairs.append(np.stack([a[ok], b[ok]], axis=1))
    for vs in constraint_vars:
        vs = np.unique(vs)
        if vs.size > 1:
            iu = np.triu_indices(vs.size, 1)
            pairs.append(np.stack([vs[iu[0]], vs[iu[1]]], axis=1))
    edges = np.unique(np.sort(np.concatenate(pairs), axis=1), axis=0)
    G.add_edges_from(map(tuple, edges.tolist()))
    return G


def chordal_extension(G: nx.Graph, method: str = "min_degree") -> nx.Graph:
    """A chordal graph containing ``G``: the fill of an elimination ordering.

    The next vertex is chosen by networkx's minimum degree (``MinDegreeHeuristic``)
    or minimum fill-in (``min_fill_in_heuristic``) heuristic; eliminating it makes its
    remaining neighbours a clique. networkx's own ``complete_to_chordal_graph``
    (MCS-M, a minimal triangulation) and its ``is_chordal`` are quadratic in the
    vertices, too slow for the thousands of variables of the chained problems; the
    elimination itself makes the result chordal. Minimum fill-in adds no edge to a
    graph that is already chordal (a simplicial vertex has no fill); minimum degree
    may.
    """
    from networkx.algorithms.approximation.treewidth import MinDegreeHeuristic, min_fill_in_heuristic

    if method not in CHORDAL_METHODS:
        raise ModelError(f"chordal must be one of {', '.join(map(repr, CHORDAL_METHODS))}, got {method!r}")
    H = G.copy()
    graph = {v: set(G[v]) - {v} for v in G}
    pick = MinDegreeHeuristic(graph).best_node if method == "min_degree" else min_fill_in_heuristic
    v = pick(graph)
    while v is not None:
        nbrs = graph[v]
        for a, b in itertools.combinations(nbrs, 2):
            if b not in graph[a]:
                graph[a].add(b)
                graph[b].add(a)
                H.add_edge(a, b)
        for u in nbrs:
            graph[u].discard(v)
        del graph[v]
        v = pick(graph)
    return H   # the vertices left when the heuristic stops are pairwise adjacent


def maximal_cliques(H: nx.Graph) -> list[tuple[int, ...]]:
    """Maximal cliques of a chordal graph, each ascending, sorted (deterministic).

    ``networkx.find_cliques`` (linear in the cliques of a chordal graph) rather than
    ``chordal_graph_cliques``, which is quadratic in the vertices.
    """
    return sorted(tuple(sorted(c)) for c in nx.find_cliques(H))


def running_intersection(cliques: list[tuple[int, ...]]) -> tuple[bool, tuple[tuple[int, int], ...]]:
    """Whether the cliques have the running intersection property, and a clique tree.

    The tree is a maximum-weight spanning forest of the clique intersection graph
    (weight: number of shared variables), oriented from the first clique of each
    component. The property holds iff, for every variable, the cliques that hold it
    are connected in that forest (Jensen's criterion: the forest's weight equals
    ``sum_v (#cliques holding v - 1)``).
    """
    holders: dict[int, list[int]] = {}
    for k, c in enumerate(cliques):
        for v in c:
            holders.setdefault(v, []).append(k)
    W = nx.Graph()
    W.add_nodes_from(range(len(cliques)))
    for ks in holders.values():
        for a, b in itertools.combinations(ks, 2):
            w = W.get_edge_data(a, b, {"weight": 0})["weight"]
            W.add_edge(a, b, weight=w + 1)
    T = nx.maximum_spanning_tree(W, weight="weight")
    weight = sum(d["weight"] for _, _, d in T.edges(data=True))
    rip = weight == sum(len(ks) - 1 for ks in holders.values())
    edges = []
    for comp in sorted(nx.connected_components(T), key=min):
        root = min(comp)
        edges += [(int(a), int(b)) for a, b in nx.bfs_edges(T, root)]
    return bool(rip), tuple(edges)


def term_blocks(adjacency: np.ndarray, extension: str = "block", chordal: str = "min_degree") -> tuple[np.ndarray, ...]:
    """Blocks of a term sparsity graph: connected components, or maximal cliques of a chordal extension.

    Parameters
    ----------
    adjacency : ndarray of bool, shape (N, N)
        Symmetric; the diagonal is ignored.
    extension : {"block", "chordal"}

    Returns
    -------
    tuple of ndarray of int
        Node sets, each ascending, sorted by their first node.
    """
    A = np.array(adjacency, dtype=bool)
    np.fill_diagonal(A, False)
    G = nx.from_numpy_array(A)
    if extension == "block":
        parts = [sorted(c) for c in nx.connected_components(G)]
    else:
        parts = [list(c) for c in maximal_cliques(chordal_extension(G, chordal))]
    return tuple(np.array(p, dtype=np.int64) for p in sorted(parts, key=lambda p: p[0]))


# -- the problem's supports -----------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Support:
    """Terms of the problem's polynomials as global keys and multiset rows."""

    keys: KeySpace
    objective_rows: np.ndarray            # (T, D) multiset rows (objective + moment constraints)
    ineq: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]   # (vars, local exps, coefs) per g
    eq: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    ineq_rows: tuple[np.ndarray, ...]
    eq_rows: tuple[np.ndarray, ...]


def _poly_rows(keys: KeySpace, p, pos: dict[int, int]) -> np.ndarray:
    idx = np.array([pos[id(v)] for v in p.vars], dtype=np.int64)
    ext = np.concatenate([idx, [keys.n]])
    return np.sort(ext[local_positions(p.exps, keys.degree)], axis=1)


def _local(p, pos: dict[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted global variables, exponents over them, coefficients) of a polynomial."""
    idx = np.array([pos[id(v)] for v in p.vars], dtype=np.int64)
    order = np.argsort(idx)
    return idx[order], np.ascontiguousarray(p.exps[:, order]), p.coefs


def _supports(measure, polys, order: int) -> _Support:
    n = measure.n_vars
    keys = KeySpace(n, 2 * order)
    pos = {id(v): k for k, v in enumerate(measure.variables)}
    rows = [_poly_rows(keys, p, pos) for p in polys]
    obj = np.concatenate(rows) if rows else np.zeros((0, 2 * order), np.int64)
    return _Support(
        keys, obj,
        tuple(_local(g, pos) for g in measure.inequalities),
        tuple(_local(h, pos) for h in measure.equalities),
        tuple(_poly_rows(keys, g, pos) for g in measure.inequalities),
        tuple(_poly_rows(keys, h, pos) for h in measure.equalities),
    )


def _assign(cliques: list[tuple[int, ...]], vars_: np.ndarray, holders: dict[int, list[int]] | None = None) -> int:
    """The smallest clique (first among equals) that holds every variable of a constraint.

    ``holders`` maps a variable to the cliques that hold it (only those are examined).
    """
    need = set(vars_.tolist())
    best = None
    candidates = range(len(cliques)) if holders is None or not need else holders.get(min(need), [])
    for k in candidates:
        c = cliques[k]
        if need <= set(c) and (best is None or len(c) < len(cliques[best])):
            best = k
    if best is None:   # cannot happen: a constraint's variables are a clique of the CSP graph
        raise ModelError(f"no clique holds the variables {sorted(need)} of a constraint")
    return best


# -- the plan -------------------------------------------------------------------------
def make_plan(measure, polys, order: int, sparsity: Sparsity) -> SparsityPlan:
    """The sparsity plan of the order-``order`` relaxation of one measure.

    Parameters
    ----------
    measure : gmp.Measure
        Its variables, inequalities and equalities.
    polys : list of Polynomial
        The polynomials integrated against the measure by the objective and the moment
        constraints (their terms join variables in the CSP graph and form the support).
    order : int
    sparsity : Sparsity

    Returns
    -------
    SparsityPlan
        With ``kind == "dense"`` when "auto" found nothing that shrinks the relaxation.
    """
    n, r = measure.n_vars, int(order)
    sup = _supports(measure, polys, r)
    kind = sparsity.kind
    cliques: list[tuple[int, ...]]
    chordal = None
    if kind in ("auto", "correlative", "correlative+term"):
        G = csp_graph(n, [sup.objective_rows], [v for v, _, _ in sup.ineq + sup.eq])
        cliques = maximal_cliques(chordal_extension(G, sparsity.chordal))
        chordal = sparsity.chordal
        if kind == "auto" and len(cliques) == 1:
            cliques, chordal = [tuple(range(n))], None
    else:
        cliques = [tuple(range(n))]
    rip, tree = running_intersection(cliques)
    holders: dict[int, list[int]] = {}
    for k, c in enumerate(cliques):
        for v in c:
            holders.setdefault(v, []).append(k)
    g_clique = [_assign(cliques, v, holders) for v, _, _ in sup.ineq]
    h_clique = [_assign(cliques, v, holders) for v, _, _ in sup.eq]
    use_term = kind in ("term", "correlative+term", "auto")
    if use_term and len(cliques) == 1:
        size = count(n, r) * n
        if size > TERM_DENSE_BASIS_LIMIT:
            if kind == "term":
                raise ModelError(
                    f"sparsity='term' alone works on the basis of all {n} variables (count({n}, {r}) = "
                    f"{count(n, r)} monomials of {n} exponents, more than this build allows); "
                    "use sparsity='correlative+term' (term sparsity inside the cliques)")
            use_term = False
    base = _correlative_matrices(cliques, g_clique, sup, r)
    eqs = _equalities(cliques, h_clique, sup, r, None)
    plan_kind = "correlative" if chordal is not None else "dense"
    plan = SparsityPlan(plan_kind, n, r, tuple(cliques), rip, tree, base, eqs, chordal)
    if not use_term:
        return plan
    mats, eqs_t, steps, fixed = _term_sparsity(cliques, g_clique, h_clique, sup, r, sparsity)
    largest = lambda ms: max(s for m in ms for s in m.block_sizes)   # noqa: E731
    if kind == "auto" and largest(mats) >= largest(base):
        return plan   # term sparsity pays when the largest block shrinks; else keep the full cliques
    ts_kind = "term" if chordal is None else "correlative+term"
    return SparsityPlan(ts_kind, n, r, tuple(cliques), rip, tree, mats, eqs_t, chordal,
                        sparsity.term_extension, steps, fixed)


def dense_plan(measure, polys, order: int) -> SparsityPlan:
    """The dense relaxation as a plan: one clique of every variable, one block per matrix."""
    n, r = measure.n_vars, int(order)
    sup = _supports(measure, polys, r)
    cliques = [tuple(range(n))]
    mats = _correlative_matrices(cliques, [0] * len(sup.ineq), sup, r)
    eqs = _equalities(cliques, [0] * len(sup.eq), sup, r, None)
    return SparsityPlan("dense", n, r, tuple(cliques), True, (), mats, eqs)


def _correlative_matrices(cliques, g_clique, sup: _Support, r: int) -> tuple[MatrixPlan, ...]:
    mats = []
    for k, c in enumerate(cliques):
        B = basis(len(c), r)
        mats.append(MatrixPlan(k, None, r, B, (np.arange(B.shape[0]),)))
        for j, kk in enumerate(g_clique):
            if kk == k:
                s = r - half_degree(int(sup.ineq[j][1].sum(axis=1).max(initial=0)))
                Bg = basis(len(c), s)
                mats.append(MatrixPlan(k, j, s, Bg, (np.arange(Bg.shape[0]),)))
    return tuple(mats)


def _to_clique(vars_: np.ndarray, exps: np.ndarray, clique: tuple[int, ...]) -> np.ndarray:
    """Exponents over a constraint's variables re-expressed over the clique's."""
    out = np.zeros((exps.shape[0], len(clique)), dtype=np.int64)
    out[:, np.searchsorted(np.array(clique), vars_)] = exps
    return out


def _equalities(cliques, h_clique, sup: _Support, r: int, support_keys) -> tuple[EqualityPlan, ...]:
    out = []
    for j, k in enumerate(h_clique):
        c = cliques[k]
        deg = int(sup.eq[j][1].sum(axis=1).max(initial=0))
        A = basis(len(c), 2 * r - deg)
        if support_keys is not None:   # term sparsity: multipliers in the moment support
            kk = sup.keys.global_keys(local_positions(A, 2 * r), np.array([c]))[0]
            A = A[KeySpace.lookup(kk, support_keys) >= 0]
        out.append(EqualityPlan(k, j, A))
    return tuple(out)


@lru_cache(maxsize=64)
def _even_pairs(s: int, r: int) -> np.ndarray:
    """``even[i, j]``: ``b_i + b_j`` has only even exponents (a square), basis(s, r)."""
    B = basis(s, r)
    return np.all((B[:, None, :] + B[None, :, :]) % 2 == 0, axis=2)


def _pair_keys(sup: _Support, clique: tuple[int, ...], B: np.ndarray, shift: np.ndarray | None) -> np.ndarray:
    """Keys ``(T, N, N, words)`` of ``b_i + b_j + t`` for the terms ``t`` of ``shift`` (or none)."""
    s = len(clique)
    t = np.zeros((1, s), np.int64) if shift is None else shift
    sums = (t[:, None, None, :] + B[None, :, None, :] + B[None, None, :, :]).reshape(-1, s)
    P = local_positions(sums, sup.keys.degree)
    N = B.shape[0]
    return sup.keys.global_keys(P, np.array([clique]))[0].reshape(t.shape[0], N, N, -1)


def _block_support(K: np.ndarray, blocks) -> np.ndarray:
    """Keys of the entries of the blocks of a table ``K`` ``(T, N, N, words)``."""
    parts = [K[:, b[:, None], b[None, :]].reshape(-1, K.shape[-1]) for b in blocks]
    return np.concatenate(parts)


def _blocks_many(adjacency: list[np.ndarray], extension: str, chordal: str) -> list[tuple[np.ndarray, ...]]:
    """:func:`term_blocks` of many graphs at once: one networkx graph of their disjoint union
    (thousands of cliques: one graph per matrix would cost more than the rest of the plan)."""
    sizes = np.array([a.shape[0] for a in adjacency], dtype=np.int64)
    off = np.concatenate([[0], np.cumsum(sizes)])
    edges = [np.argwhere(np.triu(a, 1)) + off[k] for k, a in enumerate(adjacency)]
    G = nx.Graph()
    G.add_nodes_from(range(int(off[-1])))
    if edges:
        G.add_edges_from(map(tuple, np.concatenate(edges).tolist()))
    if extension == "block":
        parts = [np.array(sorted(c), dtype=np.int64) for c in nx.connected_components(G)]
    else:
        parts = [np.array(c, dtype=np.int64) for c in maximal_cliques(chordal_extension(G, chordal))]
    out: list[list[np.ndarray]] = [[] for _ in adjacency]
    for part in parts:                      # a loop over blocks, not entries
        k = int(np.searchsorted(off, part[0], side="right") - 1)
        out[k].append(part - off[k])
    return [tuple(sorted(b, key=lambda v: int(v[0]))) for b in out]


def _blocks_changed(adjacency: list[np.ndarray], previous: list | None, blocks: list | None,
                    extension: str, chordal: str) -> list[tuple[np.ndarray, ...]]:
    """:func:`_blocks_many`, recomputed only for the graphs that changed since the last step."""
    if previous is None:
        return _blocks_many(adjacency, extension, chordal)
    changed = [k for k, (a, b) in enumerate(zip(adjacency, previous)) if not np.array_equal(a, b)]
    out = list(blocks)
    for k, b in zip(changed, _blocks_many([adjacency[k] for k in changed], extension, chordal)):
        out[k] = b
    return out


def _table_support(tables: list[np.ndarray], blocks: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    return np.concatenate([_block_support(K, b) for K, b in zip(tables, blocks)] or [np.zeros((0, 1), np.int64)])


def _term_sparsity(cliques, g_clique, h_clique, sup: _Support, r: int, sparsity: Sparsity):
    """[WML21, WMLM22]: blocks of every matrix, iterated to a fixed point or ``term_steps``."""
    keys = sup.keys
    ext, method = sparsity.term_extension, sparsity.chordal
    start = [keys.encode(sup.objective_rows)] + [keys.encode(x) for x in sup.ineq_rows + sup.eq_rows]
    support, _ = KeySpace.unique(np.concatenate(start))
    # key tables, built once: moment matrices, localizing matrices, equality multipliers
    mom = [_pair_keys(sup, c, basis(len(c), r), None) for c in cliques]
    even = [_even_pairs(len(c), r) for c in cliques]
    mom_flat = np.concatenate([K[0].reshape(-1, K.shape[-1]) for K in mom])
    mom_off = np.concatenate([[0], np.cumsum([K[0, :, :, 0].size for K in mom])])
    loc = []
    for j, k in enumerate(g_clique):
        c = cliques[k]
        vars_, exps, _ = sup.ineq[j]
        s = r - half_degree(int(exps.sum(axis=1).max(initial=0)))
        loc.append((k, s, _pair_keys(sup, c, basis(len(c), s), _to_clique(vars_, exps, c))))
    loc_flat = np.concatenate([K.reshape(-1, K.shape[-1]) for _, _, K in loc]) if loc else None
    loc_off = np.concatenate([[0], np.cumsum([K[..., 0].size for _, _, K in loc])])
    eq_mult, eq_keys, eq_sums = [], [], []
    for j, k in enumerate(h_clique):
        c = cliques[k]
        vars_, exps, _ = sup.eq[j]
        A = basis(len(c), 2 * r - int(exps.sum(axis=1).max(initial=0)))
        h = _to_clique(vars_, exps, c)
        eq_mult.append(A)
        eq_keys.append(keys.global_keys(local_positions(A, keys.degree), np.array([c]))[0])
        sums = (A[:, None, :] + h[None, :, :]).reshape(-1, len(c))
        eq_sums.append(keys.global_keys(local_positions(sums, keys.degree), np.array([c]))[0]
                       .reshape(A.shape[0], h.shape[0], -1))
    limit = sparsity.term_steps or MAX_TERM_STEPS
    steps, fixed = 0, False
    prev_mom = prev_loc = moment_blocks = loc_blocks = None
    while True:
        steps += 1
        hit = KeySpace.lookup(mom_flat, support) >= 0       # one lookup for every moment matrix
        adj = [hit[mom_off[k]:mom_off[k + 1]].reshape(e.shape) | e for k, e in enumerate(even)]
        moment_blocks, prev_mom = _blocks_changed(adj, prev_mom, moment_blocks, ext, method), adj
        s0, _ = KeySpace.unique(_table_support(mom, moment_blocks))
        parts = [_as_words(s0, keys)]
        if loc:
            hit = KeySpace.lookup(loc_flat, s0) >= 0
            adj = [hit[loc_off[i]:loc_off[i + 1]].reshape(K.shape[:3]).any(axis=0) for i, (_, _, K) in enumerate(loc)]
            loc_blocks, prev_loc = _blocks_changed(adj, prev_loc, loc_blocks, ext, method), adj
            parts.append(_table_support([K for _, _, K in loc], loc_blocks))
        eqs = []
        for j, k in enumerate(h_clique):   # multipliers in the moment support; supp(h) + multipliers
            keep = KeySpace.lookup(eq_keys[j], s0) >= 0
            eqs.append(EqualityPlan(k, j, eq_mult[j][keep]))
            parts.append(eq_sums[j][keep].reshape(-1, keys.words))
        new, _ = KeySpace.unique(np.concatenate(parts + [_as_words(support, keys)]))
        fixed = new.size == support.size     # the support only grows: same size, same set
        support = new
        if fixed or steps >= limit:
            break
    mats = []
    for k, c in enumerate(cliques):
        mats.append(MatrixPlan(k, None, r, basis(len(c), r), moment_blocks[k]))
        for j, ((kk, s, _), blocks) in enumerate(zip(loc, loc_blocks or [])):
            if kk == k:
                mats.append(MatrixPlan(k, j, s, basis(len(c), s), blocks))
    return tuple(mats), tuple(eqs), steps, fixed


def _as_words(flat: np.ndarray, keys: KeySpace) -> np.ndarray:
    """Inverse of :meth:`KeySpace.flat`: ``(N, words)`` int64."""
    if flat.dtype.kind == "V":
        return np.frombuffer(flat.tobytes(), dtype=np.int64).reshape(-1, keys.words)
    return flat.reshape(-1, 1)
