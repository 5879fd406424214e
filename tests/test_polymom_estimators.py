"""Scikit-learn style estimators: fit returns self, fitted attributes, soft failure warns."""
import warnings

import numpy as np
import pytest

import gmp
from polymom_apps.estimators import PolymomGaussianMixture, PolymomLinearRegressionMixture
from polymom_apps.experiments.synthetic import max_relative_error, sample_gaussians, sample_linear_regressions


def test_gaussian_mixture_fit_attributes_and_predict():
    rng = np.random.default_rng(0)
    M, V, w = np.array([[-2.0, 0.0], [2.0, 1.0]]), np.array([[1.0, 1.0], [0.5, 0.5]]), np.array([0.4, 0.6])
    X = sample_gaussians(M, V, w, 50_000, rng)
    gm = PolymomGaussianMixture(2, covariance_type="spherical", random_state=0)
    assert gm.get_params()["n_components"] == 2 and not hasattr(gm, "weights_")
    assert gm.fit(X) is gm
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(gm.means_[order], M, atol=0.05)
    np.testing.assert_allclose(gm.covariances_[order], V[:, 0], atol=0.05)
    np.testing.assert_allclose(gm.weights_[order], w, atol=0.02)
    assert gm.covariances_.shape == (2,) and gm.converged_
    label_of_true = gm.predict(M)                  # the label given to each true mean
    expected = label_of_true[(X[:2000, 0] > 0).astype(int)]
    assert np.mean(gm.predict(X[:2000]) == expected) > 0.9
    np.testing.assert_allclose(gm.predict_proba(X[:10]).sum(1), 1.0)
    diag = PolymomGaussianMixture(2, covariance_type="diag").fit(X)
    assert diag.covariances_.shape == (2, 2)
    # score_samples: the mixture density written out independently
    pts = X[:5]
    dens = sum(gm.weights_[k] * np.exp(-np.sum((pts - gm.means_[k]) ** 2, 1) / (2 * gm.covariances_[k]))
               / (2 * np.pi * gm.covariances_[k]) for k in range(2))
    np.testing.assert_allclose(gm.score_samples(pts), np.log(dens), rtol=1e-12)
    assert gm.score(pts) == pytest.approx(np.mean(np.log(dens)), rel=1e-12)
    with pytest.raises(gmp.ModelError, match=r"X has 3 features, but PolymomGaussianMixture is expecting 2 features"):
        gm.predict(np.ones((4, 3)))
    with pytest.raises(gmp.ModelError, match=r"X contains NaN: the value nan in row 1, column 0"):
        gm.predict_proba([[0.0, 0.0], [np.nan, 1.0]])


def test_gaussian_mixture_1d_and_misuse():
    rng = np.random.default_rng(1)
    X = sample_gaussians(np.array([[-1.0], [1.5]]), np.array([[0.5], [1.2]]), np.array([0.4, 0.6]), 100_000, rng)
    gm = PolymomGaussianMixture(2).fit(X)
    e, _ = max_relative_error(np.column_stack([gm.means_, gm.covariances_]), np.array([[-1.0, 0.5], [1.5, 1.2]]))
    assert e < 0.1
    with pytest.raises(gmp.ModelError, match="covariance_type must be 'spherical' or 'diag', got 'full'"):
        PolymomGaussianMixture(2, covariance_type="full").fit(X)
    with pytest.raises(gmp.ModelError, match="is not fitted yet; call fit"):
        PolymomGaussianMixture(2).predict(X)


def test_soft_failure_is_a_warning_with_a_remedy():
    rng = np.random.default_rng(2)
    X = sample_gaussians(np.array([[-1.0], [1.5]]), np.array([[0.5], [1.2]]), np.array([0.4, 0.6]), 2000, rng)
    # exact equalities on sample moments that contradict a constraint: infeasible -> warning, NaN attributes
    gm = PolymomGaussianMixture(2, method="exact", constraints=lambda p: [p[0] == 100.0])
    with pytest.warns(RuntimeWarning, match="attributes are NaN. Try method='robust'"):
        gm.fit(X)
    assert not gm.converged_ and np.isnan(gm.means_).all()


def test_a_variance_not_positive_is_never_returned_as_an_estimate(monkeypatch):
    # the estimate step returns only feasible mixtures; should a result with a variance <= 0
    # ever reach the estimator, it is a failure (NaN attributes), not an estimate with a warning
    import dataclasses

    rng = np.random.default_rng(2)
    X = sample_gaussians(np.array([[-1.0], [1.5]]), np.array([[0.5], [1.2]]), np.array([0.4, 0.6]), 5000, rng)
    real = PolymomGaussianMixture._estimate

    def negative_variance(self, spec, X, cons):
        res = real(self, spec, X, cons)
        params = res.params.copy()
        params[0, 1] = -0.1
        return dataclasses.replace(res, params=params)

    monkeypatch.setattr(PolymomGaussianMixture, "_estimate", negative_variance)
    gm = PolymomGaussianMixture(2)
    with pytest.warns(RuntimeWarning, match=r"an estimated variance is not positive\); attributes are NaN"):
        gm.fit(X)
    assert not gm.converged_
    assert np.isnan(gm.means_).all() and np.isnan(gm.covariances_).all() and np.isnan(gm.weights_).all()


def test_a_solver_failure_is_not_reported_as_an_impossible_model():
    import polymom_apps as pa
    from gmp import Status
    from gmp.conic import ConicSolution
    from gmp_backends.scripted import ScriptedBackend
    from polymom_apps.models import gaussian_1d

    spec = gaussian_1d(6)
    m = spec.population_moments([[-1.0, 0.5], [1.5, 1.2]], [0.4, 0.6])
    fake = ScriptedBackend([ConicSolution(Status.ITERATION_LIMIT, "scripted", "out of iterations"),
                            ConicSolution(Status.INFEASIBLE, "scripted", "primal infeasible")])
    res = pa.estimate_from_moments(spec, m, 2, method="exact", backend=fake)
    assert not res.success and res.status is Status.ITERATION_LIMIT
    assert res.message == "the solver gave no solution of the moment relaxation (iteration_limit): out of iterations"
    # an infeasibility claim without a certificate that verifies (these moments come from a
    # real mixture: none can) is not believed by the core (gmp.assess): not an impossible model
    res = pa.estimate_from_moments(spec, m, 2, method="exact", backend=fake)
    assert res.status is Status.NUMERICAL_ERROR and not res.success
    assert "infeasible" not in res.message.split(":")[0]


def test_linear_regression_mixture():
    W, w = np.array([[1.0, -0.5], [-0.3, 0.8]]), np.array([0.4, 0.6])
    Z = sample_linear_regressions(W, np.array([0.25, 0.25]), w, 100_000, np.random.default_rng(3))
    lr = PolymomLinearRegressionMixture(2, noise_std=0.5).fit(Z[:, :2], Z[:, 2])
    assert max_relative_error(lr.coef_, W)[0] < 0.03
    lr2 = PolymomLinearRegressionMixture(2).fit(Z[:, :2], Z[:, 2])
    assert max_relative_error(lr2.coef_, W)[0] < 0.05
    np.testing.assert_allclose(lr2.noise_variance_, 0.25, atol=0.05)


def test_constrained_gaussian_mixture_in_data_units():
    # the paper's constrained case: each mean on xi1 + xi2 = 1, data far from the origin
    rng = np.random.default_rng(4)
    M, V, w = np.array([[0.3, 0.7], [1.2, -0.2]]), np.array([[0.6, 0.9], [1.1, 0.4]]), np.array([0.45, 0.55])
    X = sample_gaussians(M, V, w, 100_000, rng)
    gm = PolymomGaussianMixture(2, covariance_type="diag", constraints=lambda p: [p[0] + p[1] == 1]).fit(X)
    np.testing.assert_allclose(gm.means_.sum(axis=1), 1.0, atol=1e-6)
    assert max_relative_error(np.column_stack([gm.means_, gm.covariances_]), np.column_stack([M, V]))[0] < 0.05


def test_linear_regression_refine_em_is_em_from_the_polymom_estimate():
    from polymom_apps.em import TO_MAXIMUM, em_linear_regressions

    rng = np.random.default_rng(7)
    W = np.array([[1.0, -0.5], [-0.8, 0.9]])
    Z = sample_linear_regressions(W, np.array([0.25, 0.25]), np.array([0.45, 0.55]), 10_000, rng)
    X, y = Z[:, :2], Z[:, 2]
    poly = PolymomLinearRegressionMixture(2, noise_std=0.5).fit(X, y)
    ref = PolymomLinearRegressionMixture(2, noise_std=0.5, refine="em").fit(X, y)
    # the same Polymom estimate underneath, then EM started from it
    np.testing.assert_array_equal(ref.result_.params, poly.result_.params)
    em = em_linear_regressions(X, y, 2, noise_std=0.5, init=(poly.coef_, poly.weights_), **TO_MAXIMUM)
    np.testing.assert_allclose(ref.coef_, em.coef, rtol=1e-12)
    plain = em_linear_regressions(X, y, 2, noise_std=0.5, init=(poly.coef_, poly.weights_), tol=1e-13)
    assert abs(ref.em_.log_likelihood - plain.log_likelihood) < 1e-9     # it is the likelihood maximum
    assert ref.converged_ and ref.em_.converged and ref.em_.history[-1] >= ref.em_.history[0]
    assert max_relative_error(ref.coef_, W)[0] < 0.05
    assert ref.get_params()["refine"] == "em"


def test_gaussian_refine_em_reaches_a_likelihood_at_least_polymoms():
    rng = np.random.default_rng(8)
    M, V, w = np.array([[-1.0, 0.0], [1.0, 0.5]]), np.array([[1.0, 1.0], [0.6, 0.6]]), np.array([0.5, 0.5])
    X = sample_gaussians(M, V, w, 20_000, rng)
    poly = PolymomGaussianMixture(2, covariance_type="spherical", random_state=0).fit(X)
    ref = PolymomGaussianMixture(2, covariance_type="spherical", random_state=0, refine="em").fit(X)
    assert ref.em_ is not None and ref.converged_
    assert ref.score(X) >= poly.score(X) - 1e-9      # EM never lowers the likelihood of its start
    np.testing.assert_allclose(ref.score(X), ref.em_.log_likelihood, rtol=1e-10)
    assert ref.em_.history[0] == pytest.approx(poly.score(X), rel=1e-10)   # started at Polymom's estimate
    order = np.argsort(ref.means_[:, 0])
    np.testing.assert_allclose(ref.means_[order], M, atol=0.1)


def test_refine_misuse_is_named():
    X = np.random.default_rng(0).standard_normal((200, 2))
    with pytest.raises(gmp.ModelError, match="refine must be None or 'em', got 'kmeans'"):
        PolymomGaussianMixture(2, refine="kmeans").fit(X)
    da = pytest.importorskip("dask.array")
    with pytest.raises(gmp.ModelError, match="refine='em' needs the data in memory"):
        PolymomLinearRegressionMixture(2, noise_std=0.5, refine="em").fit(da.from_array(X), da.from_array(X[:, 0]))


def test_gaussian_mixture_sample_and_fit_predict():
    rng = np.random.default_rng(3)
    M, V, w = np.array([[-2.0, 0.0], [2.0, 1.0]]), np.array([[1.0, 0.5], [0.5, 2.0]]), np.array([0.3, 0.7])
    X = sample_gaussians(M, V, w, 20_000, rng)
    gm = PolymomGaussianMixture(2, covariance_type="diag", random_state=0)
    labels = gm.fit_predict(X)
    np.testing.assert_array_equal(labels, gm.predict(X))
    Y, lab = gm.sample(200_000, random_state=1)
    assert Y.shape == (200_000, 2) and lab.shape == (200_000,)
    for k in range(2):   # each component's draws have its fitted mean, variances and share
        np.testing.assert_allclose(Y[lab == k].mean(0), gm.means_[k], atol=0.02)
        np.testing.assert_allclose(Y[lab == k].var(0), gm.covariances_[k], rtol=0.03)
        assert np.mean(lab == k) == pytest.approx(gm.weights_[k], abs=0.005)
    np.testing.assert_array_equal(gm.sample(5, random_state=2)[0], gm.sample(5, random_state=2)[0])
    with pytest.raises(gmp.ModelError, match="n_samples must be a positive integer, got 0"):
        gm.sample(0)
    with pytest.raises(gmp.ModelError, match="is not fitted yet"):
        PolymomGaussianMixture(2).sample(3)


@pytest.mark.parametrize("cov", ["spherical", "diag"])
def test_bic_and_aic_are_scikit_learns_at_the_same_parameters(cov):
    GaussianMixture = pytest.importorskip("sklearn.mixture").GaussianMixture
    rng = np.random.default_rng(5)
    M, V, w = np.array([[-2.0, 0.0], [2.0, 1.0]]), np.array([[1.0, 1.0], [0.5, 0.5]]), np.array([0.4, 0.6])
    X = sample_gaussians(M, V, w, 20_000, rng)
    ours = PolymomGaussianMixture(2, covariance_type=cov).fit(X)
    ref = GaussianMixture(2, covariance_type=cov)      # scikit-learn's formulas at our parameters
    ref.weights_, ref.means_, ref.covariances_ = ours.weights_, ours.means_, ours.covariances_
    ref.precisions_cholesky_ = 1.0 / np.sqrt(ours.covariances_)
    assert ours.n_parameters_ == ref._n_parameters() == (7 if cov == "spherical" else 9)
    assert ours.bic(X[:5000]) == pytest.approx(ref.bic(X[:5000]), rel=1e-10)
    assert ours.aic(X[:5000]) == pytest.approx(ref.aic(X[:5000]), rel=1e-10)
    # a linear equality on the means removes one parameter per component
    line = PolymomGaussianMixture(2, covariance_type=cov, constraints=lambda p: [p[0] + p[1] == 1])
    with pytest.warns(RuntimeWarning):               # these means are not on the line: a misfit
        line.fit(X)
    assert line.n_parameters_ == ours.n_parameters_ - 2
    # after refine="em": only what EM keeps counts (the line: kept; a parabola: dropped, with a warning)
    with pytest.warns(RuntimeWarning):
        kept = PolymomGaussianMixture(2, covariance_type=cov, constraints=lambda p: [p[0] + p[1] == 1],
                                      refine="em").fit(X)
    assert kept.n_parameters_ == ours.n_parameters_ - 2
    with pytest.warns(UserWarning, match="may violate"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # a misfit too: these means are not on it
        dropped = PolymomGaussianMixture(2, covariance_type=cov, constraints=lambda p: [p[0] - p[1] ** 2 == 0],
                                         refine="em").fit(X)
    assert dropped.n_parameters_ == ours.n_parameters_
