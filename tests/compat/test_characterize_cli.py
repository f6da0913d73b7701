"""The characterization kit's command line on the example app, and its errors.

Every run is a subprocess with the app copy as the current directory, as a team would run
it in its own project: ``python -m compat.characterize record --app 'app:create_app' before.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import compat
from tests.characterization.harness import LEGACY_FILE, clean_env, copy_app, fresh_database
from tests.conftest import require_postgres


def kit(folder: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compat.characterize", *args],
        cwd=folder,
        env=clean_env(DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        require_postgres()
    with fresh_database(request.param, tmp_path) as url:
        yield url


def test_record_then_compare_after_the_switch_to_compat(tmp_path: Path, database: str) -> None:
    app = copy_app(tmp_path / "legacy_app")

    recorded = kit(app, database, "record", "--app", "app:create_app", "before.json")
    (app / LEGACY_FILE).write_text(compat.STUB)
    compared = kit(app, database, "compare", "before.json", "--save", "after.json")
    two_files = kit(app, database, "compare", "before.json", "after.json")

    assert recorded.returncode == 0, recorded.stderr
    assert "through app.utils.structlog_config -> before.json" in recorded.stdout
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "before: served by app.utils.structlog_config; after: served by compat.structlog_config" in compared.stdout
    assert "no differences beyond the allowed deltas" in compared.stdout
    assert "allowed deltas applied: " in compared.stdout
    assert two_files.returncode == 0 and two_files.stdout == compared.stdout


def test_two_legacy_records_are_identical(tmp_path: Path) -> None:
    app = copy_app(tmp_path / "legacy_app")
    url = f"sqlite:///{tmp_path / 'kit.db'}"

    first = kit(app, url, "record", "--app", "app:create_app", "first.json")
    second = kit(app, url, "compare", "first.json")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert "no differences beyond the allowed deltas" in second.stdout
    assert "allowed deltas applied" not in second.stdout


def test_a_difference_is_reported_with_exit_code_1(tmp_path: Path) -> None:
    app = copy_app(tmp_path / "legacy_app")
    url = f"sqlite:///{tmp_path / 'kit.db'}"
    assert kit(app, url, "record", "--app", "app:create_app", "before.json").returncode == 0
    after = json.loads((app / "before.json").read_text())
    step = next(s for s in after["steps"] if s["name"].endswith("program/app_context/log_levels"))
    step["rows"][0]["context"]["order_id"] = 43
    (app / "after.json").write_text(json.dumps(after))

    result = kit(app, url, "compare", "before.json", "after.json")

    assert result.returncode == 1
    assert "1 difference(s) not covered by an allowed delta" in result.stdout
    assert "program/app_context/log_levels: rows[0].context.order_id" in result.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("app", "--app 'app' is not 'package.module:factory'"),
        ("no_such_package:create_app", "no module named 'no_such_package' on sys.path"),
        ("app:make_everything", "module 'app' has no attribute 'make_everything'"),
        ("plain_app:create_app", "has no flask-sqlalchemy extension"),
        ("bare_db_app:create_app", "the log table 'unified_logs' does not exist"),
    ],
)
def test_clear_errors(tmp_path: Path, spec: str, message: str) -> None:
    app = copy_app(tmp_path / "legacy_app")
    (app / "plain_app.py").write_text("from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n")
    (app / "bare_db_app.py").write_text(
        "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n\n"
        "def create_app():\n    app = Flask(__name__)\n    app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite://'\n"
        "    SQLAlchemy(app)\n    return app\n"
    )

    result = kit(app, f"sqlite:///{tmp_path / 'kit.db'}", "record", "--app", spec, "out.json")

    assert result.returncode == 2
    assert result.stderr.startswith("compat.characterize: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (app / "out.json").exists()


def test_compare_refuses_a_file_that_is_not_a_record(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}')

    result = kit(tmp_path, "sqlite://", "compare", "notes.json", "notes.json")

    assert result.returncode == 2
    assert "notes.json is not a characterization record" in result.stderr
