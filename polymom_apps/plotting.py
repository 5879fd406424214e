"""Plots of a fitted Gaussian mixture over its data: density and components in 1-d, ellipses in 2-d.

Needs matplotlib (``pip install "gmp-moments[plot]"``); no other polymom_apps module imports it.
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from gmp import ModelError

try:
    import matplotlib  # noqa: F401  (fail here, with the remedy, rather than at the first plot)
    from matplotlib.patches import Ellipse
except ImportError as exc:  # pragma: no cover - the test extra installs matplotlib
    raise ImportError('polymom_apps.plotting needs matplotlib; pip install "gmp-moments[plot]"') from exc

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_mixture", "MixtureParams", "mixture_params"]


class MixtureParams(NamedTuple):
    """A Gaussian mixture's parameters in one layout.

    Attributes
    ----------
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
    label : str
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    label: str


def _full(variances: np.ndarray, K: int, D: int) -> np.ndarray:
    """(K, D, D) covariance matrices from spherical (K,) or diagonal (K, D) variances."""
    v = np.asarray(variances, dtype=float)
    v = np.repeat(v.reshape(K, 1), D, axis=1) if v.size == K else v.reshape(K, D)
    return v[:, :, None] * np.eye(D)[None]


def mixture_params(fit: Any, label: str | None = None) -> MixtureParams:
    """Weights, means and (K, D, D) covariances of a Gaussian mixture fit.

    Parameters
    ----------
    fit : fitted estimator or result
        :class:`~polymom_apps.PolymomGaussianMixture`, scikit-learn's ``GaussianMixture``
        (any ``covariance_type``), :class:`polymom_apps.em.GaussianEM`, or an
        :class:`~polymom_apps.EstimateResult` of a Gaussian model (parameters: the means,
        then one variance or one per feature).
    label : str, optional
        Legend label; default the kind of fit.

    Returns
    -------
    MixtureParams
    """
    if hasattr(fit, "params") and hasattr(fit, "param_names"):          # EstimateResult
        if not fit.success:
            raise ModelError(f"the estimate failed ({fit.message}); nothing to plot")
        P, names = np.asarray(fit.params, float), fit.param_names
        n_mean = sum(1 for n in names if n.startswith(("mean", "xi")))
        if n_mean == 0 or P.shape[1] - n_mean not in (1, n_mean):
            raise ModelError(f"plot_mixture draws Gaussian mixtures (means, then variances); this result's "
                             f"parameters are {', '.join(names)}")
        K = P.shape[0]
        return MixtureParams(np.asarray(fit.weights, float), P[:, :n_mean], _full(P[:, n_mean:], K, n_mean),
                             label or "Polymom")
    if hasattr(fit, "variances") and hasattr(fit, "means"):              # polymom_apps.em.GaussianEM
        M = np.asarray(fit.means, float)
        return MixtureParams(np.asarray(fit.weights, float), M, _full(fit.variances, *M.shape), label or "EM")
    if not hasattr(fit, "means_"):
        raise ModelError(f"plot_mixture needs a fitted Gaussian mixture (PolymomGaussianMixture, scikit-learn's "
                         f"GaussianMixture, GaussianEM) or an EstimateResult, got {type(fit).__name__}; "
                         "call fit first")
    M = np.asarray(fit.means_, float)
    K, D = M.shape
    cov = np.asarray(fit.covariances_, float)
    kind = getattr(fit, "covariance_type", "diag")
    if kind == "full":
        full = cov
    elif kind == "tied":
        full = np.repeat(cov[None], K, axis=0)
    else:
        full = _full(cov, K, D)
    default = type(fit).__name__
    if default.startswith("Polymom"):
        default = "Poly + EM" if getattr(fit, "em_", None) is not None else "Polymom"
    return MixtureParams(np.asarray(fit.weights_, float), M, full, label or default)


def _drawable(mp: MixtureParams) -> MixtureParams:
    """The components with finite parameters and positive-definite covariances; a warning names the others."""
    ok = np.isfinite(mp.means).all(axis=1) & np.isfinite(mp.weights) & np.isfinite(mp.covariances).all(axis=(1, 2))
    ok[ok] = np.linalg.eigvalsh(mp.covariances[ok])[:, 0] > 0
    if ok.all():
        return mp
    if not ok.any():
        raise ModelError(f"no component of the {mp.label} fit has finite parameters and a positive variance; "
                         "nothing to draw (did the fit fail?)")
    bad = np.flatnonzero(~ok).tolist()
    warnings.warn(f"{mp.label}: component(s) {bad} have a non-positive (or non-finite) variance and are not drawn",
                  RuntimeWarning, stacklevel=3)
    return MixtureParams(mp.weights[ok], mp.means[ok], mp.covariances[ok], mp.label)


def _normal_pdf(x: np.ndarray, mean: float, var: float) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2 * np.pi * var)


def _plot_1d(ax: Axes, mp: MixtureParams, X: np.ndarray | None, components: bool, color: str,
             linestyle: str) -> None:
    sd = np.sqrt(mp.covariances[:, 0, 0])
    lo_hi = [mp.means[:, 0] - 4 * sd, mp.means[:, 0] + 4 * sd]
    lo, hi = float(np.min(lo_hi[0])), float(np.max(lo_hi[1]))
    if X is not None:
        lo, hi = min(lo, float(X[:, 0].min())), max(hi, float(X[:, 0].max()))
    grid = np.linspace(lo, hi, 400)
    comp = np.array([w * _normal_pdf(grid, m, v)
                     for w, m, v in zip(mp.weights, mp.means[:, 0], mp.covariances[:, 0, 0])])
    ax.plot(grid, comp.sum(axis=0), color=color, linestyle=linestyle, linewidth=2, label=f"{mp.label} density")
    if components:
        for k, c in enumerate(comp):
            ax.plot(grid, c, color=color, linestyle=":", linewidth=1,
                    label=f"{mp.label} components" if k == 0 else None)


def _plot_2d(ax: Axes, mp: MixtureParams, features: tuple[int, int], n_std: float, color: str,
             linestyle: str) -> None:
    i, j = features
    M = mp.means[:, [i, j]]
    ax.scatter(M[:, 0], M[:, 1], marker="x", s=80, color=color, zorder=4, label=f"{mp.label} means")
    for k, (m, C) in enumerate(zip(M, mp.covariances[:, [i, j]][:, :, [i, j]])):
        vals, vecs = np.linalg.eigh(C)
        vals = np.maximum(vals, 0.0)
        angle = float(np.degrees(np.arctan2(vecs[1, -1], vecs[0, -1])))
        ax.add_patch(Ellipse(tuple(m), 2 * n_std * np.sqrt(vals[-1]), 2 * n_std * np.sqrt(vals[0]), angle=angle,
                             fill=False, edgecolor=color, linestyle=linestyle, linewidth=2, zorder=3,
                             label=f"{mp.label} {n_std:g} sd" if k == 0 else None))


def plot_mixture(estimator_or_result: Any, X: Any = None, ax: Axes | None = None, *, overlay: Any = None,
                 features: tuple[int, int] = (0, 1), components: bool = True, bins: int = 60,
                 n_std: float = 2.0, max_points: int = 5000, random_state: int | None = 0,
                 label: str | None = None, overlay_label: str | None = None) -> Axes:
    """Draw a fitted Gaussian mixture over its data.

    1-d: a histogram of ``X`` (as a density), the mixture density and, dotted, each
    weighted component. 2-d (or the two ``features`` of D-d data): a scatter of ``X``,
    the means (crosses) and an ellipse per component at ``n_std`` standard deviations.
    ``overlay`` draws a second fit the same way (dashed), e.g. EM beside Polymom.

    Parameters
    ----------
    estimator_or_result : fitted estimator or EstimateResult
        See :func:`mixture_params` for what is accepted.
    X : array_like of shape (n_samples, n_features), optional
        The data, drawn under the fit.
    ax : matplotlib Axes, optional
        Where to draw; default the current Axes of pyplot.
    overlay : fitted estimator or result, optional
        Another fit of the same data, drawn dashed (scikit-learn's ``GaussianMixture``,
        :class:`polymom_apps.em.GaussianEM`, another Polymom fit).
    features : tuple of int
        The two columns drawn for data of more than one dimension.
    components : bool
        1-d: also draw each weighted component.
    bins : int
        1-d: histogram bins.
    n_std : float
        2-d: ellipse radius in standard deviations.
    max_points : int
        2-d: at most this many samples are scattered (a random subset, ``random_state``).
    random_state : int or None
    label, overlay_label : str, optional
        Legend labels of the fit and the overlay (default: the kind of fit, e.g.
        "Polymom", "Poly + EM", "GaussianMixture").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from polymom_apps import PolymomGaussianMixture       # doctest: +SKIP
    >>> from polymom_apps.plotting import plot_mixture         # doctest: +SKIP
    >>> gm = PolymomGaussianMixture(2).fit(X)                  # doctest: +SKIP
    >>> plot_mixture(gm, X)                                    # doctest: +SKIP
    """
    mp = _drawable(mixture_params(estimator_or_result, label))
    other = None if overlay is None else _drawable(mixture_params(overlay, overlay_label))
    D = mp.means.shape[1]
    if other is not None and other.means.shape[1] != D:
        raise ModelError(f"overlay has {other.means.shape[1]} features but the fit has {D}; overlay a fit of "
                         "the same data")
    if X is not None:
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != D:
            raise ModelError(f"X must have shape (n_samples, {D}) like the fit, got {X.shape}")
    if D > 1:
        features = tuple(int(f) for f in features)
        if len(features) != 2 or not all(0 <= f < D for f in features) or features[0] == features[1]:
            raise ModelError(f"features must be two different columns in 0..{D - 1}, got {features}")
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    if D == 1:
        if X is not None:
            ax.hist(X[:, 0], bins=bins, density=True, color="0.8", edgecolor="0.6", label="data")
        _plot_1d(ax, mp, X, components, "C0", "-")
        if other is not None:
            _plot_1d(ax, other, X, components, "C1", "--")
        ax.set_xlabel("x")
        ax.set_ylabel("density")
    else:
        i, j = features
        if X is not None:
            rows = X
            if X.shape[0] > max_points:
                pick = np.random.default_rng(random_state).choice(X.shape[0], max_points, replace=False)
                rows = X[np.sort(pick)]
            ax.scatter(rows[:, i], rows[:, j], s=4, color="0.6", alpha=0.5, zorder=1, label="data")
        _plot_2d(ax, mp, features, n_std, "C0", "-")
        if other is not None:
            _plot_2d(ax, other, features, n_std, "C1", "--")
        ax.set_xlabel(f"x{i + 1}")
        ax.set_ylabel(f"x{j + 1}")
        ax.autoscale_view()
    ax.legend(fontsize=8)
    return ax
