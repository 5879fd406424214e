"""The SOS certificate read from the dual side of a relaxation.

Per measure ``mu_k``, the identity ``p_k + q_k - sum_j sigma_j g_j = r_k`` of the
objective's part, the multipliers of the linear rows, the SOS multipliers with their Gram
matrices and the residual [Las01, Sec. 4], [Las08]; :meth:`SOSCertificate.check`
evaluates ``r`` and the Gram matrices' spectra (docs/algorithms.md, "The SOS
certificate"; docs/certificates.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .conic import ConicProgram, ConicSolution
from .matrices import half_degree
from .monomials import basis, count
from .polynomial import Polynomial
from .rigorous import lambda_min_lower, sum_with_error, symmetric_from_lower

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP
    from .relaxation import RelaxationMap

__all__ = ["SOSMultiplier", "MeasureCertificate", "CertificateCheck", "SOSCertificate", "sos_certificate"]


def _poly(variables, exps: np.ndarray, coefs: np.ndarray) -> Polynomial:
    return Polynomial(variables, np.asarray(exps, dtype=np.int64).reshape(-1, len(variables)), coefs)


def gram_polynomial(variables, B: np.ndarray, G: np.ndarray) -> Polynomial:
    """``v^T G v`` with ``v`` the monomials of the rows of ``B`` (shape (N, n))."""
    N = B.shape[0]
    exps = (B[:, None, :] + B[None, :, :]).reshape(N * N, B.shape[1])
    return _poly(variables, exps, np.asarray(G, dtype=float).reshape(-1))


@dataclass(frozen=True, eq=False)
class SOSMultiplier:
    """``sigma = v^T gram v`` multiplying ``g`` (``g = 1``: the moment matrix's SOS term).

    Attributes
    ----------
    g : Polynomial
    basis : ndarray of shape (N, n)
        Exponents of the monomials of ``v``.
    gram : ndarray of shape (N, N)
    block : str
        Name of the PSD block of the relaxation it comes from.
    """

    g: Polynomial
    basis: np.ndarray
    gram: np.ndarray
    block: str

    def polynomial(self, variables) -> Polynomial:
        """``sigma`` as a gmp polynomial in ``variables``."""
        return gram_polynomial(variables, self.basis, self.gram)

    @property
    def min_eigenvalue(self) -> float:
        """Smallest eigenvalue of the Gram matrix (floating point estimate)."""
        return float(np.linalg.eigvalsh(self.gram)[0]) if self.gram.size else np.inf


@dataclass(frozen=True, eq=False)
class MeasureCertificate:
    """The identity ``p + q - sum_j sigma_j g_j = r`` for one measure (docs/algorithms.md, "The SOS certificate")."""

    measure: str
    variables: tuple
    objective: Polynomial
    linear: Polynomial
    multipliers: tuple[SOSMultiplier, ...]


@dataclass(frozen=True)
class CertificateCheck:
    """What :meth:`SOSCertificate.check` found.

    Attributes
    ----------
    residual : tuple of Polynomial
        ``r_k`` per measure, as computed in floating point.
    max_residual : float
        Largest coefficient of any ``r_k`` in absolute value, plus its rounding-error bound.
    min_gram_eigenvalue : float
        A rigorous lower bound on the smallest eigenvalue of every Gram matrix.
    ok : bool
        Both within ``tol``.
    """

    residual: tuple[Polynomial, ...]
    max_residual: float
    min_gram_eigenvalue: float
    ok: bool

    def __repr__(self) -> str:
        return (f"CertificateCheck(ok={self.ok}, max residual coefficient {self.max_residual:.2e}, "
                f"smallest Gram eigenvalue >= {self.min_gram_eigenvalue:.2e})")


@dataclass(frozen=True, eq=False)
class SOSCertificate:
    """The dual (SOS) side of a solved relaxation.

    Attributes
    ----------
    bound : float
        The dual objective in the problem's sense (what the identity certifies when
        ``r = 0`` and every Gram matrix is PSD).
    sense : {"min", "max"}
    measures : tuple of MeasureCertificate
    """

    bound: float
    sense: str
    measures: tuple[MeasureCertificate, ...]
    _program: ConicProgram
    _solution: ConicSolution
    _offsets: tuple[int, ...]

    def check(self, tol: float = 1e-6) -> CertificateCheck:
        """Evaluate the identity's residual and the Gram matrices' smallest eigenvalues."""
        p, sol = self._program, self._solution
        Zs = [symmetric_from_lower(Z) for Z in sol.Z_psd]
        y = sol.y_eq if sol.y_eq is not None else np.zeros(p.n_eq)
        z = sol.z_ineq if sol.z_ineq is not None else np.zeros(p.n_ineq)
        terms = [(p.A_eq.T, y), (p.A_ineq.T, z)]
        terms += [(-b.F.T, Z.reshape(-1, order="F")) for b, Z in zip(p.psd, Zs)]
        r, err = sum_with_error(terms, p.c)
        res = []
        for k, mc in enumerate(self.measures):
            lo, hi = self._offsets[k], self._offsets[k + 1]
            exps = basis(len(mc.variables), _degree(len(mc.variables), hi - lo))
            res.append(_poly(mc.variables, exps, r[lo:hi]))
        worst = float(np.max(np.abs(r) + err, initial=0.0))
        lam = min((lambda_min_lower(Z) for Z in Zs), default=np.inf)
        return CertificateCheck(tuple(res), worst, lam, bool(worst <= tol and lam >= -tol))

    def __repr__(self) -> str:
        k = sum(len(m.multipliers) for m in self.measures)
        return (f"<SOSCertificate {self.sense} bound {self.bound:.8g}: {k} SOS multiplier"
                f"{'s' if k != 1 else ''} over {len(self.measures)} measure(s)>")


def _degree(n: int, size: int) -> int:
    d = 0
    while count(n, d) < size:
        d += 1
    return d


def sos_certificate(problem: GMP, program: ConicProgram, rmap: RelaxationMap,
                    solution: ConicSolution) -> SOSCertificate | None:
    """The certificate of ``solution``'s duals, or None without duals or for a layout
    other than the dense moments of each measure."""
    if solution.Z_psd is None or (program.n_eq and solution.y_eq is None):
        return None
    if program.n_ineq and solution.z_ineq is None:
        return None
    r = rmap.order
    y = solution.y_eq if solution.y_eq is not None else np.zeros(program.n_eq)
    z = solution.z_ineq if solution.z_ineq is not None else np.zeros(program.n_ineq)
    lin = program.A_eq.T @ y + program.A_ineq.T @ z
    out = []
    for k, m in enumerate(problem.measures):
        lo, hi = rmap.offsets[k], rmap.offsets[k + 1]
        if hi - lo != count(m.n_vars, 2 * r):
            return None
        exps = basis(m.n_vars, 2 * r)
        mults = []
        for j, (owner, kind) in enumerate(rmap.block_owner):
            if owner != k:
                continue
            blk = program.psd[j]
            if kind == "moment":
                g = Polynomial((), np.zeros((1, 0), np.int64), [1.0])
            elif kind.startswith("localizing g"):
                g = m.inequalities[int(kind[len("localizing g"):])]
            else:
                return None
            B = basis(m.n_vars, r - half_degree(g.degree))
            if B.shape[0] != blk.dim:
                return None
            G = symmetric_from_lower(solution.Z_psd[j])
            mults.append(SOSMultiplier(g, B, G, blk.name))
        out.append(MeasureCertificate(m.name, m.variables, _poly(m.variables, exps, program.c[lo:hi]),
                                      _poly(m.variables, exps, lin[lo:hi]), tuple(mults)))
    y_all = [np.asarray(a, float) for a in (y, z)]
    d = (program.c0 - program.b_eq @ y_all[0] - program.b_ineq @ y_all[1]
         - sum(float(b.F0 @ symmetric_from_lower(Z).reshape(-1, order="F"))
               for b, Z in zip(program.psd, solution.Z_psd)))
    return SOSCertificate(rmap.sign * float(d), problem.objective.sense, tuple(out), program, solution,
                          tuple(rmap.offsets))
