"""Normalization: turn what a run observed into data that two runs can compare.

Volatile values are masked, keeping what a reader relies on: an id keeps its *shape*
(``<uuid>`` for a dashed UUID, ``<hex32>`` for 32 hex digits), a ``request_id`` becomes
``<present>`` (or stays null), timestamps, durations and host names become placeholders.
Tracebacks keep only their unindented lines (``Traceback ...``, ``Type: message``, chained
exception headers): frames with file paths and line numbers are dropped. Printed output is
reduced to one ``[level, event]`` pair per logged event, whatever the renderer.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
ISO_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
HEX_ID = re.compile(r"^[0-9a-f]{8,}$")
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
    """Return ``text`` with UUIDs, 32-hex ids, ISO timestamps and memory addresses masked."""
    text = UUID.sub("<uuid>", text)
    text = HEX32.sub("<hex32>", text)
    text = ISO_TIMESTAMP.sub("<timestamp>", text)
    return ADDRESS.sub("<addr>", text)


def mask(value: Any, key: str | None = None) -> Any:
    """Return a JSON-ready copy of ``value`` with volatile values masked (``key`` is its dict key)."""
    if key is not None and value is not None:
        if key in PRESENCE_KEYS:
            return PRESENT if value else value
        if key in MASKED_KEYS:
            return MASKED_KEYS[key]
        if key.endswith("_id") and isinstance(value, str):
            masked = mask_string(value)
            return "<id>" if masked == value and HEX_ID.match(value) else masked
    if isinstance(value, Mapping):
        return {str(k): mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(item) for item in value]
    if isinstance(value, enum.Enum):
        return mask(value.value)
    if isinstance(value, str):
        return mask_string(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return mask_string(str(value))


def normalize_traceback(text: Any) -> str | None:
    """Return the unindented lines of a traceback (exception types and messages), masked."""
    if text is None:
        return None
    lines = [line.rstrip() for line in str(text).splitlines()]
    kept = [mask_string(line) for line in lines if line.strip() and not line[:1].isspace()]
    return "\n".join(kept)


def normalize_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return one ``unified_logs`` row as ``{level, module, message, traceback, context}``, masked."""
    level = row.get("level")
    level = getattr(level, "name", level)
    context = row.get("context")
    if isinstance(context, str):
        try:
            context = json.loads(context)
        except ValueError:
            pass
    return {
        "level": str(level).upper() if level is not None else None,
        "module": row.get("module"),
        "message": mask_string(str(row.get("message"))) if row.get("message") is not None else None,
        "traceback": normalize_traceback(row.get("traceback")),
        "context": mask(context) if context is not None else None,
    }


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
