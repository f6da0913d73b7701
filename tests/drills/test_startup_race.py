"""Several worker processes starting at once all create newlog's own log table: none of them fails."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from tests.drills.harness import REPO, drop_table

pytestmark = pytest.mark.slow

PROCESSES = 6

CHILD = """
import sys, time
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
import newlog
url, table, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
app = Flask("race")
app.config.update(SQLALCHEMY_DATABASE_URI=url, LOG_TABLE=table)
SQLAlchemy(app)
time.sleep(max(0.0, start_at - time.time()))
newlog.init_app(app)
with app.app_context():
    newlog.log_info("started")
sys.exit(0 if newlog.shutdown(10) else 3)
"""


def test_processes_starting_at_once_all_create_the_table(database_url: str) -> None:
    table = f"race_{uuid.uuid4().hex[:10]}"
    start_at = time.time() + 4.0  # all children are imported and wait for the same moment
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, database_url, table, str(start_at)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        failures = [child.communicate(timeout=40)[1][-500:] for child in children if child.wait(40) != 0]
        assert failures == []
    finally:
        drop_table(database_url, table)
