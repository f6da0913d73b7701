"""Per-app newlog state, and how a log call finds the state it must use.

Every app wired with ``init_app`` gets an :class:`AppLogState` in
``app.extensions["newlog"]``: its settings, redaction words, static context, debug switch,
output destinations and worker. A log call uses the state of the current Flask app
context; outside any app context (a background thread, a script) it uses the state of the
most recently initialised app, and before any ``init_app`` a default state that stores
nothing.

What stays process-wide: structlog's configuration (one processor chain, one logger
factory), stdout, the ``set_debug_logging_enabled`` switch (it flips every app), and the
static context set outside an app context (every app gets it).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from flask.globals import _cv_app

from newlog.clock import SYSTEM_CLOCK, Clock
from newlog.output import Outputs
from newlog.sanitize import Sanitizer, use_current_sanitizer
from newlog.settings import LEVEL_NUMBERS, Settings

if TYPE_CHECKING:
    from newlog.queue_worker import LogQueueWorker
    from newlog.sync_writes import SyncWriter

EXTENSION_KEY = "newlog"


class AppLogState:
    """What newlog keeps for one app: settings, sanitizer, static context, outputs, worker, clock (request timing)."""

    def __init__(self, settings: Settings, *, name: str = "", identity: Mapping[str, Any] | None = None) -> None:
        self.settings = settings
        self.name = name
        self.sanitizer = Sanitizer(settings.redact_keys)
        self.db_level = LEVEL_NUMBERS[settings.LOG_DB_LEVEL]
        self.debug_enabled = settings.ENABLE_DEBUG_LOG
        self.outputs = Outputs(settings.LOG_RENDERER)
        self.worker: LogQueueWorker | None = None
        self.health_dir: Path | None = None
        self.sync_writer: SyncWriter | None = None
        self.unrouted = 0
        self.clock: Clock = SYSTEM_CLOCK
        self._identity = dict(identity or {})
        self._own: dict[str, Any] = {}
        self.static_context: Mapping[str, Any] = MappingProxyType({})
        self.refresh_static_context()

    def open_outputs(self) -> None:
        """Open the ``LOG_FILE`` of the settings (raises ConfigError when it cannot be opened)."""
        settings = self.settings
        self.outputs.set_file(settings.LOG_FILE, settings.LOG_FILE_MAX_BYTES, settings.LOG_FILE_BACKUP_COUNT)

    def set_static(self, values: Mapping[str, Any]) -> None:
        """Add ``values`` to this app's own static context."""
        self._own.update(values)
        self.refresh_static_context()

    def refresh_static_context(self) -> None:
        """Recompute the static context: identity, then the process-wide values, then the app's own."""
        self.static_context = MappingProxyType({**self._identity, **_process_static, **self._own})

    def reset_static_context(self) -> None:
        """Forget the static context set after start-up (the identity stays)."""
        self._own.clear()
        self.refresh_static_context()


_lock = threading.RLock()
_process_static: dict[str, Any] = {}
_apps: list[AppLogState] = []
_fallback = AppLogState(Settings())


def current() -> AppLogState:
    """Return the state of the current app context, else of the most recently initialised app."""
    app_context = _cv_app.get(None)
    if app_context is not None:
        state = app_context.app.extensions.get(EXTENSION_KEY)
        if state is not None:
            return state
    return _apps[-1] if _apps else _fallback


use_current_sanitizer(lambda: current().sanitizer)


def register(state: AppLogState) -> None:
    """Make ``state`` the one used outside app contexts (the most recently initialised app)."""
    with _lock:
        if state in _apps:
            _apps.remove(state)
        _apps.append(state)


def registered() -> list[AppLogState]:
    """Return the states of the initialised apps, oldest first."""
    with _lock:
        return list(_apps)


def forget_apps() -> None:
    """Forget every initialised app (their workers keep running); for tests and re-initialisation."""
    with _lock:
        _apps.clear()


def all_states() -> list[AppLogState]:
    """Return the default state and the states of the initialised apps."""
    with _lock:
        return [_fallback, *_apps]


def set_static_context(**values: Any) -> None:
    """Add ``values`` to the static context every event carries.

    Inside an app context, for that app only; outside, for every app of the process
    (the ones initialised later too).
    """
    app_context = _cv_app.get(None)
    state = app_context.app.extensions.get(EXTENSION_KEY) if app_context is not None else None
    if state is not None:
        state.set_static(values)
        return
    with _lock:
        _process_static.update(values)
        for each in (_fallback, *_apps):
            each.refresh_static_context()


def get_static_context() -> Mapping[str, Any]:
    """Return the static context of the current app (read-only)."""
    return current().static_context


def reset_static_context() -> None:
    """Forget the static context set with :func:`set_static_context` (for tests and re-initialisation)."""
    with _lock:
        _process_static.clear()
        for each in (_fallback, *_apps):
            each.reset_static_context()
