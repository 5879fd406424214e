"""Dask arrays as data: the same moments and estimates as numpy, without loading the data whole."""
import numpy as np
import pytest

import polymom_apps as pa
from gmp import ModelError
from polymom_apps.empirical import empirical_moments, is_dask_array, moment_covariance, monomial_features
from polymom_apps.experiments.synthetic import sample_gaussians, sample_linear_regressions
from polymom_apps.models import gaussian_nd, linear_regression

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def gauss_data():
    rng = np.random.default_rng(7)
    M, V, w = np.array([[0.0, 0.0], [1.5, 1.0]]), np.array([[1.0, 1.0], [2.0, 2.0]]), np.array([0.4, 0.6])
    return sample_gaussians(M, V, w, 20_000, rng)


def test_moments_and_covariance_equal_numpy_over_uneven_chunks(gauss_data):
    X = gauss_data
    phi = monomial_features(np.array([[1, 0], [0, 1], [2, 0], [1, 1], [0, 3], [2, 2]]))
    Xd = da.from_array(X, chunks=((7000, 5000, 8000), (1, 1)))  # split across columns too
    m, md = empirical_moments(phi, X), empirical_moments(phi, Xd)
    np.testing.assert_allclose(md, m, rtol=1e-12)
    np.testing.assert_allclose(moment_covariance(phi, Xd, mean=md), moment_covariance(phi, X, mean=m), rtol=1e-10)
    # independent truth: the numpy definition, all rows at once
    np.testing.assert_allclose(m, phi(X).mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("cov", ["spherical", "diag"])
def test_gaussian_estimate_from_dask_equals_numpy(gauss_data, cov):
    spec = gaussian_nd(2, cov)
    a = pa.estimate(spec, gauss_data, 2, random_state=0)
    b = pa.estimate(spec, da.from_array(gauss_data, chunks=3000), 2, random_state=0)
    assert a.success and b.success
    np.testing.assert_allclose(b.params, a.params, atol=1e-7)
    np.testing.assert_allclose(b.weights, a.weights, atol=1e-7)


def test_linear_regression_from_dask_equals_numpy():
    # its moment polynomials take E[x^gamma] from the data: one pass over the dask chunks
    rng = np.random.default_rng(3)
    W = np.array([[1.0, -0.5], [-0.3, 0.8]])
    Y = sample_linear_regressions(W, np.array([0.25, 0.25]), np.array([0.4, 0.6]), 20_000, rng)
    spec = linear_regression(2, 0.5)
    a = pa.estimate(spec, Y, 2, random_state=0)
    b = pa.estimate(spec, da.from_array(Y, chunks=4000), 2, random_state=0)
    np.testing.assert_allclose(b.params, a.params, atol=1e-7)
    perm = np.argsort(b.params[:, 0])
    np.testing.assert_allclose(b.params[perm], W[np.argsort(W[:, 0])], atol=0.1)


def test_unknown_chunk_sizes_are_resolved(gauss_data):
    Xd = da.from_array(gauss_data, chunks=5000)
    kept = Xd[Xd[:, 0] > -10]  # boolean filtering: row counts unknown until computed
    assert np.isnan(kept.shape[0])
    res = pa.estimate(gaussian_nd(2, "spherical"), kept, 2, random_state=0)
    ref = pa.estimate(gaussian_nd(2, "spherical"), gauss_data[gauss_data[:, 0] > -10], 2, random_state=0)
    np.testing.assert_allclose(res.params, ref.params, atol=1e-7)


def test_non_finite_dask_data_names_the_row(gauss_data):
    X = gauss_data.copy()
    X[12_345, 1] = np.inf
    X[15_000, 0] = np.nan
    with pytest.raises(ModelError) as err:
        pa.estimate(gaussian_nd(2, "spherical"), da.from_array(X, chunks=3000), 2)
    assert str(err.value) == (
        "data for the 2-d Gaussian (spherical covariance) model has a non-finite value (inf) in row 12345, "
        "column 1 (2 row(s) in all); remove or impute those rows before estimating")


def test_wrong_number_of_columns_in_dask_data(gauss_data):
    with pytest.raises(ModelError, match=r"must have 2 columns, got shape \(20000, 3\)"):
        pa.estimate(gaussian_nd(2, "spherical"), da.from_array(np.column_stack([gauss_data, gauss_data[:, 0]])), 2)


def test_sklearn_style_estimator_accepts_dask(gauss_data):
    from polymom_apps.estimators import PolymomGaussianMixture

    Xd = da.from_array(gauss_data, chunks=4000)
    assert is_dask_array(Xd) and not is_dask_array(gauss_data)
    a = PolymomGaussianMixture(2, covariance_type="spherical", random_state=0).fit(gauss_data)
    b = PolymomGaussianMixture(2, covariance_type="spherical", random_state=0).fit(Xd)
    np.testing.assert_allclose(b.means_, a.means_, atol=1e-7)


def test_linear_regression_estimator_accepts_dask():
    from polymom_apps.estimators import PolymomLinearRegressionMixture

    rng = np.random.default_rng(11)
    W = np.array([[1.0, -0.5], [-0.3, 0.8]])
    Y = sample_linear_regressions(W, np.array([0.25, 0.25]), np.array([0.4, 0.6]), 20_000, rng)
    X, y = Y[:, :2], Y[:, 2]
    a = PolymomLinearRegressionMixture(2, noise_std=0.5, random_state=0).fit(X, y)
    b = PolymomLinearRegressionMixture(2, noise_std=0.5, random_state=0).fit(
        da.from_array(X, chunks=(5000, 2)), da.from_array(y, chunks=5000))
    np.testing.assert_allclose(b.coef_, a.coef_, atol=1e-7)
    np.testing.assert_allclose(b.weights_, a.weights_, atol=1e-7)
