"""Notifications sent to users (fake: only logged).

The module is also used by stand-alone scripts that run without the app, hence
the ``ImportError`` fallback to the standard library.
"""

from __future__ import annotations

from typing import Any

try:
    from app.utils.structlog_config import log_info, log_warning
except ImportError:  # running outside the application package
    import logging

    _fallback_logger = logging.getLogger("notifications")

    def log_info(message: str, module: str = "app", **kwargs: Any) -> None:
        _fallback_logger.info("%s %s", message, kwargs)

    def log_warning(message: str, module: str = "app", exception: Exception | None = None, **kwargs: Any) -> None:
        _fallback_logger.warning("%s %s %s", message, exception, kwargs)


def notify_login(user: Any) -> bool:
    """Send a "new login" notice; return whether it was sent."""
    if not getattr(user, "username", None):
        log_warning("Cannot notify a user without a username", module="notifications")
        return False
    log_info("Login notification sent", module="notifications", username=user.username, channel="email")
    return True
