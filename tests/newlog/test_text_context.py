"""A legacy log model whose ``context`` column is text (the app stored ``json.dumps(context)`` itself):
every mode stores the context as JSON text, where the dict made every event fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Text, text

import newlog
from tests.conftest import MakeApp
from tests.support import log_columns


@pytest.mark.parametrize("mode", ["thread", "sync", "spool"])
def test_a_text_context_column_gets_the_context_as_json_text(make_app: MakeApp, database_url: str, tmp_path: Path, mode: str) -> None:
    config: dict[str, Any] = {"LOG_TABLE": "text_context_logs"}
    if mode == "sync":
        config["LOG_SYNC_WRITES"] = True
    if mode == "spool":
        config["LOG_SPOOL_DIR"] = str(tmp_path / "spool")
    app = make_app(database_url, init=False, **config)
    db = app.extensions["sqlalchemy"]
    table = db.Table("text_context_logs", *log_columns(context=Text))
    with app.app_context():
        table.create(db.engine)
    try:
        newlog.init_app(app, db=db)
        with app.app_context():
            newlog.log_info("order placed", module="api", order_id=5, note="Zoë")
        assert newlog.flush(30), newlog.health()
        with app.app_context(), db.engine.connect() as connection:
            stored = connection.execute(text("SELECT context FROM text_context_logs")).scalar_one()
        assert isinstance(stored, str)
        assert stored == json.dumps(json.loads(stored))  # json.dumps text, as SQLAlchemy's JSON type writes it
        assert {"order_id": 5, "note": "Zoë"}.items() <= json.loads(stored).items()
    finally:
        newlog.shutdown(30)
        with app.app_context():
            table.drop(db.engine)


@pytest.mark.parametrize("mode", ["thread", "sync", "spool"])
def test_text_longer_than_a_column_that_enforces_its_length_is_cut_with_a_marker_not_lost(
    make_app: MakeApp, database_url: str, tmp_path: Path, mode: str
) -> None:
    """``db.String(40)`` on PostgreSQL refuses a longer message (the event was lost); SQLite stores any length."""
    config: dict[str, Any] = {"LOG_TABLE": "short_logs"}
    if mode == "sync":
        config["LOG_SYNC_WRITES"] = True
    if mode == "spool":
        config["LOG_SPOOL_DIR"] = str(tmp_path / "spool")
    app = make_app(database_url, init=False, **config)
    db = app.extensions["sqlalchemy"]
    table = db.Table("short_logs", *log_columns(module=String(10), message=String(40)))
    with app.app_context():
        table.create(db.engine)
    long_message = "order 42 could not be booked because " + "x" * 100
    try:
        newlog.init_app(app, db=db)
        with app.app_context():
            newlog.log_warning(long_message, module="a_very_long_module_name")
            newlog.log_info("short", module="api")
        assert newlog.flush(30), newlog.health()
        with app.app_context(), db.engine.connect() as connection:
            stored = connection.execute(text("SELECT module, message FROM short_logs ORDER BY id")).all()
    finally:
        newlog.shutdown(30)
        with app.app_context():
            table.drop(db.engine)
    if database_url.startswith("sqlite"):
        assert [tuple(row) for row in stored] == [("a_very_long_module_name", long_message), ("api", "short")]
        return
    (module, message), short = stored
    assert message == "order 42 could n...[truncated 121 chars]" and len(message) == 40
    assert len(module) == 10 and module == "a_very_lon"  # too short a column for the marker: cut
    assert tuple(short) == ("api", "short")
