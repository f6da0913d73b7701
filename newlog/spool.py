"""``SpoolQueue``: the durable delivery mode (``LOG_SPOOL_DIR``); the app process does no database work.

In the request thread an event becomes its row (``build_row``, the model's Python-side
column defaults), is serialized once (orjson) and copied into this process's spool segment
through a shared memory map (:mod:`newlog.spool_append`: no system call and no GIL hand-off
per event; the OS keeps the bytes when the process crashes). A writer process (:mod:`newlog.spool_writer`), started and
supervised here, reads the segments and stores the rows in batches (on PostgreSQL, the server parses a batch's JSON lines),
recording how far it got (the segment offset) in the same transaction as the rows: a crash
of either process neither loses nor duplicates a row. When the app starts, segments left
by a dead process of the same target are delivered by the new writer.

One writer process per app process (see MIGRATION.md for the measurements behind it): it
lives and dies with its app process (restarted when it dies; told to drain and exit at
shutdown; it exits by itself when the app process is gone), needs no coordination between
unrelated processes, and its rows/s scale with the app processes.

Accounting: ``enqueued`` (accepted) = ``written`` + ``dropped_failed`` + ``queued``, with
``written``/``dropped_failed`` reported by the writer process. The spool is bounded by
``LOG_SPOOL_MAX_BYTES`` of undelivered rows (the last ``LOG_QUEUE_RESERVE`` share, a tenth by default, only for WARNING and above);
beyond it the newest event is dropped and counted, as in the thread mode.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import IO, Any

from newlog.clock import SYSTEM_CLOCK, Clock
from newlog.drop_report import DropTally
from newlog.queue_worker import error_text, pipeline_thread, register_worker, report_shutdown
from newlog.rows import build_row, encode_row
from newlog.spool_append import SEGMENT_WINDOW, SegmentAppender
from newlog.spool_files import (
    RESTART_STATUS,
    STALE_SECONDS,
    hold_owner_lock,
    new_owner,
    open_spool_dir,
    owner_lock_path,
    segments,
)

_stdlib_log = logging.getLogger("newlog")

WARNING = logging.WARNING
_RESTART_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
_queues: weakref.WeakSet[SpoolQueue] = weakref.WeakSet()
_fork_lock = threading.Lock()


class WriterConfig(dict):  # type: ignore[type-arg]
    """What the writer process needs, passed through its environment (never argv: the URL may hold a password).

    Keys: ``dir``, ``key``, ``owner``, ``url``, ``connect_args`` (the app engine's, as JSON),
    ``schema``, ``table``, ``create_table``, ``create_grace`` (seconds before newlog's own table is
    made, see ``spool_app.CREATE_GRACE_SECONDS``), ``extra_columns`` (the model's Python-side default
    columns), ``renames`` (a row key -> its column's name, where the model names them apart),
    ``sequences`` (a column name -> the sequence it is drawn from), ``batch_rows``,
    ``poll_interval``, ``drain_seconds``, ``parent_pid``.
    """


class SpoolQueue:
    """Append events to a spool segment in the caller's thread; a supervised writer process stores them.

    Offers the worker interface the rest of newlog uses: ``enqueue``, ``flush``,
    ``shutdown``, ``stats`` and ``closed``. ``fill`` adds the log model's Python-side
    column defaults to a row. ``probe`` is a :class:`~newlog.sinks.DatabaseSink` on the same
    table that ``flask newlog-health`` uses to probe the database (it never writes log rows);
    ``heartbeat`` (a :class:`~newlog.heartbeat.HeartbeatFile`) gets this queue's stats each
    time the writer reports, at most once per its interval, so a dead or hung writer shows as
    a stale or not-alive worker.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        config: WriterConfig,
        *,
        max_bytes: int = 256 * 1024 * 1024,
        reserve: float = 0.1,
        fill: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
        warn_interval: float = 10.0,
        probe: Any = None,
        heartbeat: Any = None,
        shutdown_timeout: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        start_writer: bool = True,
        segment_bytes: int = SEGMENT_WINDOW,
    ) -> None:
        self.directory = open_spool_dir(directory)
        self.segment_bytes = segment_bytes
        self.config = config
        self.key = config["key"]
        self.max_bytes = max_bytes
        self.reserve = int(max_bytes * reserve)  # the last share of max_bytes: WARNING and above only (LOG_QUEUE_RESERVE)
        self.fill = fill
        self.warn_interval = warn_interval
        self.clock = clock
        self.start_writer = start_writer
        self.sink = probe
        self.heartbeat = heartbeat
        self.shutdown_timeout = shutdown_timeout
        self._closed = False
        self._shutdown_result: bool | None = None
        self._shutdown_lock = threading.Lock()
        self._open()
        _queues.add(self)
        register_worker(self)

    # -- this process's spool ----------------------------------------------------------------

    def _open(self) -> None:
        """Become the owner of a fresh segment and start a writer process (at start and in a forked child)."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.owner = new_owner()
        self._owner_fd = hold_owner_lock(owner_lock_path(self.directory, self.key, self.owner))
        self._segment = SegmentAppender(self.directory, self.key, self.owner, window=self.segment_bytes)
        self._progress: dict[int, tuple[int, int, int]] = {}
        self._enqueued = 0
        self._bytes = 0
        self._delivered = 0
        self._written = 0
        self._failed = 0
        self._dropped_overflow = 0
        self._dropped_overflow_major = 0
        self._dropped_closed = 0
        self._dropped_error = 0
        self._drops = DropTally(self.warn_interval)
        self._flush_mark = (0, 0, 0)
        self._recovered = (0, 0)
        self._writer_stats: dict[str, Any] = {}
        self._heartbeat_at: float | None = None
        self._next_publish = 0.0
        self._last_error: str | None = None
        self._restarts = 0
        self._config_generation = 0  # bumped by model_known: a writer started before it is restarted
        self._store_now = False  # a flush or shutdown asked for the rows: every writer started since is told
        self._process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._gave_up = threading.Event()
        self._restart_now = threading.Event()
        self._supervisor: threading.Thread | None = None
        if self.start_writer:
            self._supervisor = threading.Thread(target=self._supervise, name="newlog-spool-supervisor", daemon=True)
            self._supervisor.start()

    def _forget_parent(self) -> None:
        """In a forked child, at once: drop the copies of the parent's descriptors.

        The child must not hold the parent's owner lock (the parent's spool could not be
        adopted after the parent's death while the child lives) nor its writer's pipe (the
        writer would not see the parent go). The parent keeps its own.
        """
        self._segment.close()  # the child's mapping and descriptor only: the parent's file is untouched
        if self._owner_fd >= 0:
            try:
                os.close(self._owner_fd)
            except OSError:
                pass
        self._owner_fd = -1
        process, self._process = self._process, None
        if process is not None and process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass

    def _after_fork(self) -> None:
        """In a forked child, at its first event or flush: own a new spool and writer."""
        with _fork_lock:
            if self._pid != os.getpid():
                self._open()

    # -- producer side -----------------------------------------------------------------------

    def enqueue(self, entry: Any, level: int = logging.INFO) -> bool:
        """Append ``entry``'s row to the spool; return False (and count it) when the spool is full or shut down."""
        if self._pid != os.getpid():
            self._after_fork()
        row = build_row(entry)
        error: str | None = None
        if self.fill is not None:
            try:
                row = self.fill(row)
            except Exception as exc:  # noqa: BLE001 - an app's column default or type: counted, never raised to the caller
                error = f"the log model's column defaults or types refused the row: {error_text(exc)}"
        if error is not None:
            with self._lock:
                self._last_error = error
                self._dropped_error += 1
            with pipeline_thread():
                _stdlib_log.error("newlog: %s; event dropped", error)
            return False
        line = encode_row(row)
        size = len(line)
        with self._lock:
            if self._closed:
                self._dropped_closed += 1
                return False
            limit = self.max_bytes if level >= WARNING else self.max_bytes - self.reserve
            full = self._bytes - self._delivered + size > limit
            if full:
                self._dropped_overflow += 1
                if level >= WARNING:
                    self._dropped_overflow_major += 1
                report = self._drops.count(self.clock.now())
            else:
                # The copy happens under the lock: it is a memory copy that keeps the GIL (no system
                # call but the rare disk reservation), so lines land whole and in order.
                try:
                    self._segment.append(line)
                except (OSError, ValueError) as exc:
                    error = f"spool write failed: {exc}"
                    self._last_error = error
                    self._dropped_error += 1
                else:
                    self._enqueued += 1
                    self._bytes += size
                    return True
        if error is not None:
            with pipeline_thread():
                _stdlib_log.error("newlog: %s (in %s); event dropped", error, self.directory)
        elif report:
            self._report_overflow()
        return False

    def _report_overflow(self, force: bool = False) -> None:
        with self._lock:
            count = self._drops.take(self.clock.now(), force)
        if not count:
            return
        with pipeline_thread():
            _stdlib_log.warning(
                "newlog: spool full (LOG_SPOOL_MAX_BYTES=%d undelivered bytes in %s): "
                "dropped %d newest event(s) since the last report",
                self.max_bytes,
                self.directory,
                count,
            )

    # -- the writer process ------------------------------------------------------------------

    def _supervise(self) -> None:
        """Run the writer process; restart it when it dies, until it exits after shutdown's ``Q``."""
        failures = 0
        while True:
            generation = self._config_generation
            try:
                process = self._spawn()
            except OSError as exc:
                self._last_error = f"cannot start the spool writer process: {exc}"
                process = None
            if process is not None:
                self._process = process
                self._heartbeat_at = None
                if generation != self._config_generation:
                    self._command(b"R\n")  # the config changed while it started (model_known): start it again
                if self._store_now:
                    self._command(b"F\n")  # flushed before it ran: see _wake_writer
                if self._stop.is_set():
                    self._command(b"Q\n")  # started during shutdown: drain and exit at once
                self._read_reports(process)
                code = process.wait()
                if code == RESTART_STATUS:
                    continue  # told to (R): at once, with the config as it is now
                if self._stop.is_set() and code == 0:
                    return
                self._last_error = self._writer_stats.get("last_error") or f"spool writer exited with status {code}"
                self._publish_heartbeat(force=True)  # alive: False
                if self._heartbeat_at is not None:
                    failures = 0  # it had been running: a new failure starts the backoff again
            if self._stop.is_set() and self._gave_up.is_set():
                return
            with self._lock:
                self._restarts += 1
            delay = _RESTART_DELAYS[min(failures, len(_RESTART_DELAYS) - 1)]
            failures += 1
            with pipeline_thread():
                _stdlib_log.error("newlog: %s; restarting it in %.1fs", self._last_error, delay)
            self._restart_now.wait(delay)
            self._restart_now.clear()

    def _spawn(self) -> subprocess.Popen[bytes]:
        environment = dict(os.environ)
        environment["NEWLOG_SPOOL_WRITER"] = json.dumps({**self.config, "owner": self.owner, "parent_pid": os.getpid()})
        environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        process = subprocess.Popen(
            [sys.executable, "-m", "newlog.spool_writer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            close_fds=True,
            start_new_session=True,  # Ctrl-C and a group SIGTERM reach the app, which drains the writer itself
        )
        if process.stdin is not None:
            os.set_blocking(process.stdin.fileno(), False)
        return process

    def _read_reports(self, process: subprocess.Popen[bytes]) -> None:
        stdout: IO[bytes] | None = process.stdout
        if stdout is None:
            return
        for raw in stdout:
            self._handle_report(raw.decode("utf-8", "replace").rstrip("\n"))

    def _handle_report(self, report: str) -> None:
        kind, _, rest = report.partition(" ")
        with self._cond:
            if kind == "P":
                seq, offset, rows, failed = (int(part) for part in rest.split())
                before = self._progress.get(seq, (0, 0, 0))
                now = tuple(max(a, b) for a, b in zip(before, (offset, rows, failed)))
                self._progress[seq] = now  # type: ignore[assignment]
                self._delivered += now[0] - before[0]
                self._written += now[1] - before[1]
                self._failed += now[2] - before[2]
            elif kind == "A":
                rows, failed = (int(part) for part in rest.split())
                self._recovered = (rows, failed)
            elif kind == "H":
                try:
                    self._writer_stats = json.loads(rest)
                except ValueError:
                    return
                self._heartbeat_at = self.clock.now()
            self._cond.notify_all()
        if kind == "H":
            self._publish_heartbeat()

    def _publish_heartbeat(self, force: bool = False) -> None:
        heartbeat = self.heartbeat
        if heartbeat is None:
            return
        now = self.clock.now()
        if not force and now < self._next_publish:
            return
        self._next_publish = now + float(getattr(heartbeat, "interval", 10.0))
        heartbeat.publish(self.stats())

    def model_known(self, renames: Mapping[str, str] | None = None, sequences: Mapping[str, str] | None = None) -> None:
        """The app's model of the log table appeared after ``init_app``: the writer must never create newlog's own.

        Called before the first row that has the model's steps is appended, so the writer, which
        reads its commands before it looks for the table and before it stores a batch, has it
        first. Where the writer must also know the model's column ``renames`` (a row key -> its
        column's name) or ``sequences`` (see ``spool_app.start_spool``), which it only takes at
        start, it is told to restart (``R``: it stores no batch read after that and exits, and
        the supervisor starts it at once with the new config); otherwise ``K`` is enough.
        """
        restart = bool(renames or sequences)
        with self._lock:
            self.config["create_table"] = False
            if restart:
                self.config["renames"] = dict(renames or {})
                self.config["sequences"] = dict(sequences or {})
            self._config_generation += 1
        self._command(b"R\n" if restart else b"K\n")

    def _wake_writer(self) -> None:
        """Tell the writer to store now (``F``: it also ends its wait for a model, see ``spool_app.CREATE_GRACE_SECONDS``).

        Remembered, so that a writer started after it is told too (the command itself is lost
        while none runs).
        """
        self._store_now = True
        self._command(b"F\n")

    def _command(self, command: bytes) -> None:
        """Send a one-byte command; never blocks (a busy writer's full pipe means it is awake anyway)."""
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            os.write(process.stdin.fileno(), command)
        except (OSError, ValueError):  # pipe full, or the writer is gone (the supervisor restarts it)
            pass

    # -- control -----------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every row appended before this call is stored; True if none was lost.

        False when ``timeout`` ran out, or when an event logged since the previous
        ``flush()`` was dropped (spool full, spool write error, or refused by the database).
        """
        if self._pid != os.getpid():
            self._after_fork()
        with self._cond:
            target = self._bytes
        self._wake_writer()
        with self._cond:
            done = self.clock.wait_for(self._cond, lambda: self._delivered >= target, timeout)
            marks = (self._failed, self._dropped_overflow, self._dropped_error)
            before, self._flush_mark = self._flush_mark, marks
            lost = sum(now - then for now, then in zip(marks, before))
        return done and lost == 0

    @property
    def closed(self) -> bool:
        """Return True once ``shutdown()`` was called."""
        return self._closed

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop accepting events, let the writer store what is spooled and exit; True if all was stored.

        What is not stored when ``timeout`` runs out stays in the spool: the next start on the
        same ``LOG_SPOOL_DIR`` delivers it. ``timeout`` defaults to ``shutdown_timeout``
        (``LOG_SHUTDOWN_TIMEOUT``). Idempotent; problems are reported once.
        """
        if timeout is None:
            timeout = self.shutdown_timeout
        with self._shutdown_lock:
            if self._shutdown_result is not None:
                return self._shutdown_result
            deadline = self.clock.now() + timeout
            with self._lock:
                self._closed = True  # the segment stays open: a write reserved just before may still land
            self._restart_now.set()  # a writer waiting to be restarted is needed now
            self._wake_writer()
            with self._cond:
                self.clock.wait_for(
                    self._cond, lambda: self._delivered >= self._bytes, max(0.0, deadline - self.clock.now())
                )
            self._stop.set()
            self._stop_writer(max(0.0, deadline - self.clock.now()))
            with self._lock:
                self._segment.close()  # what was not stored stays in the file for the next start
                left = self._enqueued - self._written - self._failed
                lost = self._failed
                tail = self._drops.take_all()
            if not left and self._owner_fd >= 0:
                self._release_owner()
            if self.heartbeat is not None:
                if left or lost:
                    self._publish_heartbeat(force=True)
                else:
                    self.heartbeat.remove()
            for part in (self.sink, self.fill):
                close = getattr(part, "close", None)
                if close is not None:
                    close()
            problems = []
            if left:
                problems.append(
                    f"{left} log event(s) not stored when the {timeout:.1f}s shutdown timeout ran out "
                    f"(kept in {self.directory}: the next start delivers them)"
                )
            if lost:
                problems.append(f"{lost} log event(s) refused by the database (see the .rejected file)")
            if tail:
                problems.append(f"{tail} newest event(s) dropped because the spool was full (since the last report)")
            report_shutdown(problems, self._last_error)
            self._shutdown_result = not left and not lost
            return self._shutdown_result

    def _stop_writer(self, timeout: float) -> None:
        """Have the writer store the rest, clean up and exit (killed when ``timeout`` runs out)."""
        deadline = self.clock.now() + timeout
        self._command(b"Q\n")
        supervisor = self._supervisor
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(max(0.0, deadline - self.clock.now()))
        self._gave_up.set()
        self._restart_now.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()  # what it had not stored stays in the spool: the next start delivers it
            process.wait()
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(1.0)

    def _release_owner(self) -> None:
        """Give up the owner lock; remove the lock file when no segment of ours is left."""
        path = owner_lock_path(self.directory, self.key, self.owner)
        try:
            if not any(segment.owner == self.owner for segment in segments(self.directory, self.key)):
                path.unlink()
        except OSError:
            pass  # the directory went away (a test's temp dir): nothing is left to guard
        os.close(self._owner_fd)
        self._owner_fd = -1

    def stats(self) -> dict[str, Any]:
        """Return the counters of both processes, the writer process's health and the spool's fill.

        ``writer_stale`` is True when the running writer has not reported for ``STALE_SECONDS``
        (hung in a database call, say). ``writer_failing_seconds``: how long every try of the
        writer has failed (the database is down, the table missing...: the rows wait in the
        spool), None while it delivers.
        """
        with self._lock:
            process = self._process
            writer = dict(self._writer_stats)
            running = bool(process is not None and process.poll() is None)
            age = None if self._heartbeat_at is None else self.clock.now() - self._heartbeat_at
            return {
                "mode": "spool",
                "enqueued": self._enqueued,
                "written": self._written,
                "dropped_overflow": self._dropped_overflow,
                "dropped_overflow_below_warning": self._dropped_overflow - self._dropped_overflow_major,
                "dropped_overflow_warning_or_above": self._dropped_overflow_major,
                "dropped_failed": self._failed,
                "dropped_closed": self._dropped_closed,
                "dropped_spool_error": self._dropped_error,
                "queued": self._enqueued - self._written - self._failed,
                "spool_dir": str(self.directory),
                "spool_bytes_pending": self._bytes - self._delivered,
                "spool_max_bytes": self.max_bytes,
                "recovered_from_dead_processes": self._recovered[0],
                "recovered_failed": self._recovered[1],
                "writer_pid": process.pid if process is not None else None,
                "writer_restarts": self._restarts,
                "writer_heartbeat": writer,
                "writer_heartbeat_age": age,
                "writer_stale": running and age is not None and age > STALE_SECONDS,
                "writer_failing_seconds": writer.get("failing_seconds"),
                "alive": running,
                "closed": self._closed,
                "last_error": writer.get("last_error") or self._last_error,
                "pid": self._pid,
            }


def all_queues() -> list[SpoolQueue]:
    """Return the spool queues of this process."""
    return list(_queues)


_paused: list[threading.Lock] = []


def _hold_locks_before_fork() -> None:
    """Fork with no spool write half done: a child must not inherit a held lock."""
    for queue in list(_queues):
        queue._lock.acquire()
        _paused.append(queue._lock)


def _release_locks_in_parent() -> None:
    while _paused:
        _paused.pop().release()


def _release_locks_in_child() -> None:
    while _paused:
        _paused.pop().release()  # the child's copies; it builds its own spool in _after_fork on first use
    for queue in list(_queues):
        queue._forget_parent()


os.register_at_fork(
    before=_hold_locks_before_fork,
    after_in_parent=_release_locks_in_parent,
    after_in_child=_release_locks_in_child,
)

