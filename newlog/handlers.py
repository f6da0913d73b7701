"""``DatabaseLogHandler``: the structlog processor that hands events to the background worker.

In the caller's thread it only copies the (already sanitized) event and enqueues it: no
I/O, and it never raises into the caller. The worker turns the copies into rows with
:func:`newlog.rows.build_row`. The rollback switch ``LOG_SYNC_WRITES`` writes each event in
the caller's thread instead (:mod:`newlog.sync_writes`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from newlog import state
from newlog.queue_worker import in_pipeline_thread
from newlog.sanitize import CleanEvent
from newlog.settings import LEVEL_NUMBERS

if TYPE_CHECKING:
    from newlog.queue_worker import LogQueueWorker

_stdlib_log = logging.getLogger("newlog")

PERSIST_KEY = "persist"


class DatabaseLogHandler:
    """structlog processor: copy the event and enqueue it for the database; return the event.

    Events go to the current app's worker (``worker_for()`` when given). An event is stored
    when its level is at least the app's ``LOG_DB_LEVEL`` (``db_level`` when given) unless it
    says ``persist=True``; ``persist=False`` keeps an event out of the database. The
    ``persist`` key is removed.
    """

    def __init__(
        self, worker_for: Callable[[], LogQueueWorker | None] | None = None, db_level: str | None = None
    ) -> None:
        self.worker_for = worker_for
        self.min_level = LEVEL_NUMBERS[db_level.upper()] if db_level is not None else None
        self.unrouted = 0

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        persist = event_dict.pop(PERSIST_KEY, None)
        if persist is False or in_pipeline_thread():
            return event_dict
        try:
            app_state = state.current()
            level = LEVEL_NUMBERS.get(str(event_dict.get("level", method_name)).upper(), LEVEL_NUMBERS["INFO"])
            min_level = self.min_level if self.min_level is not None else app_state.db_level
            if persist is None and level < min_level:
                return event_dict
            worker = self.worker_for() if self.worker_for is not None else app_state.worker
            if worker is None:
                self.unrouted += 1
                app_state.unrouted += 1
                return event_dict
            if type(event_dict) is CleanEvent:
                snapshot = CleanEvent(event_dict)
            else:
                snapshot = app_state.sanitizer.clean_event(event_dict)
            if app_state.sync_writer is not None:
                app_state.sync_writer.write(snapshot, level, worker)
            else:
                worker.enqueue(snapshot, level)
        except Exception:  # noqa: BLE001 - logging must never break the caller
            _stdlib_log.exception("newlog: could not enqueue a log event")
        return event_dict
