"""A log model bound to another database of the app (``__bind_key__`` / ``SQLALCHEMY_BINDS``): newlog writes
there, in every mode, never into the app's default database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import (
    MetaData,
    Table,
    create_engine,
    inspect,
    text,
)

import newlog
from newlog.cli import table_command
from tests.conftest import MakeApp
from tests.support import delivery_config, log_columns


def bound_log_table(db: Any, name: str) -> Any:
    """The app's log model on the ``logs`` bind, as ``db.Table(..., bind_key="logs")`` declares it."""
    return db.Table(name, *log_columns(), bind_key="logs")


def bound_logs_database(tmp_path: Path, mode: str) -> tuple[Path, Path, dict[str, Any]]:
    """The app's default database, its ``logs`` bind's database and the app's config for ``mode``."""
    main, logs = tmp_path / "main.db", tmp_path / "logs.db"
    config: dict[str, Any] = {"SQLALCHEMY_BINDS": {"logs": f"sqlite:///{logs}"}, "LOG_TABLE": "bound_logs"}
    config.update(delivery_config(mode, tmp_path))
    return main, logs, config


def log_one_event_and_stop() -> None:
    newlog.log_info("to the logs database", module="api")
    assert newlog.flush(30), newlog.health()
    newlog.shutdown(30)


@pytest.mark.parametrize("mode", ["thread", "sync", "spool"])
@pytest.mark.parametrize("given", ["model", "name"])
def test_events_are_stored_in_the_database_the_log_model_is_bound_to(
    make_app: MakeApp, tmp_path: Path, mode: str, given: str
) -> None:
    main, logs, config = bound_logs_database(tmp_path, mode)
    app = make_app(f"sqlite:///{main}", init=False, **config)
    db = app.extensions["sqlalchemy"]
    table = bound_log_table(db, "bound_logs")
    with app.app_context():
        db.create_all(bind_key="logs")
    newlog.init_app(app, db=db, model=table if given == "model" else None)
    with app.app_context():
        log_one_event_and_stop()
    stored = create_engine(f"sqlite:///{logs}").connect().execute(text("SELECT message FROM bound_logs")).scalars().all()
    assert stored == ["to the logs database"]
    assert not inspect(create_engine(f"sqlite:///{main}")).has_table("bound_logs")  # nothing made in the default database


@pytest.mark.parametrize("mode", ["thread", "sync"])
def test_a_bound_model_imported_after_init_app_gets_the_events_too(make_app: MakeApp, tmp_path: Path, mode: str) -> None:
    """The app factory imports its models after ``init_app``: the table is found at the first write, and so is its database."""
    main, logs, config = bound_logs_database(tmp_path, mode)
    Table("bound_logs", MetaData(), *log_columns()).create(create_engine(f"sqlite:///{logs}"))  # the app's migrations
    app = make_app(f"sqlite:///{main}", init=False, **config)
    db = app.extensions["sqlalchemy"]
    newlog.init_app(app, db=db)
    bound_log_table(db, "bound_logs")
    with app.app_context():
        log_one_event_and_stop()
    stored = create_engine(f"sqlite:///{logs}").connect().execute(text("SELECT message FROM bound_logs")).scalars().all()
    assert stored == ["to the logs database"]
    assert not inspect(create_engine(f"sqlite:///{main}")).has_table("bound_logs")


def test_with_a_spool_a_bound_model_imported_after_init_app_is_reported(
    make_app: MakeApp, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The spool's writer process is set up at ``init_app``: a model bound elsewhere that comes later cannot move
    it, so that is said at ERROR, with the fix (the events are not lost: they go to the default database)."""
    main, _, config = bound_logs_database(tmp_path, "spool")
    app = make_app(f"sqlite:///{main}", init=False, **config)
    db = app.extensions["sqlalchemy"]
    newlog.init_app(app, db=db)
    bound_log_table(db, "bound_logs")
    with app.app_context(), caplog.at_level(logging.ERROR, logger="newlog"):
        log_one_event_and_stop()
    assert any("imported after newlog.init_app" in record.getMessage() and "'logs'" in record.getMessage() for record in caplog.records)
    stored = create_engine(f"sqlite:///{main}").connect().execute(text("SELECT message FROM bound_logs")).scalars().all()
    assert stored == ["to the logs database"]


def test_the_table_command_creates_the_bound_model_in_its_database(make_app: MakeApp, tmp_path: Path) -> None:
    main, logs = tmp_path / "main.db", tmp_path / "logs.db"
    app = make_app(f"sqlite:///{main}", init=False, SQLALCHEMY_BINDS={"logs": f"sqlite:///{logs}"}, LOG_TABLE="bound_logs")
    bound_log_table(app.extensions["sqlalchemy"], "bound_logs")
    with app.app_context():
        result = CliRunner().invoke(table_command, [])
    assert result.exit_code == 0, result.output
    assert inspect(create_engine(f"sqlite:///{logs}")).has_table("bound_logs")
    assert not inspect(create_engine(f"sqlite:///{main}")).has_table("bound_logs")
