"""EM for mixtures of linear regressions (polymom_apps.em): the Table 3 baseline.

Independent truths: ordinary least squares (K = 1 is exactly OLS), the generating
parameters of seeded synthetic data, and EM's own monotonicity.
"""
import re

import numpy as np
import pytest

from gmp import ModelError
from polymom_apps.em import em_linear_regressions
from polymom_apps.experiments.synthetic import max_relative_error, sample_linear_regressions


def _data(T, seed=0, W=((2.0, -1.0), (-1.0, 1.5)), noise=(0.09, 0.09), weights=(0.4, 0.6)):
    rng = np.random.default_rng(seed)
    Z = sample_linear_regressions(np.array(W), np.array(noise), np.array(weights), T, rng)
    return Z[:, :-1], Z[:, -1], np.array(W)


def test_one_component_is_ordinary_least_squares():
    X, y, _ = _data(500, seed=1)
    fit = em_linear_regressions(X, y, 1)
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(fit.coef[0], w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.noise_variance[0], np.mean((y - X @ w) ** 2), rtol=1e-10)
    assert fit.weights.tolist() == [1.0] and fit.converged


@pytest.mark.parametrize("noise_std", [0.3, None])
def test_recovers_separated_components(noise_std):
    X, y, W = _data(20_000, seed=2)
    fit = em_linear_regressions(X, y, 2, noise_std=noise_std, random_state=0)
    err, perm = max_relative_error(fit.coef, W)
    assert err < 0.02, fit.coef
    np.testing.assert_allclose(fit.weights[list(perm)], [0.4, 0.6], atol=0.02)
    if noise_std is None:
        np.testing.assert_allclose(fit.noise_variance, 0.09, rtol=0.1)
    else:
        assert np.all(fit.noise_variance == 0.09)
    assert fit.converged


def test_log_likelihood_never_decreases():
    X, y, _ = _data(3000, seed=3, W=((0.5, 0.2), (0.3, -0.4)), noise=(0.25, 0.25))
    fit = em_linear_regressions(X, y, 2, noise_std=0.5, n_init=1, tol=1e-12, max_iter=300, random_state=1)
    assert fit.history.size == fit.n_iter + 1
    assert np.all(np.diff(fit.history) >= -1e-12)
    assert fit.log_likelihood == fit.history[-1]


@pytest.mark.parametrize("noise_std", [0.5, None])
def test_accelerated_em_reaches_the_same_maximum_in_fewer_steps(noise_std):
    X, y, _ = _data(4000, seed=3, W=((1.0, 0.5), (0.6, 0.9)), noise=(0.25, 0.25))
    init = (np.array([[1.5, 0.0], [0.0, 1.5]]), [0.5, 0.5])
    plain = em_linear_regressions(X, y, 2, noise_std=noise_std, init=init, tol=1e-13, max_iter=100_000)
    fast = em_linear_regressions(X, y, 2, noise_std=noise_std, init=init, tol=1e-13, max_iter=100_000, accelerate=True)
    assert plain.converged and fast.converged
    assert abs(fast.log_likelihood - plain.log_likelihood) < 1e-10
    np.testing.assert_allclose(fast.coef, plain.coef, atol=1e-4)
    np.testing.assert_allclose(fast.noise_variance, plain.noise_variance, rtol=1e-4)
    assert fast.n_iter * 4 < plain.n_iter                      # 47 / 69 against 305 / 413 when written
    assert np.all(np.diff(fast.history) >= -1e-12)
    if noise_std is not None:
        assert np.all(fast.noise_variance == noise_std ** 2)


def test_start_from_given_parameters():
    X, y, W = _data(20_000, seed=4)
    fit = em_linear_regressions(X, y, 2, noise_std=0.3, init=(W + 0.1, [0.5, 0.5]))
    assert max_relative_error(fit.coef, W)[0] < 0.02
    # from the truth, EM stays there: the first iteration's likelihood is the start's
    at_truth = em_linear_regressions(X, y, 2, noise_std=0.3, init=(W, [0.4, 0.6]), max_iter=1)
    assert at_truth.n_iter == 1 and at_truth.history[1] >= at_truth.history[0] - 1e-12


def test_not_converged_is_reported():
    X, y, _ = _data(2000, seed=5)
    fit = em_linear_regressions(X, y, 2, noise_std=0.3, n_init=1, max_iter=2, tol=1e-15, random_state=0)
    assert fit.n_iter == 2 and not fit.converged


@pytest.mark.parametrize("kwargs, message", [
    ({"n_components": 0}, "n_components must be a positive integer, got 0"),
    ({"n_components": 2, "noise_std": -1.0}, "noise_std must be a positive number or None, got -1.0"),
])
def test_bad_arguments(kwargs, message):
    X, y, _ = _data(100)
    with pytest.raises(ModelError, match=re.escape(message)):
        em_linear_regressions(X, y, **kwargs)


def test_bad_data_names_the_row():
    X, y, _ = _data(100)
    X[7, 1] = np.nan
    with pytest.raises(ModelError, match=re.escape("X has a non-finite value (nan) in row 7, column 1")):
        em_linear_regressions(X, y, 2)
    X, y, _ = _data(100)
    with pytest.raises(ModelError, match=re.escape("X has 100 rows but y has 99")):
        em_linear_regressions(X, y[:99], 2)


def test_a_collapsing_component_keeps_a_variance_floor():
    # component 0 starts as the exact fit through two samples, with a tiny variance:
    # without a floor its likelihood is unbounded and EM drives the variance to ~0
    X, y, _ = _data(400, seed=6)
    w01 = np.linalg.solve(X[:2], y[:2])
    w_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    fit = em_linear_regressions(X, y, 2, init=(np.stack([w01, w_ols]), [0.01, 0.99], [1e-14, 1.0]), max_iter=200)
    floor = 1e-6 * np.var(y)
    assert fit.noise_variance.min() >= floor * (1 - 1e-9)
    assert np.isfinite(fit.log_likelihood)
