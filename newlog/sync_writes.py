"""The rollback switch (``LOG_SYNC_WRITES``): every stored event written in the caller's thread, as the legacy module did.

One transaction per event, like the legacy ``db.session.commit()`` per event, but on a
connection of its own (:func:`sync_engine`: the app's database URL and connect options, a
pool of its own): the caller's session and transaction are never committed, rolled back or
closed, and a request holding the last connection of the app's pool never waits for a
second one from it. A write that fails is printed (stdlib logger ``newlog``, one line per
distinct error per ``LOG_OVERFLOW_WARN_INTERVAL``, with a count of the repeats) and
swallowed, as the legacy module did - but the event is not lost: it goes to the app's
background worker, which retries it (and shows the error as ``last_error`` in its health).

SQLite allows one writer at a time, and a request that has flushed its own work holds that
lock until it commits or rolls back: waiting for it in the same thread could only time out.
So on SQLite a sync write never waits for the lock; a locked database sends the event to the
worker, which writes it once the lock is released.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from newlog.queue_worker import pipeline_thread
from newlog.rows import build_row
from newlog.settings import ConfigError
from newlog.sinks import DatabaseSink

if TYPE_CHECKING:
    from newlog.queue_worker import LogQueueWorker

_SHARED_POOL_OPTIONS = frozenset({"pool"})
"""Engine options that would hand the app's own connections to the sync engine (a ``creator`` makes new ones: kept)."""


class SyncWriter:
    """Write one event per call to ``sink`` in the caller's thread; on failure report it and hand the event over.

    ``sink(rows)`` stores a list of rows in one transaction (a :class:`~newlog.sinks.DatabaseSink`
    on :func:`sync_engine`, or the app's own ``sink=``). A failure is reported through the
    app's worker (:meth:`~newlog.queue_worker.LogQueueWorker.report_error`: rate-limited, and
    ``last_error`` in its health stats), which then takes the event. ``stats()`` counts the
    events written here and those handed over.
    """

    def __init__(
        self,
        sink: Callable[[Sequence[Mapping[str, Any]]], None],
        *,
        row_builder: Callable[[Any], Mapping[str, Any]] = build_row,
    ) -> None:
        self.sink = sink
        self.row_builder = row_builder
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._written = 0
        self._handed_over = 0
        self._lost = 0

    def write(self, entry: Any, level: int, worker: LogQueueWorker) -> bool:
        """Store ``entry`` (an event of stdlib ``level``) now, in this thread; True when it is in the table.

        On failure the error is reported and the event is enqueued to ``worker``, which
        retries it (False is returned). Never raises.
        """
        if self._pid != os.getpid():
            self._after_fork()
        try:
            with pipeline_thread():  # what the sink logs must not come back here
                self.sink([self.row_builder(entry)])
        except Exception as exc:  # noqa: BLE001 - logging must never break the caller
            handed_over = worker.enqueue(entry, level)
            with self._lock:
                if handed_over:
                    self._handed_over += 1
                else:
                    self._lost += 1  # the worker counted and reported why (queue full or shut down)
            then = "handed to the background worker" if handed_over else "the background worker refused it too"
            worker.report_error(f"writing a log event in the caller's thread (LOG_SYNC_WRITES; {then})", exc)
            return False
        with self._lock:
            self._written += 1
        return True

    def _after_fork(self) -> None:
        """Give a forked child connections and counters of its own (the parent's belong to the parent)."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._written = self._handed_over = self._lost = 0
        after_fork = getattr(self.sink, "after_fork", None)
        if after_fork is not None:
            after_fork()

    def stats(self) -> dict[str, int]:
        """Return ``{"written", "handed_to_worker", "lost"}`` for this process."""
        with self._lock:
            return {"written": self._written, "handed_to_worker": self._handed_over, "lost": self._lost}


def sync_engine(app_engine: Engine, options: Mapping[str, Any] | None = None) -> Engine:
    """Return an engine of its own for sync writes: the app's URL and engine ``options``, a pool of its own.

    On SQLite its connections never wait for the database lock (``timeout=0``). An
    in-memory SQLite database exists only on the app's own connection: a ConfigError says so.
    """
    url = app_engine.url
    options = {key: value for key, value in (options or {}).items() if key not in _SHARED_POOL_OPTIONS}
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:") or "mode=memory" in str(url):
            raise ConfigError(
                "LOG_SYNC_WRITES=True needs a database newlog can open a connection of its own to; "
                f"the in-memory SQLite database {url.render_as_string(hide_password=True)!r} exists only on the "
                "app's connection: use a SQLite file or a server database, or unset LOG_SYNC_WRITES"
            )
        options["connect_args"] = {**dict(options.get("connect_args") or {}), "timeout": 0}
    return create_engine(url, **options)


def app_engine_options(app: Any, db: Any) -> dict[str, Any]:
    """Return the engine options the app gave flask-sqlalchemy (its ``engine_options`` and ``SQLALCHEMY_ENGINE_OPTIONS``)."""
    return {**getattr(db, "_engine_options", {}), **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}


def sync_writer_for(app: Any, db: Any, sink: Any) -> SyncWriter:
    """Return the app's sync writer: newlog's database sink on :func:`sync_engine`, else the app's own ``sink``."""
    if isinstance(sink, DatabaseSink):
        db = db if db is not None else app.extensions.get("sqlalchemy")
        sink = sink.with_engine(sync_engine(sink.engine, app_engine_options(app, db)), use_copy=False)
    return SyncWriter(sink)
