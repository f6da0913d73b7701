"""Fit newlog's row to what the app's log model's columns take, where an INSERT would refuse it.

Two traits of legacy log models, each of which made every (or every long) event fail:

- ``context`` declared as text (``context = db.Column(db.Text)``) by apps on databases without
  a JSON type, their ``UnifiedLog.create_log_entry`` storing ``json.dumps(context)``. newlog's
  row carries the context as a dict, which such a column refuses. It becomes the JSON text
  SQLAlchemy's own ``JSON`` type writes (the dialect's JSON serializer, ``json.dumps`` by
  default); a ``JSON`` column or a ``TypeDecorator`` takes the dict as it is.
- ``message``, ``module`` or ``traceback`` declared with a length (``db.String(255)``): a longer
  value is refused by databases that enforce it (PostgreSQL, MySQL), and the event is lost. It
  is cut to the length, ending with the sanitizer's truncation marker. SQLite stores any length,
  so nothing is cut there (the INSERT stores the whole text).

:func:`row_shaper` returns the function that does what the table needs, or None.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import JSON, Enum, String, Table, TypeDecorator
from sqlalchemy.engine import Dialect

from newlog.sanitize import TRUNCATED

Shaper = Callable[[Mapping[str, Any]], Mapping[str, Any]]

_CUT_COLUMNS = ("module", "message", "traceback")


def row_shaper(table: Table, dialect: Dialect) -> Shaper | None:
    """Return ``shape(row) -> row the table's columns take`` (see the module), or None when the row fits as it is."""
    steps: list[tuple[str, Callable[[Any], Any]]] = []
    context = table.c.get("context")
    if context is not None and _plain_string(context.type):
        serialize = json_serializer(dialect)
        steps.append(("context", lambda value: value if value is None or isinstance(value, str) else serialize(value)))
    if dialect.name != "sqlite":
        for key in _CUT_COLUMNS:
            column = table.c.get(key)
            length = getattr(column.type, "length", None) if column is not None and _plain_string(column.type) else None
            if length:
                steps.append((key, lambda value, length=length: fit(value, length)))  # type: ignore[misc]
    if not steps:
        return None

    def shape(row: Mapping[str, Any]) -> Mapping[str, Any]:
        shaped = None  # copied only when a value changes: most rows fit (0.5 µs a row with a copy each, measured)
        for key, step in steps:
            if key in row:
                value = row[key]
                changed = step(value)
                if changed is not value:
                    if shaped is None:
                        shaped = dict(row)
                    shaped[key] = changed
        return row if shaped is None else shaped

    return shape


def json_serializer(dialect: Dialect) -> Callable[[Any], str]:
    """Return the function SQLAlchemy's ``JSON`` type serializes with on ``dialect`` (the engine's ``json_serializer``, else ``json.dumps``)."""
    return getattr(dialect, "_json_serializer", None) or json.dumps


def fit(value: Any, length: int) -> Any:
    """Return text ``value`` cut to ``length`` characters, the last ones the truncation marker (other values as they are)."""
    if not isinstance(value, str) or len(value) <= length:
        return value
    keep = length - len(TRUNCATED.format(len(value)))
    if keep <= 0:
        return value[:length]  # too short a column for the marker
    return value[:keep] + TRUNCATED.format(len(value) - keep)


def _plain_string(type_: Any) -> bool:
    """A string column the row's value goes to as it is (not JSON, an Enum, or a decorator's own conversion)."""
    return isinstance(type_, String) and not isinstance(type_, (JSON, Enum, TypeDecorator))
