"""Several worker processes starting at once all create newlog's own log table: none of them fails."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.drills.harness import REPO, drop_table, log_rows

pytestmark = pytest.mark.slow

PROCESSES = 4

CHILD = """
import os, sys, time
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
import newlog
url, table, barrier = sys.argv[1], sys.argv[2], sys.argv[3]
app = Flask("race")
app.config.update(SQLALCHEMY_DATABASE_URI=url, LOG_TABLE=table, LOG_HEALTH_DIR=barrier)
SQLAlchemy(app)
open(os.path.join(barrier, f"ready-{os.getpid()}"), "w").close()
while not os.path.exists(os.path.join(barrier, "go")):  # every child is imported: start together
    time.sleep(0.005)
newlog.init_app(app)
with app.app_context():
    newlog.log_info("started")
sys.exit(0 if newlog.shutdown(10) else 3)
"""


def test_processes_starting_at_once_all_create_the_table(database_url: str, tmp_path: Path) -> None:
    table = f"race_{uuid.uuid4().hex[:10]}"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url, table, str(tmp_path)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + 120  # a guard against a hang, not a timing: imports are slow on a busy machine
        while len(list(tmp_path.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = [child.communicate(timeout=120)[1] for child in children]
        failures = [(child.returncode, err[-500:]) for child, err in zip(children, outputs) if child.returncode != 0]
        assert failures == []
        assert sorted(row["message"] for row in log_rows(database_url, table)) == ["started"] * PROCESSES
    finally:
        drop_table(database_url, table)
