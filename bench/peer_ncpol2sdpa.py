"""Peer run for bench/sparse.py: ncpol2sdpa's relaxation with ``chordal_extension=True``.

Run in a separate environment that has ncpol2sdpa and cvxpy (not dependencies of gmp):
``python -m venv /work/venvs/ncpol && /work/venvs/ncpol/bin/pip install ncpol2sdpa cvxpy``;
``bench/sparse.py --peer /work/venvs/ncpol/bin/python`` calls this script as
``python bench/peer_ncpol2sdpa.py FAMILY N SOLVER`` and reads the JSON line it prints.
The chained functions are written here again in sympy (the definitions of
gmp.testing, [WKKM06, Sec. 6]); the relaxation is solved through cvxpy by the solver
named (clarabel by default, as gmp's run).
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np


def chained(family: str, x):
    n = len(x)
    if family == "generalized_rosenbrock":
        return 1 + sum(100 * (x[i] - x[i - 1] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(1, n)), 1.0
    if family == "chained_singular":
        return sum((x[i] + 10 * x[i + 1]) ** 2 + 5 * (x[i + 2] - x[i + 3]) ** 2 + (x[i + 1] - 2 * x[i + 2]) ** 4
                   + 10 * (x[i] - 10 * x[i + 3]) ** 4 for i in range(0, n - 3, 2)), 0.0
    if family == "chained_wood":
        return 1 + sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 + 90 * (x[i + 3] - x[i + 2] ** 2) ** 2
                       + (1 - x[i + 2]) ** 2 + 10 * (x[i + 1] + x[i + 3] - 2) ** 2 + 0.1 * (x[i + 1] - x[i + 3]) ** 2
                       for i in range(0, n - 3, 2)), 1.0
    if family == "broyden_tridiagonal":
        t = [(3 - 2 * x[i]) * x[i] + 1 - (x[i - 1] if i > 0 else 0) - 2 * (x[i + 1] if i < n - 1 else 0)
             for i in range(n)]
        return sum(ti ** 2 for ti in t), 0.0
    raise KeyError(family)


def main() -> None:
    from ncpol2sdpa import SdpRelaxation, generate_variables

    family, n, solver = sys.argv[1], int(sys.argv[2]), (sys.argv[3] if len(sys.argv) > 3 else "clarabel")
    x = generate_variables("x", n, commutative=True)
    t0 = time.perf_counter()
    f, optimum = chained(family, x)
    sdp = SdpRelaxation(x)
    sdp.get_relaxation(2, objective=f.expand(), chordal_extension=True)
    t1 = time.perf_counter()
    sdp.solve(solver="cvxpy", solverparameters={"solver": solver.upper()})
    t2 = time.perf_counter()
    bound = sdp.primal
    print(json.dumps({"build": t1 - t0, "solve": t2 - t1, "total": t2 - t0, "status": str(sdp.status),
                      "bound": bound, "moments": int(sdp.n_vars),
                      "error": abs(bound - optimum) / max(1.0, abs(optimum)) if np.isfinite(bound) else None}))


if __name__ == "__main__":
    main()
