"""Sinks: callables that persist one batch of log rows. The default inserts through SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Flask
from sqlalchemy import Table, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from newlog.models import ROW_COLUMNS, log_table
from newlog.settings import ConfigError

Sink = Callable[[Sequence[Mapping[str, Any]]], None]


class DatabaseSink:
    """Insert a batch with one Core ``insert(table)`` executemany in one transaction."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table
        self.statement = insert(table)

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(self.statement, list(rows))

    def after_fork(self) -> None:
        """Drop pooled connections inherited from the parent process (they belong to it)."""
        self.engine.dispose(close=False)


def default_sink(app: Flask, *, db: Any = None, table: Any = None) -> DatabaseSink:
    """Return the sink writing to ``table`` through the app's flask-sqlalchemy engine.

    ``db`` defaults to the app's flask-sqlalchemy extension; ``table`` may be a Table, a
    model class, or a table name (default ``LOG_TABLE``, "unified_logs"). A table the app's
    metadata does not know is newlog's own, created if missing.
    """
    db = db if db is not None else app.extensions.get("sqlalchemy")
    if db is None:
        raise ConfigError(
            "newlog.init_app: the app has no flask-sqlalchemy extension; call db.init_app(app) first, "
            "or pass db=... (or sink=... to write elsewhere)"
        )
    with app.app_context():
        engine = db.engine
        resolved = resolve_table(db, table if table is not None else app.config.get("LOG_TABLE", "unified_logs"))
        if resolved.metadata is not db.metadata:
            resolved.create(engine, checkfirst=True)
    return DatabaseSink(engine, resolved)


def resolve_table(db: Any, table: Any) -> Table:
    """Return the Table for a Table, a model class or a name; check it has the row columns."""
    if isinstance(table, str):
        resolved = db.metadata.tables.get(table) or log_table(table)
    else:
        resolved = getattr(table, "__table__", table)
    if not isinstance(resolved, Table):
        raise ConfigError(f"newlog: model={table!r} is neither a Table, a model class nor a table name")
    missing = [name for name in ROW_COLUMNS if name not in resolved.c]
    if missing:
        raise ConfigError(
            f"newlog: log table {resolved.name!r} lacks column(s) {', '.join(missing)}; "
            f"it needs {', '.join(ROW_COLUMNS)}"
        )
    return resolved


def is_poison(exc: BaseException) -> bool:
    """Return True when ``exc`` comes from the rows themselves (retrying the same rows cannot help)."""
    if isinstance(exc, (sa_exc.DataError, sa_exc.IntegrityError)):
        return True
    if isinstance(exc, sa_exc.StatementError) and not isinstance(exc, sa_exc.DBAPIError):
        return True
    return isinstance(exc, (TypeError, ValueError, UnicodeError))
