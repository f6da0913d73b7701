"""Normalization: turn what a run observed into data that two runs can compare.

Volatile values are masked, keeping what a reader relies on: an id keeps its *shape*
(``<uuid>`` for a dashed UUID, ``<hex32>`` for 32 hex digits, ``ERR-<hex12>`` for an id of the
app's own format in a ``*_id`` key), a ``request_id`` becomes
``<present>`` (or stays null), timestamps, durations and host names become placeholders.
Tracebacks keep only their unindented lines (``Traceback ...``, ``Type: message``, chained
exception headers): frames with file paths and line numbers are dropped. Printed output is
reduced to one ``[level, event]`` pair per logged event, whatever the renderer.
"""

from __future__ import annotations

import datetime
import enum
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
ISO_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
HEX_ID = re.compile(r"^[0-9a-f]{8,}$")
HEX_RUN = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-F]{8,}|[0-9a-f]{8,})(?![0-9A-Za-z])")
"""A run of 8+ hex digits inside an id of the app's own format (``ERR-BFF6FCDB4F9D``)."""
SIGNED_TOKEN = re.compile(r"(?<![\w.-])[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{4,8}\.[A-Za-z0-9_-]{20,}(?![\w.-])")
"""A token signed with a timestamp (itsdangerous: Flask-WTF's CSRF token in a form, a session cookie): new every run."""
ANSI = re.compile(r"\x1b\[[0-9;]*m")

PRESENT = "<present>"
MASKED_KEYS = {
    "timestamp": "<timestamp>",
    "duration_ms": "<duration>",
    "duration": "<duration>",
    "host": "<host>",
}
"""Keys whose (non-null) value is replaced by a placeholder wherever they occur."""

PRESENCE_KEYS = frozenset({"request_id", "X-Request-ID"})
"""Keys whose value only counts as present (``<present>``) or absent/null."""

LEVELS = ("debug", "info", "warning", "error", "critical")


def mask_string(text: str) -> str:
    """Return ``text`` with UUIDs, 32-hex ids, ISO timestamps, signed tokens and memory addresses masked."""
    text = UUID.sub("<uuid>", text)
    text = HEX32.sub("<hex32>", text)
    text = ISO_TIMESTAMP.sub("<timestamp>", text)
    text = SIGNED_TOKEN.sub("<signed-token>", text)
    return ADDRESS.sub("<addr>", text)


def mask(value: Any, key: str | None = None) -> Any:
    """Return a JSON-ready copy of ``value`` with volatile values masked (``key`` is its dict key).

    Never raises: enums become ``{"enum": "module.Class", "value": ..., "equals_value": bool}``
    (``equals_value``: the member ``==`` its value, as a ``str``/``int`` enum), other objects
    ``{"object": "module.Type", "repr": ...}`` (a failing ``repr`` is recorded as such),
    sets become sorted lists, cycles ``"<cycle>"``.
    """
    return _Masker().mask(value, key)


class _Masker:
    """One walk of :func:`mask`: remembers the containers on the way down to cut cycles."""

    MAX_DEPTH = 60

    def __init__(self) -> None:
        self.path: list[int] = []

    def mask(self, value: Any, key: str | None = None) -> Any:
        if key is not None and value is not None:
            if key in PRESENCE_KEYS:
                return PRESENT if value else self.mask(value)
            if key in MASKED_KEYS:
                return MASKED_KEYS[key]
            if key.endswith("_id") and isinstance(value, str):
                masked = mask_string(value)
                if masked == value and HEX_ID.match(value):
                    return "<id>"
                return HEX_RUN.sub(lambda run: f"<hex{len(run.group())}>", masked)
        if value is None or isinstance(value, (bool, int)) and not isinstance(value, enum.Enum):
            return value
        if isinstance(value, float) and not isinstance(value, enum.Enum):
            return value if math.isfinite(value) else described(value)
        if isinstance(value, str) and not isinstance(value, enum.Enum):
            return mask_string(value)
        if isinstance(value, enum.Enum):
            return {"enum": qualified_name(type(value)), "value": self.mask(value.value), "equals_value": _equals_value(value)}
        if isinstance(value, (datetime.date, datetime.time)):
            return mask_string(value.isoformat())
        if isinstance(value, (Mapping, list, tuple, set, frozenset)):
            return self._container(value)
        return described(value)

    def _container(self, value: Any) -> Any:
        if id(value) in self.path:
            return "<cycle>"
        if len(self.path) >= self.MAX_DEPTH:
            return "<too deep>"
        self.path.append(id(value))
        try:
            if isinstance(value, Mapping):
                return {str(k): self.mask(v, str(k)) for k, v in list(value.items())}
            items = [self.mask(item) for item in value]
            if isinstance(value, (set, frozenset)):
                items.sort(key=lambda item: json.dumps(item, sort_keys=True))
            return items
        except Exception as exc:  # noqa: BLE001 - a hostile container: record what it raised
            return {"object": qualified_name(type(value)), "raised": f"{qualified_name(type(exc))}: {mask_string(_text(exc))}"}
        finally:
            self.path.pop()


def mask_keys(value: Any, keys: Iterable[str]) -> Any:
    """Return ``value`` with the values of the dict keys ``keys`` (at any depth) replaced by ``<masked>``."""
    wanted = frozenset(keys)
    if not wanted:
        return value
    if isinstance(value, Mapping):
        return {k: "<masked>" if k in wanted and v is not None else mask_keys(v, wanted) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_keys(item, wanted) for item in value]
    return value


def _equals_value(member: enum.Enum) -> bool:
    """True when the member compares equal to its plain value (``str``/``int`` enums), as code using it sees."""
    try:
        return bool(member == member.value)
    except Exception:  # noqa: BLE001
        return False


def qualified_name(cls: type) -> str:
    """Return ``module.QualName`` of ``cls`` (``builtins.`` included, so every name reads the same way)."""
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', getattr(cls, '__name__', '?'))}"


def described(value: Any) -> dict[str, str]:
    """Return ``{"object": type, "repr": masked repr}`` for a value JSON cannot hold (never raises)."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ is part of what was observed
        text = f"<repr raised {type(exc).__name__}: {_text(exc)}>"
    return {"object": qualified_name(type(value)), "repr": mask_string(text)}


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return "<str() failed>"


def outcome(exc: BaseException) -> dict[str, str]:
    """Return what a step raised: ``{"type": "module.Type", "message": masked text}``."""
    return {"type": qualified_name(type(exc)), "message": mask_string(_text(exc))}


def normalize_traceback(text: Any) -> str | None:
    """Return the unindented lines of a traceback (exception types and messages), masked."""
    if text is None:
        return None
    lines = [line.rstrip() for line in str(text).splitlines()]
    kept = [mask_string(line) for line in lines if line.strip() and not line[:1].isspace()]
    return "\n".join(kept)


ROW_COLUMNS = ("level", "module", "message", "traceback", "context")
"""The columns every legacy log table has; other columns (but ``id``) are kept under ``columns``."""


def normalize_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return one log row as ``{level, module, message, traceback, context[, columns]}``, masked.

    ``columns`` holds the table's other columns (an app's own ``created_at``, the
    ``timestamp`` column...), masked like any value, so that a column that changes is seen.
    """
    level = row.get("level")
    level = getattr(level, "name", level)
    context = row.get("context")
    if isinstance(context, str):
        try:
            context = json.loads(context)
        except ValueError:
            pass
    normalized = {
        "level": str(level).upper() if level is not None else None,
        "module": row.get("module"),
        "message": mask_string(str(row.get("message"))) if row.get("message") is not None else None,
        "traceback": normalize_traceback(row.get("traceback")),
        "context": mask(context) if context is not None else None,
    }
    others = {str(name): value for name, value in row.items() if name not in ROW_COLUMNS and name != "id"}
    if others:
        normalized["columns"] = mask(others)
    return normalized


def parse_printed(text: str) -> list[list[str]]:
    """Return the sorted, distinct ``[level, event]`` pairs of everything printed.

    Understands newlog's JSON lines, the legacy double-rendered console line (a JSON string
    holding a console line, possibly behind a stdlib handler's prefix) and plain console
    lines. A traceback printed by a stdlib handler becomes ``["traceback", "<Type: message>"]``.
    Anything else is kept as ``["raw", masked line]`` (without a ``LEVEL:logger:`` prefix).
    """
    events: set[tuple[str, ...]] = set()
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        if line.startswith("Traceback (most recent call last):"):
            while index < len(lines) and (not lines[index].strip() or lines[index][:1].isspace()):
                index += 1
            last = lines[index] if index < len(lines) else ""
            index += 1
            events.add(("traceback", mask_string(last.strip())))
            continue
        events.add(tuple(_parse_line(line)))
    return [list(event) for event in sorted(events)]


_STDLIB_PREFIX = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]*:")


def _parse_line(line: str) -> list[str]:
    stripped = ANSI.sub("", line).strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and "event" in data:
            return [str(data.get("level", "?")).lower(), mask_string(str(data["event"]))]
    quote = stripped.find('"')
    if quote >= 0:
        try:
            inner = json.loads(stripped[quote:])
        except ValueError:
            inner = None
        if isinstance(inner, str):
            parsed = _parse_console(ANSI.sub("", inner).splitlines()[0] if inner else "")
            if parsed is not None:
                return parsed
    parsed = _parse_console(stripped)
    if parsed is not None:
        return parsed
    return ["raw", mask_string(_STDLIB_PREFIX.sub("", stripped))]


_CONSOLE = re.compile(r"^(?:\S+ )?\[(?P<level>[a-z]+)\s*\] (?P<rest>.*)$")
_CONSOLE_TAIL = re.compile(r"\s+(?:\[[\w.:<>-]*\](?: |$)|[A-Za-z_][\w.]*=)")


def _parse_console(line: str) -> list[str] | None:
    match = _CONSOLE.match(line.strip())
    if match is None or match.group("level") not in LEVELS:
        return None
    rest = match.group("rest")
    tail = _CONSOLE_TAIL.search(rest)
    event = rest[: tail.start()] if tail else rest
    return [match.group("level"), mask_string(event.strip())]


def normalize_warnings(caught: Iterable[Any]) -> list[str]:
    """Return the sorted, distinct ``"Category: message"`` texts of caught warnings."""
    return sorted({f"{w.category.__name__}: {mask_string(str(w.message))}" for w in caught})
