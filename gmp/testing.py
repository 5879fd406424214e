"""Problems with known answers, random atomic measures, and comparison helpers.

The library :data:`PROBLEMS` holds classical polynomial optimization problems
and GMPs named after their source, each with an independent reference
optimum (published, and re-derived to full precision by multi-start local
optimization or brute force), the known minimizers, and the relaxation order
at which the Lasserre hierarchy is exact *and* certified by flatness.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .polynomial import Constraint, Polynomial, polysum, variables
from .problem import GMP, Measure, maximize
from .status import Status

__all__ = ["Instance", "KnownProblem", "PROBLEMS", "get_problem", "random_atoms", "match_atoms",
           "CHAINED_FAMILIES", "chained_problem", "sparse_maxcut", "maxcut_band_optimum"]


@dataclass(frozen=True, eq=False)
class Instance:
    """A built problem: a polynomial optimization (objective, constraints) or a GMP."""

    variables: tuple[Polynomial, ...] = ()
    objective: Polynomial | None = None
    constraints: tuple[Constraint, ...] = ()
    sense: str = "min"
    gmp: GMP | None = None

    def solve(self, **kwargs: Any):
        from .solve import solve

        if self.gmp is not None:
            return self.gmp.solve(**kwargs)
        return solve(self.objective, self.constraints, sense=self.sense, variables=self.variables, **kwargs)


@dataclass(frozen=True, eq=False)
class KnownProblem:
    """A problem with a known answer.

    Attributes
    ----------
    name, source : str
    build : callable returning an Instance (fresh variables each call)
    optimum : float
        Reference optimum (``inf``/``-inf`` for infeasible/unbounded minimizations).
    minimizers : ndarray of shape (k, n) or None
        Known global minimizers, in the instance's variable order.
    exact_order : int or None
        Order at which the relaxation is exact and certified; None when the
        hierarchy does not certify it at the orders tested.
    status : Status
        Expected solver status at ``exact_order`` (or at the smallest order).
    """

    name: str
    source: str
    build: Callable[[], Instance]
    optimum: float
    minimizers: np.ndarray | None
    exact_order: int | None
    status: Status = Status.OPTIMAL
    note: str = ""
    lower_orders: dict[int, float] = field(default_factory=dict)


def _pop(
    f: Callable, n: int, cons: Callable | None = None, sense: str = "min", name: str = "x"
) -> Callable[[], Instance]:
    def build() -> Instance:
        x = variables(name, n)
        return Instance(tuple(x), f(*x), tuple(cons(*x)) if cons else (), sense)

    return build


def _maxcut_weights() -> tuple[int, np.ndarray]:
    w = np.array(
        [[0, 3, 1, 0, 2], [3, 0, 4, 1, 0], [1, 4, 0, 5, 1], [0, 1, 5, 0, 2], [2, 0, 1, 2, 0]], float
    )
    return 5, w


def _maxcut_build() -> Instance:
    n, w = _maxcut_weights()
    x = variables("x", n)
    f = sum(w[i, j] * (1 - x[i] * x[j]) / 2 for i in range(n) for j in range(i + 1, n) if w[i, j])
    cons = [x[0] == 1] + [x[i] ** 2 == 1 for i in range(1, n)]
    return Instance(tuple(x), f, tuple(cons), "max")


def _maxcut_brute() -> tuple[float, np.ndarray]:
    n, w = _maxcut_weights()
    best, arg = -np.inf, []
    for s in itertools.product([-1.0, 1.0], repeat=n - 1):
        v = np.array((1.0,) + s)
        val = 0.25 * np.sum(w * (1 - np.outer(v, v)))
        if val > best + 1e-12:
            best, arg = val, [v]
        elif abs(val - best) <= 1e-12:
            arg.append(v)
    return best, np.array(arg)


def _chebyshev_build() -> Instance:
    x, y = variables("x"), variables("y")
    tail = Measure(x, support=[x**2 - 4 >= 0], name="tail")
    rest = Measure(y, name="rest")
    prob = GMP(
        maximize(tail.E(1)),
        [tail.E(1) + rest.E(1) == 1, tail.E(x) + rest.E(y) == 0, tail.E(x**2) + rest.E(y**2) == 1],
    )
    return Instance((x, y), gmp=prob)


def _cantelli_build() -> Instance:
    x, y = variables("x"), variables("y")
    tail = Measure(x, support=[x - 1 >= 0], name="tail")
    rest = Measure(y, name="rest")
    prob = GMP(
        maximize(tail.E(1)),
        [tail.E(1) + rest.E(1) == 1, tail.E(x) + rest.E(y) == 0, tail.E(x**2) + rest.E(y**2) == 1],
    )
    return Instance((x, y), gmp=prob)


_camel_x = 0.08984201310031806
_camel_y = 0.7126564030207396
_MC_OPT, _MC_ARG = _maxcut_brute()

PROBLEMS: tuple[KnownProblem, ...] = (
    KnownProblem(
        "six_hump_camel", "Dixon & Szegö 1978; GloptiPoly 3 [HLL09] demo",
        _pop(lambda x, y: 4 * x**2 - 2.1 * x**4 + x**6 / 3 + x * y - 4 * y**2 + 4 * y**4, 2),
        -1.0316284534898776, np.array([[_camel_x, -_camel_y], [-_camel_x, _camel_y]]), 3,
    ),
    KnownProblem(
        "henrion_lasserre_2005_three_minimizers", "[HL05], Sec. 3.2 example",
        _pop(
            lambda x, y: -((x - 1) ** 2) - (x - y) ** 2 - (y - 3) ** 2, 2,
            lambda x, y: [1 - (x - 1) ** 2 >= 0, 1 - (x - y) ** 2 >= 0, 1 - (y - 3) ** 2 >= 0],
        ),
        -2.0, np.array([[1.0, 2.0], [2.0, 2.0], [2.0, 3.0]]), 2,
    ),
    KnownProblem(
        "lasserre_2001_floudas_4_10", "[Las01] Ex. 5; Floudas et al. 1999, test problem 4.10",
        _pop(
            lambda x, y: -x - y, 2,
            lambda x, y: [
                2 * x**4 - 8 * x**3 + 8 * x**2 + 2 - y >= 0,
                4 * x**4 - 32 * x**3 + 88 * x**2 - 96 * x + 36 - y >= 0,
                x >= 0, 3 - x >= 0, y >= 0, 4 - y >= 0,
            ],
        ),
        -5.50801327159533, np.array([[2.3295202, 3.17849307]]), 4,
        lower_orders={2: -7.0, 3: -6.6667},
    ),
    KnownProblem(
        "lasserre_2001_floudas_4_9_equality", "[Las01]; Floudas et al. 1999, test problem 4.9",
        _pop(
            lambda x, y: -12 * x - 7 * y + y**2, 2,
            lambda x, y: [-2 * x**4 + 2 - y == 0, x >= 0, 2 - x >= 0, y >= 0, 3 - y >= 0],
        ),
        -16.738893184394648, np.array([[0.71753619, 1.46984209]]), 3,
        lower_orders={2: -16.738893184394648},
        note="order 2 already gives the optimum, but flatness (d = 2 for the quartic equality) needs order 3",
    ),
    KnownProblem(
        "lasserre_2001_floudas_2_2_quadratic", "[Las01]; Floudas et al. 1999, test problem 2.2",
        _pop(
            lambda *x: 42 * x[0] + 44 * x[1] + 45 * x[2] + 47 * x[3] + 47.5 * x[4] - 50 * sum(v**2 for v in x), 5,
            lambda *x: [40 - (20 * x[0] + 12 * x[1] + 11 * x[2] + 7 * x[3] + 4 * x[4]) >= 0]
            + [v >= 0 for v in x] + [1 - v >= 0 for v in x],
        ),
        -17.0, np.array([[1.0, 1.0, 0.0, 1.0, 0.0]]), 3,
        lower_orders={2: -17.9189},
    ),
    KnownProblem(
        "motzkin_not_sos", "Motzkin 1967; not a sum of squares, so no order certifies it [Las01]",
        _pop(lambda x, y: x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + 1, 2),
        0.0, np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]), None,
        status=Status.UNBOUNDED,
        note="the relaxation of every order is unbounded or gives a strictly lower bound; never certified",
    ),
    KnownProblem(
        "motzkin_on_ball", "Motzkin 1967 on the ball x^2 + y^2 <= 4 (Putinar: the constrained hierarchy converges)",
        _pop(
            lambda x, y: x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + 1, 2,
            lambda x, y: [4 - x**2 - y**2 >= 0],
        ),
        0.0, np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]), None,
        note="exactness order measured and recorded in tests",
    ),
    KnownProblem(
        "rosenbrock_2d", "Rosenbrock 1960",
        _pop(lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2, 2),
        0.0, np.array([[1.0, 1.0]]), 2,
    ),
    KnownProblem(
        "three_hump_camel", "Dixon & Szegö 1978",
        _pop(lambda x, y: 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2, 2),
        0.0, np.array([[0.0, 0.0]]), 3,
    ),
    KnownProblem(
        "booth", "Booth function (standard test set)",
        _pop(lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2, 2),
        0.0, np.array([[1.0, 3.0]]), 1,
    ),
    KnownProblem(
        "matyas", "Matyas function (standard test set)",
        _pop(lambda x, y: 0.26 * (x**2 + y**2) - 0.48 * x * y, 2),
        0.0, np.array([[0.0, 0.0]]), 1,
    ),
    KnownProblem(
        "univariate_four_minimizers", "(x^2 - 1)^2 (x^2 - 4)^2: roots ±1, ±2 (brute force)",
        _pop(lambda x: (x**2 - 1) ** 2 * (x**2 - 4) ** 2, 1),
        0.0, np.array([[-2.0], [-1.0], [1.0], [2.0]]), 4,
    ),
    KnownProblem(
        "circle_equality_linear", "min x + y on the circle x^2 + y^2 = 1 (closed form -sqrt(2))",
        _pop(lambda x, y: x + y, 2, lambda x, y: [x**2 + y**2 == 1]),
        -np.sqrt(2.0), np.array([[-np.sqrt(0.5), -np.sqrt(0.5)]]), 1,
    ),
    KnownProblem(
        "disk_maximization", "max x + 2y on the unit disk (closed form sqrt(5))",
        _pop(lambda x, y: x + 2 * y, 2, lambda x, y: [1 - x**2 - y**2 >= 0], sense="max"),
        np.sqrt(5.0), np.array([[1 / np.sqrt(5.0), 2 / np.sqrt(5.0)]]), 1,
    ),
    KnownProblem(
        "maxcut_5_weighted", "MAXCUT on a weighted 5-node graph, x_1 = 1 fixed [GW95, Las01]; brute force over 16 cuts",
        _maxcut_build, _MC_OPT, _MC_ARG, 2,
    ),
    KnownProblem(
        "gmp_chebyshev_two_measures", "Chebyshev's bound as a GMP [Las08]: max P(|X| >= 2), E X = 0, E X^2 = 1 -> 1/4",
        _chebyshev_build, 0.25, None, 3,
        note=("two measures (tail on x^2 >= 4, rest on R) tied by three moment constraints; the bound is "
              "exact from order 1, but the tail's top moment is free until order 3, so flatness needs order 3"),
    ),
    KnownProblem(
        "gmp_cantelli_two_measures",
        "Cantelli's one-sided bound as a GMP [Las08]: max P(X >= 1), E X = 0, E X^2 = 1 -> 1/2",
        _cantelli_build, 0.5, None, 1,
    ),
    KnownProblem(
        "infeasible_x2_plus_1_le_0", "x^2 + 1 <= 0 has no real point",
        _pop(lambda x: x, 1, lambda x: [x**2 + 1 <= 0]),
        np.inf, None, None, status=Status.INFEASIBLE,
    ),
    KnownProblem(
        "unbounded_linear", "min x with no constraint",
        _pop(lambda x: x, 1), -np.inf, None, None, status=Status.UNBOUNDED,
    ),
)


def get_problem(name: str) -> KnownProblem:
    """The problem of :data:`PROBLEMS` named ``name``.

    >>> p = get_problem("six_hump_camel")
    >>> p.optimum
    -1.0316284534898776
    """
    for p in PROBLEMS:
        if p.name == name:
            return p
    raise KeyError(f"no problem named {name!r}; known: {', '.join(p.name for p in PROBLEMS)}")


def random_atoms(n: int, k: int, rng: np.random.Generator | int | None = None, min_separation: float = 0.1,
                 box: float = 1.0, min_weight: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """``k`` random points in ``[-box, box]^n`` pairwise at least ``min_separation`` apart, and weights.

    Returns
    -------
    points : ndarray of shape (k, n)
    weights : ndarray of shape (k,), positive, summing to 1
    """
    rng = np.random.default_rng(rng)
    pts: list[np.ndarray] = []
    while len(pts) < k:
        p = rng.uniform(-box, box, n)
        if all(np.linalg.norm(p - q) >= min_separation for q in pts):
            pts.append(p)
    w = rng.uniform(0, 1, k)
    w = min_weight + (1 - k * min_weight) * w / w.sum()
    return np.array(pts), w


def match_atoms(
    points: np.ndarray, weights: np.ndarray, ref_points: np.ndarray, ref_weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Best-permutation max error of points (and weights) against a reference.

    Returns ``(max point error, max weight error)``; ``inf`` when the counts differ.
    """
    from scipy.optimize import linear_sum_assignment

    points = np.atleast_2d(points)
    ref_points = np.atleast_2d(ref_points)
    if points.shape != ref_points.shape:
        return np.inf, np.inf
    cost = np.linalg.norm(points[:, None, :] - ref_points[None, :, :], axis=2)
    r, c = linear_sum_assignment(cost)
    perr = float(np.max(np.abs(points[r] - ref_points[c]))) if len(r) else 0.0
    werr = 0.0
    if ref_weights is not None:
        werr = float(np.max(np.abs(np.asarray(weights)[r] - np.asarray(ref_weights)[c]))) if len(r) else 0.0
    return perr, werr


# -- sparse families at any n ------------------------------------------------------------
#: The chained test functions of [WKKM06, Sec. 6] (from Conn, Gould & Toint; Moré, Garbow &
#: Hillstrom), each a sum of small polynomials on neighbouring variables.
CHAINED_FAMILIES = ("generalized_rosenbrock", "chained_singular", "chained_wood", "broyden_tridiagonal")


def _generalized_rosenbrock(x) -> Polynomial:
    return polysum([1.0] + [100 * (x[i] - x[i - 1] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(1, len(x))])


def _chained_singular(x) -> Polynomial:
    return polysum([(x[i] + 10 * x[i + 1]) ** 2 + 5 * (x[i + 2] - x[i + 3]) ** 2 + (x[i + 1] - 2 * x[i + 2]) ** 4
                    + 10 * (x[i] - 10 * x[i + 3]) ** 4 for i in range(0, len(x) - 3, 2)])


def _chained_wood(x) -> Polynomial:
    return polysum([1.0] + [100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 + 90 * (x[i + 3] - x[i + 2] ** 2) ** 2
                            + (1 - x[i + 2]) ** 2 + 10 * (x[i + 1] + x[i + 3] - 2) ** 2
                            + 0.1 * (x[i + 1] - x[i + 3]) ** 2 for i in range(0, len(x) - 3, 2)])


def _broyden_terms(x) -> list:
    n = len(x)
    return [(3 - 2 * x[i]) * x[i] + 1 - (x[i - 1] if i > 0 else 0) - 2 * (x[i + 1] if i < n - 1 else 0)
            for i in range(n)]


def _broyden_tridiagonal(x) -> Polynomial:
    return polysum([t ** 2 for t in _broyden_terms(x)])


def _broyden_root(n: int) -> np.ndarray:
    """A zero of the Broyden tridiagonal system (Newton from the standard start -1)."""
    from scipy.optimize import root

    def F(v):
        left = np.concatenate([[0.0], v[:-1]])
        right = np.concatenate([v[1:], [0.0]])
        return (3 - 2 * v) * v - left - 2 * right + 1

    def J(v):
        return np.diag(3 - 4 * v) - np.eye(n, k=-1) - 2 * np.eye(n, k=1)

    sol = root(F, -np.ones(n), jac=J, method="hybr", tol=1e-14)
    if not sol.success or np.abs(F(sol.x)).max() > 1e-10:   # pragma: no cover - converges for every n tried
        raise RuntimeError(f"no zero of the Broyden tridiagonal system found for n={n}")
    return sol.x


def chained_problem(name: str, n: int) -> KnownProblem:
    """One of :data:`CHAINED_FAMILIES` in ``n`` variables, with its known optimum.

    Parameters
    ----------
    name : str
        "generalized_rosenbrock" (n >= 2; optimum 1 at x = 1), "chained_singular"
        (n >= 4 even; optimum 0 at x = 0, a singular minimizer), "chained_wood" (n >= 4
        even; optimum 1 at x = 1) or "broyden_tridiagonal" (n >= 1; optimum 0 at a zero of
        the Broyden system, found by Newton's method from -1, residual below 1e-10; the system
        has other zeros, so ``minimizers`` need not list every global minimizer).
    n : int

    Returns
    -------
    KnownProblem
        Unconstrained minimization; ``exact_order`` 2 (the dense relaxation of order 2
        is exact for all four [WKKM06, Table 6.2]).

    Examples
    --------
    >>> p = chained_problem("chained_wood", 8)
    >>> p.optimum, p.build().objective.degree
    (1.0, 4)
    """
    if name not in CHAINED_FAMILIES:
        raise KeyError(f"no chained family {name!r}; known: {', '.join(CHAINED_FAMILIES)}")
    least = {"generalized_rosenbrock": 2, "chained_singular": 4, "chained_wood": 4, "broyden_tridiagonal": 1}[name]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < least or (
            name in ("chained_singular", "chained_wood") and n % 2):
        even = " and even" if name in ("chained_singular", "chained_wood") else ""
        raise ValueError(f"{name} needs n >= {least}{even}, got n={n!r}")
    f = {"generalized_rosenbrock": _generalized_rosenbrock, "chained_singular": _chained_singular,
         "chained_wood": _chained_wood, "broyden_tridiagonal": _broyden_tridiagonal}[name]
    opt, arg = {"generalized_rosenbrock": (1.0, np.ones(n)), "chained_singular": (0.0, np.zeros(n)),
                "chained_wood": (1.0, np.ones(n))}.get(name, (0.0, None))
    if arg is None:
        arg = _broyden_root(int(n))

    def build() -> Instance:
        x = variables("x", int(n))
        return Instance(tuple(x), f(x), (), "min")

    return KnownProblem(f"{name}_{n}", "[WKKM06, Sec. 6]", build, opt, arg[None, :], 2,
                        note="a chained sum of small polynomials: correlative cliques of 2-3 variables")


def maxcut_band_optimum(weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Maximum cut of a graph of bandwidth ``b`` by dynamic programming over the last ``b`` signs.

    Parameters
    ----------
    weights : ndarray of shape (n, n)
        Symmetric; ``weights[i, j] = 0`` whenever ``|i - j| > b``.

    Returns
    -------
    value : float
        ``max sum_{i<j} w_ij (1 - x_i x_j) / 2`` over ``x`` in ``{-1, 1}^n`` with ``x_1 = 1``.
    x : ndarray of shape (n,)
        A maximizer (the first found).
    """
    w = np.asarray(weights, dtype=float)
    n = w.shape[0]
    off = np.nonzero(np.triu(w, 1))
    b = int(max(1, (off[1] - off[0]).max(initial=1)))
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=b)))     # signs of x_{i-b+1..i}
    # value[s]: best cut of the edges among x_1..x_i whose last b signs are s
    best: dict[tuple, tuple[float, list]] = {}
    for s in itertools.product([-1.0, 1.0], repeat=min(b, n)):
        if s[0] != 1.0:
            continue
        v = sum(w[i, j] * (1 - s[i] * s[j]) / 2 for i in range(len(s)) for j in range(i + 1, len(s)))
        best[s] = (v, list(s))
    for i in range(min(b, n), n):
        nxt: dict[tuple, tuple[float, list]] = {}
        for s, (v, xs) in best.items():
            for sign in (-1.0, 1.0):
                gain = sum(w[i - b + k, i] * (1 - s[k] * sign) / 2 for k in range(b))
                t = s[1:] + (sign,)
                if t not in nxt or v + gain > nxt[t][0] + 1e-12:
                    nxt[t] = (v + gain, xs + [sign])
        best = nxt
    del states
    value, xs = max(best.values(), key=lambda p: p[0])
    return float(value), np.array(xs)


def sparse_maxcut(n: int, bandwidth: int = 2, seed: int = 0) -> KnownProblem:
    """Max-cut on a random weighted graph of bandwidth ``bandwidth``: known optimum by dynamic programming.

    ``max sum_{i<j} w_ij (1 - x_i x_j) / 2`` s.t. ``x_1 = 1`` and ``x_i^2 = 1``; the weights
    of the pairs ``|i - j| <= bandwidth`` are uniform in ``[0, 1)`` (seeded), the others 0.
    The correlative cliques are the windows of ``bandwidth + 1`` consecutive variables; at
    order ``ceil((bandwidth + 1) / 2)`` each clique's relaxation is exact on its cube, and
    the cliques of a chordal graph glue, so the sparse relaxation is exact [Las06].
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < bandwidth + 1:
        raise ValueError(f"sparse_maxcut needs n >= bandwidth + 1 = {bandwidth + 1}, got n={n!r}")
    rng = np.random.default_rng(seed)
    w = np.zeros((n, n))
    for k in range(1, bandwidth + 1):
        vals = rng.uniform(0, 1, n - k)
        idx = np.arange(n - k)
        w[idx, idx + k] = vals
        w[idx + k, idx] = vals
    opt, arg = maxcut_band_optimum(w)
    order = max(1, -(-(bandwidth + 1) // 2))

    def build() -> Instance:
        x = variables("x", int(n))
        i, j = np.nonzero(np.triu(w, 1))
        f = polysum([w[a, b] * (1 - x[a] * x[b]) / 2 for a, b in zip(i.tolist(), j.tolist())])
        cons = [x[0] == 1] + [x[k] ** 2 == 1 for k in range(1, n)]
        return Instance(tuple(x), f, tuple(cons), "max")

    return KnownProblem(f"maxcut_band{bandwidth}_{n}_seed{seed}", "dynamic programming over the band",
                        build, opt, arg[None, :], order)
