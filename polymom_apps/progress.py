"""Progress bars for long loops: tqdm when it is installed (``pip install "gmp-moments[progress]"``), else nothing.

Long loops (Table 3's models, parameter sweeps) wrap their iterable in :func:`progress`;
without tqdm, or with ``enabled=False``, the iterable comes back unchanged.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["progress", "HAVE_TQDM"]

T = TypeVar("T")

HAVE_TQDM = importlib.util.find_spec("tqdm") is not None


def progress(iterable: Iterable[T], *, desc: str = "", total: int | None = None, enabled: bool | None = None,
             **tqdm_kwargs: Any) -> Iterable[T]:
    """``iterable`` with a progress bar on stderr.

    Parameters
    ----------
    iterable : iterable
    desc : str
        Label in front of the bar.
    total : int, optional
        Number of items, when ``len(iterable)`` does not give it.
    enabled : bool or None
        True: always draw (tqdm must be installed); False: never; None: only when stderr
        is a terminal (tqdm's own rule), so logs and CI output stay clean.
    **tqdm_kwargs
        Passed to ``tqdm.tqdm`` (e.g. ``file=``, ``leave=``).

    Returns
    -------
    iterable
    """
    if enabled is False or (not HAVE_TQDM and enabled is None):
        return iterable
    if not HAVE_TQDM:
        raise ImportError('a progress bar needs tqdm; pip install "gmp-moments[progress]"')
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, disable=None if enabled is None else False, **tqdm_kwargs)
