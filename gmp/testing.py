"""Problems with known answers, random atomic measures, and comparison helpers.

The library :data:`PROBLEMS` holds classical polynomial optimization problems
and GMPs named after their source, each with an independent reference
optimum (published, and re-derived to full precision by multi-start local
optimization or brute force), the known minimizers, and the relaxation order
at which the Lasserre hierarchy is exact *and* certified by flatness.

>>> p = get_problem("six_hump_camel")
>>> p.optimum
-1.0316284534898776
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .polynomial import Constraint, Polynomial, variables
from .problem import GMP, Measure, maximize, minimize
from .status import Status

__all__ = ["Instance", "KnownProblem", "PROBLEMS", "get_problem", "random_atoms", "match_atoms"]


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


def _pop(f: Callable, n: int, cons: Callable | None = None, sense: str = "min", name: str = "x") -> Callable[[], Instance]:
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
        "gmp_cantelli_two_measures", "Cantelli's one-sided bound as a GMP [Las08]: max P(X >= 1), E X = 0, E X^2 = 1 -> 1/2",
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


def match_atoms(points: np.ndarray, weights: np.ndarray, ref_points: np.ndarray, ref_weights: np.ndarray | None = None) -> tuple[float, float]:
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
