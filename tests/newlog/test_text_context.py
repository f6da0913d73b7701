"""Legacy log models whose text columns newlog's row did not fit: a ``context`` column that is text (the app
stored ``json.dumps(context)`` itself), and length-bound text columns. Every delivery mode stores the event,
where the dict or the long text made it fail."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import String, Text, text

import newlog
from tests.conftest import MakeApp
from tests.support import delivery_config, log_columns

MODES = pytest.mark.parametrize("mode", ["thread", "sync", "spool"])


@contextmanager
def app_logging_to(make_app: MakeApp, url: str, tmp_path: Path, mode: str, **types: Any) -> Iterator[tuple[Flask, str]]:
    """An app and the name of its log model, which has the column ``types`` given, newlog delivering in ``mode``.

    The table's name is the test's own (tests run side by side on one PostgreSQL database); it is dropped after.
    """
    name = f"logs_{uuid.uuid4().hex[:10]}"
    app = make_app(url, init=False, LOG_TABLE=name, **delivery_config(mode, tmp_path))
    db = app.extensions["sqlalchemy"]
    table = db.Table(name, *log_columns(**types))
    with app.app_context():
        table.create(db.engine)
    try:
        newlog.init_app(app, db=db)
        yield app, name
    finally:
        newlog.shutdown(30)
        with app.app_context():
            table.drop(db.engine)


def stored(app: Flask, query: str) -> list[tuple[Any, ...]]:
    with app.app_context(), app.extensions["sqlalchemy"].engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


@MODES
def test_a_text_context_column_gets_the_context_as_json_text(make_app: MakeApp, database_url: str, tmp_path: Path, mode: str) -> None:
    with app_logging_to(make_app, database_url, tmp_path, mode, context=Text) as (app, table):
        with app.app_context():
            newlog.log_info("order placed", module="api", order_id=5, note="Zoë")
        assert newlog.flush(30), newlog.health()
        [(context,)] = stored(app, f"SELECT context FROM {table}")
    assert isinstance(context, str)
    assert context == json.dumps(json.loads(context))  # json.dumps text, as SQLAlchemy's JSON type writes it
    assert {"order_id": 5, "note": "Zoë"}.items() <= json.loads(context).items()


@MODES
def test_text_longer_than_a_column_that_enforces_its_length_is_cut_with_a_marker_not_lost(
    make_app: MakeApp, database_url: str, tmp_path: Path, mode: str
) -> None:
    """``db.String(40)`` on PostgreSQL refuses a longer message (the event was lost); SQLite stores any length."""
    long_message = "order 42 could not be booked because " + "x" * 100
    with app_logging_to(make_app, database_url, tmp_path, mode, module=String(10), message=String(40)) as (app, table):
        with app.app_context():
            newlog.log_warning(long_message, module="a_very_long_module_name")
            newlog.log_info("short", module="api")
        assert newlog.flush(30), newlog.health()
        rows = stored(app, f"SELECT module, message FROM {table} ORDER BY id")
    if database_url.startswith("sqlite"):
        assert rows == [("a_very_long_module_name", long_message), ("api", "short")]
        return
    (module, message), short = rows
    assert message == "order 42 could n...[truncated 121 chars]" and len(message) == 40
    assert module == "a_very_lon"  # too short a column for the marker: cut
    assert short == ("api", "short")
