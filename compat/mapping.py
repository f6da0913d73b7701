"""The one source of truth for the legacy -> newlog name mapping.

``compat.structlog_config`` serves every legacy name from here, and the codemods
rewrite imports and uses from here. It is plain data: add a row, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LEGACY_MODULE = "app.utils.structlog_config"
"""The dotted path real applications import the legacy module from (``--module`` overrides it)."""

NEW_MODULE = "newlog"
"""The package every new name is imported from."""

Variant = Literal["both", "older", "newer"]


@dataclass(frozen=True)
class Rename:
    """Where one legacy public name lives after the migration.

    ``new`` is the name exported by ``newlog``; ``variant`` says which legacy
    variant had the name; ``note`` is the intended behaviour change, if any.
    """

    new: str
    variant: Variant = "both"
    note: str = ""


NAMES: dict[str, Rename] = {
    # context variables
    "request_id_var": Rename("request_id_var", note="now set for every request by newlog.init_app"),
    "user_id_var": Rename("user_id_var"),
    # configuration and loggers
    "StructlogConfig": Rename("LogConfig", note="configure() starts the background worker"),
    "structlog_config": Rename("log_config"),
    "SQLAlchemyLogHandler": Rename(
        "DatabaseLogHandler", note="enqueues to a background worker instead of committing per event"
    ),
    "configure_structlog": Rename("init_app", note="also starts the worker and registers atexit shutdown"),
    "get_logger": Rename("get_logger"),
    "get_system_logger": Rename("get_system_logger"),
    "get_api_logger": Rename("get_api_logger"),
    "get_auth_logger": Rename("get_auth_logger"),
    "get_db_logger": Rename("get_db_logger"),
    "get_sync_logger": Rename("get_sync_logger"),
    "get_task_logger": Rename("get_task_logger"),
    # convenience functions
    "log_info": Rename("log_info"),
    "log_warning": Rename("log_warning"),
    "log_error": Rename("log_error"),
    "log_critical": Rename("log_critical"),
    "log_debug": Rename("log_debug", note="honours the live ENABLE_DEBUG_LOG switch"),
    "should_log_debug": Rename("should_log_debug", note="returns the live switch (newer variant: always False)"),
    "set_debug_logging_enabled": Rename("set_debug_logging_enabled", variant="older"),
    "is_debug_logging_enabled": Rename("is_debug_logging_enabled", variant="older"),
    # context helpers (older variant): ContextVars instead of the process-global dict
    "bind_context": Rename("bind_context", variant="older", note="binds ContextVars: visible to this thread/task only"),
    "clear_context": Rename("clear_context", variant="older"),
    "get_context": Rename("get_context", variant="older"),
    "bind_request_context": Rename("bind_request_context", variant="older"),
    "clear_request_context": Rename("clear_request_context", variant="older"),
    "LogContext": Rename("log_context", variant="older", note="a context manager that is also a decorator"),
    "with_log_context": Rename("log_context", variant="older", note="keeps the function's name (functools.wraps)"),
    # error handling
    "ErrorCategory": Rename("ErrorCategory", note="an enum whose values are the legacy strings"),
    "ErrorSeverity": Rename("ErrorSeverity", note="an enum whose values are the legacy strings"),
    "ErrorContext": Rename("ErrorContext"),
    "ErrorMetadata": Rename("ErrorMetadata", variant="newer"),
    "enhanced_error_handler": Rename("enhanced_error_handler"),
    "error_handler": Rename("error_handler", note="calls the wrapped function once (older variant called it twice)"),
    "error_monitor": Rename("error_monitor", variant="older"),
}

PRIVATE_STATE = frozenset({"_global_context", "_debug_logging_enabled"})
"""Legacy module-level state with no public successor: handled by the global-context rule."""


def new_name(legacy_name: str) -> str | None:
    """Return the newlog name for a legacy public name, or None if it is not part of the API."""
    rename = NAMES.get(legacy_name)
    return rename.new if rename else None
