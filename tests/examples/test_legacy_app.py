"""The legacy example app runs and writes rows to ``unified_logs``.

Both tests run the app in a subprocess: the app's package is called ``app``,
a name other example apps also use, so it must never enter this process's
``sys.modules``.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEGACY_APP = ROOT / "examples" / "legacy_app"


def _run(args: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_demo_writes_log_rows(tmp_path: Path) -> None:
    db_file = tmp_path / "demo.db"

    result = _run([str(LEGACY_APP / "run_demo.py")], env={"DATABASE_URL": f"sqlite:///{db_file}"})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "unified_logs rows:" in result.stdout
    with closing(sqlite3.connect(db_file)) as conn:
        levels = dict(conn.execute("SELECT level, COUNT(*) FROM unified_logs GROUP BY level").fetchall())
    assert sum(levels.values()) > 0
    assert {"INFO", "WARNING", "ERROR", "CRITICAL"} <= set(levels)
    assert "DEBUG" not in levels  # the legacy module drops DEBUG even when the switch is on


def test_app_smoke_suite_passes() -> None:
    result = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(LEGACY_APP / "tests_app")])

    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout
