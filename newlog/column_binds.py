"""A log model's own bind steps, applied in the app process for the spool's writer.

A real app's log model may declare a column with a ``TypeDecorator``: ``context`` as a
``JSONEncodedDict`` (JSON text in a ``Text`` column), a timestamp stored as naive UTC, a message
encrypted or masked before it is stored. An ``INSERT`` through the model runs the decorator's
``process_bind_param``; the spool's writer process only has the table as the database describes it
(reflected: ``TEXT``, ``DATETIME``), so it would store the undecorated value, a secret in clear, or
a dict that a text column refuses. The same goes for SQLAlchemy's emulated types on a database
without the native type (SQLite, MySQL): a ``Uuid`` is stored as 32 hex digits in a ``CHAR(32)``,
an ``Interval`` as a ``DATETIME`` after the epoch; the reflected column knows neither.
:func:`column_binder` returns the function that runs those bind steps on a row in the app process,
before the row is spooled, so the writer stores what the ``INSERT`` would. A decorator whose stored
form is binary cannot travel in a JSON line: :class:`NotSpoolable` says which column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Column, LargeBinary, Table, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.sqltypes import Emulated, NativeForEmulated
from sqlalchemy.types import TypeEngine

Binder = Callable[[Mapping[str, Any]], dict[str, Any]]
Step = Callable[[Any, Dialect], Any]


class NotSpoolable(Exception):
    """A column's stored value cannot be carried in a spool line (named in the message)."""


def _bind_steps(column: Column[Any], dialect: Dialect) -> list[Step]:
    """Return the ``process_bind_param`` of each decorator around ``column``'s type, outermost first,
    then an emulated type's whole bind processor (its stored form: ``'0000...0007'`` for a ``Uuid`` on SQLite).

    Raises :class:`NotSpoolable` when the type the decorators store is binary.
    """
    steps: list[Step] = []
    type_: TypeEngine[Any] = column.type
    while True:
        impl = type_.dialect_impl(dialect)
        if isinstance(type_, Emulated) and not isinstance(impl, NativeForEmulated):
            processor = impl.bind_processor(dialect)
            if processor is not None:
                steps.append(lambda value, _dialect, processor=processor: processor(value))
            break  # the processor runs what is inside too
        if not isinstance(type_, TypeDecorator):
            break
        if type(type_).process_bind_param is not TypeDecorator.process_bind_param:
            steps.append(type_.process_bind_param)
        type_ = type_.load_dialect_impl(dialect)
    if isinstance(type_, LargeBinary):  # PickleType too: its pickling is a bind processor, not a bind step
        raise NotSpoolable(
            f"column {column.key!r} is a {type(column.type).__name__} stored as {type(type_).__name__}: "
            "binary values cannot travel in the spool's JSON lines"
        )
    return steps


def column_binder(table: Table, keys: Iterable[str], dialect: Dialect) -> Binder | None:
    """Return ``bind(row) -> row with the bind steps of each column that has some applied``, or None when none has.

    ``keys`` are the row's keys that are stored (newlog's row columns and the model's
    Python-side default columns); ``dialect`` is the database's, which a decorator may consult
    as it does in an ``INSERT``. A key missing from the row is left out (the writer stores NULL
    or the server default, as the ``INSERT`` does). Raises :class:`NotSpoolable`.
    """
    plan = [(str(key), steps) for key in keys if key in table.c and (steps := _bind_steps(table.c[key], dialect))]
    if not plan:
        return None

    def bind(row: Mapping[str, Any]) -> dict[str, Any]:
        bound = dict(row)
        for key, steps in plan:
            if key in bound:
                value = bound[key]
                for step in steps:
                    value = step(value, dialect)
                bound[key] = value
        return bound

    return bind
