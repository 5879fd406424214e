"""Synthetic mixtures with known parameters (for tests and the Table 3 bench)."""
from __future__ import annotations

import itertools

import numpy as np

__all__ = ["sample_gaussians", "sample_linear_regressions", "sample_multiview", "sample_poisson", "max_relative_error"]


def _labels(rng: np.random.Generator, weights: np.ndarray, T: int) -> np.ndarray:
    return rng.choice(len(weights), size=T, p=np.asarray(weights) / np.sum(weights))


def sample_gaussians(means: np.ndarray, variances: np.ndarray, weights: np.ndarray, T: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Rows of a Gaussian mixture with diagonal covariances ``variances`` (K, D)."""
    z = _labels(rng, weights, T)
    return means[z] + np.sqrt(variances[z]) * rng.standard_normal((T, means.shape[1]))


def sample_linear_regressions(W: np.ndarray, noise_var: np.ndarray, weights: np.ndarray, T: int,
                              rng: np.random.Generator) -> np.ndarray:
    """``[x, y]`` with ``x ~ N(0, I)``, ``y = w_z . x + N(0, noise_var_z)``."""
    z = _labels(rng, weights, T)
    x = rng.standard_normal((T, W.shape[1]))
    y = np.sum(W[z] * x, axis=1) + np.sqrt(np.asarray(noise_var)[z]) * rng.standard_normal(T)
    return np.column_stack([x, y])


def sample_multiview(means: np.ndarray, weights: np.ndarray, T: int, rng: np.random.Generator,
                     noise: float = 1.0) -> np.ndarray:
    """Three views: ``means`` (K, 3D) plus independent N(0, noise) per coordinate."""
    z = _labels(rng, weights, T)
    return means[z] + np.sqrt(noise) * rng.standard_normal((T, means.shape[1]))


def sample_poisson(rates: np.ndarray, weights: np.ndarray, T: int, rng: np.random.Generator) -> np.ndarray:
    z = _labels(rng, weights, T)
    return rng.poisson(rates[z]).astype(float)


def max_relative_error(est: np.ndarray, true: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """``max_k ||est_k - true_k|| / ||true_k||`` after the best permutation [WCL15, Sec. 5]."""
    K = true.shape[0]
    best, perm = np.inf, tuple(range(K))
    for p in itertools.permutations(range(K)):
        e = max(np.linalg.norm(est[p[k]] - true[k]) / np.linalg.norm(true[k]) for k in range(K))
        if e < best:
            best, perm = e, p
    return float(best), perm
