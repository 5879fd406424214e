"""Which backends exist, and which one a solve uses.

Backends come from the entry-point group ``gmp.backends`` and from
:func:`register_backend`, and are imported only when first asked for.
:func:`resolve_backend` picks one (the argument, :func:`use_backend`, ``GMP_BACKEND``,
``[tool.gmp]`` in pyproject.toml, the user config file, then :data:`PREFERENCE`) and never
silently swaps a backend that was named (docs/algorithms.md, "Backend registry").
"""
from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, NamedTuple

from .backend import Availability, Backend
from .errors import BackendError, BackendNotAvailableError, OptionError, UnknownBackendError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (a declared dependency there)
    import tomli as tomllib

__all__ = [
    "PREFERENCE", "ENV_VAR", "ENTRY_POINT_GROUP", "BackendRecord", "BackendTable",
    "register_backend", "unregister_backend", "get_backend", "resolve_backend", "choose_backend",
    "usable_backends", "use_backend",
    "available_backends", "user_config_path", "refresh",
]

#: Order in which usable backends are tried when none is named (names; the reasons and the
#: measurements behind the order are in docs/backends.md): interior-point solvers first, SCS
#: (a first-order method, inaccurate at its default tolerance) after them.
PREFERENCE: list[str] = ["mosek", "cvxopt", "clarabel", "scs", "picos"]
ENV_VAR = "GMP_BACKEND"
ENTRY_POINT_GROUP = "gmp.backends"

_registry: dict[str, Any] = {}  # name -> "module:attr" | EntryPoint | Backend class | instance
_instances: dict[str, Backend] = {}
_discovered = False
_context: ContextVar[str | Backend | None] = ContextVar("gmp_backend", default=None)


def _norm(name: str) -> str:
    return name.strip().lower()


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    _scan_entry_points()


def _is_entry_point(obj: Any) -> bool:
    """An entry point of the stdlib or of the ``importlib_metadata`` backport.

    Once a library imports the backport (dask does), it adds a finder to
    ``sys.meta_path``, and ``importlib.metadata.entry_points()`` may return the
    backport's ``EntryPoint`` objects, which are not instances of the stdlib class.
    """
    return isinstance(obj, importlib.metadata.EntryPoint) or (
        callable(getattr(obj, "load", None)) and all(hasattr(obj, a) for a in ("name", "value", "group")))


def _scan_entry_points() -> None:
    try:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # broken installation metadata must not break solving
        entry_points = ()
    for ep in entry_points:
        _registry.setdefault(_norm(ep.name), ep)


def refresh() -> None:
    """Look for entry-point backends again, e.g. after installing or removing a plugin.

    Entry points are read once per process, on first use of the registry. After
    a distribution declaring ``gmp.backends`` entry points is installed or
    removed while the process runs (or ``sys.path`` changes), call this: it
    clears importlib's finder caches, forgets the backends found through entry
    points (and their instances), and reads the entry points again. Backends
    added with :func:`register_backend` are kept as they are.
    """
    _discover()
    importlib.invalidate_caches()
    stale = [key for key, target in _registry.items() if _is_entry_point(target)]
    for key in stale:
        del _registry[key]
        _instances.pop(key, None)
    _scan_entry_points()


def register_backend(backend: type[Backend] | Backend | str, name: str | None = None,
                     *, replace: bool = False) -> Any:
    """Make a backend known under ``name`` (default: its ``name`` attribute).

    ``backend`` is a :class:`Backend` subclass, an instance, or a ``"module:Class"``
    path imported on first use. Returns ``backend``, so it works as a class decorator.
    """
    _discover()
    if name is None:
        name = getattr(backend, "name", None) if not isinstance(backend, str) else None
    if not isinstance(name, str) or not name.strip():
        raise BackendError(
            f"register_backend needs a non-empty name for {backend!r}; pass name='...'")
    is_class = isinstance(backend, type) and issubclass(backend, Backend)
    if not (is_class or isinstance(backend, (Backend, str))):
        raise BackendError(f"register_backend expects a gmp.Backend subclass, instance or "
                           f"'module:Class' path, got {backend!r}")
    key = _norm(name)
    if key in _registry and not replace:
        raise BackendError(
            f"a backend named {key!r} is already registered; pass replace=True to override it")
    _registry[key] = backend
    _instances.pop(key, None)
    return backend


def unregister_backend(name: str) -> None:
    """Forget the backend ``name`` (entry-point ones included, until :func:`refresh` or a restart)."""
    _discover()
    key = _norm(name)
    if key not in _registry:
        raise UnknownBackendError(_unknown_message(name))
    del _registry[key]
    _instances.pop(key, None)


def _unknown_message(name: Any) -> str:
    known = sorted(_registry)
    close = difflib.get_close_matches(_norm(str(name)), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"unknown backend {name!r}{hint}; known backends: {', '.join(known) or 'none'}; "
            "pass one of these or an instance of gmp.Backend")


def _load(key: str) -> Backend:
    if key in _instances:
        return _instances[key]
    target = _registry[key]
    try:
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module), attr)
        elif _is_entry_point(target):
            target = target.load()
    except Exception as exc:
        raise BackendNotAvailableError(
            f"backend {key!r} could not be loaded ({type(exc).__name__}: {exc}); "
            "reinstall the package that provides it") from exc
    if isinstance(target, type) and issubclass(target, Backend):
        target = target()
    if not isinstance(target, Backend):
        raise BackendError(f"backend {key!r} ({ENTRY_POINT_GROUP}) is {target!r}, "
                           "not a gmp.Backend subclass or instance")
    _instances[key] = target
    return target


def get_backend(backend: str | Backend | type[Backend]) -> Backend:
    """The backend instance for a name (or the instance itself); no availability check."""
    _discover()
    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, type) and issubclass(backend, Backend):
        return backend()
    if not isinstance(backend, str) or _norm(backend) not in _registry:
        raise UnknownBackendError(_unknown_message(backend))
    return _load(_norm(backend))


# -- selection -------------------------------------------------------------
def user_config_path() -> Path | None:
    """``<user_config_dir>/config.toml`` of gmp-moments, or None without platformdirs."""
    try:
        import platformdirs
    except ImportError:
        return None
    return Path(platformdirs.user_config_dir("gmp-moments")) / "config.toml"


#: Parsed config files by path, with the (mtime, size) they were read at: parsing the
#: project's pyproject.toml again on every solve was a noticeable cost of small solves
#: (docs/benchmarks.md).
_TOML_CACHE: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file (read-only use), parsed again only when its mtime or size changes."""
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        hit = _TOML_CACHE.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        with path.open("rb") as f:
            data = tomllib.load(f)
        _TOML_CACHE[path] = (stamp, data)
        return data
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OptionError(f"cannot read {path} while looking for the gmp backend setting: {exc}; "
                          "fix the file, or pass backend=... explicitly") from exc


#: Keys gmp reads under ``[tool.gmp]`` and in the user config file.
CONFIG_KEYS: tuple[str, ...] = ("backend",)
_WARNED: set[tuple[Path, str]] = set()


def _warn_unknown_keys(table: Any, path: Path, where: str) -> None:
    """Warn (once per file and key) about keys gmp does not read, naming the closest valid one."""
    if not isinstance(table, dict):
        return
    for key in table:
        if key in CONFIG_KEYS or (path, key) in _WARNED:
            continue
        _WARNED.add((path, key))
        close = difflib.get_close_matches(str(key), CONFIG_KEYS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        warnings.warn(f"unknown key {key!r} {where} in {path} is ignored{hint} "
                      f"(valid keys: {', '.join(CONFIG_KEYS)})", UserWarning, stacklevel=4)


def _config_value(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OptionError(f"the backend setting in {where} must be a backend name such as "
                          f"\"cvxopt\", got {value!r}")
    return value


def _configured() -> tuple[str | Backend, str] | None:
    """The named backend from context, environment or config files, with its source."""
    ctx = _context.get()
    if ctx is not None:
        return ctx, "set by use_backend()"
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env, f"from environment variable {ENV_VAR}"
    for directory in (Path.cwd(), *Path.cwd().parents):
        path = directory / "pyproject.toml"
        if path.is_file():  # the nearest pyproject.toml is the project: stop there
            table = _read_toml(path).get("tool", {}).get("gmp", {})
            _warn_unknown_keys(table, path, "under [tool.gmp]")
            value = table.get("backend") if isinstance(table, dict) else None
            if value is not None:
                where = f"[tool.gmp] backend in {path}"
                return _config_value(value, where), f"from {where}"
            break
    path = user_config_path()
    if path is not None and path.is_file():
        table = _read_toml(path)
        _warn_unknown_keys(table, path, "in the user config file")
        value = table.get("backend")
        if value is not None:
            return _config_value(value, str(path)), f"from user config {path}"
    return None


def resolve_backend(backend: str | Backend | None = None) -> Backend:
    """The backend a solve uses; the first match wins.

    The explicit argument, the innermost :func:`use_backend`, ``GMP_BACKEND``,
    ``[tool.gmp] backend`` in the nearest pyproject.toml, the user config file, then the
    first usable backend in :data:`PREFERENCE` (docs/algorithms.md, "Which backend a solve uses").

    Raises
    ------
    UnknownBackendError
        A name from any source is not registered.
    BackendNotAvailableError
        The named backend is not usable here, or (nothing named) no backend is.
    """
    return choose_backend(backend)[0]


def choose_backend(backend: str | Backend | None = None) -> tuple[Backend, bool]:
    """:func:`resolve_backend`, and whether the backend was named (rules 1-5) rather than
    picked by preference (rule 6): a named backend is never replaced by another."""
    _discover()
    named = (backend, "passed as backend=") if backend is not None else _configured()
    if named is not None:
        choice, source = named
        try:
            inst = get_backend(choice)
        except UnknownBackendError as exc:
            raise UnknownBackendError(f"{exc} (the name was {source})") from None
        avail = inst.availability(check_import=True)
        if not avail.usable:
            raise BackendNotAvailableError(
                f"backend {inst.name!r} ({source}) is not usable here: {avail.reason}; "
                f"{avail.remedy}; a named backend is never replaced by another, "
                "so name a usable one (gmp.available_backends() lists them)")
        return inst, True
    for inst in usable_backends():
        return inst, False
    table = available_backends()
    raise BackendNotAvailableError(
        f"no usable solver backend; install one (pip install cvxopt):\n{table}")


def usable_backends() -> Iterator[Backend]:
    """The usable backends in preference order (:data:`PREFERENCE`, then the others by name),
    loaded and checked one at a time as the caller asks for the next."""
    _discover()
    for name in _ordered_names():
        try:
            inst = _load(name)
        except (BackendNotAvailableError, BackendError):
            continue
        if inst.availability(check_import=True).usable:
            yield inst


@contextmanager
def use_backend(backend: str | Backend) -> Iterator[Backend]:
    """Make ``backend`` the default inside a ``with`` block (context-local, thread-safe).

    >>> with use_backend("cvxopt"):          # doctest: +SKIP
    ...     result = gmp.solve(problem)
    """
    inst = get_backend(backend)  # unknown names fail here, not at the solve
    token = _context.set(_norm(backend) if isinstance(backend, str) else inst)
    try:
        yield inst
    finally:
        _context.reset(token)


def _ordered_names() -> list[str]:
    return [n for n in PREFERENCE if n in _registry] + sorted(set(_registry) - set(PREFERENCE))


# -- listing ---------------------------------------------------------------
class BackendRecord(NamedTuple):
    name: str
    availability: Availability


class BackendTable(list):
    """A list of :class:`BackendRecord` that prints as a table."""

    def __str__(self) -> str:
        rows = [("backend", "level", "reason / remedy")]
        for name, av in self:
            note = "; ".join(s for s in (av.reason, av.remedy and f"remedy: {av.remedy}") if s)
            rows.append((name, av.level, note))
        w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
        return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows)

    __repr__ = __str__


def available_backends(check_import: bool = True) -> BackendTable:
    """Every known backend with its :class:`Availability`, in preference order.

    ``check_import=False`` only looks for the modules (imports nothing).
    """
    _discover()
    table = BackendTable()
    for name in _ordered_names():
        try:
            av = _load(name).availability(check_import=check_import)
        except (BackendNotAvailableError, BackendError) as exc:
            av = Availability(False, False, False, str(exc),
                              "reinstall the package that provides it")
        table.append(BackendRecord(name, av))
    return table
