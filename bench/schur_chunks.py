"""Chunk size of the sparse Schur-complement KKT solver (``gmp_backends.cvxopt_kkt``).

What is measured
----------------
``_Block.schur`` forms ``H[a, b] = tr(S_a V S_b V)`` for chunks of moments whose work
arrays hold at most ``CHUNK_ENTRIES`` doubles. For several chunk sizes, in one process
(so the ratios are comparable):

* **Schur alone**: the best time of ``_Block.schur`` on the moment relaxations' PSD
  blocks (a random positive definite ``V``), summed over the blocks of one program;
* **solves**: ``timings["solve"]``-equivalent wall time of the cvxopt backend with
  ``kktsolver="sparse"`` on the dense random POPs of ``bench/_common.py``, the chunk
  sizes alternating, ``--rounds`` rounds, with the bound of each solve.

Cases: the 3-view Polymom moment matrix on its sub-basis (37 x 37, 460 moments) and
whole (55 x 55, 715 moments), and the dense POPs n=8 r=3, n=12 r=2 (Schur alone);
n=10 r=2, n=12 r=2, n=6 r=3 (solves).

Usage::

    python bench/schur_chunks.py            # about 3 min on 2 cores
    python bench/schur_chunks.py --quick    # the small cases, two chunk sizes
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
import timeit
from pathlib import Path

try:
    import gmp  # noqa: F401
except ImportError:  # a checkout without pip install -e .
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import scipy.sparse as sp
from _common import dense_ball_problem  # noqa: E402

import gmp
import gmp_backends.cvxopt_kkt as ck
from gmp import GMP, Measure, build_relaxation
from gmp.monomials import basis
from gmp.subbasis import restrict_moment_matrix
from gmp_backends import SolverOptions, get_backend


def three_view_programs():
    """The 3-view trace relaxation (9 parameters, r = 2): on the per-view-linear sub-basis, and whole."""
    x = gmp.variables("x", 9)
    mu = Measure(x, mass=1.0)
    prog, rmap = build_relaxation(GMP(None, [], measures=[mu]), 2)
    B = basis(9, 2)
    view = np.repeat(np.arange(3), 3)
    per_view = np.stack([B[:, view == v].sum(1) for v in range(3)], 1)
    return restrict_moment_matrix(prog, rmap, B[per_view.max(1) <= 1]).program, prog


def schur_seconds(program, number: int, repeat: int) -> float:
    """Best time of one Schur complement over the program's PSD blocks (lower-triangle rows, as cvxopt's G)."""
    total = 0.0
    for blk in program.psd:
        d = blk.dim
        F = sp.csr_matrix(blk.F)
        r = np.arange(d * d)
        lower = sp.diags(((r % d) >= (r // d)).astype(float))
        block = ck._Block(sp.csr_matrix(lower @ F), d)
        A = np.random.default_rng(0).standard_normal((d, d))
        V = A @ A.T / d + np.eye(d)
        H = np.zeros((F.shape[1], F.shape[1]), order="F")
        total += min(timeit.repeat(lambda: block.schur(V, H), number=number, repeat=repeat)) / number
    return total


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small cases, chunk sizes 4e6 and 262144 only")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of the solves (default 2)")
    args = ap.parse_args(argv)
    sizes = (4_000_000, 262_144) if args.quick else (4_000_000, 1_000_000, 262_144, 65_536)
    default = ck.CHUNK_ENTRIES
    print(f"# reproduce: python bench/schur_chunks.py{' --quick' if args.quick else ''} --rounds {args.rounds}")
    print(f"# date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
          f"default CHUNK_ENTRIES = {default}")
    sub, whole = three_view_programs()
    cases = [("3-view sub-basis 37x37", sub, 5, 5), ("3-view whole 55x55", whole, 5, 5)]
    if not args.quick:
        cases += [("pop n=12 r=2", build_relaxation(dense_ball_problem(12, 2), 2)[0], 2, 3),
                  ("pop n=8 r=3", build_relaxation(dense_ball_problem(8, 3), 3)[0], 1, 3)]
    print("\nSchur complement alone (ms, best of the repeats):")
    print("| case | " + " | ".join(str(c) for c in sizes) + " |")
    print("|---" * (len(sizes) + 1) + "|")
    for name, prog, number, repeat in cases:
        row = []
        for c in sizes:
            ck.CHUNK_ENTRIES = c
            row.append(f"{schur_seconds(prog, number, repeat) * 1e3:.2f}")
        print(f"| {name} | " + " | ".join(row) + " |", flush=True)
    solve_cases = [(6, 3), (10, 2)] + ([] if args.quick else [(12, 2)])
    programs = {f"pop n={n} r={r}": build_relaxation(dense_ball_problem(n, r), r)[0] for n, r in solve_cases}
    be = get_backend("cvxopt")
    opts = SolverOptions.from_any({"extra": {"kktsolver": "sparse"}})
    be.run(programs["pop n=6 r=3"], opts)  # warm-up
    print("\nSolves with kktsolver='sparse' (s; bound), chunk sizes alternating:")
    print("| round | chunk | " + " | ".join(programs) + " |")
    print("|---|---" + "|---" * len(programs) + "|")
    for k in range(args.rounds):
        for c in sizes:
            ck.CHUNK_ENTRIES = c
            cells = []
            for prog in programs.values():
                t0 = time.perf_counter()
                sol = be.run(prog, opts)
                cells.append(f"{time.perf_counter() - t0:.2f} ({sol.primal_objective:.8f}, {sol.status.value})")
            print(f"| {k} | {c} | " + " | ".join(cells) + " |", flush=True)
    ck.CHUNK_ENTRIES = default


if __name__ == "__main__":
    main()
