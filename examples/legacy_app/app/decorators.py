"""Route decorators built on the legacy module's loggers.

They use a module-level logger as the stdlib-style logger the legacy module hands
out (``structlog.stdlib.BoundLogger``): ``isEnabledFor``, ``getEffectiveLevel``,
``log(level, ...)``, ``exception`` and printf-style arguments.
"""

from __future__ import annotations

import logging
from functools import wraps
from typing import Any, Callable

from flask_login import current_user

from app.utils.structlog_config import get_system_logger

system_logger = get_system_logger()


def traced(func: Callable[..., Any]) -> Callable[..., Any]:
    """Trace a protected view: its calls when the system logger is on DEBUG, its failures with the traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if system_logger.isEnabledFor(10):  # logging.DEBUG
            system_logger.log(logging.DEBUG, "Entering %s as user %s", func.__name__, current_user.get_id())
        try:
            return func(*args, **kwargs)
        except Exception:
            if system_logger.getEffectiveLevel() <= logging.ERROR:
                system_logger.exception("Protected view %s failed", func.__name__, module="system")
            raise

    return wrapper
