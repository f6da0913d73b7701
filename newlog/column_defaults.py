"""Python-side column defaults of a log table, computed the way an ``INSERT`` computes them.

A real app's log model often has columns beyond newlog's row columns, with a default
computed in Python (``created_at = Column(DateTime, default=datetime.utcnow)``,
``source = Column(String, default="web")``, a context-sensitive ``default=lambda ctx: ...``).
SQLAlchemy fills those in when it runs an ``INSERT``; a ``COPY`` (and the spool's writer
process, which only sees the serialized rows) must fill them in itself.
:func:`defaults_filler` returns the function that does it, or says why it cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect

from newlog.models import ROW_COLUMNS

Filler = Callable[[Mapping[str, Any]], dict[str, Any]]


class NotInPython(Exception):
    """A column's default is computed by the database statement (a SQL expression or a sequence)."""


class _Parameters:
    """What a context-sensitive default sees: ``context.get_current_parameters()`` (the row)."""

    __slots__ = ("current_parameters",)

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.current_parameters = row

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> Mapping[str, Any]:
        """Return the row's values by column key (as SQLAlchemy's execution context does)."""
        return self.current_parameters


def python_default_columns(table: Table, dialect: Dialect | None = None) -> list[Column[Any]]:
    """Return the columns beyond the row columns whose default an INSERT computes in Python.

    Raises :class:`NotInPython` when such a column's default is a SQL expression or a
    sequence (an ``INSERT`` puts it in the statement: only an ``INSERT`` reproduces it). Given
    the ``dialect``, a sequence is no obstacle where the INSERT leaves it out (SQLite: the
    database numbers the row) or where :func:`sequence_columns` hands it to the spool's writer.
    """
    columns = []
    for column in table.c:
        default = column.default
        if column.key in ROW_COLUMNS or default is None:
            continue
        if (
            getattr(default, "is_sequence", False)
            and dialect is not None
            and (dialect.name == "postgresql" or not _drawn_in_the_insert(default, dialect))
        ):
            continue  # numbered by the database, or drawn by the spool's writer (sequence_columns)
        if getattr(default, "is_sequence", False) or getattr(default, "is_clause_element", False):
            raise NotInPython(f"column {column.key!r} has a SQL-side default ({default!r})")
        columns.append(column)
    return columns


def sequence_columns(table: Table, dialect: Dialect) -> dict[str, str]:
    """Return ``{column name: quoted sequence name}`` of the columns an INSERT numbers with ``nextval`` on PostgreSQL.

    (``id = db.Column(db.Integer, db.Sequence("log_id_seq"), primary_key=True)``: the column has
    no server default, the INSERT draws from the sequence in its statement.) Empty elsewhere.
    """
    if dialect.name != "postgresql":
        return {}
    return {
        column.name: dialect.identifier_preparer.format_sequence(column.default)
        for column in table.c
        if getattr(column.default, "is_sequence", False) and _drawn_in_the_insert(column.default, dialect)
    }


def _drawn_in_the_insert(sequence: Any, dialect: Dialect) -> bool:
    """True when an INSERT on ``dialect`` puts ``nextval`` of ``sequence`` in the statement."""
    return bool(dialect.supports_sequences) and not (sequence.optional and dialect.sequences_optional)


def defaults_filler(table: Table, dialect: Dialect | None = None) -> Filler:
    """Return ``fill(row) -> row with every Python-side default of ``table`` added``.

    Scalars are copied, callables are called once per row (context-sensitive ones with an
    object offering ``get_current_parameters()``), as an ``INSERT`` executemany does; a
    value already in the row wins. Raises :class:`NotInPython` (see
    :func:`python_default_columns`, which ``dialect`` is passed to).
    """
    plan = [(str(column.key), column.default) for column in python_default_columns(table, dialect)]  # str: orjson refuses a quoted_name key
    if not plan:
        return dict

    def fill(row: Mapping[str, Any]) -> dict[str, Any]:
        filled = dict(row)
        for key, default in plan:
            if key in filled:
                continue
            if default.is_callable:
                filled[key] = default.arg(_Parameters(filled))
            else:
                filled[key] = default.arg
        return filled

    return fill
