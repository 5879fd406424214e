"""Numeric moment/localizing matrices against brute-force sums over atoms, and flatness reports
against known ranks (atomic measures, the uniform measure, a signed measure)."""
from __future__ import annotations

import doctest
import importlib
import itertools
import math

import numpy as np
import pytest

from gmp.errors import ModelError
from gmp.extraction import atoms_to_moments
from gmp.flatness import (
    FlatnessReport,
    flatness,
    localizing_matrix_from_vector,
    moment_matrix_from_vector,
)
from gmp.monomials import basis, count
from gmp.rank import FixedRank, RelativeTolerance


def test_doctests():
    assert doctest.testmod(importlib.import_module("gmp.flatness")).failed == 0


def _monomial(x, a):
    return math.prod(xi**ai for xi, ai in zip(x, a))


def _brute_moments(points, weights, degree):
    n = len(points[0])
    return np.array([sum(w * _monomial(x, a) for x, w in zip(points, weights)) for a in basis(n, degree)])


def _random_atoms(seed, n, k):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.5, 1.5, (k, n)), rng.uniform(0.1, 1.0, k)


@pytest.mark.parametrize("n, k, degree", [(1, 3, 6), (2, 4, 5), (3, 2, 4), (4, 5, 3)])
def test_atoms_to_moments_matches_brute_force(n, k, degree):
    points, weights = _random_atoms(n * 10 + k, n, k)
    np.testing.assert_allclose(
        atoms_to_moments(points, weights, degree), _brute_moments(points, weights, degree), rtol=1e-13, atol=1e-13
    )


@pytest.mark.parametrize("n, s", list(itertools.product([1, 2, 3], [0, 1, 2, 3])))
def test_moment_matrix_is_the_sum_over_atoms(n, s):
    points, weights = _random_atoms(7 * n + s, n, 4)
    y = atoms_to_moments(points, weights, 2 * s)
    rows = basis(n, s)
    brute = sum(
        w * np.outer(v, v)
        for x, w in zip(points, weights)
        for v in [np.array([_monomial(x, a) for a in rows])]
    )
    np.testing.assert_allclose(moment_matrix_from_vector(y, n, s), brute, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, s", list(itertools.product([1, 2, 3], [0, 1, 2])))
def test_localizing_matrix_is_the_weighted_sum_over_atoms(n, s):
    rng = np.random.default_rng(11 * n + s)
    points, weights = _random_atoms(5 * n + s, n, 3)
    g_exps = rng.integers(0, 3, size=(4, n))                      # g of degree <= 2n, repeated terms allowed
    g_coefs = rng.standard_normal(4)
    deg_g = int(g_exps.sum(axis=1).max())
    y = atoms_to_moments(points, weights, 2 * s + deg_g)
    rows = basis(n, s)
    brute = np.zeros((len(rows), len(rows)))
    for x, w in zip(points, weights):
        g = sum(c * _monomial(x, e) for e, c in zip(g_exps, g_coefs))
        v = np.array([_monomial(x, a) for a in rows])
        brute += w * g * np.outer(v, v)
    got = localizing_matrix_from_vector(y, n, s, g_exps, g_coefs)
    np.testing.assert_allclose(got, brute, rtol=1e-11, atol=1e-11)


def test_matrices_accept_longer_vectors_and_reject_shorter_ones():
    y = atoms_to_moments([[0.5, -0.5]], [1.0], 6)
    assert moment_matrix_from_vector(y, 2, 2).shape == (6, 6)
    with pytest.raises(ModelError) as info:
        moment_matrix_from_vector(y[:10], 2, 2)
    assert str(info.value) == (
        "y must hold at least the count(n=2, 4) = 15 moments of degree <= 4 in the graded order of "
        "gmp.monomials, got 10; pass the moment vector that matches n and the order"
    )
    with pytest.raises(ModelError, match=r"shape \(T, n=2\)"):
        localizing_matrix_from_vector(y, 2, 1, [[1, 0, 0]], [1.0])


# --- flatness reports ----------------------------------------------------------------------

@pytest.mark.parametrize("n, k, order", [(1, 2, 3), (2, 3, 3), (2, 1, 2), (3, 4, 3)])
def test_ranks_of_an_atomic_measure(n, k, order):
    points, weights = _random_atoms(100 + n + k, n, k)
    report = flatness(atoms_to_moments(points, weights, 2 * order), n, order)
    assert report.ranks == tuple(min(k, count(n, s)) for s in range(order + 1))
    expected_flat = tuple(s for s in range(1, order + 1) if min(k, count(n, s - 1)) == min(k, count(n, s)))
    assert report.flat_orders == expected_flat
    assert report.is_flat and report.flat_order == max(expected_flat)


def test_report_repr_and_fields():
    report = flatness(atoms_to_moments([[-0.5, 0.2], [0.7, 0.1]], [0.3, 0.7], 4), 2, 2)
    assert repr(report) == "flat at s=2: ranks [1, 2, 2]"
    assert isinstance(report, FlatnessReport)
    assert [dec.rank for dec in report.decisions] == [1, 2, 2]
    assert report.negative == (0.0, 0.0, 0.0)
    with pytest.raises(AttributeError):
        report.is_flat = False


def test_offset_d_compares_with_m_s_minus_d():
    # three atoms on the line: ranks 1, 2, 3, 3, 3; with d = 2 the first flat order is 4
    y = atoms_to_moments([[-0.8], [0.1], [0.9]], [0.2, 0.5, 0.3], 8)
    assert flatness(y, 1, 4, d=1).flat_orders == (3, 4)
    assert flatness(y, 1, 4, d=2).flat_orders == (4,)
    assert repr(flatness(y[:7], 1, 3, d=2)) == "not flat (d=2): ranks [1, 2, 3, 3]"


@pytest.mark.parametrize("n, order, ranks", [(1, 3, [1, 2, 3, 4]), (2, 3, [1, 3, 6, 10])])
def test_uniform_measure_is_not_flat(n, order, ranks):
    exps = basis(n, 2 * order)
    y = np.prod(1.0 / (exps + 1), axis=1)                          # moments of the uniform measure on [0, 1]^n
    report = flatness(y, n, order)
    assert not report.is_flat and report.flat_order is None and report.flat_orders == ()
    assert repr(report) == f"not flat (d=1): ranks {ranks}"


def test_relative_tolerance_fakes_flatness_of_the_uniform_measure():
    """The reason the default rule demands a spectral gap (see gmp.rank)."""
    y = 1.0 / np.arange(1, 14)                                     # uniform on [0, 1], order 6
    assert flatness(y, 1, 6, rule=RelativeTolerance(1e-6)).flat_order == 6
    assert not flatness(y, 1, 6).is_flat


def test_signed_measure_is_rank_flat_but_not_psd():
    y = atoms_to_moments([[-0.5], [0.5]], [1.0, -2.0], 6)        # a negative atom
    with pytest.warns(RuntimeWarning, match="among the kept ones"):
        report = flatness(y, 1, 3)
    assert report.ranks == (1, 2, 2, 2)
    assert not report.is_flat
    assert min(report.negative) < -0.1
    assert "not flat (d=1): ranks [1, 2, 2, 2]; rank condition holds at s=2 but M_2 has eigenvalue" in repr(report)


def test_noisy_moments_of_well_separated_atoms_are_flat():
    rng = np.random.default_rng(5)
    y = atoms_to_moments([[-0.5, 0.3], [0.6, -0.2]], [0.4, 0.6], 6) + 1e-6 * rng.standard_normal(28)
    # null part at ~4e-6 * s0, signal at 0.32 * s0: the default rule still sees the gap
    assert repr(flatness(y, 2, 3)) == "flat at s=3: ranks [1, 2, 2, 2]"
    assert repr(flatness(y, 2, 3, rule=FixedRank(2))) == "flat at s=3: ranks [1, 2, 2, 2]"
    # a plain relative tolerance below the noise level sees full rank
    assert flatness(y, 2, 3, rule=RelativeTolerance(1e-7)).ranks == (1, 3, 6, 10)


def test_zero_moments_have_rank_zero():
    report = flatness(np.zeros(6), 2, 1)
    assert report.ranks == (0, 0)


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda: flatness(np.ones(7), 2, 1),
         "y must hold exactly the count(n=2, 2) = 6 moments of degree <= 2 in the graded order of "
         "gmp.monomials, got 7; pass the moment vector that matches n and the order"),
        (lambda: flatness(np.ones(15), 2, 1),
         "y must hold exactly the count(n=2, 2) = 6 moments of degree <= 2 in the graded order of "
         "gmp.monomials, got 15 (15 moments is order 2); pass the moment vector that matches n and the order"),
        (lambda: flatness([1.0, np.nan, 1.0], 1, 1), "y[1] = nan is not finite; the moments must be finite numbers"),
        (lambda: flatness(np.ones(3), 1, -1), "order must be a non-negative integer, got -1"),
        (lambda: flatness(np.ones(3), 1, 1, d=0),
         "d must be a positive integer (max(1, max_j ceil(deg g_j / 2))), got 0"),
        (lambda: flatness(np.ones(3), 0, 1), "n (the number of variables) must be a positive integer, got 0"),
    ],
)
def test_misuse_raises_with_expected_and_got(call, text):
    with pytest.raises(ModelError) as info:
        call()
    assert str(info.value) == text
