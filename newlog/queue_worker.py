"""``LogQueueWorker``: a bounded queue and one background thread that writes log rows in batches.

The request thread only appends to a deque under a short lock. The worker thread takes up
to ``batch_size`` events when a batch is full, when the oldest queued event is
``flush_interval`` seconds old, or when ``flush()`` / ``shutdown()`` ask for it, builds the
rows and hands them to the sink (any callable taking a list of rows; see ``newlog.sinks``).
Nothing here knows Flask or a database: time comes from an injectable :class:`~newlog.clock.Clock`.

Accounting: every accepted event ends up exactly once in ``written`` or ``dropped_failed``,
or is still ``queued``. Rejected events are counted in ``dropped_overflow`` (queue full:
the newest event is dropped) or ``dropped_closed`` (after shutdown). ``reserve`` slots of
the queue take only WARNING and above, so a flood of INFO events cannot crowd out the
error that explains it; overflow drops are counted per class too. Overflow warnings are
rate-limited, and their counts add up to ``dropped_overflow``: the tail is reported when the
overflow ends and at shutdown.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from multiprocessing import util as multiprocessing_util
from typing import Any

from newlog.clock import SYSTEM_CLOCK, Clock
from newlog.drop_report import DropTally
from newlog.rows import build_row
from newlog.sanitize import Sanitizer, describe

_stdlib_log = logging.getLogger("newlog")

RowBuilder = Callable[[Any], Mapping[str, Any]]
Sink = Callable[[Sequence[Mapping[str, Any]]], None]

WARNING = logging.WARNING
_MAX_BACKOFF = 1.0
_FORK_WAIT = 2.0
_workers: weakref.WeakSet[Any] = weakref.WeakSet()
_error_text_cleaner = Sanitizer()
_in_pipeline: ContextVar[bool] = ContextVar("newlog_in_pipeline", default=False)
# A ContextVar, not a threading.local: under gevent a thread-local made before monkey-patching
# (gunicorn --preload) would be shared by every greenlet of the process.


def in_pipeline_thread() -> bool:
    """Return True inside a pipeline thread (so its own log events never re-enter the queue)."""
    return _in_pipeline.get()


@contextmanager
def pipeline_thread() -> Iterator[None]:
    """Treat the calling thread (or greenlet, or task) as a pipeline thread inside the block."""
    token = _in_pipeline.set(True)
    try:
        yield
    finally:
        _in_pipeline.reset(token)


def report_shutdown(problems: list[str], last_error: str | None) -> None:
    """Report a shutdown's problems (if any) in one line on the ``newlog`` logger."""
    if problems:
        with pipeline_thread():
            _stdlib_log.error("newlog: shutdown: %s (last error: %s)", "; ".join(problems), last_error or "none")


def default_is_poison(exc: BaseException) -> bool:
    """Return True when ``exc`` says the rows themselves are bad (retrying them cannot help)."""
    return isinstance(exc, (TypeError, ValueError, UnicodeError))


def error_text(exc: BaseException) -> str:
    """Return one short line naming ``exc`` (type and first line of its text; URL passwords masked); never raises."""
    first = describe(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {first[0] if first else ''}".rstrip(": ")
    return _error_text_cleaner.text(text, 500)


class LogQueueWorker:
    """Queue log events in the caller's thread; write them in batches from a background thread.

    ``sink(rows)`` stores one batch. A failing sink is retried with backoff for up to
    ``retry_seconds`` (unless the sink's ``is_poison(exc)`` says the rows themselves are bad:
    then each row is tried alone and the bad ones are counted in ``dropped_failed``); then
    the batch is counted in ``dropped_failed``. ``reserve`` slots take only WARNING+ events.
    Errors are reported on the stdlib ``newlog`` logger, one line per distinct error per
    ``warn_interval`` seconds (with a count of the repeats). ``heartbeat.publish(stats)`` is
    called from the worker thread every ``heartbeat_interval`` seconds (and ``remove()`` after
    a clean shutdown); ``shutdown_timeout`` is the default of :meth:`shutdown`, also used when
    a ``multiprocessing`` child exits.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        queue_size: int = 1000,
        batch_size: int = 100,
        flush_interval: float = 3.0,
        retry_seconds: float = 30.0,
        warn_interval: float = 10.0,
        reserve: int = 0,
        row_builder: RowBuilder = build_row,
        clock: Clock = SYSTEM_CLOCK,
        name: str = "newlog-worker",
        shutdown_timeout: float = 5.0,
        heartbeat: Any = None,
        heartbeat_interval: float = 10.0,
    ) -> None:
        _check_sizes(queue_size, batch_size, reserve, flush_interval, retry_seconds, warn_interval)
        if not callable(sink):
            raise TypeError(f"LogQueueWorker: sink={sink!r} is not callable (it is called with a list of rows)")
        self.sink = sink
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retry_seconds = retry_seconds
        self.warn_interval = warn_interval
        self.reserve = reserve
        self.row_builder = row_builder
        self.clock = clock
        self.name = name
        self.shutdown_timeout = shutdown_timeout
        self.heartbeat = heartbeat
        self.heartbeat_interval = heartbeat_interval
        self._is_poison: Callable[[BaseException], bool] = getattr(sink, "is_poison", default_is_poison)
        self._describe: Callable[[BaseException], str] = getattr(sink, "describe_error", error_text)
        self._closed = False
        self._checked = False
        self._reset_state()
        _workers.add(self)
        multiprocessing_util.register_after_fork(self, LogQueueWorker._drain_when_child_exits)
        self._start_thread()

    def _drain_when_child_exits(self) -> None:
        """In a ``multiprocessing`` child: drain at its exit (children end with ``os._exit``, skipping atexit)."""
        multiprocessing_util.Finalize(self, self.shutdown, args=(self.shutdown_timeout,), exitpriority=100)

    # -- state -------------------------------------------------------------------------------

    def _reset_state(self, *, stopped: bool = False) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._shutdown_lock = threading.Lock()
        self._writing = threading.Lock()
        self._items: collections.deque[Any] = collections.deque()
        self._enqueued = 0
        self._taken = 0
        self._written = 0
        self._dropped_overflow = 0
        self._dropped_overflow_major = 0
        self._dropped_failed = 0
        self._dropped_closed = 0
        self._failed_at_close = 0
        self._failed_ranges: collections.deque[tuple[int, int]] = collections.deque(maxlen=1000)
        self._batches = 0
        self._retries = 0
        self._flush_target = 0
        self._flush_mark = (0, 0)
        self._drops = DropTally(self.warn_interval)
        self._next_heartbeat = 0.0
        self._errors: dict[str, list[Any]] = {}
        self._last_error: str | None = None
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._stopped = stopped
        self._shutdown_result: bool | None = None
        self._pid = os.getpid()  # last: another thread seeing this pid finds the new state complete

    def _start_thread(self) -> None:
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _adopt_after_fork(self) -> None:
        """In a forked child, at first use: an empty queue and new locks of its own; the parent writes what it had.

        Done lazily, not in the fork hook: a server that monkey-patches threading after the
        fork (gunicorn's gevent worker) gets locks and a thread of the patched kind. The
        thread starts at the child's first event.
        """
        with _adopt_lock:
            if self._pid == os.getpid():
                return
            after_fork = getattr(self.sink, "after_fork", None)
            if after_fork is not None:  # before any thread of the child can reach the sink
                after_fork()
            self._reset_state(stopped=True)  # no thread yet: the first event starts one

    # -- producer side -----------------------------------------------------------------------

    def enqueue(self, entry: Any, level: int = logging.INFO) -> bool:
        """Queue ``entry`` (an event of stdlib ``level``); return False (and count it) when full or shut down.

        Below WARNING an event is accepted while fewer than ``queue_size - reserve`` are
        pending; WARNING and above may use the whole queue.
        """
        if self._pid != os.getpid():
            self._adopt_after_fork()
        with self._lock:
            if self._closed:
                self._dropped_closed += 1
                return False
            pending = self._enqueued - self._written - self._dropped_failed
            limit = self.queue_size if level >= WARNING else self.queue_size - self.reserve
            if pending >= limit:
                self._dropped_overflow += 1
                if level >= WARNING:
                    self._dropped_overflow_major += 1
                report = self._drops.count(self.clock.now())
            else:
                self._items.append(entry)
                self._enqueued += 1
                queued = len(self._items)
                if queued == 1 or queued == self.batch_size:
                    self._cond.notify_all()
                    if self._stopped:
                        self._ensure_thread()
                return True
        if report:
            self._report_overflow()
        return False

    def _report_overflow(self, force: bool = False) -> None:
        with self._lock:
            count = self._drops.take(self.clock.now(), force)
        if not count:
            return
        with pipeline_thread():  # the warning must never come back into the queue
            _stdlib_log.warning(
                "newlog: log queue full (LOG_QUEUE_SIZE=%d): dropped %d newest event(s) since the last report",
                self.queue_size,
                count,
            )

    # -- control -----------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event enqueued before this call is processed; True if none was lost.

        False when ``timeout`` ran out, or when an event logged since the previous ``flush()``
        call (in any thread) was dropped: the queue was full, or writing it failed after
        retrying.
        """
        if self._pid != os.getpid():
            self._adopt_after_fork()
        with self._cond:
            target = self._enqueued
            (window_start, overflow_before) = self._flush_mark
            overflow_now = self._dropped_overflow
            self._flush_mark = (max(window_start, target), overflow_now)
            self._flush_target = max(self._flush_target, target)
            self._cond.notify_all()
            self._ensure_thread()
            self.clock.wait_for(self._cond, lambda: self._processed() >= target or self._stopped, timeout)
            done = self._processed() >= target
            lost = self._failed_between(window_start, target) + (overflow_now - overflow_before)
            return done and lost == 0

    @property
    def closed(self) -> bool:
        """Return True once ``shutdown()`` was called: no event is accepted any more."""
        return self._closed

    def _processed(self) -> int:
        return self._written + self._dropped_failed

    def _failed_between(self, start: int, end: int) -> int:
        """Return how many events with a sequence number in (start, end] were dropped after retrying."""
        total = 0
        for first, last in self._failed_ranges:
            total += max(0, min(last, end) - max(first, start + 1) + 1)
        return total

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop accepting events and write what is queued; True if all of it was written.

        False (reported once on the ``newlog`` logger) if ``timeout`` ran out first or if
        queued events were dropped after failed retries. Idempotent: later calls return the
        first call's result. The timeout (default ``shutdown_timeout``) is honoured even when
        the sink hangs.
        """
        if self._pid != os.getpid():
            self._adopt_after_fork()
        with self._shutdown_lock:
            if self._shutdown_result is not None:
                return self._shutdown_result
            result = self._drain(self.shutdown_timeout if timeout is None else timeout)
            self._shutdown_result = result
            return result

    def _drain(self, timeout: float) -> bool:
        with self._cond:
            deadline = self.clock.now() + timeout
            if not self._closed:
                self._failed_at_close = self._dropped_failed
            self._closed = True
            self._deadline = deadline if self._deadline is None else min(self._deadline, deadline)
            deadline = self._deadline
            self._flush_target = self._enqueued
            self._cond.notify_all()
            self.clock.wait_for(
                self._cond, lambda: self._pending() <= 0 or self._stopped, max(0.0, deadline - self.clock.now())
            )
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - self.clock.now()))
        with self._lock:
            left = self._pending()
            lost = self._dropped_failed - self._failed_at_close
            tail = self._drops.take_all()
        problems = []
        if left:
            problems.append(f"{left} log event(s) not written when the {timeout:.1f}s shutdown timeout ran out")
        if lost:
            problems.append(f"{lost} log event(s) dropped after retrying")
        if tail:
            problems.append(f"{tail} newest event(s) dropped because the queue was full (since the last report)")
        report_shutdown(problems, self._last_error)
        if self.heartbeat is not None:
            if left or lost:
                self._publish_heartbeat()
            else:
                getattr(self.heartbeat, "remove", lambda: None)()
        close = getattr(self.sink, "close", None)
        if close is not None and not left:
            try:
                close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort
                self._note_error("closing the sink", exc)
        return not left and not lost

    def _pending(self) -> int:
        """Accepted events neither written nor given up on yet (queued or in the batch being written)."""
        return self._enqueued - self._written - self._dropped_failed

    def stats(self) -> dict[str, Any]:
        """Return the counters: enqueued, written, dropped_*, queued, batches, retries, alive, last_error, pid."""
        if self._pid != os.getpid():
            self._adopt_after_fork()
        with self._lock:
            return {
                "enqueued": self._enqueued,
                "written": self._written,
                "dropped_overflow": self._dropped_overflow,
                "dropped_overflow_below_warning": self._dropped_overflow - self._dropped_overflow_major,
                "dropped_overflow_warning_or_above": self._dropped_overflow_major,
                "dropped_failed": self._dropped_failed,
                "dropped_closed": self._dropped_closed,
                "queued": self._pending(),
                "queue_size": self.queue_size,
                "reserve": self.reserve,
                "batches": self._batches,
                "retries": self._retries,
                "alive": bool(self._thread and self._thread.is_alive()),
                "closed": self._closed,
                "last_error": self._last_error,
                "pid": self._pid,
            }

    # -- the worker thread -------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        """Restart the worker thread if it died (lock held): a dead thread must not strand the queue."""
        if self._stopped and not self._closed:
            self._start_thread()

    def _run(self) -> None:
        in_flight: tuple[int, list[Any]] | None = None
        try:
            with pipeline_thread():
                self._check_sink()
                if self.heartbeat is not None:
                    self._next_heartbeat = self.clock.now() + self.heartbeat_interval
                    self._publish_heartbeat()
                while True:
                    in_flight = self._next_batch()
                    if in_flight is None:
                        return
                    self._write(in_flight)
                    in_flight = None
                    if self._chores_due(self.clock.now()):
                        self._do_chores()
        except BaseException as exc:  # noqa: BLE001 - count the batch, report, let flush()/shutdown() waiters go
            self._last_error = error_text(exc)
            with pipeline_thread():
                _stdlib_log.error("newlog: the log worker thread stopped: %s", self._last_error)
            if in_flight is not None and self._taken_unsettled(in_flight):
                self._settle(in_flight[0], len(in_flight[1]), list(range(len(in_flight[1]))))
        finally:
            with self._cond:
                self._stopped = True
                self._cond.notify_all()

    def _call_blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        """Call ``function`` (database work); under gevent in its threadpool, so blocking I/O never stalls the hub."""
        monkey = sys.modules.get("gevent.monkey")
        if monkey is not None and monkey.is_module_patched("threading"):
            import gevent  # only where gevent already runs

            try:
                pool = gevent.get_hub().threadpool
            except RuntimeError:
                # At interpreter exit (the atexit drain of a gevent worker whose first write comes
                # after SIGTERM) gevent's threadpool module cannot be imported any more: it imports
                # concurrent.futures.thread, which registers an atexit hook. Block the ending hub.
                return function(*args)
            return pool.apply(function, args)
        return function(*args)

    def _check_sink(self) -> None:
        """Let the sink try its connection once at start: a wrong URL is one clear line right after start-up."""
        check = getattr(self.sink, "check", None)
        if check is None or self._checked:
            return
        self._checked = True
        try:
            with self._writing:  # database work: a fork waits for it (see _pause_workers_before_fork)
                self._call_blocking(check)
        except Exception as exc:  # noqa: BLE001 - reported; events stay queued and are retried
            text = self._safe_describe(exc)
            self._last_error = text
            where = getattr(self.sink, "url", "") or "the log database"
            self._report(
                "connect",
                f"newlog: cannot reach {where} ({text}); events are queued and retried for "
                f"LOG_RETRY_SECONDS={self.retry_seconds:g} per batch: check the database URL and that the server is up",
            )

    def _taken_unsettled(self, batch: tuple[int, list[Any]]) -> bool:
        with self._lock:
            return self._processed() < batch[0] + len(batch[1]) - 1

    def _next_batch(self) -> tuple[int, list[Any]] | None:
        """Return (sequence number of the first event, events) when a batch is due; None when closed and drained.

        While waiting it reports the overflow tail and publishes heartbeats when they are due.
        """
        oldest_since: float | None = None
        while True:
            with self._cond:
                now = self.clock.now()
                queued = len(self._items)
                if queued == 0:
                    oldest_since = None
                    if self._closed:
                        return None
                elif oldest_since is None:
                    oldest_since = now
                if self._deadline is not None and now >= self._deadline:
                    return None
                due = oldest_since is not None and now - oldest_since >= self.flush_interval
                if queued and (queued >= self.batch_size or due or self._closed or self._taken < self._flush_target):
                    take = min(queued, self.batch_size)
                    first = self._taken + 1
                    batch = [self._items.popleft() for _ in range(take)]
                    self._taken += take
                    return first, batch
                chores = self._chores_due(now)
                if not chores:
                    timeout = self.flush_interval if oldest_since is None else oldest_since + self.flush_interval - now
                    if self._drops.unreported:
                        timeout = min(timeout, self._drops.next_due - now)
                    if self.heartbeat is not None:
                        timeout = min(timeout, self._next_heartbeat - now)
                    self.clock.wait(self._cond, max(timeout, 0.0))
            if chores:
                self._do_chores()

    def _chores_due(self, now: float) -> bool:
        """Return True when the overflow tail or a heartbeat is due (lock held)."""
        overflow = self._drops.due(now)
        return overflow or (self.heartbeat is not None and now >= self._next_heartbeat)

    def _do_chores(self) -> None:
        """Report the overflow tail and publish a heartbeat, when due (lock not held)."""
        self._report_overflow()
        if self.heartbeat is not None and self.clock.now() >= self._next_heartbeat:
            self._next_heartbeat = self.clock.now() + self.heartbeat_interval
            self._publish_heartbeat()

    def _publish_heartbeat(self) -> None:
        try:
            self.heartbeat.publish(self.stats())  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - health reporting must not stop the writer
            self._note_error("publishing a heartbeat", exc)

    def _write(self, batch: tuple[int, list[Any]]) -> None:
        first, entries = batch
        rows = [self._build(entry) for entry in entries]
        self._settle(first, len(rows), self._deliver(rows))

    def _settle(self, first: int, count: int, failed: list[int]) -> None:
        """Count a processed batch: ``count`` events from sequence number ``first``, ``failed`` (indexes) lost."""
        with self._cond:
            self._written += count - len(failed)
            self._dropped_failed += len(failed)
            for index in failed:
                self._note_failed(first + index)
            self._batches += 1
            self._cond.notify_all()

    def _note_failed(self, seq: int) -> None:
        if self._failed_ranges and self._failed_ranges[-1][1] == seq - 1:
            self._failed_ranges[-1] = (self._failed_ranges[-1][0], seq)
        else:
            self._failed_ranges.append((seq, seq))

    def _build(self, entry: Any) -> Mapping[str, Any]:
        try:
            return self.row_builder(entry)
        except Exception as exc:  # noqa: BLE001 - a bad entry must not stop the worker
            self._note_error("building a row", exc)
            return build_row({"event": "newlog: unbuildable log event", "error": error_text(exc)})

    def _deliver(self, rows: Sequence[Mapping[str, Any]], offset: int = 0) -> list[int]:
        """Write ``rows``; return the indexes (plus ``offset``) of those given up on. Retries, isolates poison rows."""
        started = self.clock.now()
        backoff = 0.05
        while True:
            try:
                with self._writing:
                    self._call_blocking(self.sink, list(rows))
                return []
            except Exception as exc:  # noqa: BLE001 - the worker must stay alive
                poison = self._safe_is_poison(exc)
                self._note_error(f"writing a batch of {len(rows)} row(s)", exc)
                if poison:
                    if len(rows) == 1:
                        return [offset]
                    return [index for i, row in enumerate(rows) for index in self._deliver([row], offset + i)]
                now = self.clock.now()
                out_of_time = now - started + backoff > self.retry_seconds
                if out_of_time or (self._deadline is not None and now >= self._deadline):
                    self._report("gave up", f"newlog: gave up on {len(rows)} log row(s) after retrying "
                                 f"for {now - started:.1f}s (last error: {self._last_error})")
                    return list(range(offset, offset + len(rows)))
                with self._lock:
                    self._retries += 1
                self.clock.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    def _safe_is_poison(self, exc: BaseException) -> bool:
        try:
            return bool(self._is_poison(exc))
        except Exception:  # noqa: BLE001 - a broken classifier: treat as transient
            return False

    def _safe_describe(self, exc: BaseException) -> str:
        try:
            return self._describe(exc)
        except Exception:  # noqa: BLE001 - a broken describer
            return error_text(exc)

    def _note_error(self, doing: str, exc: BaseException) -> None:
        """Remember ``exc`` as the last error and report it (rate-limited)."""
        text = self._safe_describe(exc)
        self._last_error = text
        self._report(f"{doing}: {text}", f"newlog: error while {doing}: {text}")

    def _report(self, key: str, message: str) -> None:
        """Log ``message`` at ERROR, at most once per ``warn_interval`` per ``key`` (repeats are counted)."""
        now = self.clock.now()
        seen = self._errors.get(key)
        if seen is not None and now < seen[0]:
            seen[1] += 1
            return
        repeats = seen[1] if seen is not None else 0
        if len(self._errors) > 100:
            self._errors.clear()
        self._errors[key] = [now + self.warn_interval, 0]
        more = f" (and {repeats} more time(s) in the last {self.warn_interval:g}s)" if repeats else ""
        with pipeline_thread():
            _stdlib_log.error("%s%s", message, more)

    def report_error(self, doing: str, exc: BaseException) -> None:
        """Report an error met on this worker's behalf elsewhere, as the worker reports its own.

        It becomes ``stats()["last_error"]`` and is logged at ERROR on the ``newlog`` logger,
        at most once per ``warn_interval`` per distinct error (repeats are counted).
        """
        self._note_error(doing, exc)


def _check_sizes(queue_size: int, batch_size: int, reserve: int, flush_interval: float, *seconds: float) -> None:
    for name, value in (("queue_size", queue_size), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"LogQueueWorker: {name}={value!r} must be a whole number > 0")
    if batch_size > queue_size:
        raise ValueError(f"LogQueueWorker: batch_size={batch_size} is larger than queue_size={queue_size}")
    if isinstance(reserve, bool) or not isinstance(reserve, int) or not 0 <= reserve < queue_size:
        raise ValueError(f"LogQueueWorker: reserve={reserve!r} must be a whole number >= 0 and < queue_size")
    for value in (flush_interval, *seconds):
        if not value > 0:
            raise ValueError(f"LogQueueWorker: intervals must be > 0 seconds, got {value!r}")


def all_workers() -> list[Any]:
    """Return the live workers of this process (thread workers and spool queues)."""
    return list(_workers)


def register_worker(worker: Any) -> None:
    """Count ``worker`` (any object with the worker interface) among :func:`all_workers`."""
    _workers.add(worker)


_paused_for_fork: list[threading.Lock] = []


def _pause_workers_before_fork() -> None:
    """Let the database work of every worker (its start-up check, a batch) finish first.

    A child that inherits a half-done write cannot use the database: SQLite keeps per-process
    lock state (a child forked mid-insert got "database is locked" on every write), and a child
    forked while the worker thread was inside a SQLite call inherits SQLite's mutex locked and
    hangs at its first write. A sink that hangs delays the fork by at most ``_FORK_WAIT`` seconds.
    """
    for worker in _thread_workers():
        if worker._writing.acquire(timeout=_FORK_WAIT):
            _paused_for_fork.append(worker._writing)


def _resume_workers_in_parent() -> None:
    while _paused_for_fork:
        _paused_for_fork.pop().release()


def _reset_workers_in_child() -> None:
    """The child's copies of the paused locks are dropped; each worker adopts the child at its first use."""
    global _adopt_lock
    _paused_for_fork.clear()
    _adopt_lock = threading.Lock()


_adopt_lock = threading.Lock()


def _thread_workers() -> list[LogQueueWorker]:
    return [worker for worker in list(_workers) if isinstance(worker, LogQueueWorker)]


os.register_at_fork(
    before=_pause_workers_before_fork,
    after_in_parent=_resume_workers_in_parent,
    after_in_child=_reset_workers_in_child,
)
