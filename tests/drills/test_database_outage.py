"""Database outage drills: requests keep completing while the database is gone (they never wait on the
logger), the worker reports the error through stdlib logging, retries and recovers, and every emitted
event is written or counted as dropped (``written + dropped_failed + dropped_overflow == emitted``).

Two outages: PostgreSQL stopped (the session's own cluster) and a SQLite file locked by
another connection holding a write transaction (the legacy module hangs the request there).
The outage lasts while a given number of requests complete (a handshake, not a timer): if a
request waited for the database, the outage would never end and the drill fails.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import newlog
from tests.drills.demo_app import MESSAGES, create_app
from tests.drills.harness import PostgresCluster, Stream, log_rows

pytestmark = pytest.mark.slow

RATE = 150  # requests/s, 3 events each
DURING = 450  # requests completed while the database is down (about 3 s at RATE)


class Outage:
    """A database the app logs to, and a way to take it away and bring it back."""

    url: str
    engine_options: dict[str, Any] = {}

    @contextmanager
    def down(self) -> Iterator[None]:
        raise NotImplementedError


class PostgresStopped(Outage):
    def __init__(self, cluster: PostgresCluster) -> None:
        self.cluster = cluster
        self.url = cluster.url

    @contextmanager
    def down(self) -> Iterator[None]:
        self.cluster.stop("fast")
        try:
            yield
        finally:
            self.cluster.start()


class SqliteLocked(Outage):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.engine_options = {"connect_args": {"timeout": 0.5}}  # the app's busy timeout

    @contextmanager
    def down(self) -> Iterator[None]:
        holder = sqlite3.connect(self.path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("CREATE TABLE IF NOT EXISTS lock_holder (x INTEGER)")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


@pytest.fixture(params=["postgresql-stopped", "sqlite-locked"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Outage:
    if request.param == "postgresql-stopped":
        return PostgresStopped(request.getfixturevalue("pg_cluster"))
    return SqliteLocked(tmp_path / "logs.db")


def make_app(outage: Outage, **config: Any) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": outage.url,
            "SQLALCHEMY_ENGINE_OPTIONS": outage.engine_options,
            "LOG_TABLE": f"drill_{uuid.uuid4().hex[:10]}",
            "LOG_FLUSH_INTERVAL": 0.1,
            "LOG_BATCH_SIZE": 50,
            **config,
        }
    )


def run_outage(app: Flask, outage: Outage) -> Stream:
    """Stream requests: 150 before, ``DURING`` while the database is down, 300 after; return the stream."""
    client = app.test_client()

    def request(seq: int) -> bool:
        return client.get(f"/api/log/info?seq={seq}").status_code == 200

    with Stream(request, RATE) as stream:
        stream.wait_for(150)
        with outage.down():
            stream.wait_for(150 + DURING)  # requests complete while the database is down
        stream.wait_for(150 + DURING + 300)
    return stream


def stored_events(app: Flask) -> set[tuple[str, str]]:
    """Return the distinct (seq, message) pairs in the app's log table."""
    rows = log_rows(app.config["SQLALCHEMY_DATABASE_URI"], app.config["LOG_TABLE"])
    return {(row["context"]["seq"], row["message"]) for row in rows if row["message"] in MESSAGES}


def expected_events(stream: Stream) -> set[tuple[str, str]]:
    return {(str(seq), message) for seq in stream.accepted for message in MESSAGES}


def newlog_errors(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "newlog" and text in r.getMessage()]


def test_outage_with_a_large_enough_queue_loses_nothing(outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(outage, LOG_QUEUE_SIZE=20_000, LOG_RETRY_SECONDS=6.0)  # attempts of 2 s: some fail, none gives up

    stream = run_outage(app, outage)

    assert app.extensions["newlog"].worker.flush(timeout=30)
    stats = app.extensions["newlog"].worker.stats()
    assert stream.failures() == 0
    assert newlog_errors(caplog, "error while writing a batch"), "the worker did not report the outage"
    assert stats["retries"] >= 1
    emitted = 3 * len(stream.accepted)
    assert (stats["enqueued"], stats["written"], stats["dropped_failed"], stats["dropped_overflow"]) == (
        emitted, emitted, 0, 0,
    )
    assert stored_events(app) == expected_events(stream)
    assert newlog.health()["ok"]


def test_queue_full_during_an_outage_counts_every_drop(outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(outage, LOG_QUEUE_SIZE=300, LOG_QUEUE_RESERVE=0, LOG_RETRY_SECONDS=30.0, LOG_OVERFLOW_WARN_INTERVAL=1.0)

    stream = run_outage(app, outage)

    assert app.extensions["newlog"].worker.flush(timeout=30) is False  # events were dropped
    stats = app.extensions["newlog"].worker.stats()
    assert stream.failures() == 0
    emitted = 3 * len(stream.accepted)
    assert stats["dropped_overflow"] > 0
    assert stats["written"] + stats["dropped_failed"] + stats["dropped_overflow"] == emitted
    assert stats["dropped_failed"] == 0
    assert newlog_errors(caplog, "log queue full")
    reported = sum(int(m.split("dropped ")[1].split(" ")[0]) for m in newlog_errors(caplog, "log queue full"))
    assert reported == stats["dropped_overflow"]  # every drop is in a report (the tail when the overflow ended)
    stored = stored_events(app)
    assert stored <= expected_events(stream)
    assert len(stored) == stats["written"]


def test_outage_longer_than_the_retry_budget_counts_failed_batches(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(outage, LOG_QUEUE_SIZE=20_000, LOG_RETRY_SECONDS=1.0)

    stream = run_outage(app, outage)

    app.extensions["newlog"].worker.flush(timeout=30)
    stats = app.extensions["newlog"].worker.stats()
    assert stream.failures() == 0
    emitted = 3 * len(stream.accepted)
    assert stats["dropped_failed"] > 0
    assert stats["written"] + stats["dropped_failed"] + stats["dropped_overflow"] == emitted
    assert newlog_errors(caplog, "gave up on")
    stored = stored_events(app)
    assert stored <= expected_events(stream)
    # A batch whose commit reached the server just as it went away may be stored and counted failed.
    assert stats["written"] <= len(stored) <= stats["written"] + stats["dropped_failed"]
    assert stats["queued"] == 0 and newlog.health()["ok"]
