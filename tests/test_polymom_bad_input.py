"""Misuse gives a clear error (expected, got, remedy); texts written by hand."""
import re
import warnings

import numpy as np
import pytest

import gmp
import polymom_apps as pa
from gmp import ModelError, OrderError
from polymom_apps.models import gaussian_1d, gaussian_nd, linear_regression, poisson


def test_moment_polynomial_with_unknown_symbol_names_it_and_the_remedy():
    xi, c, z = gmp.variables("xi c z")
    with pytest.raises(ModelError, match=re.escape(
        "moment polynomial 1 (z + xi^2) uses symbol z, which is not a parameter of the model (xi, c); "
        "add it to parameters")):
        pa.MixtureSpec((xi, c), lambda X: X, [xi, xi**2 + z])


def test_data_dependent_polys_are_validated_too():
    xi, z = gmp.variables("xi z")
    spec = pa.MixtureSpec((xi,), lambda X: X, lambda X: [xi * float(X.mean()) + z], data_dim=1)
    with pytest.raises(ModelError, match="uses symbol z, which is not a parameter"):
        pa.estimate(spec, np.ones((50, 1)), 1)


def test_non_polynomial_moment_and_parameter():
    xi = gmp.variables("xi")
    with pytest.raises(ModelError, match=re.escape("moment polynomial 0 must be a gmp polynomial in the parameters (xi), got str")):
        pa.MixtureSpec((xi,), lambda X: X, ["xi"])
    with pytest.raises(ModelError, match=re.escape("parameter 0 must be a gmp variable")):
        pa.MixtureSpec((2 * xi,), lambda X: X, [xi])


def test_nan_in_data_names_the_row():
    X = np.random.default_rng(0).standard_normal((200, 1))
    X[17, 0] = np.nan
    with pytest.raises(ModelError, match=re.escape("has a non-finite value (nan) in row 17, column 0 (1 row(s) in all); remove or impute")):
        pa.estimate(gaussian_1d(6), X, 2)
    X[17, 0] = np.inf
    with pytest.raises(ModelError, match="non-finite value \\(inf\\) in row 17"):
        pa.estimate(gaussian_1d(6), X, 2)


def test_wrong_shapes():
    with pytest.raises(ModelError, match=re.escape("must have 2 columns, got shape (100, 3)")):
        pa.estimate(gaussian_nd(2, "spherical"), np.zeros((100, 3)), 2)
    with pytest.raises(ModelError, match=re.escape("must be a 2-d array of shape (n_samples, 2), got an array of shape (4, 5, 2)")):
        pa.estimate(gaussian_nd(2, "spherical"), np.zeros((4, 5, 2)), 2)
    xi = gmp.variables("xi")
    bad = pa.MixtureSpec((xi,), lambda X: X[:3], [xi], data_dim=1)
    with pytest.raises(ModelError, match=re.escape("observations(X) must return an array of shape (T, N) with one row per sample")):
        pa.estimate(bad, np.ones((50, 1)), 1, standardize=False)
    two = pa.MixtureSpec((xi,), lambda X: np.hstack([X, X]), [xi], data_dim=1)
    with pytest.raises(ModelError, match=re.escape("observations(X) returned 2 columns but the model has 1 moment polynomials")):
        pa.estimate(two, np.ones((50, 1)), 1)


def test_too_few_samples():
    with pytest.raises(ModelError, match=re.escape("data has 8 samples, but the 6 moments of this model need at least 12")):
        pa.estimate(gaussian_1d(6), np.arange(8.0), 2)


def test_too_many_components_warns_counting_unknowns():
    spec = gaussian_1d(6)
    m = spec.population_moments([[0.0, 1.0]], [1.0])     # one Gaussian, asked for 3
    with pytest.warns(RuntimeWarning, match=re.escape(
            "K=3 components of 2 free parameters have 8 unknowns but the model gives only 6 moments: "
            "the estimate is not identified")):
        pa.estimate_from_moments(spec, m, 3)


def test_too_many_components_warns_naming_the_ranks():
    spec = poisson(1, 4)
    m = spec.population_moments([[2.0]], [1.0])          # one Poisson, asked for 2
    with pytest.warns(RuntimeWarning, match=re.escape(
            "the moment matrices have numerical ranks [1, 1, 1] (M_0..M_2), below K=2")):
        res = pa.estimate_from_moments(spec, m, 2)
    assert res.ranks == (1, 1, 1)


def test_order_too_low_for_k():
    spec = gaussian_nd(2, "spherical")
    m = spec.population_moments([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]], [0.5, 0.5])
    with pytest.raises(OrderError, match=re.escape("order=1 cannot hold K=2 atoms: extraction needs count(P=3, r-1=0) = 1 >= 2")):
        pa.estimate_from_moments(spec, m, 2, order=1)


def test_bad_method_and_k():
    spec = gaussian_1d(6)
    m = spec.population_moments([[0.0, 1.0]], [1.0])
    with pytest.raises(ModelError, match=re.escape("method must be one of 'exact', 'robust' (or 'gmm', an alias of 'robust'), got 'em'")):
        pa.estimate_from_moments(spec, m, 1, method="em")
    xi = gmp.variables("xi")
    with pytest.raises(ModelError, match=re.escape("Tied parameter xi is not a parameter of the model (xi, c)")):
        pa.estimate_from_moments(spec, m, 1, constraints=[pa.Tied(xi)])
    with pytest.raises(ModelError, match=re.escape("n_components must be a positive integer, got 0")):
        pa.estimate_from_moments(spec, m, 0)
    with pytest.raises(ModelError, match=re.escape("moments must have one entry per moment polynomial (6), got 5")):
        pa.estimate_from_moments(spec, m[:5], 1)


def test_empirical_moments_chunked_equal_whole():
    X = np.random.default_rng(1).standard_normal((1000, 2))
    phi = gaussian_nd(2, "diag").observations
    whole = phi(X).mean(axis=0)
    np.testing.assert_allclose(pa.empirical_moments(phi, X, chunk_size=97), whole, rtol=1e-12)
    cov = pa.moment_covariance(phi, X, chunk_size=97)
    np.testing.assert_allclose(cov, np.cov(phi(X).T, bias=True), rtol=1e-10, atol=1e-12)


def test_data_that_violate_the_model_get_a_misfit_warning():
    # y = 2 x_1 exactly, but the model says the noise sd is 0.5. The closest mixture has both
    # components at w = (2, 0) and misses the plain moments by little (E[y^2] is 4, the model says
    # 4.25), but the data's observations are exactly dependent (x_1 y = 2 x_1^2, ...), which no
    # mixture with noise reproduces: in the GMM weighting the estimate minimizes it misses them by
    # more than the whole moment vector. (The estimate used to be a far-away component of weight
    # 2e-12 or w near 0, depending on the BLAS kernels.)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 2))
    spec = linear_regression(2, 0.5)
    with pytest.warns(RuntimeWarning, match=r"the fitted mixture \(K=2\) misses the moments by a relative [\d.e+]+ "
                                            r"in the GMM weighting it minimizes"):
        res = pa.estimate(spec, np.column_stack([X, 2 * X[:, 0]]), 2)
    assert res.success and res.weighted_relative_residual > 1 and any("misses the moments" in n for n in res.notes)
    np.testing.assert_allclose(res.params, [[2.0, 0.0], [2.0, 0.0]], atol=0.1)   # y = 2 x_1
    # the same x with the noise the model states: no such warning
    y = np.where(rng.random(5000) < 0.5, 2 * X[:, 0], -X[:, 1]) + 0.5 * rng.standard_normal(5000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok = pa.estimate(spec, np.column_stack([X, y]), 2)
    assert ok.success and ok.relative_residual < 0.1 and ok.weighted_relative_residual < 0.5
    assert not [w for w in caught if "misses the moments" in str(w.message)]
