"""Route decorators built on the logging module's loggers.

They use the loggers as the stdlib-style loggers they are
(``structlog.stdlib.BoundLogger``): ``isEnabledFor``, ``getEffectiveLevel``,
``name``, ``log(level, ...)``, ``exception`` and printf-style arguments.
"""

from __future__ import annotations

import logging
import time
from functools import wraps
from typing import Any, Callable

from flask import g
from flask_login import current_user

from app.errors import AccessDenied
from app.utils.structlog_config import get_auth_logger, get_system_logger

system_logger = get_system_logger()
auth_logger = get_auth_logger()

SLOW_REQUEST_MS = 500.0


def timed(func: Callable[..., Any]) -> Callable[..., Any]:
    """Log slow views (WARNING); time every view while the system logger is set to DEBUG."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms > SLOW_REQUEST_MS:
                system_logger.warning("Langsame Route %s: %.1f ms", func.__name__, elapsed_ms, module="timing")
            elif system_logger.isEnabledFor(10):  # system logger on DEBUG: time every route
                system_logger.log(logging.INFO, "Route %s dauerte %.1f ms", func.__name__, elapsed_ms, module="timing")

    return wrapper


def admin_required(func: Callable[..., Any]) -> Callable[..., Any]:
    """Only admins (``current_user.is_admin()``) may call the view; others get ``AccessDenied``."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin():
            auth_logger.warning("Admin-Bereich verweigert für %s", current_user.username, module="auth")
            raise AccessDenied("admin only", username=current_user.username)
        if auth_logger.getEffectiveLevel() <= logging.INFO:
            auth_logger.info("Admin-Zugriff von %s auf %s", current_user.username, func.__name__, module="auth")
        return func(*args, **kwargs)

    return wrapper


def audited(func: Callable[..., Any]) -> Callable[..., Any]:
    """Log any exception with its traceback through ``logger.exception`` and re-raise it."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception:
            system_logger.exception(
                "Fehler in %s (Logger %s)", func.__name__, system_logger.name, module="audit", request_id=g.get("request_id")
            )
            raise

    return wrapper
