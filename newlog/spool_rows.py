"""What the app process does to a log row before it spools it: the app's model's own steps.

The spool's writer process has no model, only the table as the database describes it, so the
model's Python-side defaults, the fitting of the row to its columns and its columns' bind steps
run in the app process (:func:`row_steps`), also for a model imported only after ``init_app``
(:class:`LateModel`); :func:`column_renames` and ``column_defaults.sequence_columns`` are what
the writer is told of the model instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Table, event

from newlog.column_binds import NotSpoolable, column_binder
from newlog.column_defaults import (
    NotInPython,
    defaults_filler,
    python_default_columns,
    sequence_columns,
)
from newlog.models import ROW_COLUMNS
from newlog.queue_worker import pipeline_thread
from newlog.row_shape import row_shaper
from newlog.settings import ConfigError
from newlog.sinks import app_metadatas, bind_key_of, known_table

_stdlib_log = logging.getLogger("newlog")

RowStep = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def column_renames(table: Table) -> dict[str, str]:
    """Return ``{key: name}`` for the model's columns stored under another name (``level = db.Column("log_level", ...)``).

    The app's rows are keyed as the model's attributes; the writer process reflects the table,
    which only knows the names.
    """
    return {column.key: column.name for column in table.columns if column.key != column.name}


def row_steps(table: Table, dialect: Any) -> tuple[RowStep | None, list[str]]:
    """Return what the app process does to a row of ``table`` before it spools it, and the columns it adds.

    The model's Python-side column defaults (those columns are the ones added), the row fitted to
    the columns, its columns' bind steps (``TypeDecorator``s, types the database emulates). Raises
    ConfigError for a model the writer process cannot store without.
    """
    name = table.name
    steps: list[RowStep] = []
    try:
        extra = [column.key for column in python_default_columns(table, dialect)]
        if extra:
            steps.append(defaults_filler(table, dialect))
    except NotInPython as exc:
        raise ConfigError(
            f"newlog.init_app: LOG_SPOOL_DIR: log table {name!r}: {exc}; the spool's writer process stores "
            "rows from the spooled JSON without the app's model, so give that column a server_default "
            "(e.g. server_default=func.now()) or leave LOG_SPOOL_DIR unset"
        ) from None
    shape = row_shaper(table, dialect)
    if shape is not None:
        steps.append(shape)
    try:
        bind = column_binder(table, [*ROW_COLUMNS, *extra], dialect)
    except NotSpoolable as exc:
        raise ConfigError(
            f"newlog.init_app: LOG_SPOOL_DIR: log table {name!r}: {exc}; leave LOG_SPOOL_DIR unset "
            "(the worker thread stores through the model, decorators included)"
        ) from None
    if bind is not None:
        steps.append(bind)
    return _in_order(steps), extra


class LateModel:
    """The row steps of the app's log model when it is imported after ``init_app`` (the app factory's usual order).

    Until a table of that name joins one of the app's MetaData, rows go as they are (a table the
    writer finds in the database, or newlog's own). From then on they get the model's steps
    (:func:`row_steps`); the writer stores the columns those add without being told (see
    ``spool_store.app_filled_columns``). SQLAlchemy's ``after_parent_attach`` event says when:
    looking the name up for every row cost 1.8 µs, this costs one attribute read. ``on_found`` is
    told what the writer process must know of the model (its columns named apart from its
    attributes, the sequences it numbers rows from) before the first row with its steps is
    spooled. A model bound to another database or schema cannot come this late (the writer's
    target and the spool's key are the first table's): that is reported at ERROR, and its rows
    still go to the first target, as newlog's columns.
    """

    def __init__(self, db: Any, name: str, dialect: Any) -> None:
        self.db = db
        self.name = name
        self.dialect = dialect
        self.steps: RowStep | None = None
        # Told once the model of the writer's target is found, before its first row: (column renames, sequence columns).
        self.on_found: Callable[[dict[str, str], dict[str, str]], None] | None = None
        self._appeared = False
        self._listening = True
        self._lock = threading.Lock()
        self._closing = threading.Lock()
        event.listen(Table, "after_parent_attach", self._attached)

    def _attached(self, table: Table, parent: Any) -> None:
        if table.name == self.name and any(parent is metadata for metadata in app_metadatas(self.db)):
            self._appeared = True  # its columns may still be coming: resolved at the next row

    def __call__(self, row: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._appeared:
            with self._lock:  # request threads that see it at once: one resolves, the others wait for its steps
                if self._appeared:
                    self._resolve()
        steps = self.steps
        return row if steps is None else steps(row)

    def _resolve(self) -> None:
        table = known_table(self.db, self.name)
        if table is not None:
            self.close()
            bind_key = bind_key_of(table)
            # A model bound elsewhere is not the writer's target: the writer keeps its config, and makes
            # newlog's table where it writes if it must.
            elsewhere = bind_key is not None or table.schema is not None
            if self.on_found is not None and not elsewhere:
                self.on_found(column_renames(table), sequence_columns(table, self.dialect))
            with pipeline_thread():  # what newlog logs here must not come back to this spool
                if elsewhere:
                    self._report_elsewhere(table, bind_key)
                self.steps = self._steps_of(table)
        self._appeared = False

    def _report_elsewhere(self, table: Table, bind_key: str | None) -> None:
        where = f"bound to {bind_key!r}" if bind_key is not None else f"in schema {table.schema!r}"
        _stdlib_log.error(
            "newlog: the log model %r (%s) was imported after newlog.init_app, which set the spool's writer up "
            "for a table %r in the default database and schema, its columns named as newlog's: its rows go "
            "there; import the model before newlog.init_app, or pass it: newlog.init_app(app, model=...)",
            self.name, where, self.name,
        )

    def _steps_of(self, table: Table) -> RowStep:
        try:
            steps, _ = row_steps(table, self.dialect)
        except ConfigError as exc:  # no init_app to raise it to: said once, and the rows go as they are
            _stdlib_log.error("%s (the model was imported after newlog.init_app)", exc)
            steps = None
        return steps if steps is not None else (lambda row: row)

    def close(self) -> None:
        """Stop listening for the model (at shutdown, or once it appeared)."""
        with self._closing:
            listening, self._listening = self._listening, False
        if listening:
            event.remove(Table, "after_parent_attach", self._attached)


def _in_order(steps: list[RowStep]) -> RowStep | None:
    """The row ``steps`` one after the other (None without any).

    In the order an INSERT has them: the Python-side defaults computed from the row as given,
    the row fitted to the columns, then the decorators' bind steps.
    """
    if len(steps) < 2:
        return steps[0] if steps else None

    def apply(row: Mapping[str, Any]) -> Mapping[str, Any]:
        for step in steps:
            row = step(row)
        return row

    return apply
