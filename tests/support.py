"""Helpers shared by the tests (import as ``from tests.support import ...``).

One row reader (:func:`read_rows`: from the app's recording sink or from its database, in
the same shape), a recording sink, a clock the test moves by hand, and the printed lines.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Text, create_engine, text

import newlog
from newlog.models import log_table
from newlog.queue_worker import LogQueueWorker
from newlog.sinks import DatabaseSink


class RecordingSink:
    """A sink that keeps every row it stores; it can be held (calls block) and made to fail."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[Mapping[str, Any]] = []
        self._open = threading.Event()
        self._open.set()
        self.entered = threading.Event()
        self.failing: BaseException | None = None
        self.calls = 0

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.calls += 1
        self.entered.set()
        self._open.wait()
        if self.failing is not None:
            raise self.failing
        with self._lock:
            self._rows.extend(rows)

    def fail_with(self, error: BaseException | None) -> None:
        """Make the next calls raise ``error`` (None: succeed again)."""
        self.failing = error

    def hold(self) -> None:
        """Make the next sink calls block until :meth:`release`."""
        self.entered.clear()
        self._open.clear()

    def release(self) -> None:
        """Let blocked and future sink calls through."""
        self._open.set()

    @property
    def rows(self) -> list[Mapping[str, Any]]:
        """Return the stored rows, in the order they were stored."""
        with self._lock:
            return list(self._rows)

    @property
    def messages(self) -> list[str]:
        """Return the messages of the stored rows, in the order they were stored."""
        return [row["message"] for row in self.rows]


class ManualClock:
    """A clock that moves only when the test calls :meth:`advance`; waits and sleeps wake when it moves.

    :meth:`wait_until_blocked` is the handshake: it returns once ``count`` threads wait on
    this clock (the worker is idle, or sleeping before a retry).
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._conditions: dict[int, threading.Condition] = {}
        self._moved = threading.Condition()
        self._blocked = 0
        self._sleeps = 0
        self._blocked_changed = threading.Condition()

    def now(self) -> float:
        """Return the clock's time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward and wake every wait on it."""
        with self._lock:
            self._now += seconds
            conditions = list(self._conditions.values())
        for condition in conditions:
            with condition:
                condition.notify_all()
        with self._moved:
            self._moved.notify_all()

    def _block(self, delta: int) -> None:
        with self._blocked_changed:
            self._blocked += delta
            self._blocked_changed.notify_all()

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait on ``condition`` (held) until notified, or the clock passes ``timeout``."""
        if timeout is not None and timeout <= 0:
            return
        with self._lock:
            self._conditions[id(condition)] = condition
        self._block(1)
        try:
            condition.wait()
        finally:
            self._block(-1)

    def wait_for(self, condition: threading.Condition, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait on ``condition`` (held) until ``predicate()``, or the clock passes ``timeout``; return ``predicate()``."""
        deadline = None if timeout is None else self._now + timeout
        while not predicate():
            if deadline is not None and self._now >= deadline:
                return predicate()
            self.wait(condition, None if deadline is None else deadline - self._now)
        return True

    def sleep(self, seconds: float) -> None:
        """Return once the clock moved ``seconds`` further."""
        deadline = self._now + seconds
        with self._blocked_changed:
            self._sleeps += 1
        self._block(1)
        try:
            with self._moved:
                while self._now < deadline:
                    self._moved.wait()
        finally:
            self._block(-1)

    def wait_for_sleeps(self, count: int, timeout: float = 10.0) -> None:
        """Return once ``sleep`` was entered ``count`` times in all (a retry backoff began); fail after ``timeout``."""
        with self._blocked_changed:
            if not self._blocked_changed.wait_for(lambda: self._sleeps >= count, timeout):
                pytest.fail(f"sleep() was not entered {count} times within {timeout}s (only {self._sleeps})")

    def wait_until_blocked(self, count: int = 1, timeout: float = 10.0) -> None:
        """Return once ``count`` threads wait on this clock; fail the test after ``timeout`` real seconds."""
        with self._blocked_changed:
            if not self._blocked_changed.wait_for(lambda: self._blocked >= count, timeout):
                pytest.fail(f"no {count} thread(s) waited on the clock within {timeout}s (now {self._blocked})")


# -- reading what was stored and printed ------------------------------------------------------------


def recording_sink(app: Flask) -> RecordingSink | None:
    """Return the :class:`RecordingSink` an app writes to (``make_app()`` without a database), else None."""
    sink = getattr(app.extensions["newlog"].worker, "sink", None)
    inner = getattr(sink, "sink", sink)
    return inner if isinstance(inner, RecordingSink) else None


def read_rows(app: Flask) -> list[dict[str, Any]]:
    """Return the app's log rows in the order they were stored, in one shape for every sink and database.

    ``timestamp`` is an aware UTC datetime, ``context`` a dict; database rows keep their ``id``.
    """
    recorder = recording_sink(app)
    if recorder is not None:
        return [dict(row) for row in recorder.rows]
    return table_rows(app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("LOG_TABLE", "unified_logs"))


def stored_rows(app: Flask, timeout: float = 10) -> list[dict[str, Any]]:
    """Return :func:`read_rows` once everything logged so far is written (asserts the flush lost nothing)."""
    assert newlog.flush(timeout) is True
    return read_rows(app)


def stored_messages(app: Flask) -> list[str]:
    """Return the messages of :func:`stored_rows`."""
    return [row["message"] for row in stored_rows(app)]


def table_rows(url: str, table: str) -> list[dict[str, Any]]:
    """Return every row of ``table`` at ``url`` in id order (``context`` decoded, ``timestamp`` aware UTC)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(text(f'SELECT * FROM "{table}" ORDER BY id'))]
    finally:
        engine.dispose()
    for row in rows:
        if isinstance(row.get("context"), str):  # SQLite returns the JSON column as text to a raw SELECT
            row["context"] = json.loads(row["context"])
        stamp = row.get("timestamp")
        if isinstance(stamp, str):
            stamp = dt.datetime.fromisoformat(stamp)
        if isinstance(stamp, dt.datetime) and stamp.tzinfo is None:  # SQLite keeps no offset; newlog stores UTC
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        row["timestamp"] = stamp
    return rows


def printed_events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Return the JSON lines newlog printed since the last read of ``capsys``."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def newlog_records(caplog: pytest.LogCaptureFixture, containing: str = "") -> list[str]:
    """Return the messages newlog reported on the stdlib ``newlog`` logger that contain ``containing``."""
    return [record.getMessage() for record in caplog.records if record.name == "newlog" and containing in record.getMessage()]


# -- the queue worker on its own ---------------------------------------------------------------------


def event(message: str, level: str = "info") -> dict[str, Any]:
    """Return a minimal event as the chain hands it to the worker."""
    return {"event": message, "level": level}


@contextmanager
def running_worker(sink: Any, **options: Any) -> Iterator[LogQueueWorker]:
    """A started worker writing to ``sink``; shut down (a recording sink released first) when the block ends."""
    worker = LogQueueWorker(sink, **options)
    try:
        yield worker
    finally:
        if isinstance(sink, RecordingSink):
            sink.fail_with(None)
            sink.release()
        clock = options.get("clock")
        if isinstance(clock, ManualClock):
            clock.advance(3600)  # a retry backoff the test left waiting ends
        worker.shutdown(5)


def database_sink(url: str) -> DatabaseSink:
    """Return a database sink on ``url`` writing to a new log table of its own (created here)."""
    table = log_table(f"logs_{uuid.uuid4().hex[:10]}", MetaData())
    engine = create_engine(url)
    table.create(engine)
    return DatabaseSink(engine, table, owns_engine=True)


def sink_messages(sink: DatabaseSink) -> list[str]:
    """Return the messages a database sink stored, in id order."""
    return [row["message"] for row in table_rows(sink.engine.url.render_as_string(hide_password=False), sink.table.name)]


def child_pids(pid: int) -> list[int]:
    """Return the ids of the child processes of ``pid`` (Linux: every thread's ``/proc`` children list)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def process_alive(pid: int) -> bool:
    """Return True while ``pid`` runs (a zombie or a dead process is not alive)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in {"Z", "X"}


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout}s")
        time.sleep(0.1)


class LogLevel(enum.Enum):
    """The legacy module's level enum, as the example apps declare it: an ``Enum(LogLevel)`` column stores the member names."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50


def log_columns(**types: Any) -> list[Column[Any]]:
    """Fresh columns of an app's log model shaped like the legacy ``UnifiedLog``: ``id`` and newlog's row columns.

    ``types`` replaces a column's type by name (``context=Text``, ``timestamp=DateTime``).
    """
    shape: dict[str, Any] = {
        "timestamp": DateTime(timezone=True),
        "level": String(20),
        "module": String(100),
        "message": Text,
        "traceback": Text,
        "context": JSON,
    }
    shape.update(types)
    nullable = {"traceback", "context"}
    return [Column("id", Integer, primary_key=True)] + [
        Column(name, type_, nullable=name in nullable) for name, type_ in shape.items()
    ]


def delivery_config(mode: str, tmp_path: Path) -> dict[str, Any]:
    """The settings of a delivery mode: "thread" (the default), "sync" (``LOG_SYNC_WRITES``) or "spool" (``LOG_SPOOL_DIR``)."""
    return {
        "thread": {},
        "sync": {"LOG_SYNC_WRITES": True},
        "spool": {"LOG_SPOOL_DIR": str(tmp_path / "spool")},
    }[mode]
