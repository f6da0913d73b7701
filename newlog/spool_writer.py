"""The spool writer process: ``python -m newlog.spool_writer``, started by :class:`newlog.spool.SpoolQueue`.

It stores the rows of its app process's spool segments, and of segments left by dead app
processes of the same target, in batches (on PostgreSQL one INSERT from the batch's JSON lines, an executemany elsewhere).
Each batch's transaction also advances the segment's row in ``newlog_spool_progress``
from the offset the batch starts at to the one it ends at (``UPDATE ... WHERE
byte_offset = <start>``): a crash of this process or of the app loses no row and stores
none twice, and two writers can never store the same lines.

The lines of a batch the database refuses (a value too long for its column, a line that is
not a row) are stored again in halves, down to one by one; the lines refused alone go to
``<key>.rejected`` in the spool directory and are counted as failed. Any other error
(database down, table missing) is retried with backoff for as long as it lasts: the spool
keeps the rows meanwhile.

Talks to the app process through pipes. It reads one-byte commands on stdin: ``F`` (look now,
and stop waiting for a model before making newlog's own table), ``Q`` (store everything and
exit), ``K`` (the app's model of the table appeared: never create newlog's own), ``R`` (the
app's model appeared and changes this process's config: store no batch read from then on and
exit with ``RESTART_STATUS``, to be started again), end of file (the app process is gone: store
what it left and exit). It reports on stdout: ``P seq offset rows failed`` after each batch of
the app's own segments, ``A rows failed`` for rows recovered from dead processes, ``H {json}``
its heartbeat every second (the app process publishes it in its own heartbeat file, see
:mod:`newlog.heartbeat`).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import fcntl
import json
import logging
import os
import select
import socket
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    inspect,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy import select as sql_select
from sqlalchemy.engine import Engine

from newlog.models import log_table
from newlog.sinks import describe_error, is_poison
from newlog.spool_files import (
    REJECTED_SUFFIX,
    RESTART_STATUS,
    Segment,
    owner_alive,
    owner_lock_path,
    segments,
)
from newlog.spool_store import SpoolRowStore

PROGRESS_TABLE = "newlog_spool_progress"
HEARTBEAT_SECONDS = 1.0
FIRST_READ_BYTES = 64 * 1024
READ_BYTES = 16 * 1024 * 1024
PUNCH_BYTES = 16 * 1024 * 1024
_MAX_BACKOFF = 5.0

_log = logging.getLogger("newlog.spool_writer")


def progress_table(meta: MetaData) -> Table:
    """Return the table holding each segment's delivered offset and row counts."""
    return Table(
        PROGRESS_TABLE,
        meta,
        Column("segment", String(200), primary_key=True),
        Column("byte_offset", BigInteger, nullable=False),
        Column("rows_written", BigInteger, nullable=False),
        Column("rows_failed", BigInteger, nullable=False),
    )


_ONE_BY_ONE = 16  # a refused part of fewer lines is stored a line per transaction (see _store_refused)


class Resync(Exception):
    """The segment's progress row moved under us (another writer stored those lines): reload it."""


class _SegmentState:
    """What the writer knows of one segment: its open file, delivery lock and progress."""

    def __init__(self, segment: Segment, fd: int) -> None:
        self.segment = segment
        self.fd = fd
        self.offset = 0
        self.rows = 0
        self.failed = 0
        self.punched = 0
        self.loaded = False
        self.prefetch: tuple[int, bool, Future[_Batch | None]] | None = None


class _Restart(Exception):
    """An ``R`` was read: nothing more is stored by this process (see :data:`RESTART_STATUS`)."""


class _Batch(NamedTuple):
    """The next lines of a segment, read and decoded."""

    lines: list[bytes]
    length: int
    more: bool  # a full batch, or not everything written was read: more lines are waiting
    rows: list[Any]
    bad: list[tuple[bytes, str]]


class SpoolWriter:
    """Deliver the segments of one target (``config["key"]``) in ``config["dir"]`` to the database."""

    def __init__(self, config: dict[str, Any], *, control: int | None = 0, reports: Any = None) -> None:
        self.config = config
        self.directory = Path(config["dir"])
        self.key = config["key"]
        self.owner = config["owner"]
        self.parent_pid = int(config["parent_pid"])
        self.batch_rows = int(config.get("batch_rows", 5000))
        self.poll_interval = float(config.get("poll_interval", 0.02))
        self.drain_seconds = float(config.get("drain_seconds", 30.0))
        self.control = control
        self.reports = reports if reports is not None else sys.stdout.buffer
        self.states: dict[str, _SegmentState] = {}
        self.draining_since: float | None = None
        self.restarting = False  # an R was read
        # newlog's own table is made only this long after the start, unless told to store now (F, Q, end of
        # file): the app factory may import its model (K) a while after the first row (see _find_table).
        self.create_from = time.monotonic() + float(config.get("create_grace", 0.0))
        self.waiting_for_model = False
        self.recovered = [0, 0]
        self.counters = {"batches": 0, "rows_written": 0, "rows_failed": 0, "retries": 0}
        self.last_error: str | None = None
        self.failing_since: float | None = None  # monotonic: the first of the failed tries since the last good one
        self._errors: dict[str, float] = {}
        self._next_heartbeat = 0.0
        self.engine: Engine | None = None
        self.store: SpoolRowStore | None = None
        # Reads and decodes the next batch while the current one is in the database (whose driver
        # releases the GIL while it waits): measured with bench_pipeline.py's storing capacity.
        self._prefetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newlog-spool-prefetch")

    # -- setup -------------------------------------------------------------------------------

    def connect(self) -> None:
        """Build the engine (one connection) and create the progress table if missing.

        The log table is found (or created) at the first line to store: see :meth:`_find_table`.
        """
        engine = create_engine(
            self.config["url"],
            connect_args=self.config.get("connect_args") or {},
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=True,
        )
        try:
            self._prepare(engine)
        except BaseException:
            engine.dispose()
            raise
        self.engine = engine

    def _prepare(self, engine: Engine) -> None:
        self.progress = progress_table(MetaData())
        _create(engine, self.progress)

    def _find_table(self) -> bool:
        """Reflect the log table, or create newlog's own when the app has no model of it (``create_table``); False: not yet.

        Only once there is a line to store: the writer starts with ``init_app``, and an app that
        imports its model after ``init_app`` and then runs ``create_all`` or its migrations must
        not find newlog's table in its model's place. A ``K`` from the app (its model appeared) is
        read first, and newlog's table is made only ``create_grace`` seconds after the start
        (the app factory's imports) unless the app flushes or stops: until then the rows wait.
        """
        assert self.engine is not None
        self._read_commands_or_restart()
        table_name, schema = self.config["table"], self.config.get("schema")
        if not inspect(self.engine).has_table(table_name, schema=schema):
            if not self.config.get("create_table"):
                raise LookupError(
                    f"log table {table_name!r} does not exist yet (create it with the app's migrations: 'flask db "
                    "upgrade', or create_all, or 'flask newlog-table'); the spool keeps the rows until it does"
                )
            self.waiting_for_model = time.monotonic() < self.create_from
            if self.waiting_for_model:
                return False
            _create(self.engine, log_table(table_name, MetaData()))
        self.waiting_for_model = False
        with warnings.catch_warnings():
            # A column of a type SQLAlchemy does not know is left to the database (spool_store.app_filled_columns).
            warnings.filterwarnings("ignore", "Did not recognize type", sa_exc.SAWarning)
            table = Table(table_name, MetaData(), schema=schema, autoload_with=self.engine)
        self.store = SpoolRowStore(
            self.engine, table, self.config.get("extra_columns", ()), self.config.get("renames"), self.config.get("sequences")
        )
        return True

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        """Deliver until told to stop (or the app is gone) and everything is delivered; return the exit status."""
        retry = 0.0  # after an error: the wait before the next try, doubling up to _MAX_BACKOFF
        while True:
            self._read_commands(retry)
            if self.restarting:
                return RESTART_STATUS
            if self.draining_since is not None and time.monotonic() - self.draining_since > self.drain_seconds:
                self._fail("gave up after draining for %.0fs: the rest stays in the spool" % self.drain_seconds)
                return 2
            try:
                if self.engine is None:
                    self.connect()
                busy = self.deliver_once() if self.directory.is_dir() else False
                retry = 0.0
                self.failing_since = None
            except _Restart:
                return RESTART_STATUS
            except (sa_exc.SQLAlchemyError, OSError, LookupError) as exc:
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                self._fail(describe_error(exc))
                self.counters["retries"] += 1
                self._dispose_on_error()
                retry = min(_MAX_BACKOFF, max(0.1, retry * 2))
                self._heartbeat()
                continue
            self._heartbeat()
            if busy:
                continue
            if self.draining_since is not None and self._own_done():
                try:
                    self._cleanup_own()
                except (sa_exc.SQLAlchemyError, OSError) as exc:  # delivered: only the clean-up failed
                    self._fail(f"could not remove the delivered spool: {describe_error(exc)}")
                return 0
            self._read_commands(self.poll_interval if self.draining_since is None else min(self.poll_interval, 0.02))

    def _read_commands(self, timeout: float) -> None:
        """Wait up to ``timeout`` for a command; note a ``Q``, end of file or a new parent (the app is gone), a ``K``."""
        if self.draining_since is None and os.getppid() != self.parent_pid:
            self.draining_since = time.monotonic()
        if self.control is None:
            time.sleep(timeout)
            return
        try:
            ready, _, _ = select.select([self.control], [], [], timeout)
        except (OSError, ValueError):
            ready = []
        if not ready:
            return
        try:
            data = os.read(self.control, 4096)
        except OSError:
            data = b""
        stopping = not data or b"Q" in data
        if stopping and self.draining_since is None:
            self.draining_since = time.monotonic()
        if stopping or b"F" in data:  # the app wants the rows stored: no more waiting for a model
            self.create_from = 0.0
        if b"K" in data or b"R" in data:  # the app's model of the table appeared: never create newlog's own
            self.config["create_table"] = False
        if b"R" in data:
            self.restarting = True
        if not data:
            self.control = None

    def _read_commands_or_restart(self) -> None:
        """Read the commands waiting now; raise _Restart once an ``R`` was read."""
        self._read_commands(0)
        if self.restarting:
            raise _Restart

    def deliver_once(self) -> bool:
        """Store one batch of every segment that has complete lines; return True if more are waiting.

        More are waiting when a batch was full (``batch_rows`` lines, or as much as one read
        takes): the caller goes on at once. Otherwise it waits for its poll interval, so that a
        steady trickle is stored in batches of an interval's worth rather than a transaction per
        few rows (measured: at 5,000 rows/s into a SQLite file, storing whatever had arrived
        each time cost the writer 0.6 core of CPU, most of it in commits).
        """
        busy = False
        present = segments(self.directory, self.key)
        latest: dict[str, int] = {}
        for segment in present:
            latest[segment.owner] = max(latest.get(segment.owner, -1), segment.seq)
        alive: dict[str, bool] = {}
        for segment in present:
            own = segment.owner == self.owner
            if not own:
                if segment.owner not in alive:
                    alive[segment.owner] = owner_alive(self.directory, self.key, segment.owner)
                if alive[segment.owner]:
                    continue  # another live process's writer delivers it
            state = self._state(segment)
            if state is None:
                continue
            finished = (own and self.draining_since is not None) or (not own) or segment.seq < latest[segment.owner]
            stored, more = self._deliver(state, complete=finished)
            busy = busy or more
            if not stored and finished and not has_data(state.fd, state.offset):
                self._retire(state)
        for owner, _ in latest.items():
            if owner != self.owner and not alive.get(owner, True):
                self._forget_owner(owner)
        return busy

    def _state(self, segment: Segment) -> _SegmentState | None:
        state = self.states.get(segment.name)
        if state is None:
            try:
                fd = os.open(self.directory / segment.name, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                return None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # one writer per segment at a time
            except BlockingIOError:
                os.close(fd)
                return None
            state = self.states[segment.name] = _SegmentState(segment, fd)
        if not state.loaded:
            self._load_progress(state)
        return state

    def _load_progress(self, state: _SegmentState) -> None:
        assert self.engine is not None
        name = state.segment.name
        with self.engine.begin() as connection:
            row = connection.execute(
                sql_select(self.progress.c.byte_offset, self.progress.c.rows_written, self.progress.c.rows_failed).where(
                    self.progress.c.segment == name
                )
            ).first()
            if row is None:
                connection.execute(
                    insert(self.progress).values(segment=name, byte_offset=0, rows_written=0, rows_failed=0)
                )
                row = (0, 0, 0)
        state.offset, state.rows, state.failed = (int(value) for value in row)
        state.loaded = True
        self._report(state, 0, 0)

    def _deliver(self, state: _SegmentState, *, complete: bool) -> tuple[bool, bool]:
        """Store the next batch of complete lines of ``state``; return (stored anything, more are waiting).

        A torn last line of a finished segment is stored as a failed row.
        """
        if self.store is None:
            if not has_data(state.fd, state.offset) or not self._find_table():
                return False, False
        batch = self._prefetched(state, complete)
        if batch is None:
            batch = self._read_batch(state.fd, state.offset, complete)
        if batch is None:
            return False, False
        if batch.more:
            offset = state.offset + batch.length
            state.prefetch = (offset, complete, self._prefetcher.submit(self._read_batch, state.fd, offset, complete))
        self._store(state, batch)
        return True, batch.more or not state.loaded

    def _read_batch(self, fd: int, offset: int, complete: bool) -> _Batch | None:
        """Read and decode the batch of complete lines at ``offset`` of a segment (None: nothing to store yet)."""
        data, at_end = read_from(fd, offset, self.batch_rows)
        end = data.rfind(b"\n")
        if end < 0:
            if data and complete and at_end:  # a row cut short by a crash of the app mid-copy
                return _Batch([data], len(data), False, *self._decode([data]))
            return None
        lines = data[: end + 1].split(b"\n", self.batch_rows)
        full = len(lines) > self.batch_rows
        if full:
            lines = lines[: self.batch_rows]
        else:
            lines = lines[:-1]
        length = sum(len(line) + 1 for line in lines)
        return _Batch(lines, length, full or not at_end, *self._decode(lines, check=not self.store_checks_lines))

    def _prefetched(self, state: _SegmentState, complete: bool) -> _Batch | None:
        """Return the batch read ahead for ``state``'s offset, if there is one and it still applies."""
        prefetch, state.prefetch = state.prefetch, None
        if prefetch is None:
            return None
        offset, was_complete, future = prefetch
        try:
            batch = future.result()
        except Exception:  # noqa: BLE001 - read again in this thread, where an error is handled
            return None
        return batch if offset == state.offset and was_complete == complete else None

    def _store(self, state: _SegmentState, batch: _Batch) -> None:
        # The app sends R before the first line that needs the new config: a batch read after it holds
        # such lines, so the commands are read once more between the batch's read and its commit.
        self._read_commands_or_restart()
        try:
            if self._try_commit(state, batch.rows, batch.length, batch.bad) is not None:
                self._store_refused(state, batch.lines)
        except Resync:
            state.loaded = False

    def _store_refused(self, state: _SegmentState, lines: list[bytes]) -> None:
        """Store the lines of a refused batch in halves, in order, splitting a refused half again.

        Below ``_ONE_BY_ONE`` lines they go one per transaction, a line refused alone to the
        rejected file. One bad line in a batch of 20,000 costs about 30 transactions instead of
        20,000, and a batch whose every line is refused (a schema that refuses them all) about
        1.1 transactions a line. Raises Resync when the progress row moved under the writer.
        """
        if len(lines) < _ONE_BY_ONE:
            for line in lines:
                refused = self._commit_lines(state, [line])
                if refused is not None and self.store is not None and self.store.method != "core":
                    refused = self._commit_inserted(state, line, refused)
                if refused is not None:
                    self._commit(state, [], 1, len(line) + 1, [(line, describe_error(refused))])
            return
        half = len(lines) // 2
        for part in (lines[:half], lines[half:]):
            if self._commit_lines(state, part, check=not self.store_checks_lines) is not None:
                self._store_refused(state, part)

    def _commit_lines(self, state: _SegmentState, lines: list[bytes], *, check: bool = True) -> BaseException | None:
        """Decode and commit ``lines`` in one transaction; return the poison error that refused them (None: stored)."""
        rows, bad = self._decode(lines, check=check)
        return self._try_commit(state, rows, sum(len(line) + 1 for line in lines), bad)

    def _commit_inserted(self, state: _SegmentState, line: bytes, refused: BaseException) -> BaseException | None:
        """Commit a readable ``line`` that the batch path refused through the INSERT; return the error that refused it.

        The INSERT is the reference: what it stores, the line's row is stored as (see
        :meth:`SpoolRowStore.write_inserted`); what it refuses too goes to the rejected file.
        """
        assert self.store is not None
        try:
            record = self.store.record(orjson.loads(line))
        except (ValueError, TypeError, AttributeError):
            return refused
        return self._try_commit(state, [record], len(line) + 1, [], inserted=True)

    def _try_commit(
        self, state: _SegmentState, rows: list[Any], length: int, bad: list[tuple[bytes, str]], *, inserted: bool = False
    ) -> BaseException | None:
        """:meth:`_commit` the rows; return the poison error that refused them instead of raising it (None: stored)."""
        try:
            self._commit(state, rows, len(bad), length, bad, inserted=inserted)
        except sa_exc.SQLAlchemyError as exc:
            if not is_poison(exc):
                raise
            return exc
        return None

    def _commit(
        self,
        state: _SegmentState,
        rows: list[Any],
        failed: int,
        length: int,
        bad: list[tuple[bytes, str]],
        *,
        inserted: bool = False,
    ) -> None:
        """In one transaction: claim the lines (progress moves from our offset on) and store their rows.

        ``inserted``: the rows are :meth:`SpoolRowStore.record` rows, stored through the INSERT.
        """
        assert self.engine is not None and self.store is not None
        progress = self.progress
        with self.engine.begin() as connection:
            claimed = connection.execute(
                update(progress)
                .where(progress.c.segment == state.segment.name, progress.c.byte_offset == state.offset)
                .values(
                    byte_offset=state.offset + length,
                    rows_written=state.rows + len(rows),
                    rows_failed=state.failed + failed,
                )
            )
            if claimed.rowcount != 1:
                raise Resync(state.segment.name)
            (self.store.write_inserted if inserted else self.store.write)(connection, rows)
            if bad:
                self._reject(bad)  # before the commit: a crash after it repeats a rejection, never loses one
        state.offset += length
        state.rows += len(rows)
        state.failed += failed
        if state.offset - state.punched >= PUNCH_BYTES:
            state.punched = punch_hole(state.fd, state.offset, self._fail)
        self.counters["batches"] += 1
        self.counters["rows_written"] += len(rows)
        self.counters["rows_failed"] += failed
        self._report(state, len(rows), failed)

    @property
    def store_checks_lines(self) -> bool:
        """True when the database refuses a batch holding a line that is not a JSON object (see SpoolRowStore)."""
        return self.store is not None and self.store.checks_lines

    def _decode(self, lines: list[bytes], *, check: bool = True) -> tuple[list[Any], list[tuple[bytes, str]]]:
        """Return the rows of ``lines`` ready for the store, and the unreadable lines with the reason.

        ``check=False`` (a full batch for a store that :attr:`store_checks_lines`): the lines as they
        are; a batch holding a bad one fails as poison, and its lines are then stored in halves
        (:meth:`_store_refused`), down to one by one, each checked here. Measured with
        ``benchmarks/bench_spool_store.py``: the writer's CPU per row 3.0-3.5 µs with the check,
        1.2-1.3 µs without.
        """
        assert self.store is not None
        if not check:
            return lines, []
        encode = self.store.encode
        rows, bad = [], []
        for line in lines:
            try:
                values = orjson.loads(line)
                if not isinstance(values, dict):
                    raise ValueError("not a JSON object")
                rows.append(encode(line, values))
            except (ValueError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
                bad.append((line, f"unreadable spool line: {exc}"))
        return rows, bad

    def _reject(self, bad: list[tuple[bytes, str]]) -> None:
        path = self.directory / f"{self.key}{REJECTED_SUFFIX}"
        with open(path, "ab") as rejected:
            for line, reason in bad:
                rejected.write(orjson.dumps({"error": reason, "line": line.decode("utf-8", "backslashreplace")}) + b"\n")

    def _report(self, state: _SegmentState, rows: int, failed: int) -> None:
        if state.segment.owner == self.owner:
            self._send(f"P {state.segment.seq} {state.offset} {state.rows} {state.failed}")
        elif rows or failed:
            self.recovered[0] += rows
            self.recovered[1] += failed
            self._send(f"A {self.recovered[0]} {self.recovered[1]}")

    def _send(self, line: str) -> None:
        try:
            self.reports.write(line.encode() + b"\n")
            self.reports.flush()
        except (OSError, ValueError):
            pass  # the app process is gone: the spool and the progress table still say everything

    # -- finishing segments ------------------------------------------------------------------

    def _retire(self, state: _SegmentState) -> None:
        """Remove a fully delivered, finished segment and its progress row."""
        assert self.engine is not None
        name = state.segment.name
        self._prefetched(state, complete=True)  # no read may be left on the descriptor about to close
        try:
            os.unlink(self.directory / name)
        except FileNotFoundError:
            pass
        os.close(state.fd)
        del self.states[name]
        with self.engine.begin() as connection:
            connection.execute(delete(self.progress).where(self.progress.c.segment == name))

    def _forget_owner(self, owner: str) -> None:
        """Remove a dead owner's lock file once none of its segments is left."""
        if any(segment.owner == owner for segment in segments(self.directory, self.key)):
            return
        try:
            owner_lock_path(self.directory, self.key, owner).unlink()
        except FileNotFoundError:
            pass

    def _own_done(self) -> bool:
        if not self.directory.is_dir():
            return True  # the spool directory was removed: nothing is left to store
        for segment in segments(self.directory, self.key):
            if segment.owner == self.owner:
                state = self.states.get(segment.name)
                if state is None or has_data(state.fd, state.offset):
                    return False
        return True

    def _cleanup_own(self) -> None:
        for state in [state for state in self.states.values() if state.segment.owner == self.owner]:
            self._retire(state)

    # -- health --------------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        """Keep ``message`` as the last error; print it on stderr at most once per 10 s."""
        self.last_error = message
        now = time.monotonic()
        if self._errors.get(message, 0.0) <= now:
            self._errors[message] = now + 10.0
            print(f"newlog spool writer (pid {os.getpid()}): {message}", file=sys.stderr, flush=True)

    def _dispose_on_error(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
        for state in self.states.values():
            state.loaded = False  # reload the offsets: the failed transaction may or may not have committed

    def _heartbeat(self, force: bool = False) -> None:
        now = time.monotonic()
        if now < self._next_heartbeat and not force:
            return
        self._next_heartbeat = now + HEARTBEAT_SECONDS
        beat = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "owner": self.owner,
            "parent_pid": self.parent_pid,
            **self.counters,
            "recovered_rows": self.recovered[0],
            "segments": len(self.states),
            "last_error": self.last_error,
            "failing_seconds": None if self.failing_since is None else round(now - self.failing_since, 1),
            "draining": self.draining_since is not None,
            "waiting_for_model": self.waiting_for_model,
            "updated_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        }
        text = json.dumps(beat)
        self._send(f"H {text}")


def read_from(fd: int, offset: int, lines: int) -> tuple[bytes, bool]:
    """Return the written bytes of a segment from ``offset`` on (about ``lines`` lines or more), and whether that is all.

    A segment is pre-sized and NUL-filled (:mod:`newlog.spool_append`): what is written ends
    at the first NUL byte (or at the end of the file). The read starts small, so that an idle
    poll costs little, and grows while it holds neither the end nor ``lines`` lines (and
    while no line is complete, for a row longer than the read).
    """
    size = FIRST_READ_BYTES
    while True:
        data = os.pread(fd, size, offset)
        nul = data.find(b"\0")
        if nul >= 0:
            return data[:nul], True
        if len(data) < size:
            return data, True
        if b"\n" in data and (size >= READ_BYTES or data.count(b"\n") >= lines):
            return data, False
        size *= 2


def has_data(fd: int, offset: int) -> bool:
    """Return True when a segment holds written bytes at ``offset`` (not the end of the file, not NUL)."""
    return os.pread(fd, 1, offset) not in (b"", b"\0")


_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_libc: Any = None


def punch_hole(fd: int, offset: int, report: Callable[[str], None]) -> int:
    """Free the disk blocks of the delivered bytes ``[0, offset)`` of a live segment; return the freed length.

    The app appends to a segment until its window is full (see :mod:`newlog.spool_append`), so
    delivered rows are freed in place: offsets stay valid, reads of the hole return zeros, and
    the app never touches a page below the delivered offset again. Without hole punching (a file
    system that lacks it) a segment keeps its blocks until it is complete and removed; that is
    reported once.
    """
    global _libc
    length = offset - offset % 4096
    if length <= 0:
        return 0
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        flags = _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE
        if _libc.fallocate(fd, flags, ctypes.c_long(0), ctypes.c_long(length)) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as exc:
        report(f"cannot free delivered spool space (fallocate punch hole: {exc}): a segment keeps its space until it is complete")
        return 1 << 62  # do not try again for this segment
    return length


def _create(engine: Engine, table: Table) -> None:
    """Create ``table`` unless it exists (another process creating it at the same moment is fine)."""
    try:
        table.create(engine, checkfirst=True)
    except sa_exc.DatabaseError:
        if not inspect(engine).has_table(table.name):
            raise


def main() -> int:
    """Run the writer described by ``$NEWLOG_SPOOL_WRITER``; return its exit status."""
    config = json.loads(os.environ["NEWLOG_SPOOL_WRITER"])
    writer = SpoolWriter(config, control=sys.stdin.fileno())
    try:
        return writer.run()
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":
    sys.exit(main())
