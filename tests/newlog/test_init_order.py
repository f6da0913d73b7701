"""An app factory may wire logging before its database, as the legacy module allowed.

``newlog.init_app(app)`` (or compat's ``configure_structlog(app)``) before ``db.init_app(app)``
starts: the database is looked up at the first write. An app that never registers one gets
its events counted as failed with an error that says what to do, never a start-up crash.
"""

from __future__ import annotations

import uuid

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

import newlog
from tests.support import read_rows, stored_rows


def test_logging_wired_before_the_database_stores_every_event(database_url: str) -> None:
    app = Flask("late_db_app")
    table = f"late_db_{uuid.uuid4().hex[:10]}"
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, LOG_TABLE=table, LOG_FLUSH_INTERVAL=0.05)
    newlog.init_app(app)
    newlog.log_info("before db.init_app")
    db = SQLAlchemy()
    db.init_app(app)
    with app.app_context():
        newlog.log_info("after db.init_app")
    try:
        assert [row["message"] for row in stored_rows(app)] == ["before db.init_app", "after db.init_app"]
    finally:
        with app.app_context():
            db.session.execute(db.text(f'DROP TABLE "{table}"'))
            db.session.commit()
            db.engine.dispose()


def test_an_app_that_never_registers_a_database_reports_why_its_events_fail(tmp_path) -> None:
    app = Flask("no_db_app")
    app.config.update(LOG_FLUSH_INTERVAL=0.05, LOG_RETRY_SECONDS=0.2)
    worker = newlog.init_app(app)

    newlog.log_info("nowhere to go")

    assert newlog.flush(10) is False
    stats = worker.stats()
    assert stats["dropped_failed"] == 1 and stats["written"] == 0
    assert "no flask-sqlalchemy extension; call db.init_app(app)" in stats["last_error"]


def test_sync_writes_with_logging_wired_before_the_database(database_url: str) -> None:
    app = Flask("late_db_sync_app")
    table = f"late_db_sync_{uuid.uuid4().hex[:10]}"
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, LOG_TABLE=table, LOG_FLUSH_INTERVAL=0.05, LOG_SYNC_WRITES=True)
    newlog.init_app(app)
    db = SQLAlchemy()
    db.init_app(app)
    try:
        with app.app_context():
            newlog.log_info("after db.init_app")
        assert [row["message"] for row in read_rows(app)] == ["after db.init_app"]  # written in this thread already
        assert app.extensions["newlog"].sync_writer.stats()["written"] == 1
    finally:
        with app.app_context():
            db.session.execute(db.text(f'DROP TABLE IF EXISTS "{table}"'))
            db.session.commit()
            db.engine.dispose()
