"""The structlog processors newlog adds to the chain (each a plain ``(logger, method, event_dict)`` callable).

Those that depend on settings read the state of the current app (:func:`newlog.state.current`),
so two apps in one process keep their own debug switch, static context and redaction words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from flask import has_request_context, request

from newlog import state
from newlog.context import request_id_var, user_id_var

EventDict = dict[str, Any]

try:  # flask-login is optional: the user context is added only where it is installed
    from flask_login import current_user as _current_user
except ImportError:  # pragma: no cover - exercised only without flask-login
    _current_user = None


def drop_debug_unless_enabled(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Drop DEBUG events unless the current app's debug switch is on (``ENABLE_DEBUG_LOG``)."""
    if method_name == "debug" and not state.current().debug_enabled:
        raise structlog.DropEvent
    return event_dict


def add_logger_name(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``logger``: the name given to ``get_logger(name)``."""
    name = getattr(logger, "name", None)
    if name and "logger" not in event_dict:
        event_dict["logger"] = name
    return event_dict


def add_static_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add the current app's static context (app name, version, environment) without overriding event keys."""
    for key, value in state.current().static_context.items():
        event_dict.setdefault(key, value)
    return event_dict


def add_timestamp(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``timestamp``: the aware UTC datetime of the call (printed as ISO 8601 with ``Z``)."""
    event_dict["timestamp"] = dt.datetime.now(dt.timezone.utc)
    return event_dict


def add_request_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Inside a Flask request, add request_id, user_id, url, method, ip_address and user_agent."""
    if not has_request_context():
        return event_dict
    event_dict.setdefault("request_id", request_id_var.get())
    event_dict.setdefault("user_id", user_id_var.get())
    event_dict.setdefault("url", request.url)
    event_dict.setdefault("method", request.method)
    event_dict.setdefault("ip_address", request.remote_addr)
    event_dict.setdefault("user_agent", request.headers.get("User-Agent"))
    return event_dict


def add_user_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """With flask-login, add current_user_id / current_username (and role, is_admin) when authenticated."""
    if _current_user is None or not has_request_context():
        return event_dict
    try:
        user = _current_user._get_current_object()
        if not getattr(user, "is_authenticated", False):
            return event_dict
        event_dict.setdefault("current_user_id", getattr(user, "id", None))
        event_dict.setdefault("current_username", getattr(user, "username", None))
        for attribute, key in (("role", "current_user_role"), ("is_admin", "is_admin")):
            if hasattr(user, attribute):
                event_dict.setdefault(key, getattr(user, attribute))
    except Exception:  # noqa: BLE001 - no login manager on this app, or a broken user loader
        pass
    return event_dict


def sanitize(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Return the event JSON-safe and redacted with the current app's words (what is stored and printed)."""
    return state.current().sanitizer.clean_event(event_dict)
