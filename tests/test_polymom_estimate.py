"""Estimation: exact recovery from population moments, constraints, convergence in T."""
import itertools
import warnings

import numpy as np
import pytest
import scipy.stats

import polymom_apps as pa
from gmp import Status
from polymom_apps import constraints as C
from polymom_apps.experiments.synthetic import max_relative_error, sample_gaussians, sample_linear_regressions
from polymom_apps.models import gaussian_1d, gaussian_nd, gaussian_x_moments, linear_regression, multiview, poisson

TOL = 1e-6


def _err(res, theta, w):
    """Largest coordinate error of parameters and weights after the best permutation."""
    best = min(itertools.permutations(range(len(w))), key=lambda p: np.abs(res.params[list(p)] - theta).max())
    return np.abs(res.params[list(best)] - theta).max(), np.abs(res.weights[list(best)] - w).max()


CASES = {
    "gaussian_1d_pearson": (lambda: gaussian_1d(6), [[-1.0, 0.5], [1.5, 1.2]], [0.4, 0.6]),
    "gaussian_1d_three": (lambda: gaussian_1d(8), [[-1.0, 0.5], [0.5, 0.3], [2.0, 0.8]], [0.3, 0.3, 0.4]),
    # nine moments: the order-5 relaxation is far from rank 3 (residual ~1e2); a polish from its
    # atoms alone stopped at a spurious point (error up to 3) before the truncated-matrix starts
    "gaussian_1d_three_nine": (lambda: gaussian_1d(9), [[-1.0, 0.5], [0.5, 0.3], [2.0, 0.8]], [0.3, 0.3, 0.4]),
    "gaussian_diag": (lambda: gaussian_nd(2, "diag"), [[0.5, -0.3, 0.6, 0.9], [-0.4, 0.7, 1.1, 0.4]], [0.45, 0.55]),
    "gaussian_spherical": (lambda: gaussian_nd(2, "spherical"), [[0.5, -0.3, 0.6], [-0.4, 0.7, 1.1]], [0.45, 0.55]),
    "linreg_known_noise": (lambda: linear_regression(2, 0.5, x_moments=gaussian_x_moments(2)),
                           [[1.0, -0.5], [-0.3, 0.8]], [0.4, 0.6]),
    "linreg_noise_param": (lambda: linear_regression(2, None, x_moments=gaussian_x_moments(2)),
                           [[1.0, -0.5, 0.3], [-0.3, 0.8, 0.5]], [0.4, 0.6]),
    "multiview_3x3": (lambda: multiview(3), [[1, 0, 0.2, 0.1, 1, 0, 0.3, 0.2, 1], [0, 1, 0, 1, 0, 0.4, 0, 0.5, 0.1],
                                             [0.3, 0.2, 1, 0, 0, 1, 1, 0, 0]], [0.3, 0.3, 0.4]),
    "poisson_1d": (lambda: poisson(1, 4), [[1.0], [4.0]], [0.3, 0.7]),
    "poisson_2d": (lambda: poisson(2, 4), [[1.0, 3.0], [4.0, 0.5]], [0.3, 0.7]),
}


@pytest.mark.parametrize("method", ["exact", "robust"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_population_moments_recover_parameters_and_weights(name, method):
    make, theta, w = CASES[name]
    spec, theta, w = make(), np.array(theta, float), np.array(w)
    res = pa.estimate_from_moments(spec, spec.population_moments(theta, w), len(w), method=method)
    assert res.success, res.message
    e_theta, e_w = _err(res, theta, w)
    assert e_theta < TOL and e_w < TOL
    assert res.weights.min() >= 0 and res.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["linreg_known_noise", "linreg_noise_param", "multiview_3x3", "poisson_1d", "poisson_2d"])
def test_relaxation_alone_is_exact_where_the_moments_pin_it(name):
    # [WCL15, Sec. 5]: for these models the moment equations determine M_r(y); no polish needed
    make, theta, w = CASES[name]
    spec, theta, w = make(), np.array(theta, float), np.array(w)
    res = pa.estimate_from_moments(spec, spec.population_moments(theta, w), len(w), method="exact", refine=False)
    e_theta, e_w = _err(res, theta, w)
    assert e_theta < 1e-5 and e_w < 1e-5


def test_parabola_constraint_makes_the_model_identifiable():
    # [WCL15, Sec. 5]: means on xi1 = xi2^2, known unit variance, moments of degree <= 2 only
    spec = gaussian_nd(2, "known", degree=2)
    xi1, xi2 = spec.parameters
    theta, w = np.array([[1.0, 1.0], [0.25, -0.5]]), np.array([0.4, 0.6])
    m = spec.population_moments(theta, w)
    # independent truth of non-identifiability: the truth is mean + w1 d, mean - w0 d
    # (d = theta_1 - theta_2); any weights (p, 1 - p) with atoms mean + (1-p) s d, mean - p s d,
    # p (1 - p) s^2 = w0 w1 have the same mean and second moments
    mean, d, p = w @ theta, theta[0] - theta[1], 0.2
    s = np.sqrt(w[0] * w[1] / (p * (1 - p)))
    alt, alt_w = np.array([mean + (1 - p) * s * d, mean - p * s * d]), np.array([p, 1 - p])
    np.testing.assert_allclose(spec.population_moments(alt, alt_w), m, atol=1e-12)
    assert np.abs(alt - theta).max() > 0.5 and not np.allclose(alt[:, 0], alt[:, 1] ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        free = pa.estimate_from_moments(spec, m, 2)
    assert _err(free, theta, w)[0] > 0.05             # without the constraint: not the truth
    res = pa.estimate_from_moments(spec, m, 2, constraints=[C.parabola(xi1, xi2)])
    assert max(_err(res, theta, w)) < TOL
    np.testing.assert_allclose(res.params[:, 0], res.params[:, 1] ** 2, atol=1e-9)


@pytest.mark.parametrize("method", ["exact", "robust"])
def test_linear_constraint_and_nonnegative_variances(method):
    # the paper's constrained Gaussians: each component's mean on xi1 + xi2 = 1
    spec = gaussian_nd(2, "diag")
    p = spec.parameters
    theta, w = np.array([[0.3, 0.7, 0.6, 0.9], [1.2, -0.2, 1.1, 0.4]]), np.array([0.45, 0.55])
    cons = [C.linear([1, 1], p[:2], 1.0), *C.nonnegative(p[2], p[3])]
    res = pa.estimate_from_moments(spec, spec.population_moments(theta, w), 2, constraints=cons, method=method)
    assert max(_err(res, theta, w)) < TOL
    np.testing.assert_allclose(res.params[:, 0] + res.params[:, 1], 1.0, atol=1e-9)


def test_equal_coordinates_within_a_component():
    spec = gaussian_nd(2, "diag")
    p = spec.parameters
    theta, w = np.array([[0.3, 0.3, 0.6, 0.9], [1.2, 1.2, 1.1, 0.4]]), np.array([0.45, 0.55])
    res = pa.estimate_from_moments(spec, spec.population_moments(theta, w), 2, constraints=[C.equal(p[0], p[1])])
    assert max(_err(res, theta, w)) < TOL


def test_tied_variance_shared_by_all_components():
    spec = gaussian_1d(6)
    xi, c = spec.parameters
    theta, w = np.array([[-1.0, 0.5], [1.0, 0.5]]), np.array([0.3, 0.7])
    m = spec.population_moments(theta, w)
    res = pa.estimate_from_moments(spec, m, 2, constraints=[pa.Tied(c, bounds=(0.01, 2.0))])
    assert res.tied_value == pytest.approx(0.5, abs=1e-6)
    assert max(_err(res, theta, w)) < 1e-6
    known = pa.estimate_from_moments(spec, m, 2, constraints=[pa.Tied(c, value=0.5)])
    assert max(_err(known, theta, w)) < TOL


def test_user_polynomial_inequality():
    # any g(theta) >= 0: here the means lie in the disk xi^2 <= 4 (inactive, must not hurt)
    spec = gaussian_1d(6)
    xi, c = spec.parameters
    theta, w = np.array([[-1.0, 0.5], [1.5, 1.2]]), np.array([0.4, 0.6])
    res = pa.estimate_from_moments(spec, spec.population_moments(theta, w), 2, constraints=[4 - xi**2 >= 0])
    assert max(_err(res, theta, w)) < TOL


def test_inconsistent_constraints_give_infeasible_status_not_a_crash():
    spec = gaussian_1d(6)
    xi, c = spec.parameters
    m = spec.population_moments([[-1.0, 0.5], [1.5, 1.2]], [0.4, 0.6])
    res = pa.estimate_from_moments(spec, m, 2, constraints=[xi == 0, xi == 1], method="exact")
    assert not res.success and res.status.value == "infeasible" and res.params is None
    # constraints that contradict the moments (all means at 0 but E[x] != 0)
    res = pa.estimate_from_moments(spec, m, 2, constraints=[xi == 0], method="exact")
    assert res.status.value == "infeasible"


def test_standardization_maps_shifted_data_back():
    # a shift of 100: raw moments would be hopeless; estimates come back in the data's units
    rng = np.random.default_rng(0)
    M, V, w = np.array([[99.0], [101.5]]), np.array([[0.5], [1.2]]), np.array([0.4, 0.6])
    X = sample_gaussians(M, V, w, 100_000, rng)
    res = pa.estimate(gaussian_1d(6), X, 2)
    e, _ = max_relative_error(res.params, np.column_stack([M, V]))
    assert e < 0.1


def _gauss_err(T, seed):
    M, V, w = np.array([[1.0, 0.0], [0.0, 1.0]]) + [2.0, -1.0], np.array([[2.5, 2.5], [3.0, 3.0]]), np.array([0.4, 0.6])
    X = sample_gaussians(M, V, w, T, np.random.default_rng(seed))
    res = pa.estimate(gaussian_nd(2, "spherical"), X, 2)
    return max_relative_error(res.params, np.column_stack([M, V[:, :1]]))[0]


def test_gaussian_error_shrinks_with_T():
    small = np.median([_gauss_err(1_000, s) for s in range(3)])
    large = np.median([_gauss_err(100_000, s) for s in range(3)])
    assert large < 0.1 and large < small / 4


def test_linear_regression_error_shrinks_with_T():
    W, w = np.array([[1.0, -0.5], [-0.3, 0.8]]), np.array([0.4, 0.6])

    def err(T, seed):
        X = sample_linear_regressions(W, np.array([0.25, 0.25]), w, T, np.random.default_rng(seed))
        return max_relative_error(pa.estimate(linear_regression(2, 0.5), X, 2).params, W)[0]

    small = np.median([err(1_000, s) for s in range(3)])
    large = np.median([err(100_000, s) for s in range(3)])
    assert large < 0.02 and large < small / 4


def test_robust_program_epigraph_equals_weighted_residual():
    # the appended block [[t, r^T], [r, I]] PSD makes t >= ||S (A y - m)||^2, tight at the optimum
    from gmp import GMP, Measure, build_relaxation
    from gmp_backends import get_backend
    from polymom_apps.estimate import _riesz_matrix
    from polymom_apps.robust import robust_program as _robust_program

    spec = gaussian_1d(6)
    theta, w = np.array([[-1.0, 0.5], [1.5, 1.2]]), np.array([0.4, 0.6])
    m = spec.population_moments(theta, w) + np.array([0.01, -0.02, 0.03, 0.0, 0.05, -0.1])  # inconsistent
    S = np.diag([1.0, 2.0, 0.5, 1.0, 0.3, 0.2])
    mu = Measure(spec.parameters, mass=1.0)
    base, _ = build_relaxation(GMP(None, [], measures=[mu]), 3)
    A = _riesz_matrix(spec, spec.polys_for(None), 3)
    prog = _robust_program(base, S @ A, S @ m, 1e-4)
    sol = get_backend("cvxopt").run(prog, {"tol": 1e-9})
    y, t = sol.x[:-1], sol.x[-1]
    assert t == pytest.approx(np.sum((S @ (A @ y - m)) ** 2), rel=1e-4, abs=1e-9)
    assert prog.n_vars == base.n_vars + 1 and prog.psd_dims[-1] == 7


def test_tied_variance_from_data_in_data_units():
    rng = np.random.default_rng(5)
    X = sample_gaussians(np.array([[4.0], [6.0]]), np.array([[0.5], [0.5]]), np.array([0.3, 0.7]), 100_000, rng)
    spec = gaussian_1d(6)
    res = pa.estimate(spec, X, 2, constraints=[pa.Tied(spec.parameters[1], bounds=(0.1, 2.0))])
    assert res.tied_value == pytest.approx(0.5, abs=0.02)
    np.testing.assert_allclose(res.params[:, 1], res.tied_value, rtol=1e-6)
    assert max_relative_error(res.params, np.array([[4.0, 0.5], [6.0, 0.5]]))[0] < 0.02


def test_polish_jacobian_is_the_derivative_of_its_residual(monkeypatch):
    # the analytic Jacobian of the polish (moments, weights, equality and active inequality
    # penalties) against central finite differences of the residual itself
    from scipy.optimize._numdiff import approx_derivative

    import polymom_apps.refine as R

    spec = gaussian_nd(2, "spherical")
    polys = spec.polys_for(None)
    a, b, c = spec.parameters
    th, w = np.array([[0.3, -0.2, 1.5], [1.1, 0.4, 0.7]]), np.array([0.4, 0.6])
    m = spec.population_moments(th + 0.05, w)
    captured, real = [], R.least_squares

    def spy(fun, x0, jac=None, **kw):  # records the problem, then solves it for real
        captured.append((fun, jac, x0))
        return real(fun, x0, jac=jac, **kw)

    monkeypatch.setattr(R, "least_squares", spy)
    R.refine(spec, polys, m, th, w, [a + b == 1, c - 1 >= 0, a**2 - b >= 0], np.diag(np.linspace(1, 2, m.size)))
    fun, jac, x0 = captured[0]
    Jn = approx_derivative(fun, x0, method="3-point")
    assert jac(x0).shape == Jn.shape == (m.size + 1 + 2 + 4, 8)
    assert np.abs(jac(x0) - Jn).max() <= 1e-8 * np.abs(Jn).max()
    assert (np.abs(Jn[-4:]) > 0).any()  # an inequality is active at x0, so its rows are exercised


def test_model_default_method_and_fallback_to_robust():
    from dataclasses import replace

    from polymom_apps.experiments.synthetic import sample_linear_regressions, sample_multiview

    rng = np.random.default_rng(5)
    means = rng.standard_normal((3, 9))
    X = sample_multiview(means, np.array([0.3, 0.3, 0.4]), 20_000, rng)
    res = pa.estimate(multiview(3), X, 3)
    assert multiview(3).default_method == "exact" and res.method == "exact" and res.success
    # linear regressions: exact equalities pin y and are infeasible on sample moments
    W = np.array([[1.0, -0.5], [-0.3, 0.8]])
    Y = sample_linear_regressions(W, np.array([0.25, 0.25]), np.array([0.4, 0.6]), 20_000, rng)
    spec = replace(linear_regression(2, 0.5), default_method="exact")
    named = pa.estimate(spec, Y, 2, method="exact")  # a method the caller names is kept
    assert named.status is Status.INFEASIBLE and not named.success
    res = pa.estimate(spec, Y, 2)
    assert res.method == "robust" and res.success
    assert any("default method 'exact' was infeasible" in n for n in res.notes)
    np.testing.assert_allclose(res.params[np.argsort(res.params[:, 0])], W[np.argsort(W[:, 0])], atol=0.1)


@pytest.mark.parametrize("method", ["exact", "robust"])
def test_multiview_relaxes_on_its_sub_basis_and_full_basis_agrees(method):
    # the 3-view model keeps the monomials of degree <= 1 per view: 37 of the 55 rows of M_2,
    # 460 of the 715 moments; both bases recover the truth from population moments (exact
    # equalities: the relaxation alone; robust: with the polish, as its trace weight is tiny)
    make, theta, w = CASES["multiview_3x3"]
    spec, theta, w = make(), np.array(theta, float), np.array(w)
    m = spec.population_moments(theta, w)
    polish = method == "robust"
    sub = pa.estimate_from_moments(spec, m, 3, method=method, refine=polish)
    full = pa.estimate_from_moments(spec, m, 3, method=method, refine=polish, basis="full")
    extra = 0 if method == "exact" else 1                      # the robust form's epigraph variable t
    assert sub.gmp_result.solution.x.size == 460 + extra and full.gmp_result.solution.x.size == 715 + extra
    assert sub.gmp_result.atoms.method == "subbasis" and full.gmp_result.atoms.method == "projection"
    assert "on the moment sub-basis" in sub.gmp_result.message and len(sub.ranks) == 3
    if method == "exact":
        assert sub.ranks == (1, 3, 3)
    y = sub.gmp_result.moments[0].values
    assert np.isnan(y).sum() == 715 - 460                       # dropped moments are missing, not zero
    for res in (sub, full):
        assert res.success, res.message
        e_theta, e_w = _err(res, theta, w)
        assert e_theta < (TOL if polish else 1e-5) and e_w < (TOL if polish else 1e-5)


def test_moment_basis_errors_are_named():
    from dataclasses import replace

    from gmp import ModelError, basis

    make, theta, w = CASES["multiview_3x3"]
    spec = make()
    m = spec.population_moments(np.array(theta, float), np.array(w))
    with pytest.raises(ModelError, match=r"basis must be 'model' .* or 'full', got 'sparse'"):
        pa.estimate_from_moments(spec, m, 3, basis="sparse")
    # a sub-basis without b_j d_k cannot give a1*b1*d1 = a1 * (b1 d1)
    small = replace(spec, moment_basis=lambda r: basis(9, 1))
    with pytest.raises(ModelError, match=r"moment of view1_mean1\*view2_mean1\*view3_mean1, which the model's "
                                         r"moment sub-basis does not reach.*pass basis='full'"):
        pa.estimate_from_moments(small, m, 3)
    with pytest.raises(ModelError, match="moment_basis must be a callable r -> exponent array or None, got list"):
        replace(spec, moment_basis=[[0] * 9])


def test_fit_test_is_hansens_j_and_rejects_data_off_the_model():
    # J = T r' S^-1 r at the GMM estimator (the feasible candidate with the smallest weighted
    # residual) is invariant under the standardization (an invertible linear map of the
    # moments), so it is recomputed here on the raw scale, from raw moments
    spec = gaussian_nd(2, "spherical")
    rng = np.random.default_rng(4)
    M, V, w = np.array([[-1.0, 0.0], [1.5, 1.0]]), np.array([[0.6, 0.6], [1.2, 1.2]]), np.array([0.4, 0.6])
    X = sample_gaussians(M, V, w, 20_000, rng)
    res = pa.estimate(spec, X, 2)
    ft = res.fit_test
    assert ft is not None and ft.dof == 14 - (2 * 3 + 1)
    phi = spec.observations(X)
    S = np.cov(phi.T, bias=True)
    Js = []
    for c in res.candidates:
        if c.feasible and c.n_free == 7:
            r = spec.moment_matrix_at(c.params, spec.polys_for(None)) @ c.weights - phi.mean(0)
            Js.append(X.shape[0] * r @ np.linalg.solve(S, r))
    assert ft.statistic == pytest.approx(min(Js), rel=1e-6)
    assert ft.pvalue == pytest.approx(scipy.stats.chi2.sf(ft.statistic, ft.dof))
    assert repr(ft) == f"J = {ft.statistic:.3g} on 7 dof, p = {ft.pvalue:.3g}"   # calibration: bench/fit_test.py
    # three components fitted with two: rejected
    X3 = sample_gaussians(np.array([[-2.0], [0.0], [2.0]]), np.full((3, 1), 0.3), np.array([0.3, 0.4, 0.3]),
                          20_000, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bad = pa.estimate(gaussian_1d(6), X3, 2)
    assert bad.fit_test.dof == 1 and bad.fit_test.pvalue < 1e-6
    # degrees of freedom: an equality per component, a tied parameter shared by all
    xi1, xi2, _ = spec.parameters
    with warnings.catch_warnings():   # these means are not on the line: a misfit, here only the dof matter
        warnings.simplefilter("ignore", RuntimeWarning)
        line = pa.estimate(spec, X, 2, constraints=[xi1 + xi2 == 1])
    assert line.fit_test.pvalue < 1e-6
    assert line.fit_test.dof == 14 - (2 * 2 + 1)
    g1 = gaussian_1d(6)
    with warnings.catch_warnings():   # the variances differ (0.6, 1.2): tying them is a misfit
        warnings.simplefilter("ignore", RuntimeWarning)
        tied = pa.estimate(g1, X[:, :1], 2, constraints=[pa.Tied(g1.parameters[1], bounds=(0.1, 3.0))])
    assert tied.fit_test.dof == 6 - (2 * 1 + 1 + 1)
    # no test: exact equalities (nothing left over), and data-dependent moment polynomials
    assert pa.estimate(spec, X, 2, method="exact").fit_test is None
    assert pa.estimate(spec, X, 2, refine=False).fit_test is None     # J needs the GMM minimizer
    Z = sample_linear_regressions(np.array([[1.0, -0.5], [-0.8, 0.9]]), np.array([0.25, 0.25]), w, 5000, rng)
    assert pa.estimate(linear_regression(2, 0.5), Z, 2).fit_test is None
