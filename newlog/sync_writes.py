"""The rollback switch (``LOG_SYNC_WRITES``): each stored event written in the caller's thread, as legacy did.

One transaction per event, like the legacy ``db.session.commit()`` per event, but on a
connection of its own (:func:`sync_engine`: newlog's writer engine with a pool for every
thread that logs): the caller's session and transaction are never committed, rolled back or
closed, and a request holding the last connection of the app's pool never waits for a
second one from it. A write that fails is printed (stdlib logger ``newlog``, one line per
distinct error per ``LOG_OVERFLOW_WARN_INTERVAL``, with a count of the repeats) and
swallowed, as the legacy module did - but the event is not lost: it goes to the app's
background worker, which retries it (and shows the error as ``last_error`` in its health).

A write waits at most a third of ``LOG_RETRY_SECONDS`` (0.25-10 s) for the database; after
a failure other than a bad row, the writes of the next such interval go straight to the
worker, so a database outage costs a request one wait, not one per log call.

SQLite allows one writer at a time, and a request that has written its own rows holds that
lock until it commits or rolls back: waiting for it in the same thread could only time out.
So on SQLite a sync write never waits for the lock; a locked database sends the event to the
worker, which writes it once the lock is released.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from newlog.clock import SYSTEM_CLOCK, Clock
from newlog.queue_worker import default_is_poison, pipeline_thread
from newlog.rows import build_row
from newlog.settings import ConfigError, Settings
from newlog.sinks import (
    DatabaseSink,
    DeferredSink,
    app_engine_for,
    attempt_seconds,
    bound_writer_engine,
    writer_engine,
)

if TYPE_CHECKING:
    from newlog.queue_worker import LogQueueWorker

SYNC_POOL_SIZE = 5
SYNC_MAX_OVERFLOW = 10
"""The sync engine's pool (SQLAlchemy's defaults): threads beyond it wait for a connection, then hand over."""


class SyncWriter:
    """Write one event per call to ``sink`` in the caller's thread; on failure report it and hand the event over.

    ``sink(rows)`` stores a list of rows in one transaction (a :class:`~newlog.sinks.DatabaseSink`
    on :func:`sync_engine`, or the app's own ``sink=``). A failure is reported through the
    app's worker (:meth:`~newlog.queue_worker.LogQueueWorker.report_error`: rate-limited, and
    ``last_error`` in its health stats), which then takes the event. After a failure that
    is not about the row itself, events go straight to the worker for ``back_off`` seconds.
    ``stats()`` counts the events written here and those handed over.
    """

    def __init__(
        self,
        sink: Callable[[Sequence[Mapping[str, Any]]], None],
        *,
        back_off: float = 10.0,
        clock: Clock = SYSTEM_CLOCK,
        row_builder: Callable[[Any], Mapping[str, Any]] = build_row,
    ) -> None:
        self.sink = sink
        self.back_off = back_off
        self.clock = clock
        self.row_builder = row_builder
        self._is_poison: Callable[[BaseException], bool] = getattr(sink, "is_poison", default_is_poison)
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._written = 0
        self._handed_over = 0
        self._lost = 0
        self._resume_at = 0.0

    def write(self, entry: Any, level: int, worker: LogQueueWorker) -> bool:
        """Store ``entry`` (an event of stdlib ``level``) now, in this thread; True when it is in the table.

        On failure, or while backing off after one, the event is enqueued to ``worker``,
        which retries it (False is returned). Never raises.
        """
        if self._pid != os.getpid():
            self._after_fork()
        if self.clock.now() < self._resume_at:
            self._hand_over(entry, level, worker)
            return False
        try:
            with pipeline_thread():  # what the sink logs must not come back here
                self.sink([self.row_builder(entry)])
        except Exception as exc:  # noqa: BLE001 - logging must never break the caller
            if not self._safe_is_poison(exc):
                self._resume_at = self.clock.now() + self.back_off
            handed_over = self._hand_over(entry, level, worker)
            then = "handed to the background worker" if handed_over else "the background worker refused it too"
            worker.report_error(f"writing a log event in the caller's thread (LOG_SYNC_WRITES; {then})", exc)
            return False
        with self._lock:
            self._written += 1
        return True

    def _hand_over(self, entry: Any, level: int, worker: LogQueueWorker) -> bool:
        handed_over = worker.enqueue(entry, level)
        with self._lock:
            if handed_over:
                self._handed_over += 1
            else:
                self._lost += 1  # the worker counted and reported why (queue full or shut down)
        return handed_over

    def _safe_is_poison(self, exc: BaseException) -> bool:
        try:
            return bool(self._is_poison(exc))
        except Exception:  # noqa: BLE001 - a broken classifier: treat as a database failure
            return False

    def _after_fork(self) -> None:
        """Give a forked child connections and counters of its own (the parent's belong to the parent)."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._written = self._handed_over = self._lost = 0
        self._resume_at = 0.0
        after_fork = getattr(self.sink, "after_fork", None)
        if after_fork is not None:
            after_fork()

    def stats(self) -> dict[str, int]:
        """Return ``{"written", "handed_to_worker", "lost"}`` for this process."""
        with self._lock:
            return {"written": self._written, "handed_to_worker": self._handed_over, "lost": self._lost}


def sync_engine(app_engine: Engine, retry_seconds: float, options: Mapping[str, Any] | None = None) -> Engine:
    """Return the engine of sync writes: :func:`~newlog.sinks.writer_engine` with a pool for many threads.

    On SQLite its connections never wait for the database lock (busy timeout 0). An
    in-memory SQLite database exists only on the app's own connection: a ConfigError says so.
    """
    engine = writer_engine(
        app_engine, retry_seconds, options, pool_size=SYNC_POOL_SIZE, max_overflow=SYNC_MAX_OVERFLOW, sqlite_timeout=0
    )
    if engine is app_engine:
        raise ConfigError(
            "LOG_SYNC_WRITES=True needs a database newlog can open a connection of its own to; the in-memory "
            f"SQLite database {app_engine.url.render_as_string(hide_password=True)!r} exists only on the app's "
            "connection: use a SQLite file or a server database, or unset LOG_SYNC_WRITES"
        )
    return engine


def sync_writer_for(app: Any, db: Any, sink: Any, settings: Settings) -> SyncWriter:
    """Return the app's sync writer: newlog's database sink on :func:`sync_engine`, else the app's own ``sink``.

    An app whose database is registered after ``init_app`` (a :class:`~newlog.sinks.DeferredSink`)
    gets the same, built at its first sync write.
    """
    if isinstance(sink, DeferredSink):
        build = sink.build

        def build_on_sync_engine() -> DatabaseSink:
            found = build()  # a sink of its own, needed for its table only
            try:
                return _on_sync_engine(app, db, found, settings)
            finally:
                found.close()

        sink = DeferredSink(build_on_sync_engine)
    elif isinstance(sink, DatabaseSink):
        sink = _on_sync_engine(app, db, sink, settings)
    return SyncWriter(sink, back_off=attempt_seconds(settings.LOG_RETRY_SECONDS))


def _on_sync_engine(app: Any, db: Any, sink: DatabaseSink, settings: Settings) -> DatabaseSink:
    db = db if db is not None else app.extensions.get("sqlalchemy")
    app_engine, options = app_engine_for(app, db, getattr(sink, "table", None))
    engine = sync_engine(app_engine, settings.LOG_RETRY_SECONDS, options)

    def engine_for(table: Any) -> tuple[Any, bool] | None:
        return bound_writer_engine(app, db, table, lambda bound, options: sync_engine(bound, settings.LOG_RETRY_SECONDS, options))

    return sink.with_engine(engine, use_copy=False, engine_for=engine_for)
