"""``build_row``: one event -> one ``unified_logs`` row, by the legacy ``_build_log_entry`` rules.

The event normally is the chain's :class:`~newlog.sanitize.CleanEvent` (already JSON-safe
and redacted, with ``timestamp`` an aware datetime): then a row is only picked apart,
nothing is converted twice. Any other mapping is cleaned first with the built-in words.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import orjson

from newlog.sanitize import CleanEvent, Sanitizer, describe, safe_text
from newlog.settings import LEVEL_NUMBERS

NOT_CONTEXT = frozenset({"level", "module", "event", "timestamp", "exception", "logger", "logger_name"})
MODULE_MAX = 100

_default_sanitizer = Sanitizer()


def build_row(event: Any) -> dict[str, Any]:
    """Return the row for one event (legacy ``_build_log_entry`` rules).

    Keys: ``timestamp`` (aware UTC), ``level`` (upper-case name, INFO when missing or unknown),
    ``module`` (``module``, else the last dotted part of ``logger``, else "unknown"),
    ``message`` (``event``, else ``message``), ``traceback`` (``exception`` as text) and
    ``context`` (every other non-None key, JSON-safe). A non-mapping event is an INFO row
    with its text as the message.
    """
    if not isinstance(event, Mapping):
        return {
            "timestamp": dt.datetime.now(dt.timezone.utc),
            "level": "INFO",
            "module": "unknown",
            "message": describe(event),
            "traceback": None,
            "context": {},
        }
    if type(event) is not CleanEvent:
        event = _default_sanitizer.clean_event(event)
    level = str(event.get("level") or "INFO").upper()
    if level == "WARN":
        level = "WARNING"
    message = event.get("event")
    if message is None:
        message = event.get("message")
    exception = event.get("exception")
    return {
        "timestamp": row_timestamp(event.get("timestamp")),
        "level": level if level in LEVEL_NUMBERS else "INFO",
        "module": safe_text(_module_of(event), MODULE_MAX),
        "message": message if type(message) is str else ("" if message is None else describe(message)),
        "traceback": None if exception is None else (exception if type(exception) is str else describe(exception)),
        "context": {key: value for key, value in event.items() if key not in NOT_CONTEXT and value is not None},
    }


def _module_of(event: Mapping[str, Any]) -> str:
    module = event.get("module")
    if module:
        return describe(module)
    logger = event.get("logger") or event.get("logger_name")
    if logger:
        return describe(logger).rsplit(".", 1)[-1]
    return "unknown"


def row_timestamp(value: Any) -> dt.datetime:
    """Return an aware UTC datetime for a datetime or an ISO string; naive means UTC, unparsable means now."""
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, str):
        try:
            stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            return dt.datetime.now(dt.timezone.utc)
    else:
        return dt.datetime.now(dt.timezone.utc)
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=dt.timezone.utc)
    return stamp if stamp.utcoffset() == dt.timedelta(0) else stamp.astimezone(dt.timezone.utc)


def encode_row(row: Mapping[str, Any]) -> bytes:
    """Return ``row`` as one JSON line (newline-terminated), as the spool stores it and the database parses it; never raises."""
    try:
        return orjson.dumps(row, default=describe) + b"\n"
    except (TypeError, orjson.JSONEncodeError):
        # orjson refuses what the sanitizer lets through in an app-made row (ints beyond 64 bits,
        # non-str keys in a column default's value): the stdlib encoder with describe() takes anything.
        return json.dumps(row, default=describe, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"
