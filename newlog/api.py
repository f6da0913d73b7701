"""The public helpers: the legacy-shaped ``log_*`` functions, named loggers, the debug switch, flush and shutdown."""

from __future__ import annotations

from typing import Any

import structlog

from newlog import state
from newlog.config import log_config
from newlog.queue_worker import all_workers
from newlog.sanitize import describe

_loggers: dict[str, Any] = {}


def get_logger(name: str) -> Any:
    """Return the structlog logger whose events carry ``logger=name`` (one per name; configures newlog lazily)."""
    logger = _loggers.get(name)
    if logger is None:
        if not log_config.configured:
            log_config.configure()
        logger = _loggers.setdefault(name, structlog.get_logger(name))
    return logger


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
    """Return the current app's debug switch (the newer legacy variant always returned False)."""
    return state.current().debug_enabled


def set_debug_logging_enabled(*, enabled: bool) -> None:
    """Turn DEBUG events on or off at run time, for every logger of every app."""
    for app_state in state.all_states():
        app_state.debug_enabled = bool(enabled)


def is_debug_logging_enabled() -> bool:
    """Return the current app's debug switch."""
    return state.current().debug_enabled


def flush(timeout: float | None = None) -> bool:
    """Wait until every event logged so far is written; True if none was lost (see ``LogQueueWorker.flush``)."""
    return all([worker.flush(timeout) for worker in all_workers() if not worker.closed])


def shutdown(timeout: float | None = None) -> bool:
    """Drain and stop every worker (idempotent); False if one timed out or lost events (reported once).

    Each worker waits up to ``timeout`` seconds, default its app's ``LOG_SHUTDOWN_TIMEOUT``.
    """
    return all([worker.shutdown(timeout) for worker in all_workers()])


def health() -> dict[str, Any]:
    """Return ``{"ok": bool, "workers": [stats, ...]}`` for this process; ok is False when a worker is dead.

    In the durable mode (``LOG_SPOOL_DIR``) a worker is its writer process: dead, or alive with a
    stale heartbeat (``writer_stale``), is not ok.
    """
    workers = [worker.stats() for worker in all_workers()]
    ok = all((stats["alive"] or stats["closed"]) and not stats.get("writer_stale") for stats in workers)
    return {"ok": ok, "workers": workers}
