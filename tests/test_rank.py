"""Rank rules on sample spectra: hand-computed ranks, gaps and margins, and spectra measured
on moment matrices returned by SDP solvers (docs/algorithms.md, "Rank and flatness", gives the measurements)."""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import scipy.linalg

import gmp.rank
from gmp.errors import ModelError
from gmp.rank import (
    DEFAULT_RANK_RULE,
    FixedRank,
    RankDecision,
    RelativeTolerance,
    SpectralGap,
    as_rank_rule,
    numerical_rank,
)


def test_doctests():
    assert doctest.testmod(gmp.rank).failed == 0


# --- RelativeTolerance -------------------------------------------------------------------

def test_relative_tolerance_counts_values_strictly_above_tol_times_largest():
    # 2e-3 == 1e-3 * 2.0 is exactly the threshold: not above it, dropped
    assert RelativeTolerance(1e-3).decide([2.0, 2e-3, 1e-3]).rank == 1
    assert RelativeTolerance(1e-3).decide([2.0, 2.1e-3, 1e-3]).rank == 2
    assert RelativeTolerance(1e-3).decide([2.0, 1.9e-3, 1e-3]).rank == 1


def test_relative_tolerance_gap_and_margin_by_hand():
    dec = RelativeTolerance(1e-6).decide([1e-8, 1.0, 1e-3])       # unsorted on purpose
    assert dec.rank == 2
    assert dec.singular_values.tolist() == [1.0, 1e-3, 1e-8]
    assert dec.gap == pytest.approx(1e-5)                          # 1e-8 / 1e-3
    # 1e-3 is 3 decades above the threshold 1e-6, 1e-8 is 2 decades below it
    assert dec.margin == pytest.approx(2.0)
    assert not dec.close


def test_relative_tolerance_scale_invariant():
    s = np.array([3.0, 0.2, 4e-6, 1e-9])
    assert RelativeTolerance(1e-5).decide(s).rank == RelativeTolerance(1e-5).decide(1e7 * s).rank == 2


# --- SpectralGap -------------------------------------------------------------------------

def test_spectral_gap_largest_qualifying_gap_wins():
    # cuts: after 1e0 (ratio 1e5, drops 1e-5 <= 1e-4), after 1e-5 (ratio 1e4): the larger gap wins
    assert SpectralGap().decide([1.0, 1e-5, 1e-9]).rank == 1


def test_spectral_gap_never_drops_values_above_tol():
    # the gap after 1.0 is 5e3, but 2e-4 > 1e-4 * s0 may not be called zero
    dec = SpectralGap().decide([1.0, 2e-4, 1e-12])
    assert dec.rank == 2


def test_spectral_gap_exact_zeros_are_an_infinite_gap():
    dec = SpectralGap().decide([1.0, 0.3, 0.0, 0.0])
    assert dec.rank == 2
    assert dec.gap == 0.0


def test_spectral_gap_margin_by_hand():
    dec = SpectralGap().decide([1.0, 1e-2, 1e-7])
    assert dec.rank == 2
    # the gap 1e5 clears min_ratio 1e3 by 2 decades; 1e-7 is 3 decades below tol 1e-4
    assert dec.margin == pytest.approx(2.0)


def test_spectral_gap_without_gap_keeps_full_rank_and_says_how_close():
    dec = SpectralGap().decide([1.0, 0.1, 0.01])
    assert dec.rank == 3
    # best cut (after 0.1): ratio 10 misses 1e3 by 2 decades; 0.01 is 2 decades above tol
    assert dec.margin == pytest.approx(2.0)


@pytest.mark.parametrize("size", range(2, 9))
def test_hilbert_matrix_has_no_gap(size):
    """Moment matrices of the uniform measure on [0, 1]: smooth spectrum, full rank."""
    h = scipy.linalg.hilbert(size)
    assert numerical_rank(h).rank == size


def test_relative_tolerance_truncates_hilbert_matrices():
    """Why the default is not a plain relative tolerance: ranks 5, 5 of H_5, H_6 look flat."""
    ranks = [numerical_rank(scipy.linalg.hilbert(k), RelativeTolerance(1e-6)).rank for k in (5, 6, 7)]
    assert ranks == [5, 5, 5]


# Relative spectra s_i / s_0 of moment matrices from Lasserre relaxations (cvxopt, Clarabel, SCS,
# eps 1e-7), with the rank of the true minimizing measure.
MEASURED = {
    "camel order 3 cvxopt M_2": ([1, 4.1e-1, 5.0e-7, 9.9e-8, 3.8e-8, 7.6e-9], 2),
    "camel order 3 scs M_2": ([1, 4.1e-1, 2.2e-6, 1.7e-7, 1.7e-7, 2.1e-6], 2),
    "camel order 4 cvxopt M_3": ([1, 5.1e-1, 7.2e-5, 6.7e-6, 2.0e-6, 6.2e-7, 3.5e-7, 7.2e-8, 3.7e-9, 1.0e-8], 2),
    "unique minimizer order 3 clarabel M_2": ([1, 5.0e-5, 3.7e-5, 3.7e-9, 7.5e-10, 2.1e-9], 1),
    "three minimizers order 3 cvxopt M_2": ([1, 4.2e-1, 3.6e-1, 1.4e-8, 1.5e-9, 6.0e-9], 3),
    "double well order 2 scs M_2": ([1, 5.0e-1, 2.3e-9], 2),
}


@pytest.mark.parametrize("name", MEASURED)
def test_default_rule_on_measured_sdp_spectra(name):
    spectrum, rank = MEASURED[name]
    assert DEFAULT_RANK_RULE.decide(spectrum).rank == rank


def test_relative_tolerance_1e6_misses_the_scs_camel_rank():
    spectrum, rank = MEASURED["camel order 3 scs M_2"]
    assert RelativeTolerance(1e-6).decide(spectrum).rank == 4 != rank


# --- FixedRank ---------------------------------------------------------------------------

def test_fixed_rank_is_capped_and_reports_gap():
    dec = FixedRank(2).decide([4.0, 2.0, 1.0])
    assert (dec.rank, dec.gap) == (2, 0.5)
    assert math.isnan(dec.margin) and not dec.close
    assert FixedRank(5).decide([1.0, 0.5]).rank == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_fixed_rank_rejects_non_positive_integers(bad):
    with pytest.raises(ModelError, match="positive integer"):
        FixedRank(bad)


# --- decisions, zero spectra, validation ---------------------------------------------------

@pytest.mark.parametrize("rule", [RelativeTolerance(), SpectralGap(), FixedRank(3)])
def test_zero_spectrum(rule):
    dec = rule.decide([0.0, 0.0, 0.0])
    assert dec.rank == (3 if isinstance(rule, FixedRank) else 0)
    assert isinstance(dec, RankDecision)


def test_decision_repr_is_readable():
    # threshold 2e-6: the kept 1.0 is 5.7 decades above it, the dropped 2e-9 3 decades below
    text = repr(RelativeTolerance(1e-6).decide([2.0, 1.0, 2e-9]))
    assert text == "rank 2 by relative tolerance 1e-6: s/s0 = [1, 0.5 | 1e-09] (gap 2e-09, margin 3 decades)"


def test_decision_is_frozen():
    dec = SpectralGap().decide([1.0, 1e-9])
    with pytest.raises(AttributeError):
        dec.rank = 3
    with pytest.raises(ValueError):
        dec.singular_values[0] = 2.0


@pytest.mark.parametrize(
    "spectrum, text",
    [([1.0, -1e-9], "non-negative"), ([1.0, np.nan], "NaN or inf"), ([[1.0]], "1-d")],
)
def test_invalid_spectra_raise(spectrum, text):
    with pytest.raises(ModelError, match=text):
        SpectralGap().decide(spectrum)


@pytest.mark.parametrize("make", [lambda: RelativeTolerance(0.0), lambda: RelativeTolerance(2.0),
                                  lambda: SpectralGap(tol=-1.0), lambda: SpectralGap(min_ratio=1.0)])
def test_invalid_parameters_raise(make):
    with pytest.raises(ModelError):
        make()


# --- as_rank_rule and numerical_rank -------------------------------------------------------

def test_as_rank_rule_float_shorthand():
    assert as_rank_rule(1e-6) == SpectralGap(min_ratio=1e3, tol=1e-6)
    assert as_rank_rule(np.float64(1e-5)) == SpectralGap(min_ratio=1e3, tol=1e-5)
    assert as_rank_rule(None) is DEFAULT_RANK_RULE
    rule = FixedRank(3)
    assert as_rank_rule(rule) is rule


@pytest.mark.parametrize(
    "bad, text",
    [
        ("x", "rule must be a RankRule (RelativeTolerance, SpectralGap, FixedRank), a float tolerance "
              "or None for the default rule, but got 'x' of type str; pass e.g. rule=1e-6 or rule=FixedRank(2)"),
        (True, "rule must be a RankRule (RelativeTolerance, SpectralGap, FixedRank), a float tolerance "
               "or None for the default rule, but got True of type bool; pass e.g. rule=1e-6 or rule=FixedRank(2)"),
    ],
)
def test_as_rank_rule_rejects_other_types_with_a_remedy(bad, text):
    with pytest.raises(TypeError) as info:
        as_rank_rule(bad)
    assert str(info.value) == text


def test_numerical_rank_of_random_low_rank_products():
    rng = np.random.default_rng(3)
    for rank in range(1, 6):
        a = rng.standard_normal((8, rank)) @ rng.standard_normal((rank, 7))
        assert numerical_rank(a).rank == rank
        assert numerical_rank(a, 1e-8).rank == rank


def test_numerical_rank_rejects_non_matrices():
    with pytest.raises(ModelError, match="2-d"):
        numerical_rank(np.ones(3))
    with pytest.raises(ModelError, match="NaN or inf"):
        numerical_rank(np.array([[1.0, np.inf]]))
