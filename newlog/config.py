"""Wiring: the processor chain, ``init_app``, loggers and the legacy-shaped convenience functions.

The structlog configuration is set once and its processors are stable objects whose
state (debug switch, persistence level, renderer, redaction words) is updated in
place, so loggers cached on first use keep working after ``init_app``.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import threading
import uuid
from typing import Any

import click
import structlog
from flask import Flask, current_app, g, has_request_context, request
from flask.globals import _cv_app

from newlog._safe import describe
from newlog.context import (
    bind_context,
    bind_request_context,
    clear_context,
    get_context,
    request_id_var,
    set_static_context,
    user_id_var,
)
from newlog.handlers import LEVEL_NUMBERS, DatabaseLogHandler
from newlog.processors import (
    DebugFilter,
    Redactor,
    Renderer,
    add_logger_name,
    add_request_context,
    add_static_context,
    add_user_context,
)
from newlog.output import LineWriterFactory, Outputs
from newlog.queue_worker import LogQueueWorker, all_workers
from newlog.settings import DEFAULT_REDACT_KEYS, Settings

EXTENSION_KEY = "newlog"


class LogConfig:
    """The process's newlog set-up: processors, output, and the workers of initialised apps."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.debug_filter = DebugFilter(self.settings.ENABLE_DEBUG_LOG)
        self.redactor = Redactor(DEFAULT_REDACT_KEYS)
        self.handler = DatabaseLogHandler(self.worker_for, self.settings.LOG_DB_LEVEL)
        self.renderer = Renderer(self.settings.LOG_RENDERER)
        self.outputs = Outputs()
        self.logger_factory = LineWriterFactory(self.outputs)
        self.chain: list[Any] = self._build_chain()
        self.default_worker: LogQueueWorker | None = None
        self.configured = False
        self._lock = threading.RLock()
        self._atexit_registered = False

    @property
    def processors(self) -> list[Any]:
        """Return the processor chain (the live list structlog uses), in order."""
        return self.chain

    def _build_chain(self) -> list[Any]:
        return [
            self.debug_filter,
            structlog.contextvars.merge_contextvars,
            add_logger_name,
            add_static_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            add_request_context,
            add_user_context,
            self.redactor,
            self.handler,
            self.renderer,
        ]

    def configure(self, app: Flask | None = None, **kwargs: Any) -> LogQueueWorker | None:
        """Configure structlog (idempotent); with ``app``, also ``init_app(app, **kwargs)``."""
        with self._lock:
            if not self.configured:
                self._configure_structlog()
        return self.init_app(app, **kwargs) if app is not None else None

    def _configure_structlog(self) -> None:
        structlog.configure(
            processors=self.chain,
            context_class=dict,
            logger_factory=self.logger_factory,
            wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
            cache_logger_on_first_use=True,
        )
        self.configured = True

    def apply(self, settings: Settings) -> None:
        """Apply ``settings`` to the live processors and outputs."""
        self.settings = settings
        self.debug_filter.enabled = settings.ENABLE_DEBUG_LOG
        self.redactor.set_words(settings.redact_keys)
        self.handler.min_level = LEVEL_NUMBERS[settings.LOG_DB_LEVEL]
        self.renderer.mode = settings.LOG_RENDERER
        self.renderer.json_for_file = bool(settings.LOG_FILE)
        self.outputs.set_file(settings.LOG_FILE, settings.LOG_FILE_MAX_BYTES, settings.LOG_FILE_BACKUP_COUNT)
        self._configure_structlog()

    def init_app(
        self, app: Flask, db: Any = None, model: Any = None, *, sink: Any = None
    ) -> LogQueueWorker:
        """Wire ``app``: settings from its config, a started worker, request hooks, atexit shutdown.

        ``db`` defaults to the app's flask-sqlalchemy extension, ``model`` to the app's own
        ``LOG_TABLE`` ("unified_logs") table, else newlog's table of that name. Calling it
        again for the same app returns the running worker.
        """
        with self._lock:
            existing = app.extensions.get(EXTENSION_KEY)
            if existing is not None:
                return existing
            settings = Settings.load(app.config)
            self.apply(settings)
            worker = LogQueueWorker(
                app,
                sink,
                queue_size=settings.LOG_QUEUE_SIZE,
                batch_size=settings.LOG_BATCH_SIZE,
                flush_interval=settings.LOG_FLUSH_INTERVAL,
                retry_seconds=settings.LOG_RETRY_SECONDS,
                warn_interval=settings.LOG_OVERFLOW_WARN_INTERVAL,
                table=model,
                db=db,
            )
            app.extensions[EXTENSION_KEY] = worker
            self.default_worker = worker
            set_static_context(
                app_name=app.config.get("APP_NAME", app.name),
                app_version=app.config.get("APP_VERSION", "unknown"),
                environment=app.config.get("ENVIRONMENT", os.environ.get("FLASK_ENV", "production")),
            )
            _register_request_hooks(app, settings)
            app.cli.add_command(health_command)
            if not self._atexit_registered:
                atexit.register(self.shutdown)
                self._atexit_registered = True
            return worker

    def worker_for(self) -> LogQueueWorker | None:
        """Return the worker of the current app context, else the most recently initialised one."""
        app_context = _cv_app.get(None)
        if app_context is not None:
            worker = app_context.app.extensions.get(EXTENSION_KEY)
            if worker is not None:
                return worker
        return self.default_worker

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every worker has written what was queued before the call; True if all were."""
        return all([worker.flush(timeout) for worker in all_workers()])

    def shutdown(self, timeout: float | None = None) -> bool:
        """Drain and stop every worker (idempotent); False if any timed out or dropped events while draining."""
        wait = timeout if timeout is not None else self.settings.LOG_SHUTDOWN_TIMEOUT
        return all([worker.shutdown(wait) for worker in all_workers()])


log_config = LogConfig()


REQUEST_ID_MAX = 128
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,%d}" % (REQUEST_ID_MAX - 1))
_ENVIRON_REQUEST_ID = "newlog.request_id"
_ENVIRON_OUTER = "newlog.outer_context"


def _register_request_hooks(app: Flask, settings: Settings) -> None:
    """Bind a request id (and user id) for every request; return it on the response; clean up after.

    The binding hook runs before the app's other ``before_request`` hooks and the clean-up
    after its other ``teardown_request`` hooks, so their events carry the request context.
    A request starts with an empty log context; at its end the context the thread had
    before the request is restored, so nothing bound during one request reaches the next.
    The response header carries the request id in effect at the end of the request (an app
    hook that rebinds it with ``bind_request_context`` wins), unless the view set the header.
    """
    header = settings.LOG_REQUEST_ID_HEADER
    _connect_login_signals()

    def _bind_request_id() -> None:
        request.environ[_ENVIRON_OUTER] = (get_context(), request_id_var.get(), user_id_var.get())
        clear_context()
        request_id = incoming_request_id(request.headers.get(header)) or uuid.uuid4().hex
        request.environ[_ENVIRON_REQUEST_ID] = request_id
        g.newlog_request_id = request_id
        bind_request_context(request_id, _current_user_id())

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


def _log_unhandled(exc: BaseException) -> None:
    log_error("Application error", module="system", exception=exc)


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
    """With flask-login, keep ``user_id`` current when a view logs a user in or out."""
    global _login_signals_connected
    if _login_signals_connected:
        return
    try:
        from flask_login import user_logged_in, user_logged_out
    except ImportError:
        return
    user_logged_in.connect(_on_user_logged_in)
    user_logged_out.connect(_on_user_logged_out)
    _login_signals_connected = True


def _on_user_logged_in(sender: Any, user: Any = None, **extra: Any) -> None:
    if has_request_context() and EXTENSION_KEY in current_app.extensions and user is not None:
        try:
            user_id = _user_id_of(user)
        except Exception:  # noqa: BLE001 - a user class without get_id()
            return
        user_id_var.set(user_id)
        bind_context(user_id=user_id)


def _on_user_logged_out(sender: Any, user: Any = None, **extra: Any) -> None:
    if has_request_context() and EXTENSION_KEY in current_app.extensions:
        user_id_var.set(None)
        bind_context(user_id=None)


@click.command("newlog-health")
def health_command() -> None:
    """Print the log workers' stats as JSON; exit 1 if a worker is dead or has a backlog error."""
    report = health()
    click.echo(json.dumps(report, indent=2, default=str))
    if not report["ok"]:
        raise SystemExit(1)


def health() -> dict[str, Any]:
    """Return ``{"ok": bool, "workers": [stats, ...]}``; ok is False when a worker is dead."""
    workers = [worker.stats() for worker in all_workers()]
    ok = all(stats["alive"] or stats["closed"] for stats in workers)
    return {"ok": ok, "workers": workers}


# -- the public helpers ------------------------------------------------------------------------


def init_app(app: Flask, db: Any = None, model: Any = None, *, sink: Any = None) -> LogQueueWorker:
    """Wire ``app`` to newlog and return its started worker (see :meth:`LogConfig.init_app`)."""
    log_config.configure()
    return log_config.init_app(app, db, model, sink=sink)


def get_logger(name: str) -> Any:
    """Return a structlog logger whose events carry ``logger=name`` (configures newlog lazily)."""
    if not log_config.configured:
        log_config.configure()
    return structlog.get_logger(name)


def get_system_logger() -> Any:
    """Return the "system" logger."""
    return get_logger("system")


def get_api_logger() -> Any:
    """Return the "api" logger."""
    return get_logger("api")


def get_auth_logger() -> Any:
    """Return the "auth" logger."""
    return get_logger("auth")


def get_db_logger() -> Any:
    """Return the "database" logger."""
    return get_logger("database")


def get_sync_logger() -> Any:
    """Return the "sync" logger."""
    return get_logger("sync")


def get_task_logger() -> Any:
    """Return the "task" logger."""
    return get_logger("task")


def log_info(message: str, module: str = "app", **kwargs: Any) -> None:
    """Log ``message`` at INFO through the "app" logger."""
    get_logger("app").info(message, module=module, **kwargs)


def log_warning(message: str, module: str = "app", exception: BaseException | None = None, **kwargs: Any) -> None:
    """Log ``message`` at WARNING; an ``exception`` is added as its text under ``exception``."""
    if exception is not None:
        kwargs["exception"] = describe(exception)
    get_logger("app").warning(message, module=module, **kwargs)


def log_error(message: str, module: str = "app", exception: BaseException | None = None, **kwargs: Any) -> None:
    """Log ``message`` at ERROR with the traceback of ``exception`` (or of the one being handled)."""
    _log_failure("error", message, module, exception, kwargs)


def log_critical(message: str, module: str = "app", exception: BaseException | None = None, **kwargs: Any) -> None:
    """Log ``message`` at CRITICAL with the traceback of ``exception`` (or of the one being handled)."""
    _log_failure("critical", message, module, exception, kwargs)


def _log_failure(level: str, message: str, module: str, exception: BaseException | None, kwargs: dict[str, Any]) -> None:
    if exception is not None:
        kwargs["error"] = describe(exception)
    kwargs.setdefault("exc_info", exception if exception is not None else True)
    getattr(get_logger("app"), level)(message, module=module, **kwargs)


def log_debug(message: str, module: str = "app", **kwargs: Any) -> None:
    """Log ``message`` at DEBUG when the debug switch is on (``ENABLE_DEBUG_LOG``)."""
    if should_log_debug():
        get_logger("app").debug(message, module=module, **kwargs)


def should_log_debug() -> bool:
    """Return the live debug switch (the newer legacy variant always returned False)."""
    return log_config.debug_filter.enabled


def set_debug_logging_enabled(*, enabled: bool) -> None:
    """Turn DEBUG events on or off at run time, for every logger."""
    log_config.debug_filter.enabled = bool(enabled)


def is_debug_logging_enabled() -> bool:
    """Return the live debug switch."""
    return log_config.debug_filter.enabled


def flush(timeout: float | None = None) -> bool:
    """Wait until every event logged so far is written; True if all were."""
    return log_config.flush(timeout)


def shutdown(timeout: float | None = None) -> bool:
    """Drain and stop every worker; False if one timed out with events left (they are logged)."""
    return log_config.shutdown(timeout)
