"""``DatabaseLogHandler``: the structlog processor that hands events to the background worker.

In the caller's thread it only snapshots the event and enqueues it: no I/O, and it never
raises into the caller. The worker turns snapshots into rows with :func:`build_row`, which
follows the legacy ``_build_log_entry`` / ``_build_context`` rules.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from newlog._safe import describe, json_safe, safe_key, safe_text, snapshot
from newlog.settings import LEVELS

if TYPE_CHECKING:
    from newlog.queue_worker import LogQueueWorker

_stdlib_log = logging.getLogger("newlog")

LEVEL_NUMBERS = {name: number for number, name in enumerate(LEVELS)}
NOT_CONTEXT = frozenset({"level", "module", "event", "timestamp", "exception", "logger", "logger_name"})
MODULE_MAX = 100
PERSIST_KEY = "persist"

_worker_thread = threading.local()


def mark_worker_thread() -> None:
    """Mark the calling thread as a pipeline thread: events it logs are printed, never enqueued."""
    _worker_thread.active = True


@contextmanager
def pipeline_thread() -> Iterator[None]:
    """Treat the calling thread as a pipeline thread inside the block (restored afterwards)."""
    previous = in_worker_thread()
    _worker_thread.active = True
    try:
        yield
    finally:
        _worker_thread.active = previous


def in_worker_thread() -> bool:
    """Return True inside a pipeline thread (so its own log events never re-enter the queue)."""
    return getattr(_worker_thread, "active", False)


class DatabaseLogHandler:
    """structlog processor: snapshot the event and enqueue it for the database; return the event.

    ``worker_for`` returns the worker of the current app (or None when there is none);
    ``db_level`` is the lowest level that is stored unless the event says ``persist=True``;
    ``persist=False`` keeps an event out of the database. The ``persist`` key is removed.
    """

    def __init__(self, worker_for: Callable[[], LogQueueWorker | None], db_level: str = "INFO") -> None:
        self.worker_for = worker_for
        self.min_level = LEVEL_NUMBERS[db_level]
        self.unrouted = 0

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        persist = event_dict.pop(PERSIST_KEY, None)
        if persist is False or in_worker_thread():
            return event_dict
        try:
            if persist is None and self._below_threshold(event_dict, method_name):
                return event_dict
            worker = self.worker_for()
            if worker is None:
                self.unrouted += 1
            else:
                worker.enqueue(snapshot(event_dict))
        except Exception:  # noqa: BLE001 - logging must never break the caller
            _stdlib_log.exception("newlog: could not enqueue a log event")
        return event_dict

    def _below_threshold(self, event_dict: Mapping[str, Any], method_name: str) -> bool:
        level = event_dict.get("level", method_name)
        number = LEVEL_NUMBERS.get(str(level).upper(), LEVEL_NUMBERS["INFO"])
        return number < self.min_level


def build_row(event: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``unified_logs`` row for one event snapshot (legacy ``_build_log_entry`` rules).

    Keys: ``timestamp`` (aware UTC), ``level`` (upper-case name, INFO when missing or unknown),
    ``module`` (``module``, else the last dotted part of ``logger``, else "unknown"),
    ``message`` (``event``, else ``message``), ``traceback`` (``exception`` as text) and
    ``context`` (every other non-None key, JSON-safe).
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
    level = str(event.get("level") or "INFO").upper()
    if level == "WARN":
        level = "WARNING"
    message = event.get("event")
    if message is None:
        message = event.get("message")
    exception = event.get("exception")
    context = {
        safe_key(key): json_safe(value) for key, value in event.items() if key not in NOT_CONTEXT and value is not None
    }
    return {
        "timestamp": parse_timestamp(event.get("timestamp")),
        "level": level if level in LEVEL_NUMBERS else "INFO",
        "module": safe_text(_module_of(event), MODULE_MAX),
        "message": describe(message) if message is not None else "",
        "traceback": describe(exception) if exception is not None else None,
        "context": context,
    }


def _module_of(event: Mapping[str, Any]) -> str:
    module = event.get("module")
    if module:
        return describe(module)
    logger = event.get("logger") or event.get("logger_name")
    if logger:
        return describe(logger).rsplit(".", 1)[-1]
    return "unknown"


def parse_timestamp(value: Any) -> dt.datetime:
    """Return an aware UTC datetime for an ISO string or datetime; naive means UTC, unparsable means now."""
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
    return stamp.astimezone(dt.timezone.utc)
