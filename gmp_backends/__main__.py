"""``python -m gmp_backends``: list the backends (usable or not, with the remedy) and run the conformance suite."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m gmp_backends",
        description="List every known SDP backend with whether it is usable here and, if not, why and what to "
                    "do; then run the conformance suite (problems with known answers) on the usable ones, or on "
                    "the NAMEs given. Exit status 1 if a report is not OK, 2 for an unknown or unusable NAME.")
    ap.add_argument("names", nargs="*", metavar="NAME", help="backends to check (default: every usable one)")
    ap.add_argument("--list", action="store_true", help="only list the backends, run no conformance suite")
    ap.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance on the optimal values (1e-6)")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    from gmp.registry import available_backends

    table = available_backends()
    print(table)
    if args.list:
        return 0
    from .conformance import run_checks

    print()
    return run_checks(args.names, rtol=args.rtol)


if __name__ == "__main__":
    sys.exit(main())
