"""Honest health: workers publish heartbeats another process can read, and ``flask newlog-health`` probes the
database for real, judges every other process's heartbeat and prints JSON only, exiting 0 / 1 / 2.

In-process here (the command through Flask's CLI runner, heartbeats of "other processes" written
as they would be); tests/drills/test_health.py runs it against a real gunicorn.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

import newlog
from newlog.heartbeat import (
    NOT_DELIVERING_AFTER,
    STALE_AFTER,
    HeartbeatFile,
    assess,
    read_heartbeats,
)
from tests.conftest import MakeApp
from tests.support import ManualClock, RecordingSink, event, running_worker, stored_rows


def dead_pid() -> int:
    """Return the pid of a process that has exited (and been reaped)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def other_process_heartbeat(directory: Path, pid: int, *, age: float = 0.0, **stats: Any) -> Path:
    """Write the heartbeat another process of the app would write (``age`` seconds old)."""
    beat = HeartbeatFile(directory, "billing", interval=10.0, wall_clock=lambda: time.time() - age)
    record = {"enqueued": 10, "written": 10, "dropped_overflow": 0, "dropped_failed": 0, "alive": True, "closed": False}
    beat.publish(record)
    path = beat.path
    faked = path.with_name(path.name.replace(f"-{os.getpid()}-", f"-{pid}-"))
    data = json.loads(path.read_text())
    path.unlink()
    faked.write_text(json.dumps({**data, **stats, "pid": pid}))
    return faked


def run_health(app: Any) -> tuple[int, dict[str, Any], str]:
    """Run ``flask newlog-health``; return (exit code, the JSON of stdout, stderr)."""
    result = app.test_cli_runner().invoke(args=["newlog-health"])
    return result.exit_code, json.loads(result.stdout), result.stderr


# -- heartbeats ---------------------------------------------------------------------------------------


def test_the_worker_publishes_heartbeats_and_removes_its_file_at_a_clean_shutdown(tmp_path: Path) -> None:
    clock = ManualClock()
    beat = HeartbeatFile(tmp_path, "billing", interval=10.0)
    sink = RecordingSink()
    with running_worker(sink, queue_size=2, batch_size=1, heartbeat=beat, heartbeat_interval=10.0, clock=clock) as worker:
        clock.wait_until_blocked()
        (first,) = read_heartbeats(tmp_path)
        assert (first["pid"], first["app"], first["enqueued"], first["alive"]) == (os.getpid(), "billing", 0, True)

        sink.hold()
        for index in range(4):
            worker.enqueue(event(f"e{index}"))
        sink.release()
        assert worker.flush(5) is False  # two were dropped
        clock.advance(10.0)
        (second,) = next_heartbeat(tmp_path, after=first["updated_at"])
        assert (second["enqueued"], second["dropped_overflow"], second["dropped_since_last_heartbeat"]) == (2, 2, 2)
        assert worker.shutdown(5) is True
    assert read_heartbeats(tmp_path) == []


def next_heartbeat(directory: Path, after: float, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Return the heartbeats once one was written after ``after``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beats = read_heartbeats(directory)
        if beats and all(beat["updated_at"] > after for beat in beats):
            return beats
        time.sleep(0.01)
    pytest.fail(f"no new heartbeat in {directory} within {timeout}s")


def test_a_heartbeat_is_judged_dead_stale_dropping_not_delivering_or_healthy(tmp_path: Path) -> None:
    now = time.time()
    healthy = {"host": os.uname().nodename, "pid": os.getpid(), "updated_at": now, "interval": 10, "alive": True}
    assert assess(healthy, now) == []
    dead = assess({**healthy, "pid": dead_pid()}, now)
    assert len(dead) == 1 and dead[0].startswith("dead: process")
    assert assess({**healthy, "updated_at": now - STALE_AFTER * 10 - 1}, now)[0].startswith("stale: last heartbeat 31s ago")
    assert assess({**healthy, "dropped_since_last_heartbeat": 7}, now) == ["dropping: 7 event(s) dropped in the last 10s"]
    assert assess({**healthy, "alive": False}, now) == ["not alive: the worker thread was not running"]
    failing = {**healthy, "writer_failing_seconds": NOT_DELIVERING_AFTER, "last_error": "no table", "spool_bytes_pending": 512}
    assert assess(failing, now) == [
        "not delivering: every try of the spool writer has failed for 30s (no table); 512 bytes wait in the spool"
    ]
    assert assess({**failing, "writer_failing_seconds": NOT_DELIVERING_AFTER - 1}, now) == []


# -- the command --------------------------------------------------------------------------------------


def test_healthy_database_and_workers_exit_0_with_json_only_on_stdout(make_app: MakeApp, database_url: str, tmp_path: Path) -> None:
    app = make_app(database=database_url, LOG_RENDERER="json")
    newlog.log_info("creates the table")
    stored_rows(app)
    other_process_heartbeat(tmp_path / "health", os.getppid())

    code, report, stderr = run_health(app)

    assert code == 0, report
    assert report["status"] == "ok"
    assert {key: report["database"][key] for key in ("ok", "connect", "table", "insert")} == {
        "ok": True, "connect": "ok", "table": "ok", "insert": "ok"
    }
    assert [(worker["pid"], worker["problems"]) for worker in report["workers"]] == [(os.getppid(), [])]
    assert len(stored_rows(app)) == 1  # the probe stored nothing


def test_a_dead_or_dropping_worker_makes_the_command_exit_1(make_app: MakeApp, sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(database=sqlite_url)
    newlog.log_info("creates the table")
    stored_rows(app)
    other_process_heartbeat(tmp_path / "health", os.getppid(), dropped_since_last_heartbeat=40, dropped_overflow=40)
    gone = dead_pid()
    other_process_heartbeat(tmp_path / "health", gone)

    code, report, _ = run_health(app)

    assert (code, report["status"]) == (1, "degraded")
    problems = {worker["pid"]: worker["problems"] for worker in report["workers"]}
    assert problems[os.getppid()] == ["dropping: 40 event(s) dropped in the last 10s"]
    assert problems[gone][0].startswith(f"dead: process {gone} is gone")


def test_no_running_worker_is_degraded_not_ok(make_app: MakeApp, sqlite_url: str) -> None:
    app = make_app(database=sqlite_url)
    newlog.log_info("creates the table")
    stored_rows(app)
    code, report, _ = run_health(app)
    assert (code, report["workers"]) == (1, [])
    assert report["notes"][0].startswith("no running worker has published a heartbeat")


def test_a_missing_table_or_an_unreachable_database_makes_the_command_exit_2(make_app: MakeApp, sqlite_url: str) -> None:
    app = make_app(database=sqlite_url)
    code, report, _ = run_health(app)
    assert (code, report["status"], report["database"]["insert"]) == (2, "failing", "skipped")
    assert "does not exist" in report["database"]["table"]

    unreachable = make_app(database="postgresql+psycopg://nobody:secret@127.0.0.1:1/none", LOG_RETRY_SECONDS=3.0)
    code, report, _ = run_health(unreachable)
    assert (code, report["status"]) == (2, "failing")
    assert report["database"]["connect"].startswith("OperationalError")
    assert "secret" not in json.dumps(report)


def test_log_lines_printed_during_the_command_go_to_stderr(make_app: MakeApp, sqlite_url: str) -> None:
    app = make_app(database=sqlite_url, LOG_RENDERER="json")

    @app.cli.command("noisy")
    def noisy() -> None:
        newlog.log_info("from a command")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["noisy"]).stdout.startswith("{")  # other commands print to stdout as usual
    result = runner.invoke(args=["newlog-health"])
    json.loads(result.stdout)
