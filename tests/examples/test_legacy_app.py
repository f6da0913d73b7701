"""The legacy example app runs and writes rows to ``unified_logs``.

Both tests run the app in a subprocess: the app's package is called ``app``,
a name other example apps also use, so it must never enter this process's
``sys.modules``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from compat.mapping import NAMES

ROOT = Path(__file__).resolve().parents[2]
LEGACY_APP = ROOT / "examples" / "legacy_app"
NEWER_VARIANT = ROOT / "examples" / "legacy_variants" / "newer_structlog_config.py"

# Prints the names both legacy variants define; run with the legacy app on sys.path.
_LIST_NAMES = f"""
import importlib.util, json, sys
sys.path.insert(0, {str(LEGACY_APP)!r})
import app.utils.structlog_config as older
spec = importlib.util.spec_from_file_location("newer_structlog_config", {str(NEWER_VARIANT)!r})
newer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(newer)
print(json.dumps({{"older": dir(older), "newer": dir(newer)}}))
"""


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


def test_both_variants_define_their_contract_names() -> None:
    result = _run(["-c", _LIST_NAMES])

    assert result.returncode == 0, result.stderr
    defined = {variant: set(names) for variant, names in json.loads(result.stdout).items()}
    for variant, other in (("older", "newer"), ("newer", "older")):
        expected = {name for name, rename in NAMES.items() if rename.variant in ("both", variant)}
        absent = {name for name, rename in NAMES.items() if rename.variant == other}
        assert expected <= defined[variant], f"{variant} variant lacks {sorted(expected - defined[variant])}"
        assert not absent & defined[variant], f"{variant} variant has {sorted(absent & defined[variant])}"
    assert "_global_context" in defined["older"] & defined["newer"]
    assert "_debug_logging_enabled" in defined["older"] - defined["newer"]
