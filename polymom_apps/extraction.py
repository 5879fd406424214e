"""The mixture read from the relaxation's moments: K atoms at fixed rank [WCL15, Sec. 4], weights on the simplex.

The weights are the extraction's, projected onto the simplex [DSSC08].
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from gmp import GMP, ConicSolution, Polynomial, RelaxationMap, count
from gmp.monomials import index

from .programs import gmp_result
from .results import EstimateResult
from .spec import MixtureSpec

__all__ = ["extract_mixture", "project_simplex", "truncated_starts"]


def extract_mixture(spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray, K: int, r: int, y: np.ndarray,
                    sol: ConicSolution, rmap: RelaxationMap, times: tuple[float, float, float],
                    problem: GMP, method: str, random_state: np.random.Generator | int | None,
                    sub_basis: np.ndarray | None = None) -> EstimateResult:
    """K atoms of the relaxation's moments ``y`` (the whole ``M_r``, or ``M_B`` on ``sub_basis``) as a mixture."""
    from gmp.extraction import extract_atoms
    from gmp.flatness import flatness, moment_matrix_from_vector
    from gmp.rank import FixedRank, numerical_rank
    from gmp.subbasis import extract_atoms_subbasis

    P = spec.n_params
    names = tuple(spec.param_names)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if sub_basis is None:
            report = flatness(y, P, r, d=1)  # default rule: the numerical ranks, for the record
            ranks = tuple(report.ranks)
            atoms = extract_atoms(y, P, r, rule=FixedRank(K), method="projection", rng=random_state)
        else:
            # M_0..M_{r-1} where M_B holds all their moments, then M_B in place of M_r
            report = None
            low = [s for s in range(r) if np.all(np.isfinite(y[:count(P, 2 * s)]))]
            ranks = tuple(numerical_rank(moment_matrix_from_vector(y[:count(P, 2 * s)], P, s)).rank
                          for s in low)
            ranks += (numerical_rank(y[index(sub_basis[:, None] + sub_basis[None])]).rank,)
            atoms = extract_atoms_subbasis(y, P, sub_basis, rule=FixedRank(K), rng=random_state)
    gres = gmp_result(sol, rmap, r, y, report, atoms, times, problem, ranks)
    if ranks[-1] < K and (len(ranks) < 2 or ranks[-2] < K):
        which = f"M_0..M_{r}" if sub_basis is None else f"M_0..M_{len(ranks) - 2}, then M_B on the sub-basis"
        msg = (f"the moment matrices have numerical ranks {list(ranks)} ({which}), below K={K}: the "
               f"moments are explained by fewer components; the {K} extracted components are not "
               "identified (fewer components, or more moments)")
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
        notes.append(msg)
    if not atoms.success:
        msg = f"could not extract {K} components: {atoms.reason}"
        warnings.warn(msg + "; try another order or method='robust'", RuntimeWarning, stacklevel=4)
        return EstimateResult(False, sol.status, msg, None, None, names, None, None, m, r, method, gres,
                              tuple(notes))
    pts = np.asarray(atoms.points, dtype=float)
    w_raw = np.asarray(atoms.weights, dtype=float)
    w = project_simplex(w_raw)
    if np.max(np.abs(w - w_raw)) > 1e-8:
        notes.append(f"weights {np.round(w_raw, 6).tolist()} projected onto the simplex")
    resid = spec.moment_matrix_at(pts, polys) @ w - m
    rel = float(np.linalg.norm(resid) / max(np.linalg.norm(m), 1e-300))
    msg = f"{K} components extracted at order {r} ({sol.status.value}); relative moment residual {rel:.2g}"
    return EstimateResult(True, sol.status, msg, pts, w, names, resid, rel, m, r, method, gres, tuple(notes))


def truncated_starts(P: int, y: np.ndarray, r: int, K: int, random_state: np.random.Generator | int | None) -> list:
    """Atoms of ``M_s(y)`` at rank K for ``s = r - 1, r - 2, ...`` while degree ``s - 1`` has K monomials."""
    from gmp.extraction import extract_atoms
    from gmp.rank import FixedRank

    out = []
    s = r - 1
    while s >= 1 and count(P, s - 1) >= K:
        if not np.all(np.isfinite(y[: count(P, 2 * s)])):   # a moment the sub-basis relaxation dropped
            s -= 1
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            a = extract_atoms(y[: count(P, 2 * s)], P, s, rule=FixedRank(K), method="projection",
                              rng=random_state)
        if a.success and np.all(np.isfinite(a.points)):
            out.append((np.asarray(a.points, float), project_simplex(np.asarray(a.weights, float)),
                        f"atoms of the truncated moment matrix M_{s}"))
        s -= 1
    return out


def project_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto ``{w >= 0, sum w = 1}`` [DSSC08]."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    k = np.arange(1, v.size + 1)
    rho = int(np.nonzero(u - css / k > 0)[0][-1])
    return np.maximum(v - css[rho] / (rho + 1), 0.0)
