"""Shared fixtures: real databases (a SQLite file; PostgreSQL when NEWLOG_TEST_POSTGRES_URL is set),
Flask apps wired to newlog, and a clean newlog state around every test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

import newlog
from newlog import state
from newlog.queue_worker import all_workers

POSTGRES_URL = os.environ.get("NEWLOG_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_postgres() -> str:
    """Return the PostgreSQL URL; fail under CI, skip on a laptop, when it is not set."""
    if POSTGRES_URL:
        return POSTGRES_URL
    reason = "PostgreSQL tests need NEWLOG_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:55432/postgres); .ci/run starts a server"
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A real database URL: a SQLite file in tmp_path, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'logs.db'}"
    return require_postgres()


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    """A SQLite file database URL in tmp_path."""
    return f"sqlite:///{tmp_path / 'logs.db'}"


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., tuple[Flask, SQLAlchemy]]]:
    """Factory: a Flask app with flask-sqlalchemy on ``database_url`` and a table name of its own.

    ``make_app(init=True, **config)`` returns ``(app, db)``; with ``init`` the app is wired with
    ``newlog.init_app``. Tables it created are dropped afterwards.
    """
    created: list[tuple[Flask, SQLAlchemy]] = []

    def factory(init: bool = True, **config: Any) -> tuple[Flask, SQLAlchemy]:
        app = Flask(f"test_app_{len(created)}")
        app.config.update(
            SQLALCHEMY_DATABASE_URI=database_url,
            LOG_TABLE=f"logs_{uuid.uuid4().hex[:10]}",
            LOG_FLUSH_INTERVAL=0.05,
            LOG_RETRY_SECONDS=2.0,
            **config,
        )
        db = SQLAlchemy(app)
        created.append((app, db))
        if init:
            newlog.init_app(app)
        return app, db

    yield factory
    newlog.shutdown(5)
    for app, db in created:
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(text(f'DROP TABLE IF EXISTS "{app.config["LOG_TABLE"]}"'))
            db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_newlog_state() -> Iterator[None]:
    """Every test starts and ends with no running worker, no bound context and debug off."""
    yield
    for worker in all_workers():
        worker.shutdown(5)
    for app_state in state.registered():
        app_state.outputs.close()
    state.forget_apps()
    newlog.set_debug_logging_enabled(enabled=False)
    state.reset_static_context()
    structlog.contextvars.clear_contextvars()
