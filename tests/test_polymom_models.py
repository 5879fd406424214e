"""Moment polynomials of the built-in models against closed forms and Monte-Carlo."""
import math

import numpy as np
import pytest

import gmp
from polymom_apps.experiments.synthetic import (
    sample_gaussians,
    sample_linear_regressions,
    sample_multiview,
    sample_poisson,
)
from polymom_apps.models import (
    gaussian_1d,
    gaussian_moment_poly,
    gaussian_nd,
    gaussian_x_moments,
    linear_regression,
    multiview,
    poisson,
)


def test_gaussian_moment_polys_match_textbook_closed_forms():
    xi, c = gmp.variables("xi c")
    expected = {  # E[(xi + sqrt(c) Z)^k], written out by hand
        1: xi, 2: xi**2 + c, 3: xi**3 + 3 * xi * c, 4: xi**4 + 6 * xi**2 * c + 3 * c**2,
        5: xi**5 + 10 * xi**3 * c + 15 * xi * c**2, 6: xi**6 + 15 * xi**4 * c + 45 * xi**2 * c**2 + 15 * c**3,
    }
    for k, p in expected.items():
        assert gaussian_moment_poly(k, xi, c).equals(p, 1e-12)


def test_gaussian_moments_by_quadrature():
    # Gauss-Hermite quadrature is exact for polynomials: an independent computation of E[x^k]
    nodes, wts = np.polynomial.hermite_e.hermegauss(20)
    wts = wts / wts.sum()
    xi, c = 0.7, 1.9
    spec = gaussian_1d(8)
    f = spec.population_moments([[xi, c]], [1.0])
    quad = [(wts * (xi + np.sqrt(c) * nodes) ** k).sum() for k in range(1, 9)]
    np.testing.assert_allclose(f, quad, rtol=1e-12)


def test_gaussian_nd_monte_carlo():
    rng = np.random.default_rng(1)
    M = np.array([[0.5, -1.0], [1.5, 0.3]])
    V = np.array([[0.5, 1.2], [0.8, 0.4]])
    w = np.array([0.35, 0.65])
    X = sample_gaussians(M, V, w, 400_000, rng)
    spec = gaussian_nd(2, "diag")
    pop = spec.population_moments(np.column_stack([M, V]), w)
    emp = spec.observations(X).mean(axis=0)
    se = spec.observations(X).std(axis=0) / np.sqrt(len(X))
    assert np.all(np.abs(emp - pop) < 5 * se)
    sph = gaussian_nd(2, "spherical")
    Vs = np.array([[0.9, 0.9], [0.4, 0.4]])
    Xs = sample_gaussians(M, Vs, w, 400_000, rng)
    pop = sph.population_moments(np.column_stack([M, Vs[:, :1]]), w)
    phi = sph.observations(Xs)
    assert np.all(np.abs(phi.mean(0) - pop) < 5 * phi.std(0) / np.sqrt(len(Xs)))


def test_linear_regression_polys_closed_form_and_monte_carlo():
    spec = linear_regression(2, None, x_moments=gaussian_x_moments(2))
    W = np.array([[1.0, -0.5, 0.3], [-0.3, 0.8, 0.5]])
    w = np.array([0.4, 0.6])
    pop = spec.population_moments(W, w)
    # hand-derived for x ~ N(0, I): E[y] = 0, E[y^2] = sum pi (|w|^2 + c), E[x1 y] = sum pi w1,
    # E[y^3] = 0, E[x1 y^3] = sum pi (3 w1 |w|^2 + 3 c w1)
    obs = {((0, 0), 1): 0.0, ((0, 0), 2): w @ (np.sum(W[:, :2] ** 2, 1) + W[:, 2]),
           ((1, 0), 1): w @ W[:, 0], ((0, 0), 3): 0.0,
           ((1, 0), 3): w @ (3 * W[:, 0] * np.sum(W[:, :2] ** 2, 1) + 3 * W[:, 2] * W[:, 0])}
    alphas = [tuple(a) for a in gmp.basis(2, 3) for _ in range(3)]
    bs = [b for _ in gmp.basis(2, 3) for b in (1, 2, 3)]
    for (a, b), v in obs.items():
        k = [i for i, (aa, bb) in enumerate(zip(alphas, bs)) if aa == a and bb == b][0]
        assert pop[k] == pytest.approx(v, abs=1e-12)
    X = sample_linear_regressions(W[:, :2], W[:, 2], w, 400_000, np.random.default_rng(2))
    phi = spec.observations(X)
    assert np.all(np.abs(phi.mean(0) - pop) < 5 * phi.std(0) / np.sqrt(len(X)))
    # the data-dependent polynomials (sample E[x^alpha]) give the same moments up to sampling error
    emp_polys = spec.polys_for(X)
    pop2 = spec.population_moments(W, w, emp_polys)
    assert np.all(np.abs(pop2 - pop) < 5 * phi.std(0) / np.sqrt(len(X)) + 1e-12)


def test_multiview_and_poisson_monte_carlo():
    rng = np.random.default_rng(3)
    mv = multiview(2)
    means = np.array([[1.0, 0.0, 0.5, -0.5, 0.2, 1.0], [0.0, 1.0, -0.3, 0.4, 1.0, 0.0]])
    w = np.array([0.5, 0.5])
    X = sample_multiview(means, w, 300_000, rng)
    phi = mv.observations(X)
    pop = mv.population_moments(means, w)
    assert np.all(np.abs(phi.mean(0) - pop) < 5 * phi.std(0) / np.sqrt(len(X)))
    ps = poisson(1, 4)
    rates = np.array([[1.5], [4.0]])
    Xp = sample_poisson(rates, np.array([0.3, 0.7]), 300_000, rng)
    phi = ps.observations(Xp)
    pop = ps.population_moments(rates, [0.3, 0.7])
    np.testing.assert_allclose(pop, [0.3 * 1.5**k + 0.7 * 4.0**k for k in range(1, 5)])
    assert np.all(np.abs(phi.mean(0) - pop) < 5 * phi.std(0) / np.sqrt(len(Xp)))
    assert math.isclose(pop[1], 0.3 * 2.25 + 0.7 * 16.0)
