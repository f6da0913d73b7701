"""Failure modes stay quiet and clear: a wrong database URL is one line at start-up and one line per distinct
error per interval (with a count), never a traceback per attempt; the ``flask`` command line's own control
flow (``--help``, a mistyped command, Abort, ``sys.exit``) is not stored as an application error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.drills.harness import REPO, log_rows, table_exists

pytestmark = pytest.mark.slow

WRONG_URL_SCRIPT = """
import newlog
from tests.drills.demo_app import create_app
app = create_app()
for index in range(200):
    newlog.log_info("event", index=index)
"""


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **env}, capture_output=True, text=True, timeout=120
    )


def test_a_wrong_database_url_is_one_clear_line_then_one_line_per_distinct_error(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql://app:s3cret@127.0.0.1:1/none",
        "LOG_RETRY_SECONDS": "1",
        "LOG_SHUTDOWN_TIMEOUT": "4",
        "LOG_BATCH_SIZE": "10",
        "LOG_HEALTH_DIR": str(tmp_path),
        "LOG_RENDERER": "json",
    }
    result = run([sys.executable, "-c", WRONG_URL_SCRIPT], env)

    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert len(lines) <= 6, result.stderr  # was 306 KB: a traceback per attempt
    assert lines[0].startswith("newlog: cannot reach postgresql+psycopg://app:***@127.0.0.1:1/none (OperationalError: connection failed")
    assert "check the database URL" in lines[0]
    assert sum("error while writing a batch" in line for line in lines) == 1  # the same error again is only counted
    assert lines[-1].startswith("newlog: shutdown: ") and "dropped after retrying" in lines[-1]
    assert len(result.stdout.splitlines()) == 200  # every event was still printed


def test_the_flask_command_lines_control_flow_is_not_stored_as_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    env = {"DATABASE_URL": url, "LOG_HEALTH_DIR": str(tmp_path / "health"), "FLASK_APP": "tests.drills.demo_app:create_app()"}
    flask = [sys.executable, "-m", "flask"]
    results = [
        run([*flask, "routes", "--help"], env),  # click.exceptions.Exit
        run([*flask, "nosuchcommand"], env),  # NoSuchCommand (a UsageError)
        run([*flask, "routes", "--nosuchoption"], env),  # NoSuchOption
        run([*flask, "newlog-health"], {**env, "LOG_HEALTH_DIR": str(tmp_path / "empty")}),  # exits 1 or 2 by Exit
    ]
    assert [result.returncode for result in results[:3]] == [0, 2, 2]
    assert results[3].returncode in (1, 2)
    run([sys.executable, "-c", "import newlog; from tests.drills.demo_app import create_app; create_app(); newlog.log_info('marker')"], env)

    rows = log_rows(url, "unified_logs") if table_exists(url, "unified_logs") else []
    assert [row["message"] for row in rows] == ["marker"]
