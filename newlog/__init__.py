"""newlog: structlog events enqueued in the request thread, written to the database in batches.

The package only re-exports the public API. One event's way: ``api`` (``log_info`` and the
named loggers) -> ``config`` (the structlog chain of ``processors``; ``sanitize`` makes the
event JSON-safe and redacted once) -> ``handlers`` (enqueues a copy) -> ``queue_worker``
(batches in a background thread) -> ``rows`` (``build_row``) -> ``sinks`` (the database).
``output`` renders and prints; ``extension`` is ``init_app`` and the request hooks; ``state``
holds each app's settings (``settings``); ``context`` the ContextVar log context;
``error_adapter`` the error payloads; ``audit`` the ``audit_log`` decorator; ``cli`` the
``flask newlog-health`` command. ``tracing`` and ``callsite`` add trace ids and callsite
fields to events, ``request_event`` logs one event per request, and ``sync_writes`` is the
``LOG_SYNC_WRITES`` rollback switch (each event written in the caller's thread).
"""

from newlog.api import (
    flush,
    get_api_logger,
    get_auth_logger,
    get_db_logger,
    get_logger,
    get_sync_logger,
    get_system_logger,
    get_task_logger,
    health,
    is_debug_logging_enabled,
    log_critical,
    log_debug,
    log_error,
    log_info,
    log_warning,
    set_debug_logging_enabled,
    should_log_debug,
    shutdown,
)
from newlog.audit import audit_log
from newlog.config import LogConfig, log_config
from newlog.context import (
    bind_context,
    bind_request_context,
    clear_context,
    clear_request_context,
    get_context,
    get_static_context,
    log_context,
    request_id_var,
    set_static_context,
    unbind_context,
    user_id_var,
)
from newlog.error_adapter import (
    ErrorCategory,
    ErrorContext,
    ErrorMetadata,
    ErrorSeverity,
    enhanced_error_handler,
    error_handler,
    error_monitor,
    register_error_metadata,
)
from newlog.extension import init_app
from newlog.handlers import DatabaseLogHandler
from newlog.models import log_table
from newlog.queue_worker import LogQueueWorker
from newlog.settings import ConfigError, Settings

__all__ = [
    "ConfigError",
    "DatabaseLogHandler",
    "ErrorCategory",
    "ErrorContext",
    "ErrorMetadata",
    "ErrorSeverity",
    "LogConfig",
    "LogQueueWorker",
    "Settings",
    "audit_log",
    "bind_context",
    "bind_request_context",
    "clear_context",
    "clear_request_context",
    "enhanced_error_handler",
    "error_handler",
    "error_monitor",
    "flush",
    "get_api_logger",
    "get_auth_logger",
    "get_context",
    "get_db_logger",
    "get_logger",
    "get_static_context",
    "get_sync_logger",
    "get_system_logger",
    "get_task_logger",
    "health",
    "init_app",
    "is_debug_logging_enabled",
    "log_config",
    "log_context",
    "log_critical",
    "log_debug",
    "log_error",
    "log_info",
    "log_table",
    "log_warning",
    "register_error_metadata",
    "request_id_var",
    "set_debug_logging_enabled",
    "set_static_context",
    "should_log_debug",
    "shutdown",
    "unbind_context",
    "user_id_var",
]
