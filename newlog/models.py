"""The ``unified_logs`` table newlog writes to when the app has none of its own.

Its columns are those of the legacy ``UnifiedLog`` model, so an app can switch
without a schema migration. ``level`` holds the level name (``INFO``), as the
legacy ``Enum(LogLevel)`` column stored it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.schema import CreateIndex, CreateTable

metadata = MetaData()

ROW_COLUMNS = ("timestamp", "level", "module", "message", "traceback", "context")


def log_table(name: str = "unified_logs", meta: MetaData = metadata) -> Table:
    """Return the newlog log table called ``name`` (one Table object per name and metadata)."""
    if name in meta.tables:
        return meta.tables[name]
    return Table(
        name,
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("timestamp", DateTime(timezone=True), nullable=False, index=True),
        Column("level", String(20), nullable=False, index=True),
        Column("module", String(100), nullable=False, index=True),
        Column("message", Text, nullable=False),
        Column("traceback", Text, nullable=True),
        Column("context", JSON, nullable=True),
    )


def create_sql(table: Table, dialect: Any) -> str:
    """Return the statements creating ``table`` and its indexes, compiled for ``dialect``."""
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    statements = [CreateTable(table), *(CreateIndex(index) for index in indexes)]
    return "\n".join(f"{str(statement.compile(dialect=dialect)).strip()};" for statement in statements)


def alembic_code(table: Table) -> str:
    """Return Alembic operations creating ``table`` and its indexes, for a migration's ``upgrade()``.

    Rendered by Alembic's own autogenerate renderer; raises ImportError without Alembic.
    """
    from alembic.autogenerate import render_python_code
    from alembic.operations import ops

    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    operations = [ops.CreateTableOp.from_table(table), *(ops.CreateIndexOp.from_index(index) for index in indexes)]
    return render_python_code(ops.UpgradeOps(ops=operations))
