"""Feasible estimates only: every returned mixture has positive variances and weights on the simplex."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import polymom_apps as pa
from polymom_apps.experiments.synthetic import sample_gaussians, sample_poisson
from polymom_apps.models import gaussian_1d, gaussian_nd, poisson
from polymom_apps.results import EstimateStatus
from polymom_apps.selection import Candidate, box_bounds, choose


def _assert_feasible(res, n_var_cols):
    """A successful estimate is a mixture; a failed one says why and returns no parameters."""
    if not res.success:
        assert res.params is None and res.weights is None and res.message
        return
    assert np.all(np.isfinite(res.params)) and np.all(res.params[:, -n_var_cols:] > 0)
    assert np.all(res.weights >= 0) and res.weights.sum() == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), model=st.sampled_from(["1d", "spherical", "diag"]), K=st.integers(1, 3),
       T=st.sampled_from([100, 300, 1000]))
def test_random_small_samples_never_give_an_impossible_mixture(seed, model, K, T):
    # small samples from random (possibly heavily overlapping) mixtures: the moment fits that
    # used to keep a variance <= 0 (4 of 30 Table 3 fits at T = 1e3) or weights off the simplex
    rng = np.random.default_rng(seed)
    D = 1 if model == "1d" else 2
    M = rng.normal(0, 1.5, (K, D))
    V = rng.uniform(0.05, 3.0, (K, 1 if model == "spherical" else D)) * np.ones((K, D))
    w = rng.dirichlet(np.full(K, 2.0))
    X = sample_gaussians(M, V, w, T, rng)
    spec = gaussian_1d(4 if K == 1 else 3 * K) if model == "1d" else gaussian_nd(2, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pa.estimate(spec, X, K, random_state=0)
    _assert_feasible(res, 1 if model in ("1d", "spherical") else 2)


def test_poisson_rates_stay_positive():
    rng = np.random.default_rng(3)
    X = sample_poisson(np.array([[0.3], [0.9]]), np.array([0.5, 0.5]), 400, rng)   # two close, small rates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pa.estimate(poisson(1, 4), X, 2)
    _assert_feasible(res, 1)


def test_relaxation_atoms_off_the_constraint_are_not_returned():
    # without the polish the estimate is the relaxation's atoms; on a few noisy samples they miss
    # the parabola xi1 = xi2^2 that every component must satisfy: no estimate, and a status that
    # says so (not "infeasible": that the candidates broke the constraint proves nothing about
    # the model)
    rng = np.random.default_rng(0)
    spec = gaussian_nd(2, "spherical")
    a, b, _ = spec.parameters
    X = sample_gaussians(np.array([[1.0, 1.0], [4.0, -2.0]]), np.full((2, 2), 0.5), np.array([0.5, 0.5]), 300, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pa.estimate(spec, X, 2, constraints=[a - b**2 == 0], refine=False)
        polished = pa.estimate(spec, X, 2, constraints=[a - b**2 == 0])
    assert not res.success and res.status is EstimateStatus.NO_FEASIBLE_ESTIMATE
    assert res.params is None and "violates" in res.message
    assert res.candidates and not any(c.feasible for c in res.candidates)
    assert polished.success     # the polish puts the components on the parabola
    np.testing.assert_allclose(polished.params[:, 0], polished.params[:, 1] ** 2, atol=1e-5)


def test_box_bounds_are_strict_and_only_for_one_parameter_inequalities():
    spec = gaussian_nd(2, "diag")
    x1, x2, c1, c2 = spec.parameters
    lo, hi, rest = box_bounds(spec, [c1 >= 0, 2 * c2 - 1 >= 0, 3 - x1 >= 0, x1 + x2 == 1, x1 * x2 >= 0])
    assert lo[2] > 0 and lo[2] == pytest.approx(0, abs=1e-8) and lo[3] > 0.5 and lo[3] == pytest.approx(0.5)
    assert hi[0] < 3 and hi[0] == pytest.approx(3) and np.isinf(lo[:2]).all() and np.isinf(hi[1:]).all()
    assert [str(c) for c in rest] == [str(x1 + x2 == 1), str(x1 * x2 >= 0)]


def test_choice_prefers_the_likelihood_and_penalizes_size_by_two_per_parameter():
    one = np.zeros((2, 1))
    big = Candidate(one, np.array([0.5, 0.5]), "full", cost=0.0, log_likelihood=-1.000, n_free=5)
    small = Candidate(one, np.array([0.5, 0.5]), "pruned", cost=1.0, log_likelihood=-1.002, n_free=2)
    bad = Candidate(one, np.array([0.5, 0.5]), "bad", cost=0.0, violation="x", log_likelihood=0.0, n_free=1)
    # AIC: -2 T ll + 2 n_free; at T = 1000: 2000 + 10 against 2004 + 4; at T = 10000 the likelihood wins
    assert choose([big, small, bad], 1000) is small
    assert choose([big, small, bad], 10000) is big
    assert choose([big, small], None) is big          # given moments: the moment fit alone
    assert choose([bad]) is None
