"""Trace context: ``trace_id`` and ``span_id`` on every event of a traced request or block.

Three sources, strongest first: the ids of the current OpenTelemetry span when
OpenTelemetry is installed and that span is recording (:func:`add_trace_context`, read at
each event, so nested spans are told apart); the ids bound with
``log_context(trace_id=..., span_id=...)``; and, for a Flask request, its W3C
``traceparent`` header (:func:`incoming_trace_context`, bound by the request hooks). A
header that is not a valid ``traceparent`` is ignored, never stored.

``span_id`` from a header is the caller's span (the header's ``parent-id``): without
OpenTelemetry this service opens no span of its own, so its events belong to the caller's.
A key given to the log call itself (``log_info(..., trace_id=...)``) is never replaced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

try:  # OpenTelemetry is optional: without it only headers and log_context bind trace ids
    from opentelemetry.trace import get_current_span as _get_current_span
except ImportError:  # pragma: no cover - exercised in a subprocess without opentelemetry
    _get_current_span = None

TRACEPARENT_HEADER = "traceparent"
TRACEPARENT_MAX = 512
"""Longer header values are refused before parsing (a later version may append fields, not kilobytes)."""

_FIELDS = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<span_id>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})"
)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_VERSION_00_LENGTH = 55

CurrentSpan = Callable[[], Any]


class TraceParent(NamedTuple):
    """The parts of a valid ``traceparent`` value newlog uses."""

    trace_id: str
    span_id: str
    sampled: bool


def parse_traceparent(value: object) -> TraceParent | None:
    """Return the ids of a valid W3C ``traceparent`` value, else None (never raises).

    Valid: ``version-trace_id-parent_id-flags`` in lower-case hex of 2, 32, 16 and 2 digits,
    surrounding blanks allowed; version ``ff`` and all-zero ids are invalid; version ``00`` has
    exactly these four fields; a later version may append ``-`` and more (they are skipped,
    as the W3C Trace Context specification says).
    """
    if not isinstance(value, str) or len(value) > TRACEPARENT_MAX:
        return None
    value = value.strip(" \t")
    match = _FIELDS.match(value)
    if match is None:
        return None
    version, trace_id, span_id, flags = match.group("version", "trace_id", "span_id", "flags")
    if version == "ff" or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    rest = value[_VERSION_00_LENGTH:]
    if version == "00" and rest:
        return None
    if rest and not rest.startswith("-"):
        return None
    return TraceParent(trace_id, span_id, bool(int(flags, 16) & 0x01))


def incoming_trace_context(headers: Any) -> dict[str, str]:
    """Return ``{"trace_id", "span_id"}`` from the request's single valid ``traceparent`` header, else ``{}``.

    ``headers`` is werkzeug's ``Headers`` (or any mapping); two ``traceparent`` headers are
    ambiguous and ignored, like a malformed one.
    """
    getlist = getattr(headers, "getlist", None)
    values = getlist(TRACEPARENT_HEADER) if getlist is not None else _single(headers)
    if len(values) != 1:
        return {}
    parsed = parse_traceparent(values[0])
    if parsed is None:
        return {}
    return {"trace_id": parsed.trace_id, "span_id": parsed.span_id}


def _single(headers: Mapping[str, Any]) -> list[Any]:
    value = headers.get(TRACEPARENT_HEADER)
    return [] if value is None else [value]


def recording_span_ids(current_span: CurrentSpan | None = _get_current_span) -> tuple[str, str] | None:
    """Return ``(trace_id, span_id)`` of the current OpenTelemetry span when it is recording, else None."""
    if current_span is None:
        return None
    try:
        span = current_span()
        if not span.is_recording():
            return None
        context = span.get_span_context()
        if not context.is_valid:
            return None
        return format(context.trace_id, "032x"), format(context.span_id, "016x")
    except Exception:  # noqa: BLE001 - a broken tracer must not break logging
        return None


def add_trace_context(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Set ``trace_id`` / ``span_id`` from the recording OpenTelemetry span, unless the call itself gave either.

    Runs before the log context is merged, so a recording span wins over ids bound from a
    header or with ``log_context``.
    """
    if "trace_id" in event_dict or "span_id" in event_dict:
        return event_dict
    ids = recording_span_ids()
    if ids is not None:
        event_dict["trace_id"], event_dict["span_id"] = ids
    return event_dict
