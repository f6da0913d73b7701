"""The legacy ``structlog_config`` API served on top of ``newlog`` during the switch.

``compat.structlog_config`` provides every public legacy name (see ``compat.mapping``).
:func:`install` makes the old module path importable without the old file, so the
migration can land in small steps; :data:`STUB` is the one-line file an application can
leave at the old path instead. ``compat.characterize`` is the before/after kit.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

from compat.mapping import LEGACY_MODULE, NEW_MODULE

__all__ = ["STUB", "install", "stub", "use_profile"]

def stub(profile: str | None = None) -> str:
    """Return the stub file text for the old module path; with ``profile`` (a dotted module name) it uses that profile."""
    arguments = "__name__" if profile is None else f"__name__, profile={profile!r}"
    return f"import compat; compat.install({arguments})  # legacy path served by compat on newlog; delete after the switch\n"


STUB = stub()
"""The whole content of the stub file an application can leave at the old module path (no profile)."""


def install(path: str = LEGACY_MODULE, *, profile: ModuleType | str | None = None) -> ModuleType:
    """Serve ``compat.structlog_config`` under the dotted ``path``; return the module.

    The old file is not needed: ``import <path>`` and ``from <path> import name`` return
    ``compat.structlog_config``. Parent packages that exist are imported as usual, never
    replaced; a parent that exists nowhere becomes an empty package. Without ``profile``,
    ``install`` imports nothing of the application and changes no other ``sys.modules``
    entry. Idempotent. Called from the stub file itself (``install(__name__)``), it replaces
    the stub.

    ``profile`` is the profile module ``codemods.legacy_reader`` wrote from the app's legacy
    module (or its dotted name, imported here, as the legacy module imported the app's
    pieces): its ``PROFILE`` answers errors as the legacy module did and its ``IDENTITY`` /
    ``REQUEST_ONLY`` fill the identity fields of every event, for every app of the process
    (``newlog.error_adapter.use_error_profile``, ``newlog.set_identity``); its ``ENUMS`` (the
    app's ``ErrorCategory`` / ``ErrorSeverity``, when the legacy module imported them) are
    what the old path serves under those names.
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
    if profile is not None:
        use_profile(profile)
    return module


def use_profile(profile: ModuleType | str) -> None:
    """Use the profile module ``profile`` (or its dotted name) for every app of the process; see :func:`install`."""
    if isinstance(profile, str):
        profile = importlib.import_module(profile)
    missing = [name for name in ("PROFILE", "IDENTITY") if not hasattr(profile, name)]
    if missing:
        raise ValueError(
            f"compat: {profile.__name__} is not a profile module (it lacks {', '.join(missing)}); "
            "write it with codemods.legacy_reader.render_profile_module(read_legacy_module(<legacy file>))"
        )
    from newlog import set_identity
    from newlog.error_adapter import use_error_profile

    use_error_profile(profile.PROFILE)
    set_identity(profile.IDENTITY, request_only=getattr(profile, "REQUEST_ONLY", ()))
    served = sys.modules["compat.structlog_config"] if "compat.structlog_config" in sys.modules else None
    if served is None:
        served = importlib.import_module("compat.structlog_config")
    for legacy_name, enum_class in getattr(profile, "ENUMS", {}).items():
        setattr(served, legacy_name, enum_class)  # the old path serves the app's own enums, as the legacy module did


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
