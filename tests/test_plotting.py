"""gmp.plotting and polymom_apps.plotting draw what the results hold (Agg backend)."""
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

import gmp  # noqa: E402
from gmp.plotting import plot_moment_spectrum  # noqa: E402
from polymom_apps import PolymomGaussianMixture  # noqa: E402
from polymom_apps.experiments.synthetic import sample_gaussians  # noqa: E402
from polymom_apps.plotting import mixture_params, plot_mixture  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _points(ax, color_test):
    """(x, y) of the scatter points whose face colour passes ``color_test``."""
    out = []
    for c in ax.collections:
        if isinstance(c, PathCollection) and c.get_offsets().size:
            fc = c.get_facecolors()
            if color_test(fc):
                out.append(np.asarray(c.get_offsets()))
    return np.concatenate(out) if out else np.zeros((0, 2))


@pytest.fixture(scope="module")
def camel():
    x, y = gmp.variables("x y")
    return gmp.solve(4 * x**2 - 2.1 * x**4 + x**6 / 3 + x * y - 4 * y**2 + 4 * y**4, order=3)


def test_moment_spectrum_draws_every_singular_value_the_cut_and_the_flat_order(camel, ax):
    rep = camel.flatness[0]
    assert camel.certified and rep.flat_orders     # Dixon-Szego's camel: flat at s=2 [HL05]
    assert plot_moment_spectrum(camel, ax, rule=1e-4) is ax
    kept = _points(ax, lambda fc: len(fc) > 0 and fc[0][3] > 0)     # filled markers
    dropped = _points(ax, lambda fc: len(fc) == 0 or fc[0][3] == 0)  # hollow markers
    for s, dec in enumerate(rep.decisions):
        sv = np.asarray(dec.singular_values)
        rel = np.maximum(sv / sv[0], 1e-16)
        np.testing.assert_allclose(np.sort(kept[kept[:, 0] == s, 1]), np.sort(rel[:dec.rank]))
        np.testing.assert_allclose(np.sort(dropped[dropped[:, 0] == s, 1]), np.sort(rel[dec.rank:]))
    # one shaded band per flat order, centred on it
    bands = [p for p in ax.patches if p.get_alpha() == 0.15]
    assert sorted(p.get_x() + p.get_width() / 2 for p in bands) == pytest.approx(list(rep.flat_orders))
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"rank {r}" for r in rep.ranks]
    assert any(np.allclose(line.get_ydata(), 1e-4) for line in ax.get_lines())   # the rule's tolerance
    assert ax.get_yscale() == "log" and ax.get_title().startswith("flat at s=2")


def test_moment_spectrum_of_a_bound_only_result_marks_no_flat_order(ax):
    x = gmp.variables("x")
    # uniform measure on [0, 1] as the optimum of a trace objective: smooth spectrum, never flat
    res = gmp.solve(0 * x, [x >= 0, 1 - x >= 0], order=3)
    plot_moment_spectrum(res, ax)
    assert not res.flatness[0].flat_orders
    assert not [p for p in ax.patches if p.get_alpha() == 0.15]


def test_moment_spectrum_of_a_mixture_estimate_and_misuse(ax):
    import polymom_apps as pa
    from polymom_apps.models import gaussian_1d

    spec = gaussian_1d(6)
    res = pa.estimate_from_moments(spec, spec.population_moments([[-1.0, 0.5], [1.5, 1.2]], [0.4, 0.6]), 2)
    plot_moment_spectrum(res, ax)
    assert [t.get_text() for t in ax.texts] == [f"rank {r}" for r in res.gmp_result.flatness[0].ranks]
    with pytest.raises(gmp.ModelError, match="needs a gmp.Result, an EstimateResult or a FlatnessReport, got str"):
        plot_moment_spectrum("camel", ax)


@pytest.fixture(scope="module")
def data_2d():
    rng = np.random.default_rng(0)
    return sample_gaussians(np.array([[-2.0, 0.0], [2.0, 1.0]]), np.array([[1.0, 0.5], [0.5, 0.8]]),
                            np.array([0.4, 0.6]), 8000, rng)


def test_plot_mixture_1d_histogram_density_and_components(data_2d, ax):
    X = data_2d[:, :1]
    gm = PolymomGaussianMixture(2, random_state=0).fit(X)
    assert plot_mixture(gm, X, ax, bins=40) is ax
    assert len(ax.patches) == 40                                   # the histogram's bars
    heights = np.array([p.get_height() for p in ax.patches])
    widths = np.array([p.get_width() for p in ax.patches])
    assert np.sum(heights * widths) == pytest.approx(1.0)          # a density
    density, *comps = ax.get_lines()
    x = density.get_xdata()
    np.testing.assert_allclose(density.get_ydata(), np.exp(gm.score_samples(x[:, None])), rtol=1e-9)
    assert len(comps) == 2
    np.testing.assert_allclose(comps[0].get_ydata() + comps[1].get_ydata(), density.get_ydata(), rtol=1e-12)


def test_plot_mixture_2d_ellipses_and_em_overlay(data_2d, ax):
    from sklearn.mixture import GaussianMixture

    gm = PolymomGaussianMixture(2, covariance_type="diag", random_state=0).fit(data_2d)
    em = GaussianMixture(2, covariance_type="full", random_state=0).fit(data_2d)
    plot_mixture(gm, data_2d, ax, overlay=em, n_std=2.0, max_points=1000)
    ells = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ells) == 4
    ours = [e for e in ells if e.get_linestyle() == "-"]
    for e in ours:     # axis-aligned ellipses at 2 standard deviations around the estimated means
        k = int(np.argmin(np.linalg.norm(gm.means_ - np.array(e.center), axis=1)))
        np.testing.assert_allclose(e.center, gm.means_[k])
        sd = np.sqrt(gm.covariances_[k])
        np.testing.assert_allclose(sorted([e.width, e.height]), sorted(4 * sd))
    theirs = [e for e in ells if e.get_linestyle() != "-"]
    for e in theirs:   # EM's full covariances: axes are 2 sd along the eigenvectors
        k = int(np.argmin(np.linalg.norm(em.means_ - np.array(e.center), axis=1)))
        np.testing.assert_allclose(sorted([e.width, e.height]), 4 * np.sqrt(np.linalg.eigvalsh(em.covariances_[k])))
    data = [c for c in ax.collections if c.get_label() == "data"]
    assert len(data) == 1 and data[0].get_offsets().shape == (1000, 2)


def test_plot_mixture_takes_results_and_em_fits(data_2d, ax):
    import polymom_apps as pa
    from polymom_apps.em import em_gaussian_mixture
    from polymom_apps.models import gaussian_nd

    res = pa.estimate(gaussian_nd(2, "spherical"), data_2d, 2, random_state=0)
    mp = mixture_params(res)
    np.testing.assert_allclose(mp.means, res.params[:, :2])
    np.testing.assert_allclose(mp.covariances[:, 0, 0], res.params[:, 2])
    np.testing.assert_allclose(mp.covariances[:, 1, 1], res.params[:, 2])
    fit = em_gaussian_mixture(data_2d, (res.params[:, :2], res.params[:, 2], res.weights), covariance_type="spherical")
    plot_mixture(res, data_2d, ax, overlay=fit)
    assert len([p for p in ax.patches if isinstance(p, Ellipse)]) == 4
    labels = ax.get_legend_handles_labels()[1]
    assert "Polymom means" in labels and "EM means" in labels
    ax.clear()
    plot_mixture(res, data_2d, ax, overlay=fit, label="moments", overlay_label="likelihood")
    assert {"moments means", "likelihood 2 sd"} <= set(ax.get_legend_handles_labels()[1])
    with pytest.raises(gmp.ModelError, match=r"X must have shape \(n_samples, 2\) like the fit, got \(10, 3\)"):
        plot_mixture(res, np.zeros((10, 3)), ax)
    with pytest.raises(gmp.ModelError, match="call fit first"):
        plot_mixture(PolymomGaussianMixture(2), data_2d, ax)


def test_nothing_below_the_plotting_modules_imports_matplotlib():
    code = ("import sys, gmp, gmp_backends, polymom_apps, polymom_apps.estimators, polymom_apps.em;"
            "gmp.solve(gmp.variables('x')**2);"
            "assert not [m for m in sys.modules if m.startswith('matplotlib')], 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_component_with_a_negative_variance_is_named_and_not_drawn(ax):
    from types import SimpleNamespace

    fit = SimpleNamespace(means_=np.array([[0.0], [3.0]]), covariances_=np.array([1.0, -0.2]),
                          weights_=np.array([0.5, 0.5]), covariance_type="spherical")
    with pytest.warns(RuntimeWarning, match=r"component\(s\) \[1\] have a non-positive"):
        plot_mixture(fit, None, ax)
    assert len(ax.get_lines()) == 2         # the density and its one drawable component
    nan = SimpleNamespace(means_=np.full((2, 1), np.nan), covariances_=np.full(2, np.nan),
                          weights_=np.full(2, np.nan), covariance_type="spherical")
    with pytest.raises(gmp.ModelError, match="nothing to draw"):
        plot_mixture(nan, None, ax)
