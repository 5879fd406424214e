"""Sparse relaxations (issue 13): dense vs correlative vs correlative+term on chained problems.

For the four chained families of ``gmp.testing`` (generalized Rosenbrock, chained
singular, chained Wood, Broyden tridiagonal) at n = 10 ... 1000 and order 2, and for
the band max-cut of ``gmp.testing.sparse_maxcut``, the script solves the dense
relaxation (while it finishes within ``--cap`` seconds: after one dense run of a family
times out, its larger sizes are not tried), the correlative one and the
correlative+term one, each in a fresh subprocess (so that a run can be stopped at the
cap and memory does not carry over), and prints build and solve seconds, the size of
the relaxation, the bound's error against the known optimum (relative to
``max(1, |optimum|)``) and whether the result is certified. With ``--peer PYTHON``
it also runs ncpol2sdpa with ``chordal_extension=True`` (``bench/peer_ncpol2sdpa.py``,
solved by the same solver through cvxpy) in that interpreter, for n up to ``--peer-max``.
With several ``--backend`` names, every sparse case runs on each (the dense ones and the
peer on the first only). At the end it checks the issue's targets: every family at
n = 100 under 5 s and at n = 1000 under 120 s with a correct bound (error <= 1e-4) on
the fastest free backend (the fastest run with a correct bound, over the backends and
the two sparse relaxations), and dense / sparse time >= 10 on chained Wood n = 12.

    python bench/sparse.py                              # the recorded run (15-30 min on 2 cores, depending on the load)
    python bench/sparse.py --quick                      # n = 10, 20, 100 (about 2 min)
    python bench/sparse.py --peer /work/venvs/ncpol/bin/python --markdown
    python bench/sparse.py --backend clarabel cvxopt --markdown   # targets over both solvers
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
try:
    import gmp  # noqa: F401
except ImportError:  # a checkout without pip install -e .
    sys.path.insert(0, ROOT)

from _common import cpu_model, load_average, package_version  # noqa: E402

import gmp  # noqa: E402
from gmp.testing import CHAINED_FAMILIES, chained_problem, sparse_maxcut  # noqa: E402

SIZES = (10, 20, 50, 100, 200, 500, 1000)
RELAXATIONS = ("dense", "correlative", "correlative+term")


def _problem(family: str, n: int):
    return sparse_maxcut(n) if family == "maxcut_band2" else chained_problem(family, n)


def run_one(family: str, n: int, relaxation: str, backend: str, tol: float | None) -> dict:
    """Solve one case in this process; the figures as a dict."""
    p = _problem(family, n)
    t0 = time.perf_counter()
    inst = p.build()
    t_poly = time.perf_counter() - t0
    options = {"tol": tol} if tol else None
    res = inst.solve(order=p.exact_order, backend=backend, options=options,
                     sparsity=None if relaxation == "dense" else relaxation)
    t = res.timings
    out = {
        "family": family, "n": n, "relaxation": relaxation, "backend": backend,
        "status": res.status.value, "bound": res.bound, "optimum": p.optimum,
        "error": None if res.bound is None else abs(res.bound - p.optimum) / max(1.0, abs(p.optimum)),
        "certified": res.certified, "polynomial": t_poly, "build": t["build"], "solve": t["solve"],
        "extract": t["extract"], "total": t["total"],
        "moments": res.solution.x.size if res.solution.x is not None else None,
    }
    if res.sparsity is not None:
        out.update(cliques=len(res.sparsity.cliques), max_clique=max(map(len, res.sparsity.cliques)),
                   blocks=len(res.sparsity.block_sizes), max_block=res.sparsity.max_block,
                   rip=res.sparsity.rip, steps=res.sparsity.term_steps)
    else:
        out.update(cliques=1, max_clique=n, blocks=None, max_block=None, rip=True, steps=0)
    if res.sparsity is None and relaxation != "dense":
        out["note"] = "auto fell back to dense"
    if not res.certified:
        out["why"] = res.message[:160]
    return out


#: Address space of one case (GB): a dense relaxation too big for the machine fails at this
#: limit instead of driving the shared machine into its out-of-memory killer.
MEMORY_LIMIT_GB = 12


def _limit_memory(gb: float) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(gb * 2**30), int(gb * 2**30)))
    except (ImportError, ValueError, OSError):   # not POSIX: no limit
        pass


def run_subprocess(args: list[str], cap: float, python: str | None = None, script: str | None = None) -> dict:
    cmd = [python or sys.executable, script or os.path.abspath(__file__)] + args
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=cap, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "wall": time.perf_counter() - start}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1][:160]
        killed = f" (killed by signal {-done.returncode}: out of memory?)" if done.returncode < 0 else ""
        return {"failure": f"exit {done.returncode}{killed}: {last}"}
    out = json.loads(lines[-1])
    out["wall"] = time.perf_counter() - start
    return out


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def row_text(r: dict, cap: float) -> str:
    if r.get("timeout"):
        return f"> {cap:.0f} s (stopped)"
    if "failure" in r:
        return f"failed: {r['failure']}"
    size = f"{r.get('cliques') or '-'} cl. ≤{r.get('max_clique')}" if r["relaxation"] != "dense" else "1 clique"
    blocks = "-" if r.get("max_block") is None else f"{r['blocks']} blk ≤{r['max_block']}"
    return (f"{size:>14} {blocks:>14} {_fmt(r.get('moments'), '>7')} mom  build {r['build']:7.3f}  "
            f"solve {r['solve']:8.3f}  total {r['total']:8.3f}  err {_fmt(r['error'], '.1e')}  "
            f"{r['status']:<18} {'certified' if r['certified'] else 'bound only'}")


def markdown_row(r: dict, cap: float) -> str:
    name = f"| {r['family']} | {r['n']} | {r['relaxation']} | {r['backend']} |"
    if r.get("timeout"):
        return name + f" > {cap:.0f} s | | | | | | stopped |"
    if "failure" in r:
        return name + f" failed | | | | | | {r['failure'][:60]} |"
    shape = "1" if r["relaxation"] == "dense" else f"{r['cliques']} (≤{r['max_clique']})"
    blocks = f"{r['blocks']} (≤{r['max_block']})" if r.get("max_block") is not None else "1"
    return (name + f" {shape} | {blocks} | {_fmt(r.get('moments'), 'd')} | {r['build']:.3f} | {r['solve']:.3f} | "
            f"{_fmt(r['error'], '.1e')} | {r['status']}, {'certified' if r['certified'] else 'bound only'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--one", nargs=3, metavar=("FAMILY", "N", "RELAXATION"), help=argparse.SUPPRESS)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--families", nargs="+", default=list(CHAINED_FAMILIES) + ["maxcut_band2"])
    ap.add_argument("--backend", nargs="+", default=["clarabel"],
                    help="the solver(s) (default clarabel; dense cases and the peer use the first)")
    ap.add_argument("--tol", type=float, default=None, help="solver tolerance (default: the backend's)")
    ap.add_argument("--cap", type=float, default=300.0, help="seconds a dense run may take (default 300)")
    ap.add_argument("--sparse-cap", type=float, default=600.0, help="seconds a sparse run may take")
    ap.add_argument("--extra-dense", type=int, nargs="*", default=[12],
                    help="sizes also run dense for chained_wood (the 10x target is at n = 12)")
    ap.add_argument("--peer", default=None, help="python of a venv with ncpol2sdpa and cvxpy")
    ap.add_argument("--peer-max", type=int, default=100, help="largest n the peer runs")
    ap.add_argument("--no-dense", action="store_true", help="sparse relaxations only")
    ap.add_argument("--quick", action="store_true", help="n = 10, 20, 100")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    if a.one:
        _limit_memory(MEMORY_LIMIT_GB)
        fam, n, rel = a.one
        print(json.dumps(run_one(fam, int(n), rel, a.backend[0], a.tol)))
        return
    sizes = [10, 20, 100] if a.quick else a.sizes
    argv = " ".join(sys.argv[1:])
    print(f"# python bench/sparse.py {argv}".rstrip())
    print(f"# {datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_model()}, {os.cpu_count()} cores, "
          f"load {load_average()} at start")
    print(f"# gmp-moments {gmp.__version__}, numpy {package_version('numpy')}, scipy {package_version('scipy')}, "
          f"networkx {package_version('networkx')}, "
          + ", ".join(f"{b} {package_version(b)}" for b in a.backend))
    rows: list[dict] = []
    for fam in a.families:
        dense_alive = not a.no_dense
        fam_sizes = sorted(set(sizes) | (set(a.extra_dense) if fam == "chained_wood" and dense_alive else set()))
        for n in fam_sizes:
            for rel in RELAXATIONS:
                if rel == "dense" and not dense_alive:
                    continue
                cap = a.cap if rel == "dense" else a.sparse_cap
                for be in a.backend[:1] if rel == "dense" else a.backend:
                    args = ["--one", fam, str(n), rel, "--backend", be] + (["--tol", str(a.tol)] if a.tol else [])
                    r = run_subprocess(args, cap)
                    r.update(family=fam, n=n, relaxation=rel, backend=be)
                    rows.append(r)
                    label = rel if len(a.backend) == 1 else f"{rel} ({be})"
                    print(f"{fam:24s} n={n:<5d} {label:28s} {row_text(r, cap)}", flush=True)
                    if rel == "dense" and (r.get("timeout") or "failure" in r):
                        dense_alive = False
            if a.peer and n <= a.peer_max and fam != "maxcut_band2":
                r = run_subprocess([fam, str(n), a.backend[0]], a.sparse_cap, python=a.peer,
                                   script=os.path.join(HERE, "peer_ncpol2sdpa.py"))
                r.update(family=fam, n=n, relaxation="ncpol2sdpa chordal", backend=a.backend[0])
                rows.append(r)
                text = (f"> {a.sparse_cap:.0f} s" if r.get("timeout") else r.get("failure") or
                        f"build {r['build']:7.3f}  solve {r['solve']:8.3f}  "
                        f"err {_fmt(r['error'], '.1e')}  {r['status']}")
                print(f"{fam:24s} n={n:<5d} {'ncpol2sdpa chordal':17s} {text}", flush=True)
    print(f"# load {load_average()} at the end")
    if a.markdown:
        print("\n| family | n | relaxation | backend | cliques | PSD blocks | moments | build s | solve s | error "
              "| status |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            if r["relaxation"] == "ncpol2sdpa chordal":
                if r.get("timeout") or "failure" in r:
                    print(f"| {r['family']} | {r['n']} | ncpol2sdpa chordal | {r['backend']} | | | | | | | "
                          f"{'stopped' if r.get('timeout') else r['failure'][:60]} |")
                else:
                    print(f"| {r['family']} | {r['n']} | ncpol2sdpa chordal | {r['backend']} | | | "
                          f"{r.get('moments', '')} | {r['build']:.3f} | {r['solve']:.3f} | {_fmt(r['error'], '.1e')} "
                          f"| {r['status']} |")
            else:
                print(markdown_row(r, a.cap if r["relaxation"] == "dense" else a.sparse_cap))
    _targets(rows)


def _targets(rows: list[dict]) -> None:
    ok = [r for r in rows if "total" in r]

    def best(fam, n):
        rs = [r for r in ok if r["family"] == fam and r["n"] == n
              and r["relaxation"] in ("correlative", "correlative+term")
              and r["error"] is not None and r["error"] <= 1e-4]
        return min(rs, key=lambda r: r["total"]) if rs else None

    print("\n# targets (sparse time: build + solve + certificate; the fastest sparse run with error <= 1e-4,"
          " over the relaxations and backends)")
    for n, limit in ((100, 5.0), (1000, 120.0)):
        for fam in sorted({r["family"] for r in rows}):
            b = best(fam, n)
            if not any(r["family"] == fam and r["n"] == n for r in rows):
                continue
            verdict = "MET" if b and b["total"] < limit else "NOT MET"
            fig = (f"{b['total']:.2f} s ({b['relaxation']}, {b['backend']}, {b['status']}, error {b['error']:.1e})"
                   if b else "no correct bound")
            print(f"{fam:24s} n={n:<5d} < {limit:5.0f} s: {verdict}  {fig}")
    dense = [r for r in ok if r["family"] == "chained_wood" and r["n"] == 12 and r["relaxation"] == "dense"]
    b = best("chained_wood", 12)
    if dense and b:
        ratio = dense[0]["total"] / b["total"]
        print(f"chained_wood n=12 dense / sparse = {dense[0]['total']:.2f} / {b['total']:.3f} = {ratio:.0f}x "
              f"(target >= 10x): {'MET' if ratio >= 10 else 'NOT MET'}")


if __name__ == "__main__":
    main()
