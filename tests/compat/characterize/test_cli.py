"""The kit's command line on the example app, as a team runs it: records, comparisons, exit codes, errors.

Every run is a subprocess with a copy of ``examples/legacy_app`` as the current directory:
``python -m compat.characterize record --app app:create_app --database ... --scenario characterize.toml before.json``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import compat
from compat.characterize import cli
from tests.characterization.harness import LEGACY_FILE, SCENARIO, Database, copy_app, fresh_database, kit
from compat.characterize.compare import compare
from tests.conftest import require_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two empty databases of one kind: one for the record before the switch, one for the run after it."""
    if request.param == "postgresql":
        require_postgres()
    with fresh_database(request.param, tmp_path / "before") as before, fresh_database(request.param, tmp_path / "after") as after:
        yield before, after


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    (tmp_path / "before").mkdir(exist_ok=True)
    (tmp_path / "after").mkdir(exist_ok=True)
    return copy_app(tmp_path / "legacy_app")


def sqlite(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def record(app: Path, database: str | Database, out: str = "before.json", *extra: str) -> subprocess.CompletedProcess[str]:
    where = database.args if isinstance(database, Database) else ("--database", database)
    return kit(app, "record", "--app", "app:create_app", *where, "--scenario", SCENARIO, *extra, out)


def test_record_then_compare_after_the_switch_to_compat(app_copy: Path, databases: tuple[str, str]) -> None:
    before_db, after_db = databases

    recorded = record(app_copy, before_db)
    (app_copy / LEGACY_FILE).write_text(compat.STUB)
    compared = kit(app_copy, "compare", "before.json", *after_db.args, "--save", "after.json", "--format", "json")
    two_files = kit(app_copy, "compare", "before.json", "after.json", "--limit", "0")

    assert recorded.returncode == 0, recorded.stderr
    assert re.match(r"recorded \d+ steps \(2 call, 1 login, \d+ program, \d+ request, 1 startup\), \d+ log rows, old path served by app.utils.structlog_config -> before.json", recorded.stdout)
    report = json.loads(compared.stdout)
    assert (report["before"]["served_by"], report["after"]["served_by"]) == ("app.utils.structlog_config", "compat.structlog_config")
    before, after = (json.loads((app_copy / name).read_text()) for name in ("before.json", "after.json"))
    unexplained = [str(d) for d in compare(before, after).differences]
    assert not unexplained, f"differences beyond the allowed deltas: {unexplained[:5]}"
    assert compared.returncode == 0 and not report["not_allowed"], compared.stderr
    assert report["summary"]["reconciled"] > 0 and report["deltas_applied"]
    assert two_files.returncode == compared.returncode
    assert two_files.stdout.splitlines()[0] == "before: old path served by app.utils.structlog_config; after: served by compat.structlog_config"
    assert two_files.stdout.splitlines()[-1].startswith(f"summary: {report['summary']['steps_compared']} steps compared")


def test_two_legacy_records_are_identical(app_copy: Path, tmp_path: Path) -> None:
    first = record(app_copy, sqlite(tmp_path, "first.db"), "first.json")
    second = kit(app_copy, "compare", "first.json", "--database", sqlite(tmp_path, "second.db"), "--deltas")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert "no differences beyond the allowed deltas" in second.stdout
    assert "allowed deltas applied: none" in second.stdout


def test_a_difference_is_reported_grouped_with_exit_code_1(app_copy: Path, tmp_path: Path) -> None:
    assert record(app_copy, sqlite(tmp_path, "kit.db")).returncode == 0
    after = json.loads((app_copy / "before.json").read_text())
    step = next(s for s in after["steps"] if s["name"] == "program/app_context/log_levels")
    step["rows"][0]["context"]["order_id"] = 43
    (app_copy / "after.json").write_text(json.dumps(after))

    result = kit(app_copy, "compare", "before.json", "after.json")

    assert result.returncode == 1
    assert "not allowed: 1 difference(s) in 1 group(s), largest first" in result.stdout
    assert "     1x  program  rows.context.order_id\n         e.g. program/app_context/log_levels: rows[0].context.order_id" in result.stdout


def test_a_step_answered_by_a_guard_fails_the_record_and_compare_refuses_it(app_copy: Path, tmp_path: Path) -> None:
    (app_copy / "scenario.toml").write_text('[[step]]\nrequest = "GET /api/health"\n\n[[step]]\nrequest = "GET /me"\n')

    result = kit(app_copy, "record", "--app", "app:create_app", "--database", sqlite(tmp_path, "kit.db"), "--scenario", "scenario.toml", "before.json")
    compared = kit(app_copy, "compare", "before.json", "before.json")

    assert result.returncode == 2
    assert "1 step(s) did not reach what they characterize" in result.stderr
    assert "request/GET /me (scenario.toml:4): answered by login: 401 login_required (flask-login: the user is not logged in)" in result.stderr
    assert "Traceback" not in result.stderr
    assert compared.returncode == 2
    assert "records 1 step(s) answered by a guard instead of their view" in compared.stderr


def test_without_a_scenario_the_starter_requests_every_route_without_arguments(app_copy: Path, tmp_path: Path) -> None:
    result = kit(app_copy, "record", "--app", "app", "--database", sqlite(tmp_path, "kit.db"), "--skip", "*", "before.json")

    document = json.loads((app_copy / "before.json").read_text())
    requests = {step["name"]: step["answered_by"] for step in document["steps"] if step["kind"] == "request"}
    assert result.returncode == 0, result.stderr
    assert requests["request/GET /api/health"] == "handler"
    assert requests["request/GET /me"] == "login"
    assert not any(step["kind"] == "program" for step in document["steps"])
    assert "skipped actions: log_levels, debug_off" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--app", "no_such_package:create_app"], "--app 'no_such_package:create_app': Could not import 'no_such_package'."),
        (["--app", "app:make_everything"], "--app 'app:make_everything': Failed to find attribute 'make_everything' in 'app'."),
        (["--app", "plain_app:create_app"], "the app 'plain_app' has no flask-sqlalchemy extension"),
        (["--app", "bare_db_app:create_app"], "the log table 'unified_logs' does not exist in sqlite://"),
        (["--app", "app:create_app", "--skip", "log_level"], "--skip 'log_level' matches no action"),
        (["--app", "app:create_app", "--module", "app.utils.gone"], "cannot import the legacy module path 'app.utils.gone'"),
        (["--app", "app:create_app", "--scenario", "missing.toml"], "--scenario missing.toml: cannot read it"),
        (["--app", "app:create_app", "--login", "flask-login"], "--login needs --user"),
        (["--app", "app:create_app", "--login", "nowhere"], "--login 'nowhere': expected 'flask-login' or 'package.module:function'"),
        (["--app", "app:create_app", "--config", "NOPE"], "--config 'NOPE': expected KEY=VALUE"),
    ],
)
def test_clear_errors(app_copy: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (app_copy / "plain_app.py").write_text("from flask import Flask\n\n\ndef create_app():\n    return Flask(__name__)\n")
    (app_copy / "bare_db_app.py").write_text(
        "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n\n"
        "def create_app():\n    app = Flask(__name__)\n    app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite://'\n"
        "    SQLAlchemy(app)\n    return app\n"
    )

    result = kit(app_copy, "record", *args, "out.json", env={"DATABASE_URL": sqlite(tmp_path, "kit.db")})

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("compat.characterize: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (app_copy / "out.json").exists()


def test_compare_refuses_a_file_that_is_not_a_record(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}')

    result = kit(tmp_path, "compare", "notes.json", "notes.json")

    assert result.returncode == 2
    assert "notes.json is not a characterization record" in result.stderr


def test_a_bug_of_the_kit_exits_3_with_its_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(settings: object) -> None:
        raise RuntimeError("kit bug")

    monkeypatch.setattr(cli, "record", broken)

    code = cli.main(["record", "--app", "app:create_app", "out.json"])

    assert code == 3
    err = capsys.readouterr().err
    assert err.startswith("compat.characterize: internal error - this is a bug of the kit")
    assert "RuntimeError: kit bug" in err


def test_scenario_writes_a_starter_and_never_overwrites_one(app_copy: Path, tmp_path: Path) -> None:
    database = sqlite(tmp_path, "kit.db")

    written = kit(app_copy, "scenario", "--app", "app:create_app", "--database", database, "--login", "flask-login", "--user", "1", "-o", "starter.toml")
    again = kit(app_copy, "scenario", "--app", "app:create_app", "--database", database, "-o", "starter.toml")

    text = (app_copy / "starter.toml").read_text()
    assert written.returncode == 0, written.stderr
    assert '[kit]\nlogin = "flask-login"\nuser = "1"\n' in text
    assert '[[step]]\nrequest = "GET /api/health"\nguard = "login"' in text
    assert '[[step]]\nrequest = "GET /api/health"\nas = "1"' in text
    assert again.returncode == 2 and "starter.toml exists" in again.stderr


def test_deltas_lists_every_allowed_delta(tmp_path: Path) -> None:
    from compat.characterize.deltas import DELTAS

    result = kit(tmp_path, "deltas")

    assert result.returncode == 0
    assert [line.split(":", 1)[0].removesuffix(" (client-visible)") for line in result.stdout.splitlines()] == [d.name for d in DELTAS]


def test_a_database_used_before_is_said_so_and_compare_wants_one_of_its_own(app_copy: Path, tmp_path: Path) -> None:
    database = sqlite(tmp_path, "kit.db")
    assert kit(app_copy, "record", "--app", "app:create_app", "--database", database, "--skip", "*", "before.json").returncode == 0

    again = kit(app_copy, "record", "--app", "app:create_app", "--database", database, "--skip", "*", "again.json")
    compared = kit(app_copy, "compare", "before.json")

    assert again.returncode == 0
    assert "warning: the log table already held rows (ids up to " in again.stdout
    assert compared.returncode == 2
    assert f"the before-record ran on --database {database}: give compare an empty database of its own with --database" in compared.stderr
