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
import threading
import uuid
from typing import Any

import click
import structlog
from flask import Flask, g, request
from flask.globals import _cv_app

from newlog._safe import describe
from newlog.context import (
    bind_request_context,
    clear_context,
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
                app_name=app.name,
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
        """Drain and stop every worker (idempotent); False if any timed out with events left."""
        wait = timeout if timeout is not None else self.settings.LOG_SHUTDOWN_TIMEOUT
        return all([worker.shutdown(wait) for worker in all_workers()])


log_config = LogConfig()


def _register_request_hooks(app: Flask, settings: Settings) -> None:
    header = settings.LOG_REQUEST_ID_HEADER

    @app.before_request
    def _bind_request_id() -> None:
        clear_context()
        incoming = request.headers.get(header, "").strip()
        request_id = incoming[:128] if incoming else uuid.uuid4().hex
        g.newlog_request_id = request_id
        bind_request_context(request_id, _current_user_id())

    @app.after_request
    def _return_request_id(response: Any) -> Any:
        request_id = getattr(g, "newlog_request_id", None)
        if request_id:
            response.headers.setdefault(header, request_id)
        return response

    @app.teardown_request
    def _clear_request_context(exc: BaseException | None) -> None:
        clear_context()
        request_id_var.set(None)
        user_id_var.set(None)

    @app.teardown_appcontext
    def _log_unhandled(exc: BaseException | None) -> None:
        if exc is not None:
            log_error("Application error", module="system", exception=exc)


def _current_user_id() -> Any:
    try:
        from flask_login import current_user
    except ImportError:
        return None
    try:
        return current_user.get_id() if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - app without a login manager
        return None


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
