"""``python -m polymom_apps``: the command line (see :mod:`polymom_apps.cli`)."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
