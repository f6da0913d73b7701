"""After the switch, clients get byte-identical error answers: newlog with the profile read from the app's legacy module.

For each legacy module we ship, ``error_identity_driver.py`` runs in a subprocess on its
host app: it reads the module with ``codemods.legacy_reader``, executes the rendered
profile module, and compares the legacy module's ``enhanced_error_handler``,
``error_handler``, ``ErrorContext``, classification and the app's own error handlers
with newlog's, on every error class (see the driver's docstring). Error ids and
timestamps are compared by format.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("error_identity_driver.py")
LEGACY_MODULE = "app.utils.structlog_config"

# name -> (host app, legacy file relative to it, a text only that module's answers contain)
MODULES = {
    "booking_app (newer, app-coupled)": (
        "examples/booking_app",
        "app/utils/structlog_config.py",
        '"message_code":"INVALID_REQUEST"',
    ),
    "legacy_app (older)": ("examples/legacy_app", "app/utils/structlog_config.py", '"category":"unknown"'),
    "legacy_variants/newer": (
        "examples/legacy_app",
        "../legacy_variants/newer_structlog_config.py",
        '"message_code":"errors.http.404"',
    ),
}
KINDS = (
    "app:",
    "http:",
    "sqlalchemy:IntegrityError",
    "sqlalchemy:OperationalError",
    "words:network",
    "words:authorization",
    "words:validation",
    "generic:",
)


def drive(host: str, legacy_file: str, database: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    result_file = tmp_path / "result.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database,
        "LOG_FILE": str(tmp_path / "app.log"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    process = subprocess.run(
        [sys.executable, str(DRIVER), ".", legacy_file, LEGACY_MODULE, str(result_file), *extra],
        cwd=ROOT / host,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-5000:]
    return json.loads(result_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_error_answers_are_byte_identical(name: str, database: str, tmp_path: Path) -> None:
    host, legacy_file, own_answer = MODULES[name]

    result = drive(host, legacy_file, database, tmp_path)

    assert result["findings"] == []
    assert result["differences"] == [], "\n".join(result["differences"][:20])
    assert all(any(case.startswith(kind) for case in result["cases"]) for kind in KINDS), result["cases"]
    assert len([case for case in result["cases"] if case.startswith("http:")]) >= 30
    assert result["compared"] > 1000
    legacy_routes = [body for _, body in result["routes"].values()]
    assert len(legacy_routes) >= 9 and any(own_answer in body for body in legacy_routes), (
        "the routes did not run on this legacy module"
    )
    assert result["compared"] >= len(result["cases"]) * 20


def test_the_one_intended_change_is_the_older_variants_second_call(tmp_path: Path) -> None:
    host, legacy_file, _ = MODULES["legacy_app (older)"]
    newer_host, newer_file, _ = MODULES["booking_app (newer, app-coupled)"]

    older = drive(host, legacy_file, f"sqlite:///{tmp_path / 'older.db'}", tmp_path)["double_call"]
    newer = drive(newer_host, newer_file, f"sqlite:///{tmp_path / 'newer.db'}", tmp_path)["double_call"]

    # a view failing once with a LOW error, then passing: the older variant answered 200 from its second run
    assert older == {"legacy": {"calls": 2, "status": 200}, "newlog": {"calls": 1, "status": 400}}
    assert newer["legacy"] == newer["newlog"] == {"calls": 1, "status": 400}


def test_without_the_profile_the_comparison_finds_differences(tmp_path: Path) -> None:
    host, legacy_file, _ = MODULES["booking_app (newer, app-coupled)"]

    result = drive(host, legacy_file, f"sqlite:///{tmp_path / 'control.db'}", tmp_path, "--no-profile")

    assert len(result["differences"]) > 500
    assert any("app route" in difference for difference in result["differences"])
