"""The legacy ``structlog_config`` API served on top of ``newlog`` during the switch.

``compat.structlog_config`` provides every public legacy name (see ``compat.mapping``).
:func:`install` makes the old module path importable without the old file, so the
migration can land in small steps; :data:`STUB` is the one-line file an application can
leave at the old path instead. ``compat.characterize`` is the before/after kit.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

from compat.mapping import LEGACY_MODULE, NEW_MODULE

__all__ = ["STUB", "install"]

STUB = "import compat; compat.install(__name__)  # legacy path served by compat on newlog; delete after the switch\n"
"""The whole content of the stub file an application can leave at the old module path."""


def install(path: str = LEGACY_MODULE) -> ModuleType:
    """Serve ``compat.structlog_config`` under the dotted ``path``; return the module.

    The old file is not needed: ``import <path>`` and ``from <path> import name`` return
    ``compat.structlog_config``. Parent packages that exist are imported as usual, never
    replaced; a parent that exists nowhere becomes an empty package. ``install`` imports
    nothing of the application and changes no other ``sys.modules`` entry. Idempotent.
    Called from the stub file itself (``install(__name__)``), it replaces the stub.
    """
    _check_path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module("compat.structlog_config")
    caller = sys._getframe(1).f_globals.get("__name__")
    warnings.warn(
        f"{path} is served by compat (deprecated): import from {NEW_MODULE} instead, "
        f"e.g. 'from {NEW_MODULE} import init_app, get_logger, log_info' (see compat.mapping for every name)",
        DeprecationWarning,
        stacklevel=3 if caller == path else 2,
    )
    existing = sys.modules.get(path)
    if existing is not None and existing is not module and not _is_stub(existing):
        raise RuntimeError(
            f"compat.install({path!r}): the legacy module was already imported from "
            f"{getattr(existing, '__file__', '?')}; call install() before the first import of {path} "
            "(e.g. at the top of the application's package __init__ or WSGI entry), or replace the file by compat.STUB"
        )
    parent_name, _, leaf = path.rpartition(".")
    if existing is not None or parent_name in sys.modules:
        sys.modules[path] = module
        if parent_name in sys.modules:
            setattr(sys.modules[parent_name], leaf, module)
    _register_finders(path)
    return module


def _check_path(path: str) -> None:
    if not isinstance(path, str) or not all(part.isidentifier() for part in path.split(".")):
        raise ValueError(f"compat.install(path={path!r}): expected a dotted module path like {LEGACY_MODULE!r}")


def _is_stub(module: ModuleType) -> bool:
    """True for a module whose import is under way and that defines none of the legacy API (the stub)."""
    spec = getattr(module, "__spec__", None)
    initializing = bool(getattr(spec, "_initializing", False))
    return initializing and not hasattr(module, "log_info")


class _LegacyPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the installed paths (first in ``sys.meta_path``): their module is compat.structlog_config."""

    def __init__(self) -> None:
        self.paths: set[str] = set()

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.paths:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = sys.modules["compat.structlog_config"]
        spec.compat_original_spec = module.__spec__  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system set __spec__ to the old path's spec: give the module its own back
        original = getattr(module.__spec__, "compat_original_spec", None)
        if original is not None:
            module.__spec__ = original


class _MissingParentFinder(importlib.abc.MetaPathFinder):
    """Last in ``sys.meta_path``: an empty package for a parent of an installed path that exists nowhere."""

    def __init__(self) -> None:
        self.parents: set[str] = set()

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.parents:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = []
        return spec


_legacy_finder = _LegacyPathFinder()
_parent_finder = _MissingParentFinder()


def _register_finders(path: str) -> None:
    _legacy_finder.paths.add(path)
    parts = path.split(".")
    _parent_finder.parents.update(".".join(parts[:end]) for end in range(1, len(parts)))
    if _legacy_finder not in sys.meta_path:
        sys.meta_path.insert(0, _legacy_finder)
    if _parent_finder not in sys.meta_path:
        sys.meta_path.append(_parent_finder)
