"""Helpers shared by the tests (import as ``from tests.support import ...``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import text


def read_rows(app: Flask) -> list[dict[str, Any]]:
    """Return the app's log rows in insertion order, as dicts."""
    db = app.extensions["sqlalchemy"]
    table = app.config.get("LOG_TABLE", "unified_logs")
    with app.app_context(), db.engine.connect() as connection:
        result = connection.execute(text(f'SELECT * FROM "{table}" ORDER BY id'))
        return [dict(row._mapping) for row in result]
