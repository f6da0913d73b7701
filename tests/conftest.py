"""Shared fixtures: the one app fixture (``make_app``), real databases (a SQLite file; PostgreSQL when
NEWLOG_TEST_POSTGRES_URL is set), and a clean newlog state around every test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import newlog
from newlog import state
from newlog.queue_worker import all_workers
from tests.support import RecordingSink

POSTGRES_URL = os.environ.get("NEWLOG_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"

MakeApp = Callable[..., Flask]


def require_postgres() -> str:
    """Return the PostgreSQL URL; fail under CI, skip on a laptop, when it is not set."""
    if POSTGRES_URL:
        return POSTGRES_URL
    reason = "PostgreSQL tests need NEWLOG_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:55432/postgres); .ci/run starts a server"
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A real database URL: a SQLite file in tmp_path, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'logs.db'}"
    return require_postgres()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file database URL in tmp_path."""
    return f"sqlite:///{tmp_path / 'logs.db'}"


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[MakeApp]:
    """Factory: ``make_app(database=None, init=True, **config)`` returns a Flask app wired to newlog.

    Without ``database`` the app writes to a :class:`~tests.support.RecordingSink` (most tests
    do not depend on the database: ``tests.support.read_rows`` reads either); with a URL it
    has flask-sqlalchemy on that database and a log table of its own, dropped afterwards.
    Test defaults: a 0.05 s flush interval, a 2 s retry budget, heartbeats in ``tmp_path``,
    no SIGTERM handler in the test process. ``init=False`` leaves ``newlog.init_app`` to the test.
    """
    created: list[Flask] = []

    def factory(database: str | None = None, init: bool = True, **config: Any) -> Flask:
        app = Flask(f"test_app_{len(created)}")
        app.config.update(
            LOG_FLUSH_INTERVAL=0.05,
            LOG_RETRY_SECONDS=2.0,
            LOG_HEALTH_DIR=str(tmp_path / "health"),
            LOG_DRAIN_ON_SIGTERM=False,
        )
        if database is not None:
            app.config.update(SQLALCHEMY_DATABASE_URI=database, LOG_TABLE=f"logs_{uuid.uuid4().hex[:10]}")
        app.config.update(config)
        if database is not None:
            SQLAlchemy(app)
        created.append(app)
        if init:
            newlog.init_app(app, sink=None if database is not None else RecordingSink())
        return app

    yield factory
    newlog.shutdown(5)
    for app in created:
        db = app.extensions.get("sqlalchemy")
        if db is None:
            continue
        with app.app_context():
            engine = db.engine
        try:
            with engine.begin() as connection:
                connection.execute(text(f'DROP TABLE IF EXISTS "{app.config["LOG_TABLE"]}"'))
        except OperationalError:  # a test's unreachable database
            pass
        engine.dispose()


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
