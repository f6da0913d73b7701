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
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from flask.globals import _cv_app

from newlog.clock import SYSTEM_CLOCK, Clock
from newlog.identity import Identity
from newlog.output import Outputs
from newlog.sanitize import Sanitizer, use_current_sanitizer
from newlog.settings import LEVEL_NUMBERS, Settings

if TYPE_CHECKING:
    from flask import Flask

    from newlog.queue_worker import LogQueueWorker
    from newlog.sync_writes import SyncWriter

EXTENSION_KEY = "newlog"
PENDING_IDENTITY_KEY = "newlog.identity"
"""Where :func:`set_identity` keeps an app's identity until ``init_app``."""


class AppLogState:
    """What newlog keeps for one app: settings, sanitizer, static context, identity, outputs, worker, clock (request timing)."""

    def __init__(self, settings: Settings, *, name: str = "", identity: Identity | None = None) -> None:
        self.settings = settings
        self.name = name
        self.sanitizer = Sanitizer(settings.redact_keys)
        self.db_level = LEVEL_NUMBERS[settings.LOG_DB_LEVEL]
        self.debug_enabled = settings.ENABLE_DEBUG_LOG
        self.outputs = Outputs.from_settings(settings)
        self.worker: LogQueueWorker | None = None
        self.health_dir: Path | None = None
        self.sync_writer: SyncWriter | None = None
        self.unrouted = 0
        self.clock: Clock = SYSTEM_CLOCK
        self._default_identity = identity or Identity()
        self._identity: Identity | None = None
        self._own: dict[str, Any] = {}
        self.static_context: Mapping[str, Any] = MappingProxyType({})
        self.computed_identity: tuple[tuple[str, Any, bool], ...] = ()
        self.refresh_static_context()

    def open_outputs(self) -> None:
        """Open ``LOG_FILE`` / ``LOG_ERROR_FILE`` of the settings (raises ConfigError when one cannot be opened)."""
        self.outputs.open_files(self.settings)

    def set_static(self, values: Mapping[str, Any]) -> None:
        """Add ``values`` to this app's own static context."""
        self._own.update(values)
        self.refresh_static_context()

    def set_identity(self, identity: Identity) -> None:
        """Use ``identity`` for this app (over the process-wide identity and the default rules)."""
        self._identity = identity
        self.refresh_static_context()

    def refresh_static_context(self) -> None:
        """Recompute the static context: identity, then the process-wide values, then the app's own."""
        identity = self._default_identity
        if _process_identity is not None:
            identity = _process_identity.over(identity)
        if self._identity is not None:
            identity = self._identity.over(identity)
        self.computed_identity = identity.computed
        self.static_context = MappingProxyType({**identity.values, **_process_static, **self._own})

    def set_values(self) -> Mapping[str, Any]:
        """Return the static values set after start-up (process-wide and the app's own), without the identity."""
        return MappingProxyType({**_process_static, **self._own})

    def reset_static_context(self) -> None:
        """Forget the static context set after start-up (the identity stays)."""
        self._own.clear()
        self.refresh_static_context()


_lock = threading.RLock()
_process_static: dict[str, Any] = {}
_process_identity: Identity | None = None
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


def set_identity(identity: Mapping[str, Any], *, request_only: Iterable[str] = (), app: Flask | None = None) -> None:
    """Fill the identity fields of every event (``app_name``, ``app_version``, ``environment``, ``host``) by ``identity``.

    ``identity`` maps a key to a value, or to a function of no arguments called for every
    event (it runs where the event is logged: ``current_app`` and the request are there);
    a ``request_only`` key is added only inside a request. The profile module that
    ``codemods.legacy_reader`` writes carries them as ``IDENTITY`` and ``REQUEST_ONLY``.
    With ``app``, for that app (also before ``init_app``); without, for every app of the
    process. Keys left out keep their rules (see :mod:`newlog.identity`).
    """
    global _process_identity
    rules = Identity.of(identity, request_only)
    if app is not None:
        app_state = app.extensions.get(EXTENSION_KEY)
        if app_state is None:
            app.extensions[PENDING_IDENTITY_KEY] = rules
        else:
            app_state.set_identity(rules)
        return
    with _lock:
        _process_identity = rules
        for each in (_fallback, *_apps):
            each.refresh_static_context()


def unset_static_context(*keys: str) -> None:
    """Remove ``keys`` from the static context set with :func:`set_static_context`: the process's and the current app's."""
    app_state = current()
    with _lock:
        for key in keys:
            _process_static.pop(key, None)
            app_state._own.pop(key, None)
        for each in (_fallback, *_apps):
            each.refresh_static_context()


def get_static_context() -> Mapping[str, Any]:
    """Return the static context of the current app (read-only)."""
    return current().static_context


def reset_static_context() -> None:
    """Forget the static context set with :func:`set_static_context` and the process-wide identity (for tests)."""
    global _process_identity
    with _lock:
        _process_static.clear()
        _process_identity = None
        for each in (_fallback, *_apps):
            each.reset_static_context()
