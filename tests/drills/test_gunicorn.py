"""The demo app (newlog.init_app) served by gunicorn with 2 workers: SIGTERM writes every accepted
event, and with ``--preload`` (app and worker thread created before the fork) both workers write."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.drills.demo_app import MESSAGES
from tests.drills.harness import Gunicorn, Stream, drop_table, get, log_rows, table_exists

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


def test_sigterm_writes_every_event_accepted_before_it(
    database_url: str, log_table_name: str, serve: Callable[..., Gunicorn]
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "LOG_TABLE": log_table_name,
        "LOG_FLUSH_INTERVAL": "60",  # nothing is written before the signal: the drain on exit does it all
        "LOG_BATCH_SIZE": "10000",
        "LOG_QUEUE_SIZE": "20000",
        "LOG_SHUTDOWN_TIMEOUT": "15",
    }
    server = serve(env)
    client = Client(server.port)
    with Stream(client, rate=200, threads=4) as stream:
        time.sleep(2.0)
        assert stored(database_url, log_table_name) == []
        exit_code = server.stop()
    output = server.output()

    assert exit_code == 0, output[-3000:]
    assert len(stream.accepted) >= 200
    rows = stored(database_url, log_table_name)
    assert Counter((seq, message) for seq, message, _ in rows) == Counter(
        (str(seq), message) for seq in stream.accepted for message in MESSAGES
    ), output[-3000:]
    assert "not written" not in output


def test_preload_with_two_workers_writes_both_workers_events(
    database_url: str, log_table_name: str, serve: Callable[..., Gunicorn]
) -> None:
    env = {"DATABASE_URL": database_url, "LOG_TABLE": log_table_name, "LOG_FLUSH_INTERVAL": "0.1"}
    server = serve(env, args=["--preload"])
    client = Client(server.port)
    with Stream(client, rate=200, threads=6):
        deadline = time.monotonic() + 20
        while len(set(client.pids.values())) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    pids = set(client.pids.values())
    assert len(pids) == 2, f"only worker(s) {pids} answered"
    deadline = time.monotonic() + 10  # written while the workers run, not only by the drain on exit
    while time.monotonic() < deadline:
        written_by = Counter(pid for *_, pid in stored(database_url, log_table_name))
        if set(written_by) == pids and sum(written_by.values()) == 3 * len(client.pids):
            break
        time.sleep(0.2)
    assert set(written_by) == pids
    exit_code = server.stop()

    assert exit_code == 0, server.output()[-3000:]
    expected = Counter(pid for pid in client.pids.values() for _ in MESSAGES)
    assert Counter(pid for *_, pid in stored(database_url, log_table_name)) == expected
