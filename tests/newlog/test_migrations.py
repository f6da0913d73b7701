"""Apps managed by Flask-Migrate / Alembic: newlog does not create its table behind Alembic's back.

``LOG_CREATE_TABLE=auto`` (the default) creates newlog's table when it is missing unless the
app uses Flask-Migrate; ``true`` / ``false`` decide explicitly. A missing table is an error
that says how to create it, events are retried meanwhile, and ``flask newlog-table``
creates the table or prints it as SQL or as Alembic operations.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

import newlog
from tests.support import stored_rows

ROOT = Path(__file__).resolve().parents[2]


def migrated_app(database_url: str, **config: object) -> tuple[Flask, SQLAlchemy]:
    app = Flask("migrated_app")
    app.config.update({"SQLALCHEMY_DATABASE_URI": database_url, "LOG_FLUSH_INTERVAL": 0.05, "LOG_RETRY_SECONDS": 0.3, **config})
    db = SQLAlchemy(app)
    Migrate(app, db)
    return app, db


def has_table(db: SQLAlchemy, app: Flask, name: str) -> bool:
    with app.app_context():
        return sa.inspect(db.engine).has_table(name)


@pytest.fixture
def table_name(database_url: str) -> Iterator[str]:
    """A log table name of this test's own, dropped afterwards."""
    name = f"migrated_logs_{uuid.uuid4().hex[:10]}"
    yield name
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
    engine.dispose()


def test_with_flask_migrate_a_missing_table_is_not_created_and_the_error_says_what_to_do(database_url: str, table_name: str) -> None:
    app, db = migrated_app(database_url, LOG_TABLE=table_name)
    worker = newlog.init_app(app)

    newlog.log_info("waits for the migration")

    assert newlog.flush(10) is False
    assert not has_table(db, app, table_name)
    error = worker.stats()["last_error"]
    assert f"the log table {table_name!r} does not exist and newlog does not create it" in error
    assert "Flask-Migrate" in error and "flask newlog-table --alembic" in error and "LOG_CREATE_TABLE=true" in error


def test_events_are_written_once_the_table_is_created_with_the_command(database_url: str, table_name: str) -> None:
    app, _ = migrated_app(database_url, LOG_TABLE=table_name, LOG_RETRY_SECONDS=30)
    newlog.init_app(app)
    newlog.log_info("logged before the table exists")

    result = app.test_cli_runner().invoke(args=["newlog-table"])

    assert result.exit_code == 0, result.output
    assert f"log table {table_name!r} created" in result.output
    assert [row["message"] for row in stored_rows(app)] == ["logged before the table exists"]


@pytest.mark.parametrize(("setting", "created"), [("true", True), ("false", False)])
def test_log_create_table_decides_explicitly(database_url: str, table_name: str, setting: str, created: bool) -> None:
    app = Flask("explicit_app")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url, LOG_TABLE=table_name, LOG_CREATE_TABLE=setting, LOG_FLUSH_INTERVAL=0.05, LOG_RETRY_SECONDS=0.3
    )
    db = SQLAlchemy(app)
    if created:
        Migrate(app, db)  # even under Flask-Migrate when told to
    newlog.init_app(app)

    newlog.log_info("explicit")

    assert newlog.flush(10) is created
    assert has_table(db, app, table_name) is created


def test_the_sql_is_the_table_of_the_apps_database(sqlite_url: str) -> None:
    app, _ = migrated_app(sqlite_url, LOG_TABLE="audit_logs")
    newlog.init_app(app)

    result = app.test_cli_runner().invoke(args=["newlog-table", "--sql"])

    assert result.exit_code == 0, result.output
    assert "CREATE TABLE audit_logs (" in result.output and "context JSON" in result.output
    assert "CREATE INDEX ix_audit_logs_timestamp ON audit_logs (timestamp);" in result.output


def test_the_alembic_code_is_valid_python_creating_the_table(sqlite_url: str) -> None:
    app, _ = migrated_app(sqlite_url)
    newlog.init_app(app)

    result = app.test_cli_runner().invoke(args=["newlog-table", "--alembic"])

    assert result.exit_code == 0, result.output
    ast.parse(textwrap.dedent("\n".join(line for line in result.output.splitlines() if not line.lstrip().startswith("#"))))
    assert "op.create_table('unified_logs'," in result.output
    assert "op.create_index(op.f('ix_unified_logs_timestamp'), 'unified_logs', ['timestamp'], unique=False)" in result.output


APP_MODULE = '''
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
import newlog

app = Flask("alembic_app")
app.config.update(SQLALCHEMY_DATABASE_URI={url!r}, LOG_FLUSH_INTERVAL=0.05)
db = SQLAlchemy(app)
Migrate(app, db)
newlog.init_app(app)


{declare}


@app.cli.command("log-one")
def log_one():
    newlog.log_info("after the migration", module="alembic")
    assert newlog.flush(10), newlog.health()
'''


def test_the_alembic_code_in_a_real_migration_creates_the_table_newlog_then_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alembic.db'}"
    (tmp_path / "alembic_app.py").write_text(APP_MODULE.format(url=url, declare=""), encoding="utf-8")
    env = {**os.environ, "FLASK_APP": "alembic_app", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}

    def flask(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flask", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    code = flask("newlog-table", "--alembic")
    flask("db", "init")
    flask("db", "revision", "-m", "newlog log table")
    [revision] = (tmp_path / "migrations" / "versions").glob("*.py")
    source = revision.read_text(encoding="utf-8")
    revision.write_text(source.replace("def upgrade():\n    pass", "def upgrade():\n" + code), encoding="utf-8")
    flask("db", "upgrade")
    flask("log-one")

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT module, message FROM unified_logs")).all() == [("alembic", "after the migration")]
    engine.dispose()


def test_autogenerate_creates_the_table_declared_in_the_apps_metadata(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'autogenerate.db'}"
    declare = "newlog.log_table('unified_logs', db.metadata)  # Alembic's autogenerate sees it"
    (tmp_path / "alembic_app.py").write_text(APP_MODULE.format(url=url, declare=declare), encoding="utf-8")
    env = {**os.environ, "FLASK_APP": "alembic_app", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}

    outputs = []
    for args in (["db", "init"], ["db", "migrate", "-m", "log table"], ["db", "upgrade"], ["log-one"], ["db", "migrate", "-m", "again"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout + done.stderr)

    [revision] = (tmp_path / "migrations" / "versions").glob("*.py")
    assert "op.create_table('unified_logs'" in revision.read_text(encoding="utf-8")
    assert "No changes in schema detected" in outputs[-1]  # the next autogenerate neither drops nor re-creates it
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT module, message FROM unified_logs")).all() == [("alembic", "after the migration")]
    engine.dispose()
