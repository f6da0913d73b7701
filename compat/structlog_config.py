"""The legacy ``app.utils.structlog_config`` API, served on top of ``newlog`` during the switch.

Every public name of both legacy variants (older and newer) is here. Which newlog object
serves which legacy name is read from :data:`compat.mapping.NAMES`; the few names whose
legacy call signature differs from newlog's get a thin adapter below. Importing this
module emits a ``DeprecationWarning`` that names the import to use instead.

Intended behaviour changes (each is an allowed delta of ``compat.characterize.deltas``):
events are written by a background worker, context lives in ContextVars (a value bound
in one request or thread is not seen by another), the debug switch works, ``error_handler``
calls the function once, and there is one renderer.

``_global_context`` is not a process-global dict any more: a write at start-up is newlog's
static context (every later event of the process), a write inside a request a ContextVar
binding of that request; see :class:`GlobalContextProxy`. The older variant's
``bind_context`` / ``clear_context`` / ``get_context`` work on it as they did on the dict.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Iterator, MutableMapping
from typing import Any

from flask import has_request_context

import newlog
from compat.mapping import LEGACY_MODULE, NAMES, NEW_MODULE, PRIVATE_STATE
from newlog import state as newlog_state
from newlog.sinks import known_table

DEPRECATION_MESSAGE = (
    f"{LEGACY_MODULE} is deprecated and now served by compat.structlog_config on top of {NEW_MODULE}: "
    f"import from {NEW_MODULE} instead, e.g. 'from {NEW_MODULE} import init_app, get_logger, log_info' "
    "(compat.mapping lists the new name of every legacy name; 'python -m codemods.apply <src>' rewrites the imports)"
)

warnings.warn(DEPRECATION_MESSAGE, DeprecationWarning, stacklevel=2)


# -- adapters: legacy signatures on newlog ------------------------------------------------------


def get_logger(name: str | None = None) -> Any:
    """Return a newlog logger; without ``name``, named after the calling module (as stdlib's factory did)."""
    if name is None:
        name = sys._getframe(1).f_globals.get("__name__", "")
    return newlog.get_logger(name)


def configure_structlog(app: Any) -> newlog.LogConfig:
    """Wire ``app`` with ``newlog.init_app`` and return ``newlog.log_config`` (legacy returned its config).

    Like the legacy module, which imported the application's ``<package>.models`` (its
    ``UnifiedLog``) when it was imported, the models module is imported first so that newlog
    writes to the application's own ``unified_logs`` table. The identity fields of every event
    follow the legacy rules (see :mod:`newlog.identity`).
    """
    newlog.init_app(app, model=_app_log_table(app))
    return newlog.log_config


def _app_log_table(app: Any) -> Any:
    """Return the app's own log table from its flask-sqlalchemy metadata (importing its models), else None."""
    db = app.extensions.get("sqlalchemy")
    if db is None:
        return None
    _import_log_models(app)
    return known_table(db, app.config.get("LOG_TABLE", "unified_logs"))  # whichever database it is bound to


def _import_log_models(app: Any) -> None:
    packages = {app.import_name.partition(".")[0], *(path.partition(".")[0] for path in _installed_paths())}
    for package in sorted(packages):
        try:
            importlib.import_module(f"{package}.models")
        except ModuleNotFoundError as exc:
            if exc.name not in (package, f"{package}.models"):
                raise


def _installed_paths() -> list[str]:
    return [name for name, module in list(sys.modules.items()) if module is sys.modules[__name__]]


class SQLAlchemyLogHandler(newlog.DatabaseLogHandler):
    """The legacy database processor on newlog: events are enqueued to the app's worker.

    ``batch_size`` / ``flush_interval`` are accepted and kept as attributes; the worker's
    batching comes from the ``LOG_BATCH_SIZE`` / ``LOG_FLUSH_INTERVAL`` settings.
    ``shutdown()`` stops this handler and waits until what was enqueued is written.
    """

    def __init__(self, batch_size: int = 100, flush_interval: float = 5.0) -> None:
        config = newlog.log_config
        super().__init__(config.worker_for, config.settings.LOG_DB_LEVEL)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._shutdown = False

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        if self._shutdown:
            return event_dict
        return super().__call__(logger, method_name, event_dict)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event enqueued so far is written; True if all were."""
        return newlog.flush(timeout)

    _flush_logs = flush

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Stop enqueuing and wait (up to ``timeout`` seconds) for what was enqueued; True if written."""
        self._shutdown = True
        return newlog.flush(timeout)


# -- the process-global dict, replaced ----------------------------------------------------------


class GlobalContextProxy(MutableMapping[str, Any]):
    """Stands in for the legacy ``_global_context`` dict; holds no data of its own.

    A write during start-up (no request active: ``create_app`` and whatever it calls, an
    import, a script) is process-wide, as it was: ``proxy[key] = value`` becomes
    ``newlog.set_static_context(key=value)`` and reaches every later event in every thread.
    A write inside a request binds ``key`` for that request only, like ``newlog.bind_context``
    (the legacy dict leaked it into every later request); both emit a ``DeprecationWarning``
    naming the newlog call to use. Reads show the static values set so far and then the
    current log context (this thread's / task's ContextVars).
    """

    def _view(self) -> dict[str, Any]:
        return {**newlog_state.current().set_values(), **newlog.get_context()}

    def __getitem__(self, key: str) -> Any:
        return self._view()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.assign({key: value}, f"_global_context[{key!r}] = ...", stacklevel=3)

    def update(self, other: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Write every item of ``other`` and ``kwargs`` (see the class docstring)."""
        values = dict(other, **kwargs)
        self.assign(values, "_global_context.update(...)", stacklevel=3)

    def assign(self, values: dict[str, Any], what: str, *, stacklevel: int = 2) -> None:
        """Write ``values``: static context at start-up, this request's bindings inside one; warn about ``what``."""
        if not values:
            return
        keys = ", ".join(f"{key}=..." for key in values)
        if has_request_context():
            warnings.warn(
                f"{what} inside a request binds a ContextVar now (this request only): use "
                f"newlog.bind_context({keys}) per request, or newlog.set_static_context({keys}) at start-up "
                "for a value every event of the process must carry",
                DeprecationWarning,
                stacklevel=stacklevel,
            )
            newlog.bind_context(**values)
            return
        warnings.warn(
            f"{what} outside a request is process-wide static context: use newlog.set_static_context({keys})",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
        newlog.set_static_context(**values)

    def __delitem__(self, key: str) -> None:
        bound = newlog.get_context()
        if key in bound:
            newlog.unbind_context(key)
        elif not has_request_context() and key in newlog_state.current().set_values():
            newlog_state.unset_static_context(key)
        else:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())

    def clear(self) -> None:
        """Remove every key of the current log context; outside a request the static values set so far too."""
        newlog.clear_context()
        if not has_request_context():
            newlog_state.unset_static_context(*newlog_state.current().set_values())

    def copy(self) -> dict[str, Any]:
        """Return the static values and the current log context as a plain dict."""
        return self._view()

    def __repr__(self) -> str:
        return f"<compat _global_context view of {self._view()!r}>"


_global_context = GlobalContextProxy()


def bind_context(**kwargs: Any) -> None:
    """Add ``kwargs`` to ``_global_context`` (legacy): process-wide at start-up, for this request inside one."""
    _global_context.assign(kwargs, "bind_context(...)", stacklevel=3)


def clear_context() -> None:
    """Empty ``_global_context`` (legacy): the request's bindings; outside a request the static values too."""
    _global_context.clear()


def get_context() -> dict[str, Any]:
    """Return a copy of ``_global_context`` (legacy): the static values set so far and the current log context."""
    return _global_context.copy()


_ADAPTERS: dict[str, Any] = {
    "get_logger": get_logger,
    "bind_context": bind_context,
    "clear_context": clear_context,
    "get_context": get_context,
    "configure_structlog": configure_structlog,
    "SQLAlchemyLogHandler": SQLAlchemyLogHandler,
}


def _serve(legacy_name: str) -> Any:
    if legacy_name in _ADAPTERS:
        return _ADAPTERS[legacy_name]
    return getattr(importlib.import_module(NEW_MODULE), NAMES[legacy_name].new)


globals().update({legacy_name: _serve(legacy_name) for legacy_name in NAMES})

__all__ = sorted(NAMES) + sorted(PRIVATE_STATE)
"""Every legacy name, and the legacy module state, so that a star-importing stub serves them all."""


def __getattr__(name: str) -> Any:
    if name == "_debug_logging_enabled":
        return newlog.is_debug_logging_enabled()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
