"""The Flask extension: ``init_app``, the request hooks (request ids, user ids), flask-login signals.

``init_app(app)`` loads the app's settings once, builds its :class:`~newlog.state.AppLogState`
(``app.extensions["newlog"]``), starts its worker, registers the request hooks, the
``flask newlog-health`` / ``flask newlog-table`` commands and a drain at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import sys
import threading
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, g, has_request_context, request

from newlog import state
from newlog.api import log_error, shutdown
from newlog.config import log_config
from newlog.context import (
    bind_context,
    bind_request_context,
    clear_context,
    get_context,
    request_id_var,
    user_id_var,
)
from newlog.error_adapter import current_error_profile, use_error_profile
from newlog.error_profile import ErrorProfile
from newlog.heartbeat import HeartbeatFile, default_directory
from newlog.identity import Identity, default_identity
from newlog.queue_worker import LogQueueWorker
from newlog.request_event import log_request_completed, watch_requests
from newlog.settings import ConfigError, Settings
from newlog.sinks import AppContextSink, default_sink
from newlog.spool import SpoolQueue
from newlog.spool_app import start_spool
from newlog.sync_writes import sync_writer_for
from newlog.tracing import incoming_trace_context

EXTENSION_KEY = state.EXTENSION_KEY

_init_lock = threading.RLock()
_atexit_registered = False


def init_app(
    app: Flask,
    db: Any = None,
    model: Any = None,
    *,
    sink: Any = None,
    errors: ErrorProfile | None = None,
    identity: Mapping[str, Any] | None = None,
    request_only: Iterable[str] = (),
) -> LogQueueWorker | SpoolQueue:
    """Wire ``app`` to newlog and return its started worker (a spool queue when ``LOG_SPOOL_DIR`` is set).

    Settings come from ``app.config`` (else the environment) and are validated first: a bad
    one raises :class:`~newlog.ConfigError` before anything starts; keys newlog does not own
    never raise. ``db`` defaults to the app's flask-sqlalchemy extension (also when it is
    registered after this call), ``model`` to the app's own ``LOG_TABLE`` ("unified_logs")
    table, else newlog's table of that name; ``sink`` replaces the database sink (it is
    called inside the app context). With ``LOG_SYNC_WRITES`` each stored event is written in
    the caller's thread instead (:mod:`newlog.sync_writes`). ``errors`` is the app's error
    profile (``use_error_profile``), ``identity`` / ``request_only`` its identity rules
    (``set_identity``): both are what the profile module of its legacy module holds
    (``PROFILE``, ``IDENTITY``, ``REQUEST_ONLY``). Calling it again for the same app returns
    the running worker.
    """
    global _atexit_registered
    log_config.configure()
    with _init_lock:
        existing = app.extensions.get(EXTENSION_KEY)
        if existing is not None:
            return existing.worker
        settings = Settings.load(app.config)
        app_state = state.AppLogState(settings, name=app.name, identity=default_identity(app))
        pending = app.extensions.pop(state.PENDING_IDENTITY_KEY, None)
        if identity is not None:
            pending = Identity.of(identity, request_only)
        if pending is not None:
            app_state.set_identity(pending)
        app_state.open_outputs()
        profile = errors if errors is not None else current_error_profile()
        if profile is not None and not profile.stdout and _console_not_set(app):
            app_state.outputs.use_legacy_stdlib()
        if _running_the_health_command():
            app_state.outputs.stream = sys.stderr  # its stdout is JSON only
        try:
            if settings.LOG_SPOOL_DIR is not None:
                for given, name in ((sink is not None, "sink=..."), (settings.LOG_SYNC_WRITES, "LOG_SYNC_WRITES")):
                    if given:
                        raise ConfigError(
                            f"newlog.init_app: LOG_SPOOL_DIR={settings.LOG_SPOOL_DIR!r} and {name} exclude each other "
                            "(the spool's writer process writes to the app's database itself); drop one of them"
                        )
                worker = start_spool(app, db, model, settings)
                app_state.health_dir = health_directory(app, settings, worker.sink)
                worker.heartbeat = HeartbeatFile(app_state.health_dir, app.name, settings.LOG_HEARTBEAT_INTERVAL)
            else:
                writer = AppContextSink(app, sink) if sink is not None else default_sink(
                    app, db=db, table=model, settings=settings
                )
                if settings.LOG_SYNC_WRITES:
                    app_state.sync_writer = sync_writer_for(app, db, writer, settings)
                app_state.health_dir = health_directory(app, settings, writer)
                worker = LogQueueWorker(
                    writer,
                    queue_size=settings.LOG_QUEUE_SIZE,
                    batch_size=settings.LOG_BATCH_SIZE,
                    flush_interval=settings.LOG_FLUSH_INTERVAL,
                    retry_seconds=settings.LOG_RETRY_SECONDS,
                    warn_interval=settings.LOG_OVERFLOW_WARN_INTERVAL,
                    reserve=settings.reserve_slots,
                    shutdown_timeout=settings.LOG_SHUTDOWN_TIMEOUT,
                    heartbeat=HeartbeatFile(app_state.health_dir, app.name, settings.LOG_HEARTBEAT_INTERVAL),
                    heartbeat_interval=settings.LOG_HEARTBEAT_INTERVAL,
                )
        except BaseException:
            app_state.outputs.close()
            raise
        app_state.worker = worker
        if errors is not None:
            use_error_profile(errors, app)
        app.extensions[EXTENSION_KEY] = app_state
        state.register(app_state)
        _register_request_hooks(app, settings)
        from newlog.cli import health_command, table_command

        app.cli.add_command(health_command)
        app.cli.add_command(table_command)
        if not _atexit_registered:
            atexit.register(shutdown)
            _atexit_registered = True
        if settings.LOG_DRAIN_ON_SIGTERM:
            drain_on_sigterm()
        return worker


def health_directory(app: Flask, settings: Settings, sink: Any) -> Path:
    """Return where the app's workers publish heartbeats: ``LOG_HEALTH_DIR``, else one per app and database."""
    if settings.LOG_HEALTH_DIR:
        return Path(settings.LOG_HEALTH_DIR)
    url = getattr(sink, "url", "")
    return default_directory(f"{app.import_name}|{url}|{getattr(sink, 'table_name', '') or settings.LOG_TABLE}")


def _running_the_health_command() -> bool:
    return "newlog-health" in sys.argv[1:]


def drain_on_sigterm() -> bool:
    """Make a default SIGTERM drain the queues first, then end the process as the signal would; True if installed.

    Only when SIGTERM still has its default action (a server that handles it, as gunicorn's
    workers do, keeps its own handler) and only from the main thread. The handler restores
    the default action at once (a second SIGTERM kills immediately) and drains in a thread
    of its own, so it never waits on a lock the interrupted code holds.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return signal.getsignal(signal.SIGTERM) is _on_sigterm
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # no signals here (e.g. an embedded interpreter)
        return False
    return True


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signum, signal.SIG_DFL)
    threading.Thread(target=_drain_then_end, args=(signum,), name="newlog-sigterm", daemon=True).start()


def _drain_then_end(signum: int) -> None:
    try:
        shutdown()
    finally:
        os.kill(os.getpid(), signum)


REQUEST_ID_MAX = 128
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,%d}" % (REQUEST_ID_MAX - 1))
_ENVIRON_REQUEST_ID = "newlog.request_id"
_ENVIRON_OUTER = "newlog.outer_context"


def _register_request_hooks(app: Flask, settings: Settings) -> None:
    """Bind a request id (and user id, trace ids) for every request; return it on the response; clean up after.

    The binding hook runs before the app's other ``before_request`` hooks and the clean-up
    after its other ``teardown_request`` hooks, so their events carry the request context.
    A request starts with an empty log context; at its end the context the thread had
    before the request is restored, so nothing bound during one request reaches the next.
    The response header carries the request id in effect at the end of the request (an app
    hook that rebinds it with ``bind_request_context`` wins), unless the view set the header.
    With ``LOG_REQUEST_EVENT`` the clean-up logs the request event first (:mod:`newlog.request_event`).
    """
    header = settings.LOG_REQUEST_ID_HEADER
    _connect_login_signals()
    if settings.LOG_REQUEST_EVENT:
        watch_requests(app)

    def _bind_request_id() -> None:
        request.environ[_ENVIRON_OUTER] = (get_context(), request_id_var.get(), user_id_var.get())
        clear_context()
        request_id = incoming_request_id(request.headers.get(header)) or uuid.uuid4().hex
        request.environ[_ENVIRON_REQUEST_ID] = request_id
        g.newlog_request_id = request_id
        bind_request_context(request_id, _current_user_id())
        bind_context(**incoming_trace_context(request.headers))

    def _return_request_id(response: Any) -> Any:
        request_id = request_id_var.get() or request.environ.get(_ENVIRON_REQUEST_ID)
        if request_id:
            response.headers.setdefault(header, request_id)
        return response

    def _end_request(exc: BaseException | None) -> None:
        try:
            if exc is not None:
                _log_unhandled(exc)
                g.newlog_logged_error = exc
            if settings.LOG_REQUEST_EVENT:
                log_request_completed(exc)
        finally:
            _restore_outer_context(request.environ.pop(_ENVIRON_OUTER, None))

    def _log_unhandled_outside_request(exc: BaseException | None) -> None:
        if exc is not None and g.pop("newlog_logged_error", None) is not exc:
            _log_unhandled(exc)

    app.before_request_funcs.setdefault(None, []).insert(0, _bind_request_id)
    app.after_request(_return_request_id)
    app.teardown_request_funcs.setdefault(None, []).insert(0, _end_request)
    app.teardown_appcontext(_log_unhandled_outside_request)


def incoming_request_id(value: str | None) -> str | None:
    """Return ``value`` stripped when it is a usable request id (1-128 of ``A-Za-z0-9._:/+=@-``), else None."""
    if not value:
        return None
    value = value.strip()
    return value if _REQUEST_ID.fullmatch(value) else None


def _restore_outer_context(outer: tuple[dict[str, Any], str | None, Any] | None) -> None:
    clear_context()
    bindings, request_id, user_id = outer if outer is not None else ({}, None, None)
    if bindings:
        bind_context(**bindings)
    request_id_var.set(request_id)
    user_id_var.set(user_id)


def _console_not_set(app: Flask) -> bool:
    """Whether neither the app's config nor the environment sets ``LOG_CONSOLE_LEVEL``."""
    return "LOG_CONSOLE_LEVEL" not in app.config and "LOG_CONSOLE_LEVEL" not in os.environ


def _log_unhandled(exc: BaseException) -> None:
    """Log an exception that escaped a request or app context as the legacy ``log_app_teardown`` did.

    Its message is the app's own (the error profile's ``teardown_message``), with ``error_type``.
    """
    if isinstance(exc, _NOT_APP_ERRORS):
        return
    profile = current_error_profile()
    message = profile.teardown_message if profile is not None else ErrorProfile.teardown_message
    log_error(message, module="system", exception=exc, error_type=type(exc).__name__)


_NOT_APP_ERRORS = (click.exceptions.Exit, click.exceptions.Abort, click.exceptions.ClickException, SystemExit)
"""Control flow, not errors: what the ``flask`` command line raises for ``--help``, a mistyped command,
Ctrl-C at a prompt, and ``sys.exit()`` of a command."""


def _current_user_id() -> Any:
    try:
        from flask_login import current_user
    except ImportError:
        return None
    try:
        return _user_id_of(current_user) if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - app without a login manager
        return None


def _user_id_of(user: Any) -> Any:
    """Return flask-login's ``user.get_id()``, as an int when it is a whole number."""
    user_id = user.get_id()
    if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit():
        return int(user_id)
    return user_id


_login_signals_connected = False


def _connect_login_signals() -> None:
    """With flask-login, bind ``user_id`` when a view logs a user in.

    Logging out leaves it bound for the rest of the request, as the legacy module's
    ``user_id_var`` did: the request's own events (``"user logged out"``) keep the user's id;
    the next request starts without it.
    """
    global _login_signals_connected
    if _login_signals_connected:
        return
    try:
        from flask_login import user_logged_in
    except ImportError:
        return
    user_logged_in.connect(_on_user_logged_in)
    _login_signals_connected = True


def _on_user_logged_in(sender: Any, user: Any = None, **extra: Any) -> None:
    if has_request_context() and EXTENSION_KEY in current_app.extensions and user is not None:
        try:
            user_id = _user_id_of(user)
        except Exception:  # noqa: BLE001 - a user class without get_id()
            return
        user_id_var.set(user_id)
        bind_context(user_id=user_id)

