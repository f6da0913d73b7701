"""A log model whose ``context`` column is text, not JSON: the row's context stored as JSON text.

Legacy apps on databases without a JSON type often declared ``context = db.Column(db.Text)`` and
had ``UnifiedLog.create_log_entry`` store ``json.dumps(context)``. newlog's row carries the context
as a dict, which such a column refuses: every event would fail. :func:`context_shaper` returns the
function that turns it into the JSON text SQLAlchemy's own ``JSON`` type writes (the dialect's
JSON serializer, ``json.dumps`` by default), or None when the column takes the dict as it is (a
``JSON`` column, or a ``TypeDecorator`` that serializes it itself).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import JSON, String, Table, TypeDecorator
from sqlalchemy.engine import Dialect

Shaper = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def context_shaper(table: Table, dialect: Dialect) -> Shaper | None:
    """Return ``shape(row) -> row with its context as JSON text`` for a text ``context`` column, else None."""
    column = table.c.get("context")
    if column is None or isinstance(column.type, (JSON, TypeDecorator)) or not isinstance(column.type, String):
        return None
    serialize: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps

    def shape(row: Mapping[str, Any]) -> Mapping[str, Any]:
        value = row.get("context")
        if value is None or isinstance(value, str):
            return row
        return {**row, "context": serialize(value)}

    return shape
