"""The estimators as scikit-learn citizens: its estimator checks, Pipeline, GridSearchCV,
cross_val_score, clone, pickle and joblib, feature names, NotFittedError."""
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import gmp
from polymom_apps import PolymomGaussianMixture, PolymomLinearRegressionMixture
from polymom_apps.estimators import NotFittedError, expected_failed_checks
from polymom_apps.experiments.synthetic import sample_gaussians, sample_linear_regressions


@parametrize_with_checks([PolymomGaussianMixture(), PolymomLinearRegressionMixture(1)],
                         expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_scikit_learn_estimator_checks(estimator, check):
    # strict: a listed check that passes fails this test, so the list stays exact
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # misfit warnings on the checks' uniform data
        check(estimator)


def test_expected_failures_are_few_and_say_why():
    for est in (PolymomGaussianMixture(), PolymomLinearRegressionMixture()):
        failures = expected_failed_checks(est)
        assert 0 < len(failures) <= 4
        assert all("samples" in reason and "moments" in reason for reason in failures.values())
    assert expected_failed_checks(StandardScaler()) == {}


@pytest.fixture(scope="module")
def two_gaussians():
    rng = np.random.default_rng(0)
    M, V, w = np.array([[-2.0, 10.0], [2.0, 11.0]]), np.array([[1.0, 1.0], [0.5, 0.5]]), np.array([0.4, 0.6])
    return sample_gaussians(M, V, w, 20_000, rng)


def test_pipeline_with_standard_scaler_is_the_fit_on_scaled_data(two_gaussians):
    X = two_gaussians
    pipe = make_pipeline(StandardScaler(), PolymomGaussianMixture(2, covariance_type="diag", random_state=0))
    pipe.fit(X)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    direct = PolymomGaussianMixture(2, covariance_type="diag", random_state=0).fit(Z)
    gm = pipe[-1]
    np.testing.assert_allclose(gm.means_, direct.means_, atol=1e-6)
    assert pipe.score(X) == pytest.approx(direct.score(Z), abs=1e-6)
    np.testing.assert_array_equal(pipe.predict(X[:100]), direct.predict(Z[:100]))
    # the scaled means map back to the truth
    back = np.sort(gm.means_ * X.std(axis=0) + X.mean(axis=0), axis=0)
    np.testing.assert_allclose(back, [[-2.0, 10.0], [2.0, 11.0]], atol=0.1)


def test_grid_search_over_a_pipeline_chooses_the_number_of_components_by_held_out_likelihood():
    rng = np.random.default_rng(0)
    X = sample_gaussians(np.array([[-4.0], [0.0], [4.0]]), np.ones((3, 1)), np.array([0.3, 0.4, 0.3]), 6000, rng)
    cv = KFold(3, shuffle=True, random_state=0)
    pipe = make_pipeline(StandardScaler(), PolymomGaussianMixture(random_state=0))
    grid = {"polymomgaussianmixture__n_components": [1, 2, 3, 4]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # K=1, 2 misfit the moments, on purpose
        search = GridSearchCV(pipe, grid, cv=cv).fit(X)
    # three components gain clearly over one and two; a fourth gains nothing beyond the folds' noise
    # (the best K=4 fit may split a component into two equal halves: the same density as K=3,
    # so which of the two ties wins is not asserted)
    scores, spread = search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
    assert np.all(np.isfinite(scores)) and search.best_params_["polymomgaussianmixture__n_components"] in (3, 4)
    assert scores[2] - max(scores[:2]) > 10 * spread.max()
    assert abs(scores[3] - scores[2]) < 2 * spread.max()
    # the score GridSearchCV ranks by is the held-out mean log-likelihood (of the scaled data)
    train, test = next(cv.split(X))
    scaler = StandardScaler().fit(X[train])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fold = PolymomGaussianMixture(3, random_state=0).fit(scaler.transform(X[train]))
    assert search.cv_results_["split0_test_score"][2] == pytest.approx(
        np.mean(fold.score_samples(scaler.transform(X[test]))))
    pipe3 = make_pipeline(StandardScaler(), PolymomGaussianMixture(3, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pipe3.fit(X)
    means = np.sort(pipe3[-1].means_[:, 0] * pipe3[0].scale_[0] + pipe3[0].mean_[0])
    np.testing.assert_allclose(means, [-4.0, 0.0, 4.0], atol=0.15)


def test_cross_val_score_is_the_mean_log_likelihood_of_each_fold(two_gaussians):
    X = two_gaussians[:6000]
    cv = KFold(3, shuffle=True, random_state=1)
    est = PolymomGaussianMixture(2, random_state=0)
    scores = cross_val_score(est, X, cv=cv)
    by_hand = [clone(est).fit(X[tr]).score(X[te]) for tr, te in cv.split(X)]
    np.testing.assert_allclose(scores, by_hand, rtol=1e-12)


def test_clone_copies_parameters_not_the_fit(two_gaussians):
    est = PolymomGaussianMixture(2, covariance_type="diag", random_state=3, refine="em").fit(two_gaussians[:5000])
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "weights_")
    with pytest.raises(NotFittedError, match="is not fitted yet; call fit first"):
        c.predict(two_gaussians[:3])


def test_not_fitted_is_scikit_learns_error_and_a_gmp_error():
    for est, call in ((PolymomGaussianMixture(), lambda e: e.score_samples(np.zeros((2, 2)))),
                      (PolymomLinearRegressionMixture(), lambda e: e.predict(np.zeros((2, 2))))):
        with pytest.raises(SklearnNotFittedError) as info:
            call(est)
        assert isinstance(info.value, gmp.GMPError) and isinstance(info.value, gmp.ModelError)


@pytest.mark.parametrize("dump,load", [(pickle.dumps, pickle.loads), ("joblib", "joblib")])
def test_fitted_estimators_survive_pickle_and_joblib(two_gaussians, tmp_path, dump, load):
    def round_trip(obj):
        if dump == "joblib":
            joblib.dump(obj, tmp_path / "est.joblib")
            return joblib.load(tmp_path / "est.joblib")
        return load(dump(obj))

    X = two_gaussians[:5000]
    for D in (1, 2):   # the 1-d and the D-d specs
        gm = PolymomGaussianMixture(2, random_state=0).fit(X[:, :D])
        back = round_trip(gm)
        np.testing.assert_array_equal(back.means_, gm.means_)
        np.testing.assert_array_equal(back.score_samples(X[:50, :D]), gm.score_samples(X[:50, :D]))
        assert back.spec_.n_moments == gm.spec_.n_moments and back.result_.params is not None
    W = np.array([[1.0, -0.5], [-0.3, 0.8]])
    Z = sample_linear_regressions(W, np.array([0.25, 0.25]), np.array([0.4, 0.6]), 5000, np.random.default_rng(1))
    lr = PolymomLinearRegressionMixture(2, noise_std=0.5, random_state=0).fit(Z[:, :2], Z[:, 2])
    np.testing.assert_array_equal(round_trip(lr).predict(Z[:20, :2]), lr.predict(Z[:20, :2]))


def test_feature_names_are_recorded_and_checked(two_gaussians):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(two_gaussians[:5000], columns=["height", "weight"])
    gm = PolymomGaussianMixture(2, random_state=0).fit(df)
    assert list(gm.feature_names_in_) == ["height", "weight"] and gm.n_features_in_ == 2
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_array_equal(gm.predict(df[:10]), gm.predict(df.to_numpy()[:10]))
    with pytest.raises(gmp.ModelError, match="Feature names must be in the same order as they were in fit"):
        gm.predict(df[["weight", "height"]])


@pytest.mark.filterwarnings("ignore:the fitted mixture:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:an estimated variance is not positive:RuntimeWarning")
def test_small_samples_use_fewer_moments_and_say_so():
    rng = np.random.default_rng(5)
    X = rng.normal(3.0, 2.0, (40, 2))
    gm = PolymomGaussianMixture(1).fit(X)      # 40 samples: degree 4 (14 moments) needs 28, fits
    assert gm.degree_ == 4
    assert PolymomGaussianMixture(1).fit(X[:20]).degree_ == 3    # 9 moments need 18
    gm = PolymomGaussianMixture(1).fit(X[:15])  # degree 2: 5 moments for one Gaussian's 3 parameters
    assert gm.degree_ == 2 and gm.spec_.n_moments == 5 and gm.converged_
    np.testing.assert_allclose(gm.means_[0], [3.0, 3.0], atol=1.5)   # 3 standard errors of 15 samples
    with pytest.warns(RuntimeWarning, match="may not identify K=2 components; collect more data"):
        PolymomGaussianMixture(2).fit(X[:25])
    with pytest.raises(gmp.ModelError, match=r"X has 8 samples, but K=1 components need at least 10 \(the 5 "
                                              r"moments of degree 2, the fewest that identify them\)"):
        PolymomGaussianMixture(1).fit(X[:8])
    with pytest.raises(gmp.ModelError, match="degree must be an integer >= 2 or None, got 1"):
        PolymomGaussianMixture(1, degree=1).fit(X)


def test_regression_predict_is_the_mixture_mean_and_score_its_r2():
    W, w = np.array([[1.0, -0.5], [-0.3, 0.8]]), np.array([0.4, 0.6])
    Z = sample_linear_regressions(W, np.array([0.25, 0.25]), w, 20_000, np.random.default_rng(3))
    X, y = Z[:, :2], Z[:, 2]
    lr = PolymomLinearRegressionMixture(2, noise_std=0.5, random_state=0).fit(X, y)
    comp = lr.predict_components(X[:100])
    np.testing.assert_allclose(comp, X[:100] @ lr.coef_.T)
    np.testing.assert_allclose(lr.predict(X[:100]), comp @ lr.weights_)
    assert lr.score(X, y) == pytest.approx(r2_score(y, lr.predict(X)))
    # E[y | x] of the true mixture, for comparison: the fit's predictions are close to it
    np.testing.assert_allclose(lr.predict(X[:100]), X[:100] @ (w @ W), atol=0.1)
    # the log-likelihood: the mixture density written out
    var = lr.noise_variance_
    dens = sum(lr.weights_[k] * np.exp(-(y[:5] - X[:5] @ lr.coef_[k]) ** 2 / (2 * var[k])) / np.sqrt(2 * np.pi * var[k])
               for k in range(2))
    assert lr.log_likelihood(X[:5], y[:5]) == pytest.approx(np.mean(np.log(dens)), rel=1e-12)


def test_verbose_logs_the_fit_to_stderr(two_gaussians, capsys):
    PolymomGaussianMixture(2, random_state=0, verbose=1).fit(two_gaussians[:5000])
    err = capsys.readouterr().err
    assert "[polymom_apps.estimators] PolymomGaussianMixture: K=2 on 5000 samples x 2 columns" in err
    assert re.search(r"estimated in [0-9.e-]+ s \(order \d+, backend \w+\)", err)
    PolymomGaussianMixture(2, random_state=0).fit(two_gaussians[:5000])
    assert capsys.readouterr().err == ""
