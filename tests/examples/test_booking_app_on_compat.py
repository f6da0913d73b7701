"""The booking portal after the compat step: its legacy file replaced by the compat stub with its profile.

The compat step as MIGRATION.md describes it: ``codemods.legacy_reader`` writes the app's
profile module from its legacy file, then the file becomes ``compat.stub(<profile>)``.
Nothing else of the app changes: its own ``LOG_FILE`` / ``LOG_BACKUP_COUNT`` /
``LOG_MAX_BYTES`` / ``LOG_LEVEL`` settings, the RotatingFileHandler on its root logger,
``configure_structlog(app)`` before ``db.init_app(app)``, the ``_global_context`` writes in
``create_app()``, decorators calling ``isEnabledFor`` / ``getEffectiveLevel`` on the module's
loggers, ``is_admin()`` methods, gunicorn with gevent workers and ``--preload``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import compat
from codemods.legacy_reader import read_legacy_module, render_profile_module
from tests.drills.harness import Gunicorn, get

ROOT = Path(__file__).resolve().parents[2]
BOOKING_APP = ROOT / "examples" / "booking_app"
LEGACY_FILE = Path("app/utils/structlog_config.py")
PROFILE_MODULE = "app.utils.legacy_profile"


@pytest.fixture
def switched_app(tmp_path: Path) -> Path:
    """A copy of the booking portal after the compat step."""
    app = tmp_path / "booking_app"
    shutil.copytree(BOOKING_APP, app, ignore=shutil.ignore_patterns("__pycache__", "instance", "logs"))
    couplings = read_legacy_module(app / LEGACY_FILE, "app.utils.structlog_config", root=app)
    assert couplings.findings == []
    (app / "app" / "utils" / "legacy_profile.py").write_text(render_profile_module(couplings), encoding="utf-8")
    (app / LEGACY_FILE).write_text(compat.stub(PROFILE_MODULE), encoding="utf-8")
    return app


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_FILE": str(tmp_path / "logs" / "raumbuchung.log"),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _rows(database_url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text("SELECT level, module, message, context FROM unified_logs ORDER BY id"))
            return [
                {**row._mapping, "context": json.loads(row.context) if isinstance(row.context, str) else row.context}
                for row in result
            ]
    finally:
        engine.dispose()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("writes", ["asynchronous", "LOG_SYNC_WRITES"])
def test_the_smoke_suite_passes_after_the_compat_step(switched_app: Path, database: str, tmp_path: Path, writes: str) -> None:
    # the app's tests read unified_logs right after each request: flush then, or write in the request thread
    how = ["-p", "tests.examples.flush_after_requests"] if writes == "asynchronous" else []
    env = {**_env(database, tmp_path), **({"LOG_SYNC_WRITES": "true"} if writes == "LOG_SYNC_WRITES" else {})}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *how, "tests_app"],
        cwd=switched_app,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
    assert "ConfigError" not in result.stdout + result.stderr and "is not a newlog setting" not in result.stdout + result.stderr


def _serving_processes(log_file: Path) -> set[int]:
    """The pids of the workers that answered a health check so far (from the app's own log file)."""
    if not log_file.exists():
        return set()
    return {
        json.loads(line[line.index("{") :]).get("process")
        for line in log_file.read_text(encoding="utf-8").splitlines()
        if '"Health-Check"' in line
    }


@pytest.mark.timeout(600)
def test_gunicorn_with_gevent_and_preload_after_the_compat_step(switched_app: Path, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'raumbuchung.db'}"
    log_file = tmp_path / "logs" / "raumbuchung.log"
    # every worker's first write is its exit drain; callsite fields tell which worker answered
    env = {**_env(database, tmp_path), "LOG_FLUSH_INTERVAL": "60", "LOG_CALLSITE": "true"}
    server = Gunicorn("app:app", env, tmp_path / "gunicorn.log", workers=2, args=["-c", "gunicorn.conf.py"], cwd=switched_app)
    try:
        server.wait_ready("/api/health", timeout=90)
        # both workers booted (a SIGTERM during a worker's boot is lost: gunicorn kills it after its graceful timeout)
        for _ in range(200):
            if len(_serving_processes(log_file)) == 2:
                break
            assert get(server.port, "/api/health")[0] == 200
        assert len(_serving_processes(log_file)) == 2, "the second worker never answered"
        statuses = [get(server.port, "/api/fehler/konflikt")[0] for _ in range(4)]
    finally:
        exit_code = server.stop()

    assert exit_code == 0, server.output()[-3000:]
    assert statuses == [409] * 4
    rows = _rows(database)
    messages = [row["message"] for row in rows]
    assert messages.count("BookingConflict: Der Raum ist in diesem Zeitraum bereits gebucht.") == 4
    assert len([m for m in messages if m.startswith("Raumbuchung ") and "gestartet" in m]) == 1  # --preload: imported once
    assert len([m for m in messages if m.startswith("gunicorn-Worker")]) == 2  # post_fork rows: the legacy module lost them
    assert messages.count("Health-Check") == len([line for line in log_file.read_text(encoding="utf-8").splitlines() if '"Health-Check"' in line])
    health = next(row for row in rows if row["message"] == "Health-Check")
    assert (health["context"]["app_name"], health["context"]["tenant"], health["context"]["build"]) == (
        "Raumbuchung Portal", "stadtwerke-demo", "local"
    )
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len([line for line in lines if "gunicorn-Worker" in line]) == 2
    assert len([line for line in lines if "BookingConflict: Der Raum" in line]) == 4  # once per event, no second handler
    assert not [line for line in lines if "SQLAlchemyLogHandler" in line]
