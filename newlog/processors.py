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
from newlog.error_adapter import current_error_profile

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
    """Add the current app's static context and identity fields (app name, version, environment, host).

    Keys the event has are kept. Identity fields computed per event (see
    :func:`newlog.set_identity`) are called here; one that raises is left out, and a
    request-only one is added inside a request only.
    """
    app_state = state.current()
    for key, value in app_state.static_context.items():
        event_dict.setdefault(key, value)
    computed = app_state.computed_identity
    if computed:
        in_request = has_request_context()
        for key, compute, request_only in computed:
            if key not in event_dict and (in_request or not request_only):
                try:
                    event_dict[key] = compute()
                except Exception:  # noqa: BLE001 - logging must never break the caller
                    pass
    return event_dict


def add_timestamp(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``timestamp``: the aware UTC datetime of the call (printed as ISO 8601 with ``Z``)."""
    event_dict["timestamp"] = dt.datetime.now(dt.timezone.utc)
    return event_dict


_positional = structlog.stdlib.PositionalArgumentsFormatter()


def format_positional_args(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Format printf-style arguments into the message (``logger.info("%d rooms", 3)`` -> "3 rooms").

    structlog's ``PositionalArgumentsFormatter`` does the formatting, as in the legacy chain;
    where it would raise into the caller (arguments that do not fit the format) the message
    stays as written and the arguments are kept under ``positional_args``.
    """
    if "positional_args" not in event_dict:
        return event_dict
    try:
        return _positional(logger, method_name, event_dict)
    except Exception:  # noqa: BLE001 - logging must never break the caller
        return event_dict


def add_request_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Inside a Flask request, add request_id, user_id, url, method, ip_address and user_agent."""
    if not has_request_context():
        return event_dict
    event_dict.setdefault("request_id", request_id_var.get())
    event_dict.setdefault("user_id", user_id_var.get())
    try:
        event_dict.setdefault("url", request.url)
    except Exception as exc:  # noqa: BLE001 - e.g. a Host header werkzeug refuses (TRUSTED_HOSTS)
        event_dict.setdefault("url", f"<unreadable: {type(exc).__name__}>")
    event_dict.setdefault("method", request.method)
    event_dict.setdefault("ip_address", request.remote_addr)
    event_dict.setdefault("user_agent", request.headers.get("User-Agent"))
    return event_dict


def add_user_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """With flask-login, add the logged-in user's keys: username, current_user_id, current_username, role, is_admin.

    Read when the event is logged, as the legacy module's user-context processor did: ``username``
    is the user's (a ``username`` the call passes wins). The ``current_*`` keys are those the
    app's legacy handler stored (the error profile's ``user_context``), else newlog's own set
    (``current_user_role`` / ``is_admin`` only where the user has them). A method attribute is
    stored as its value (``user.is_admin()``), as the legacy module did.
    """
    if _current_user is None or not has_request_context():
        return event_dict
    try:
        user = _current_user._get_current_object()
        if not getattr(user, "is_authenticated", False):
            return event_dict
        event_dict.setdefault("username", getattr(user, "username", None))
        profile = current_error_profile()
        legacy_keys = profile.user_context if profile is not None else None
        for key, attribute in legacy_keys if legacy_keys is not None else _USER_CONTEXT:
            if key not in event_dict and (legacy_keys is not None or hasattr(user, attribute)):
                value = _value_of(getattr(user, attribute, None))
                if value is not _FAILED:
                    event_dict[key] = value
    except Exception:  # noqa: BLE001 - no login manager on this app, or a broken user loader
        pass
    return event_dict


_USER_CONTEXT = (
    ("current_user_id", "id"),
    ("current_username", "username"),
    ("current_user_role", "role"),
    ("is_admin", "is_admin"),
)
"""newlog's own user keys (the older legacy variant's set), without a profile that names the app's."""


_FAILED = object()


def _value_of(attribute: Any) -> Any:
    """Return a user attribute as a value: a method (``is_admin()``) is called, as the legacy module did.

    A method that fails (or needs arguments) gives ``_FAILED``: the key is left out, never
    stored as ``"<bound method ...>"``.
    """
    if callable(attribute):
        try:
            return attribute()
        except Exception:  # noqa: BLE001 - logging must never break the caller
            return _FAILED
    return attribute


def sanitize(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Return the event JSON-safe and redacted with the current app's words (what is stored and printed)."""
    return state.current().sanitizer.clean_event(event_dict)
