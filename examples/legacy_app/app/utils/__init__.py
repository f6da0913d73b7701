"""Utilities shared by the application.

The most used logging helpers are re-exported here so callers can write
``from app.utils import log_info``. Do not re-export the ``structlog_config``
*instance*: it would shadow the ``app.utils.structlog_config`` submodule.
"""

from .structlog_config import (
    get_logger,
    log_critical,
    log_debug,
    log_error,
    log_info,
    log_warning,
)

__all__ = [
    "get_logger",
    "log_critical",
    "log_debug",
    "log_error",
    "log_info",
    "log_warning",
]
