"""The demo app (newlog.init_app) served by gunicorn: with ``--preload`` (app and worker thread created
before the fork) both workers write while they run; a gevent worker keeps answering while the database
blocks. Shutdown of every server: test_shutdown."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.drills.demo_app import MESSAGES
from tests.drills.harness import (
    Gunicorn,
    Stream,
    drop_table,
    get,
    log_rows,
    table_exists,
)
from tests.support import wait_until

pytestmark = pytest.mark.slow

APP = "tests.drills.demo_app:create_app()"


class Client:
    """GET /api/log/info?seq=N against the server; remembers which worker pid answered each seq."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.pids: dict[int, int] = {}
        self._lock = threading.Lock()

    def __call__(self, seq: int) -> bool:
        status, body = get(self.port, f"/api/log/info?seq={seq}")
        if status != 200:
            return False
        with self._lock:
            self.pids[seq] = json.loads(body)["pid"]
        return True


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Gunicorn]]:
    """Factory: a started gunicorn serving the demo app; every server is stopped at the end of the test."""
    servers: list[Gunicorn] = []

    def start(env: dict[str, str], args: Sequence[str] = ()) -> Gunicorn:
        server = Gunicorn(APP, env, tmp_path / f"gunicorn-{len(servers)}.log", workers=2, args=args)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def log_table_name(database_url: str) -> Iterator[str]:
    name = f"drill_{uuid.uuid4().hex[:10]}"
    yield name
    drop_table(database_url, name)


def stored(database_url: str, table: str) -> list[tuple[str, str, int]]:
    """Return (seq, message, pid) of the route's rows; none before newlog created its table at the first write."""
    if not table_exists(database_url, table):
        return []
    return [
        (row["context"]["seq"], row["message"], row["context"]["pid"])
        for row in log_rows(database_url, table)
        if row["message"] in MESSAGES
    ]


def test_preload_with_two_workers_writes_both_workers_events_while_they_run(
    database_url: str, log_table_name: str, serve: Callable[..., Gunicorn]
) -> None:
    env = {"DATABASE_URL": database_url, "LOG_TABLE": log_table_name, "LOG_FLUSH_INTERVAL": "0.1"}
    server = serve(env, args=["--preload"])
    client = Client(server.port)
    with Stream(client, rate=200, threads=6) as stream:
        wait_until(lambda: len(set(client.pids.values())) == 2, 30, "both workers did not answer")
        stream.wait_for(100)
    pids = set(client.pids.values())

    def all_written() -> bool:
        written_by = Counter(pid for *_, pid in stored(database_url, log_table_name))
        return set(written_by) == pids and sum(written_by.values()) == 3 * len(client.pids)

    wait_until(all_written, 30, "the workers did not write their events while running")
    exit_code = server.stop()

    assert exit_code == 0, server.output()[-3000:]
    expected = Counter(pid for pid in client.pids.values() for _ in MESSAGES)
    assert Counter(pid for *_, pid in stored(database_url, log_table_name)) == expected


def test_a_blocked_database_never_stalls_a_gevent_worker(sqlite_url: str, serve: Callable[..., Gunicorn]) -> None:
    """With the log table's SQLite file locked, one gevent worker keeps answering requests: the writer's
    blocking database calls run in gevent's threadpool, not on the hub (there they would stall every greenlet)."""
    log_table_name = "drill_gevent"
    env = {
        "DATABASE_URL": sqlite_url, "LOG_TABLE": log_table_name, "LOG_FLUSH_INTERVAL": "0.05", "LOG_RETRY_SECONDS": "60",
        "LOG_QUEUE_SIZE": "20000",
    }
    server = serve(env, args=["-k", "gevent", "--workers", "1"])
    client = Client(server.port)
    with Stream(client, rate=100, threads=4) as stream:
        stream.wait_for(20)
        wait_until(lambda: len(stored(sqlite_url, log_table_name)) > 0, 30, "nothing was written before the lock")
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            stream.wait_for(len(stream.accepted) + 300)  # about 3 s of requests while every write waits
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    wait_until(lambda: len(stored(sqlite_url, log_table_name)) == 3 * len(stream.accepted), 60, "not every event was written")
    assert server.stop() == 0
