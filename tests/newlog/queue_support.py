"""Helpers for the LogQueueWorker tests: a recording sink and real-database apps made per example."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, text

from newlog.models import log_table
from newlog.queue_worker import LogQueueWorker
from newlog.sinks import default_sink
from tests.support import read_rows


class RecordingSink:
    """A sink that keeps every row it stores; it can be held (calls block) and made to fail."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[Mapping[str, Any]] = []
        self._open = threading.Event()
        self._open.set()
        self.failing = False
        self.calls = 0

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.calls += 1
        self._open.wait()
        if self.failing:
            raise ConnectionError("database unreachable (test sink)")
        with self._lock:
            self._rows.extend(rows)

    def hold(self) -> None:
        """Make the next sink calls block until :meth:`release`."""
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
        with self._lock:
            return [row["message"] for row in self._rows]


def event(message: str) -> dict[str, Any]:
    """Return a minimal event snapshot as the enqueuing handler would produce it."""
    return {"event": message, "level": "info"}


@contextmanager
def database_app(url: str, **config: Any) -> Iterator[Flask]:
    """A Flask app with flask-sqlalchemy on ``url`` and a log table of its own, dropped afterwards.

    Made per Hypothesis example (function-scoped fixtures are shared between examples).
    """
    app = Flask(f"queue_test_{uuid.uuid4().hex[:8]}")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, LOG_TABLE=f"logs_{uuid.uuid4().hex[:10]}", **config)
    db = SQLAlchemy(app)
    with app.app_context():
        log_table(app.config["LOG_TABLE"], MetaData()).create(db.engine)  # so it can be read and locked at once
    try:
        yield app
    finally:
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(text(f'DROP TABLE IF EXISTS "{app.config["LOG_TABLE"]}"'))
            db.engine.dispose()


def database_sink(app: Flask) -> Any:
    """Return newlog's database sink for ``app``'s log table."""
    return default_sink(app)


@contextmanager
def running_worker(sink: Any, **options: Any) -> Iterator[LogQueueWorker]:
    """A started worker writing to ``sink``; shut down (and its sink released) when the block ends."""
    worker = LogQueueWorker(sink, **options)
    try:
        yield worker
    finally:
        if isinstance(sink, RecordingSink):
            sink.release()
            sink.failing = False
        worker.shutdown(5)


def stored_messages(app: Flask) -> list[str]:
    """Return the messages of the app's log rows in insertion order."""
    return [row["message"] for row in read_rows(app)]


@contextmanager
def database_locked(app: Flask) -> Iterator[None]:
    """Hold an exclusive lock on the app's log table (SQLite: the whole file) so inserts block."""
    db = app.extensions["sqlalchemy"]
    table = app.config["LOG_TABLE"]
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        connection = sqlite3.connect(engine.url.database, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    with engine.connect() as connection:
        connection.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
        try:
            yield
        finally:
            connection.rollback()
