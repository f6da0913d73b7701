"""``LogQueueWorker``: a bounded queue and one background thread that writes log rows in batches.

The request thread only appends to a deque under a short lock. The worker thread takes up
to ``batch_size`` events when a batch is full, when the oldest queued event is
``flush_interval`` seconds old, or when ``flush()`` / ``shutdown()`` ask for it, builds the
rows and hands them to the sink inside ``app.app_context()``.

Accounting: every accepted event ends up exactly once in ``written`` or ``dropped_failed``,
or is still ``queued``. Rejected events are counted in ``dropped_overflow`` (queue full:
the newest event is dropped) or ``dropped_closed`` (after shutdown).
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Flask

from newlog.handlers import build_row, mark_worker_thread, pipeline_thread
from newlog.sinks import Sink, default_sink, is_poison

_stdlib_log = logging.getLogger("newlog")

RowBuilder = Callable[[Any], Mapping[str, Any]]

_MAX_BACKOFF = 1.0
_FORK_WAIT = 2.0
_workers: weakref.WeakSet[LogQueueWorker] = weakref.WeakSet()


class LogQueueWorker:
    """Queue log events in the caller's thread; write them in batches from a background thread.

    ``sink`` is called with a list of rows, always inside ``app.app_context()``; by
    default it inserts into the app's flask-sqlalchemy database (``table`` or the
    ``unified_logs`` table). A failing sink is retried with backoff for up to
    ``retry_seconds``; then the batch is counted in ``dropped_failed``.
    """

    def __init__(
        self,
        app: Flask,
        sink: Sink | None = None,
        *,
        queue_size: int = 1000,
        batch_size: int = 100,
        flush_interval: float = 3.0,
        retry_seconds: float = 30.0,
        warn_interval: float = 10.0,
        row_builder: RowBuilder = build_row,
        table: Any = None,
        db: Any = None,
    ) -> None:
        _check_sizes(queue_size, batch_size, flush_interval, retry_seconds, warn_interval)
        self.app = app
        self.sink: Sink = sink if sink is not None else default_sink(app, db=db, table=table)
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retry_seconds = retry_seconds
        self.warn_interval = warn_interval
        self.row_builder = row_builder
        self._closed = False
        self._reset_state()
        _workers.add(self)
        self._start_thread()

    # -- state -------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._wakeup = threading.Event()
        self._items: collections.deque[Any] = collections.deque()
        self._enqueued = 0
        self._taken = 0
        self._written = 0
        self._dropped_overflow = 0
        self._dropped_failed = 0
        self._dropped_closed = 0
        self._failed_at_close = 0
        self._batches = 0
        self._retries = 0
        self._flush_target = 0
        self._overflow_unreported = 0
        self._next_warning = 0.0
        self._last_error: str | None = None
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._writing = threading.Lock()

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="newlog-worker", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        """Give a forked child its own empty queue and thread; the parent writes what it had queued."""
        self._reset_state()
        after_fork = getattr(self.sink, "after_fork", None)
        if after_fork is not None:
            after_fork()
        if not self._closed:
            self._start_thread()

    # -- producer side -----------------------------------------------------------------------

    def enqueue(self, entry: Any) -> bool:
        """Queue ``entry``; return False (and count it) when the queue is full or shut down."""
        if self._pid != os.getpid():
            self._after_fork()
        with self._lock:
            if self._closed:
                self._dropped_closed += 1
                return False
            if self._pending() >= self.queue_size:
                self._dropped_overflow += 1
                self._overflow_unreported += 1
                warn = time.monotonic() >= self._next_warning
            else:
                self._items.append(entry)
                self._enqueued += 1
                queued = len(self._items)
                if queued == 1 or queued == self.batch_size:
                    self._wakeup.set()
                return True
        if warn:
            self._warn_overflow()
        return False

    def _warn_overflow(self) -> None:
        with self._lock:
            if time.monotonic() < self._next_warning:
                return
            count, self._overflow_unreported = self._overflow_unreported, 0
            self._next_warning = time.monotonic() + self.warn_interval
        with pipeline_thread():  # the warning must never come back into the queue
            _stdlib_log.warning(
                "newlog: log queue full (LOG_QUEUE_SIZE=%d): dropped %d newest event(s) since the last warning",
                self.queue_size,
                count,
            )

    # -- control -----------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event enqueued before this call is processed; True if all were written."""
        if self._pid != os.getpid():
            self._after_fork()
        with self._lock:
            target = self._enqueued
            failed_before = self._dropped_failed
            self._flush_target = max(self._flush_target, target)
        self._wakeup.set()
        with self._progress:
            self._progress.wait_for(lambda: self._written + self._dropped_failed >= target or self._stopped, timeout)
            done = self._written + self._dropped_failed >= target
            return done and self._dropped_failed == failed_before

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop accepting events and write what is queued; True if all of it was written.

        False (logged) if ``timeout`` ran out first or if queued events were dropped after
        failed retries. Idempotent. The timeout is honoured even when the sink hangs.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            if not self._closed:
                self._failed_at_close = self._dropped_failed
            self._closed = True
            self._deadline = deadline if self._deadline is None else min(self._deadline, deadline)
            deadline = self._deadline
            self._flush_target = self._enqueued
        self._wakeup.set()
        with self._progress:
            self._progress.wait_for(self._all_processed, max(0.0, deadline - time.monotonic()))
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = self._pending()
            lost = self._dropped_failed - self._failed_at_close
        if left:
            _stdlib_log.error(
                "newlog: shutdown timed out after %.1fs with %d log event(s) not written (last error: %s)",
                timeout,
                left,
                self._last_error,
            )
            return False
        if lost:
            _stdlib_log.error(
                "newlog: shutdown could not write %d log event(s) (dropped after retrying; last error: %s)",
                lost,
                self._last_error,
            )
            return False
        return True

    def _pending(self) -> int:
        """Accepted events neither written nor given up on yet (queued or in the batch being written)."""
        return self._enqueued - self._written - self._dropped_failed

    def _all_processed(self) -> bool:
        return self._pending() <= 0

    def stats(self) -> dict[str, Any]:
        """Return the counters: enqueued, written, dropped_*, queued, batches, retries, alive, last_error."""
        with self._lock:
            return {
                "enqueued": self._enqueued,
                "written": self._written,
                "dropped_overflow": self._dropped_overflow,
                "dropped_failed": self._dropped_failed,
                "dropped_closed": self._dropped_closed,
                "queued": self._pending(),
                "queue_size": self.queue_size,
                "batches": self._batches,
                "retries": self._retries,
                "alive": bool(self._thread and self._thread.is_alive()),
                "closed": self._closed,
                "last_error": self._last_error,
                "pid": self._pid,
            }

    # -- worker side -------------------------------------------------------------------------

    def _run(self) -> None:
        mark_worker_thread()
        try:
            while True:
                batch = self._next_batch()
                if batch is None:
                    return
                self._write(batch)
        finally:
            with self._progress:  # a flush() still waiting has nothing more to wait for
                self._stopped = True
                self._progress.notify_all()

    def _next_batch(self) -> list[Any] | None:
        oldest_since: float | None = None
        while True:
            self._wakeup.clear()
            now = time.monotonic()
            with self._lock:
                queued = len(self._items)
                if queued == 0:
                    oldest_since = None
                    if self._closed:
                        return None
                elif oldest_since is None:
                    oldest_since = now
                due = oldest_since is not None and now - oldest_since >= self.flush_interval
                if self._past_deadline():
                    return None
                if queued and (queued >= self.batch_size or due or self._closed or self._taken < self._flush_target):
                    take = min(queued, self.batch_size)
                    batch = [self._items.popleft() for _ in range(take)]
                    self._taken += take
                    return batch
            timeout = self.flush_interval if oldest_since is None else oldest_since + self.flush_interval - now
            self._wakeup.wait(max(timeout, 0.0))

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _write(self, batch: list[Any]) -> None:
        rows = [self._build(entry) for entry in batch]
        written, failed = self._deliver(rows)
        with self._progress:
            self._written += written
            self._dropped_failed += failed
            self._batches += 1
            self._progress.notify_all()

    def _build(self, entry: Any) -> Mapping[str, Any]:
        try:
            return self.row_builder(entry)
        except Exception as exc:  # noqa: BLE001 - a bad entry must not stop the worker
            self._note_error("building a row", exc)
            return build_row({"event": "newlog: unbuildable log event", "error": repr(exc)[:500]})

    def _deliver(self, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        """Write ``rows``; return (written, failed). Retries transient errors, isolates poison rows."""
        started = time.monotonic()
        backoff = 0.05
        while True:
            try:
                with self._writing, self.app.app_context():
                    self.sink(list(rows))
                return len(rows), 0
            except Exception as exc:  # noqa: BLE001 - the worker must stay alive
                self._note_error(f"writing a batch of {len(rows)} row(s)", exc)
                if is_poison(exc):
                    return self._deliver_one_by_one(rows) if len(rows) > 1 else (0, 1)
                out_of_time = time.monotonic() - started + backoff > self.retry_seconds
                if out_of_time or self._past_deadline():
                    _stdlib_log.error("newlog: gave up on %d log row(s) after retrying", len(rows))
                    return 0, len(rows)
                with self._lock:
                    self._retries += 1
                time.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    def _deliver_one_by_one(self, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        written = failed = 0
        for row in rows:
            ok, bad = self._deliver([row])
            written += ok
            failed += bad
        return written, failed

    def _note_error(self, doing: str, exc: BaseException) -> None:
        self._last_error = f"{type(exc).__name__}: {exc}"[:1000]
        _stdlib_log.error("newlog: error while %s: %s", doing, self._last_error)


def _check_sizes(queue_size: int, batch_size: int, flush_interval: float, *seconds: float) -> None:
    for name, value in (("queue_size", queue_size), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"LogQueueWorker: {name}={value!r} must be a whole number > 0")
    if batch_size > queue_size:
        raise ValueError(f"LogQueueWorker: batch_size={batch_size} is larger than queue_size={queue_size}")
    for value in (flush_interval, *seconds):
        if not value > 0:
            raise ValueError(f"LogQueueWorker: intervals must be > 0 seconds, got {value!r}")


def all_workers() -> list[LogQueueWorker]:
    """Return the live workers of this process."""
    return list(_workers)


_paused_for_fork: list[threading.Lock] = []


def _pause_workers_before_fork() -> None:
    """Let a batch being written finish first: a child that inherits a half-done write cannot use the database.

    (SQLite keeps per-process lock state: a child forked mid-insert got "database is locked"
    on every write.) A sink that hangs delays the fork by at most ``_FORK_WAIT`` seconds.
    """
    for worker in list(_workers):
        if worker._writing.acquire(timeout=_FORK_WAIT):
            _paused_for_fork.append(worker._writing)


def _resume_workers_in_parent() -> None:
    while _paused_for_fork:
        _paused_for_fork.pop().release()


def _reset_workers_in_child() -> None:
    _paused_for_fork.clear()
    for worker in list(_workers):
        worker._after_fork()


os.register_at_fork(
    before=_pause_workers_before_fork,
    after_in_parent=_resume_workers_in_parent,
    after_in_child=_reset_workers_in_child,
)
