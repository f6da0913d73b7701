"""Turn arbitrary event values into JSON-safe data that every database accepts.

Hostile content never raises: objects whose ``repr`` raises become a marker, bytes
are decoded with backslash escapes, NUL characters (refused by PostgreSQL text)
are escaped, very long strings and very deep structures are cut with a visible
marker.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

MAX_STRING = 64 * 1024
MAX_DEPTH = 16
MAX_ITEMS = 1000
TRUNCATED = "...[truncated {} chars]"

_PLAIN = (bool, int, float, type(None))


def safe_text(value: str, limit: int = MAX_STRING) -> str:
    """Return ``value`` without NUL characters, cut to ``limit`` characters with a marker."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if len(value) > limit:
        value = value[:limit] + TRUNCATED.format(len(value) - limit)
    if _has_surrogates(value):
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def safe_key(key: object) -> str:
    """Return ``key`` as a JSON object key every database accepts (``jsonb`` refuses NUL and lone surrogates)."""
    if type(key) is str and key.isascii() and "\x00" not in key:
        return key
    return safe_text(key) if isinstance(key, str) else describe(key)


def describe(value: object) -> str:
    """Return ``str(value)``, or a marker naming the type if that raises."""
    try:
        return safe_text(str(value))
    except Exception as exc:  # noqa: BLE001 - hostile __str__/__repr__
        return f"<unprintable {type(value).__name__}: {type(exc).__name__}>"


def json_safe(value: Any, depth: int = 0) -> Any:
    """Return a JSON-serialisable copy of ``value`` (never raises, never shares mutable state)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, _PLAIN):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return str(value)
        return value
    if depth >= MAX_DEPTH:
        return f"<truncated: nested deeper than {MAX_DEPTH}>"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return json_safe(value.value, depth + 1)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return safe_text(bytes(value).decode("utf-8", "backslashreplace"))
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, Mapping):
        return _mapping(value, depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return _sequence(value, depth)
    to_dict = getattr(type(value), "to_dict", None)
    if callable(to_dict):
        try:
            return json_safe(value.to_dict(), depth + 1)
        except Exception:  # noqa: BLE001 - a broken to_dict must not lose the event
            pass
    return describe(value)


def _mapping(value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        for index, (key, item) in enumerate(value.items()):
            if index >= MAX_ITEMS:
                out["..."] = f"[truncated {len(value) - MAX_ITEMS} items]"
                break
            out[safe_key(key)] = json_safe(item, depth + 1)
    except Exception as exc:  # noqa: BLE001 - a mapping whose iteration raises
        out["<error>"] = f"<unreadable mapping: {type(exc).__name__}>"
    return out


def _sequence(value: Any, depth: int) -> list[Any]:
    out: list[Any] = []
    for index, item in enumerate(value):
        if index >= MAX_ITEMS:
            out.append(f"[truncated {len(value) - MAX_ITEMS} items]")
            break
        out.append(json_safe(item, depth + 1))
    return out


def snapshot(event_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``event_dict`` that later mutation by the caller cannot change.

    Plain values are kept as they are (they are immutable); containers and objects
    become JSON-safe copies right away, in the caller's thread.
    """
    return {
        key: value if type(value) in _IMMUTABLE else json_safe(value)
        for key, value in event_dict.items()
    }


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})
