"""Health for operators: ``newlog.health()`` and ``flask newlog-health`` show queue depth, drops,
the last error and whether the worker is alive; the command exits 1 when a worker is dead."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import newlog
from newlog import state
from newlog.queue_worker import LogQueueWorker
from tests.drills.harness import REPO
from tests.drills.test_database_outage import SqliteLocked, make_app


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the worker catches it, as with a thread killed from outside."""


def open_workers(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the stats of the workers not shut down (earlier tests' workers may still be listed)."""
    return [stats for stats in report["workers"] if not stats["closed"]]


def test_health_shows_the_backlog_and_last_error_during_an_outage(tmp_path: Path) -> None:
    outage = SqliteLocked(tmp_path / "logs.db")
    app = make_app(outage, LOG_QUEUE_SIZE=100, LOG_BATCH_SIZE=10, LOG_RETRY_SECONDS=30.0)
    client = app.test_client()
    with outage.down():
        for seq in range(50):  # 150 events into a queue of 100
            assert client.get(f"/api/log/info?seq={seq}").status_code == 200
        deadline = time.monotonic() + 10
        while app.extensions["newlog"].worker.stats()["last_error"] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        during = newlog.health()
    assert app.extensions["newlog"].worker.flush(timeout=30) is False  # 50 events were dropped
    after = newlog.health()

    (stats,) = open_workers(during)
    assert during["ok"] is True and stats["alive"] is True
    assert "database is locked" in stats["last_error"]
    assert (stats["queued"], stats["queue_size"], stats["dropped_overflow"]) == (100, 100, 50)
    (stats,) = open_workers(after)
    assert (stats["queued"], stats["written"], stats["enqueued"], stats["dropped_overflow"]) == (0, 100, 100, 50)


def test_cli_prints_the_stats_and_exits_1_when_the_worker_is_dead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    killed = check_cli_with_a_worker_killed()
    gc.collect()
    assert killed() is None, "the dead worker (and its lost event) would linger in later tests' newlog.flush()"


def check_cli_with_a_worker_killed() -> weakref.ref[LogQueueWorker]:
    """Run the CLI on a healthy worker, kill the worker thread, run it again; return a weak reference to the worker."""

    def sink(rows: Sequence[Mapping[str, Any]]) -> None:
        raise WorkerKilled

    app = Flask("health_cli")
    app.config.update(LOG_FLUSH_INTERVAL=0.05)
    worker = newlog.init_app(app, sink=sink)
    runner = app.test_cli_runner()

    healthy = runner.invoke(args=["newlog-health"])
    assert healthy.exit_code == 0, healthy.output
    report = json.loads(healthy.output)
    assert report["ok"] is True and [w["alive"] for w in open_workers(report)] == [True]

    with app.app_context():
        newlog.log_info("this event kills the worker thread")
    deadline = time.monotonic() + 10
    while worker.stats()["alive"] and time.monotonic() < deadline:
        time.sleep(0.05)

    dead = runner.invoke(args=["newlog-health"])
    assert dead.exit_code == 1, dead.output
    report = json.loads(dead.output)
    assert report["ok"] is False
    assert [(w["alive"], w["queued"], w["dropped_failed"]) for w in open_workers(report)] == [(False, 0, 1)]
    state.forget_apps()
    return weakref.ref(worker)


def test_cli_runs_against_a_real_app(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tests.drills.demo_app:create_app()", "newlog-health"],
        cwd=REPO, env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}", "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [(w["alive"], w["queued"], w["dropped_overflow"], w["dropped_failed"]) for w in report["workers"]] == [
        (True, 0, 0, 0)
    ]
