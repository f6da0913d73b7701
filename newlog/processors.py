"""The structlog processors newlog adds to the chain (each a plain ``(logger, method, event_dict)`` callable)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from flask import has_request_context, request

from newlog._safe import MAX_DEPTH, describe, json_safe
from newlog.context import get_static_context, request_id_var, user_id_var

EventDict = dict[str, Any]
REDACTED = "[REDACTED]"

try:  # flask-login is optional: the user context is added only where it is installed
    from flask_login import current_user as _current_user
except ImportError:  # pragma: no cover - exercised only without flask-login
    _current_user = None


class DebugFilter:
    """Drop DEBUG events unless ``enabled``; the switch can be flipped at run time."""

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        if method_name == "debug" and not self.enabled:
            raise structlog.DropEvent
        return event_dict


def add_logger_name(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``logger``: the name given to ``get_logger(name)``."""
    name = getattr(logger, "name", None)
    if name and "logger" not in event_dict:
        event_dict["logger"] = name
    return event_dict


def add_static_context(logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
    """Add the static context (app name, version, environment) without overriding event keys."""
    for key, value in get_static_context().items():
        event_dict.setdefault(key, value)
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


class Redactor:
    """Replace the values of sensitive keys (at any depth) with ``[REDACTED]``.

    A key is sensitive when its lower-cased name contains one of ``words``
    (so ``password``, ``access_token`` and ``X-Auth-Token`` all are). Any mapping
    (``request.form`` is a dict subclass) and list or tuple is searched; containers
    nested deeper than the stored depth are cut with the same marker as in the table.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words: tuple[str, ...] = ()
        self._verdicts: dict[str, bool] = {}
        self.set_words(words)

    def set_words(self, words: Iterable[str]) -> None:
        """Replace the sensitive words (the processor stays the same object in the chain)."""
        self.words = tuple(sorted({word.lower() for word in words}))
        self._verdicts = {}

    def is_sensitive(self, key: str) -> bool:
        """Return True when ``key`` names a value that must not be stored or printed."""
        verdict = self._verdicts.get(key)
        if verdict is None:
            lowered = key.lower()
            verdict = any(word in lowered for word in self.words)
            if len(self._verdicts) < 10_000:
                self._verdicts[key] = verdict
        return verdict

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> EventDict:
        verdicts = self._verdicts
        for key, value in event_dict.items():
            sensitive = verdicts.get(key)
            if sensitive is None:
                sensitive = isinstance(key, str) and self.is_sensitive(key)
            if sensitive:
                event_dict[key] = REDACTED
            elif type(value) not in _SCALARS and isinstance(value, _SEARCHED):
                event_dict[key] = self._scrub(value, 0)
        return event_dict

    def _scrub(self, value: Any, depth: int) -> Any:
        """Return ``value`` with sensitive keys redacted at any depth (the same object if none are)."""
        if type(value) in _SCALARS:
            return value
        if isinstance(value, (list, tuple)):
            if depth >= MAX_DEPTH:
                return _TOO_DEEP
            if all(type(item) in _SCALARS for item in value):
                return value
            return [self._scrub(item, depth + 1) for item in value]
        if isinstance(value, (dict, Mapping)):
            if depth >= MAX_DEPTH:
                return _TOO_DEEP
            try:
                return {
                    key: REDACTED if isinstance(key, str) and self.is_sensitive(key) else self._scrub(item, depth + 1)
                    for key, item in value.items()
                }
            except Exception as exc:  # noqa: BLE001 - a mapping whose iteration raises
                return f"<unreadable mapping: {type(exc).__name__}>"
        return value


_SCALARS = frozenset({str, int, float, bool, type(None)})
_SEARCHED = (dict, list, tuple, Mapping)  # the exact types first: Mapping is a slower ABC check
_TOO_DEEP = f"<truncated: nested deeper than {MAX_DEPTH}>"


class Renderer:
    """The one renderer: console on a TTY, JSON lines otherwise; hostile values never raise."""

    def __init__(self, mode: str = "auto", json_for_file: bool = False) -> None:
        self.mode = mode
        self.json_for_file = json_for_file
        self._json = structlog.processors.JSONRenderer(default=describe, allow_nan=False)
        self._console: Any = None

    def __call__(self, logger: Any, method_name: str, event_dict: EventDict) -> Any:
        renderer = self._pick()
        if self.json_for_file and renderer is not self._json:
            json_line = self._render(self._json, logger, method_name, event_dict)  # first: the console pops keys
            return (self._render(renderer, logger, method_name, event_dict),), {"newlog_json": json_line}
        return self._render(renderer, logger, method_name, event_dict)

    @staticmethod
    def _render(renderer: Any, logger: Any, method_name: str, event_dict: EventDict) -> str:
        try:
            return renderer(logger, method_name, event_dict)
        except Exception:  # noqa: BLE001 - e.g. a value whose repr raises
            return json.dumps(json_safe(event_dict))

    def _pick(self) -> Any:
        if self.mode == "json" or (self.mode == "auto" and not _isatty()):
            return self._json
        if self._console is None:
            self._console = structlog.dev.ConsoleRenderer(colors=_isatty())
        return self._console


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
