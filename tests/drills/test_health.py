"""``flask newlog-health`` against a real gunicorn: it sees both workers' heartbeats, prints JSON only on
stdout, flags a worker killed with SIGKILL as dead (exit 1), and an unreachable database as failing (exit 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.drills.harness import REPO, Gunicorn, get

pytestmark = pytest.mark.slow

APP = "tests.drills.demo_app:create_app()"


def health(env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    """Run the command in a process of its own; return (exit code, stdout parsed as JSON, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", APP, "newlog-health"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **env}, capture_output=True, text=True, timeout=120,
    )
    return result.returncode, json.loads(result.stdout), result.stderr


def wait_for_workers(env: dict[str, str], pids: set[int], timeout: float = 30.0) -> tuple[int, dict[str, Any], str]:
    """Run the command until it lists exactly ``pids``' heartbeats (each worker writes its first at start)."""
    deadline = time.monotonic() + timeout
    while True:
        code, report, stderr = health(env)
        if {worker["pid"] for worker in report["workers"]} >= pids or time.monotonic() > deadline:
            return code, report, stderr
        time.sleep(0.5)


def test_the_command_judges_a_running_gunicorn_and_a_worker_killed_with_sigkill(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}",
        "LOG_HEALTH_DIR": str(tmp_path / "health"),
        "LOG_HEARTBEAT_INTERVAL": "1",
        "LOG_FLUSH_INTERVAL": "0.1",
        "LOG_RENDERER": "json",
    }
    server = Gunicorn(APP, env, tmp_path / "gunicorn.log", workers=2)
    try:
        server.wait_ready()
        pids = {json.loads(get(server.port, "/api/log/info?seq=1")[1])["pid"]}
        while len(pids) < 2:
            pids.add(json.loads(get(server.port, f"/api/log/info?seq={len(pids)}")[1])["pid"])

        code, report, _ = wait_for_workers(env, pids)
        assert code == 0, report
        assert report["database"]["ok"] is True
        assert {worker["pid"]: worker["problems"] for worker in report["workers"]} == {pid: [] for pid in pids}

        victim = min(pids)
        os.kill(victim, signal.SIGKILL)  # gunicorn starts a new worker; the victim's heartbeat stays behind
        code, report, _ = health(env)
        assert code == 1, report
        problems = {worker["pid"]: worker["problems"] for worker in report["workers"]}
        assert problems[victim][0].startswith(f"dead: process {victim} is gone")
    finally:
        assert server.stop() == 0


def test_an_unreachable_database_is_failing_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://app:s3cret@127.0.0.1:1/none", "LOG_HEALTH_DIR": str(tmp_path / "health")}
    code, report, stderr = health(env)
    assert (code, report["status"]) == (2, "failing")
    assert report["database"]["connect"].startswith("OperationalError: connection failed")
    assert "s3cret" not in json.dumps(report) and "s3cret" not in stderr
    assert "Traceback" not in stderr
