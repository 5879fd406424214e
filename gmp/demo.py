"""Demo: certified global minimization of the six-hump camel function.

Run with ``python -m gmp.demo`` (or the ``gmp-demo`` command). It solves the
order-3 moment relaxation on the default free backend, checks flatness, and
prints the certified minimizers, then shows ``order="auto"`` on a constrained
problem whose low orders are not exact.
"""
from __future__ import annotations

import argparse

import gmp


def main(argv: list[str] | None = None) -> int:
    """Run the demo; ``argv`` defaults to the command line (only ``--help`` is understood)."""
    argparse.ArgumentParser(
        prog="gmp-demo",
        description="Certified global minimization with gmp-moments: the six-hump camel function (order 3, "
                    "flatness, the two minimizers), then order='auto' on a non-convex constrained problem "
                    "(Lasserre 2001, Ex. 5). Exit status 0 when both are certified.").parse_args(argv)
    print("gmp-moments", gmp.__version__)
    print("backends (print(gmp.available_backends()) for every remedy):")
    for name, av in gmp.available_backends():
        print(f"   {name:<9} {av.level:<22} {av.reason}".rstrip())

    x, y = gmp.variables("x y")
    f = 4 * x**2 - 2.1 * x**4 + x**6 / 3 + x * y - 4 * y**2 + 4 * y**4
    print("\n1) six-hump camel: min", f)
    res = gmp.solve(f, order="auto")
    print("  ", res)
    print(f"   ranks per order {res.ranks[0]}; timings (s): "
          + ", ".join(f"{k} {v:.3f}" for k, v in res.timings.items()))
    for p, w in zip(res.atoms.points, res.atoms.weights):
        print(f"   minimizer x = {p[0]: .8f}, y = {p[1]: .8f}   weight {w:.3f}   f = {float(f(p, [x, y])):.10f}")

    print("\n2) Lasserre 2001, Ex. 5 (Floudas 4.10): min -x - y on a non-convex set, order='auto'")
    cons = [
        2 * x**4 - 8 * x**3 + 8 * x**2 + 2 - y >= 0,
        4 * x**4 - 32 * x**3 + 88 * x**2 - 96 * x + 36 - y >= 0,
        x >= 0, x <= 3, y >= 0, y <= 4,
    ]
    res2 = gmp.solve(-x - y, cons, order="auto")
    for a in res2.attempts:
        print(f"   order {a.order}: bound {a.bound:.6f}  certified={a.certified}  ranks={a.ranks[0]}")
    print("  ", res2)
    return 0 if (res.certified and res2.certified) else 1


if __name__ == "__main__":
    raise SystemExit(main())
