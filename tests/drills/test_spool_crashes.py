"""Durable mode drills (``LOG_SPOOL_DIR``) under gunicorn with 2 workers and a steady request stream:
kill -9 of workers and of their writer processes while requests come in, and kill -9 of the whole
server then a restart on the same spool. Every event of every answered request is stored exactly once;
no event of any request (answered or cut off by a kill) is stored twice."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.drills import test_gunicorn
from tests.drills.demo_app import MESSAGES
from tests.drills.harness import (
    Gunicorn,
    Stream,
    drop_table,
    get,
    log_rows,
    table_exists,
)
from tests.drills.test_gunicorn import Client
from tests.newlog.spool_support import kill_process, spool_files, wait_until_gone

pytestmark = pytest.mark.slow

serve = test_gunicorn.serve  # the gunicorn factory fixture (2 workers, stopped after the test)

@pytest.fixture
def table(database_url: str) -> Iterator[str]:
    name = f"spool_drill_{uuid.uuid4().hex[:10]}"
    yield name
    drop_table(database_url, name)


def stored_events(url: str, table: str) -> Counter[tuple[str, str]]:
    """Return how often each (seq, message) of the route is stored."""
    if not table_exists(url, table):
        return Counter()
    return Counter(
        (row["context"]["seq"], row["message"]) for row in log_rows(url, table) if row["message"] in MESSAGES
    )


def writer_pids(port: int, workers: int = 2, attempts: int = 50) -> set[int]:
    """Return the writer process pids the workers report (asks until ``workers`` answered)."""
    found: dict[int, int] = {}
    for _ in range(attempts):
        status, body = get(port, "/api/stats")
        if status == 200:
            report = json.loads(body)
            for stats in report["workers"]:
                if stats.get("writer_pid"):
                    found[stats["pid"]] = stats["writer_pid"]
        if len(found) >= workers:
            break
    return set(found.values())


def wait_for_events(url: str, table: str, expected: Counter[tuple[str, str]], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = stored_events(url, table)
        if all(stored[key] >= 1 for key in expected):
            return
        time.sleep(0.2)


def assert_exactly_once(url: str, table: str, accepted: Sequence[int]) -> None:
    expected = Counter((str(seq), message) for seq in accepted for message in MESSAGES)
    wait_for_events(url, table, expected)
    stored = stored_events(url, table)
    missing = [key for key in expected if stored[key] == 0]
    twice = [key for key, count in stored.items() if count > 1]
    assert not missing and not twice, f"{len(missing)} missing (e.g. {missing[:3]}), {len(twice)} stored twice"


@pytest.mark.parametrize("preload", [False, True], ids=["fork-then-init", "preload"])
def test_kill_9_of_workers_and_writers_under_load_stores_every_answered_event_once(
    database_url: str, table: str, tmp_path: Path, serve: Callable[..., Gunicorn], preload: bool
) -> None:
    env = {"DATABASE_URL": database_url, "LOG_TABLE": table, "LOG_SPOOL_DIR": str(tmp_path / "spool")}
    server = serve(env, args=["--preload"] if preload else [])  # preload: init_app in the master, then fork
    client = Client(server.port)
    killed = 0
    with Stream(client, rate=150, threads=4) as stream:
        for round_ in range(4):
            while len(stream.accepted) < 100 * (round_ + 1):
                time.sleep(0.05)
            if round_ % 2 == 0:
                for pid in writer_pids(server.port):
                    kill_process(pid)  # the worker's supervisor starts a new writer
                    killed += 1
            else:
                worker = client.pids[stream.accepted[-1]]
                os.kill(worker, signal.SIGKILL)  # gunicorn starts a new worker; the new writer adopts the spool
                killed += 1
    assert killed >= 3 and len(stream.accepted) >= 400
    assert server.stop() == 0, server.output()[-3000:]
    assert_exactly_once(database_url, table, stream.accepted)


def test_kill_9_of_the_whole_server_then_a_restart_stores_every_answered_event_once(
    database_url: str, table: str, tmp_path: Path, serve: Callable[..., Gunicorn]
) -> None:
    spool = tmp_path / "spool"
    env = {"DATABASE_URL": database_url, "LOG_TABLE": table, "LOG_SPOOL_DIR": str(spool)}
    server = serve(env)
    client = Client(server.port)
    with Stream(client, rate=150, threads=4) as stream:
        while len(stream.accepted) < 300:
            time.sleep(0.05)
        writers = writer_pids(server.port)
        workers = set(client.pids.values())
        for pid in [*writers, server.process.pid, *workers]:  # writers first: nothing is stored meanwhile
            kill_process(pid)
    for pid in workers | writers:
        wait_until_gone(pid)
    server.stop()
    accepted = list(stream.accepted)
    assert len(accepted) >= 300
    assert spool_files(spool), "the killed processes left no spool: the restart would recover nothing"

    restarted = serve(env)  # its workers' writers deliver what the dead processes left
    assert_exactly_once(database_url, table, accepted)
    assert restarted.stop() == 0
    assert spool_files(spool) == []


def test_a_gevent_worker_in_the_durable_mode_stores_every_answered_event_once_and_leaves_no_writer(
    database_url: str, table: str, tmp_path: Path, serve: Callable[..., Gunicorn]
) -> None:
    """gevent patches subprocess, threading and select: the writer is still started, supervised and drained
    from a monkey-patched worker, and gunicorn's stop leaves neither a writer process nor a spool behind."""
    spool = tmp_path / "spool"
    env = {"DATABASE_URL": database_url, "LOG_TABLE": table, "LOG_SPOOL_DIR": str(spool)}
    server = serve(env, args=["-k", "gevent", "--workers", "1"])
    client = Client(server.port)
    with Stream(client, rate=150, threads=4) as stream:
        while len(stream.accepted) < 200:
            time.sleep(0.05)
        writers = writer_pids(server.port, workers=1)
    assert writers, "the gevent worker reported no writer process"
    assert server.stop() == 0, server.output()[-3000:]
    for pid in writers:
        wait_until_gone(pid)
    assert_exactly_once(database_url, table, stream.accepted)
    assert spool_files(spool) == []
