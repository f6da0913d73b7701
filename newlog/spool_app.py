"""Wire a Flask app's log table to a :class:`~newlog.spool.SpoolQueue` (``LOG_SPOOL_DIR`` is set)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from sqlalchemy import Table, event

from newlog.column_binds import NotSpoolable, column_binder
from newlog.column_defaults import NotInPython, defaults_filler, python_default_columns, sequence_columns
from newlog.models import ROW_COLUMNS
from newlog.queue_worker import pipeline_thread
from newlog.row_shape import row_shaper
from newlog.settings import ConfigError, Settings
from newlog.sinks import (
    app_engine_for,
    app_metadatas,
    bind_key_of,
    default_sink,
    known_table,
    resolve_table,
)
from newlog.spool import SpoolQueue, WriterConfig
from newlog.spool_files import target_key

_stdlib_log = logging.getLogger("newlog")

RowStep = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def default_batch_rows(dialect: str) -> int:
    """Return the writer's rows per transaction when ``LOG_SPOOL_BATCH_SIZE`` is not set.

    PostgreSQL: 20,000 (one INSERT from a JSON array per batch; measured against 5,000 with
    ``benchmarks/bench_pipeline.py``: about 10% more rows/s, most of the per-batch overhead being the
    round trips and the commit). Elsewhere (SQLite): 5,000, as the writer's transaction holds the
    database file's write lock while it stores a batch.
    """
    return 20_000 if dialect == "postgresql" else 5_000


def writer_connect_args(options: dict[str, Any]) -> dict[str, Any]:
    """Return the app engine's ``connect_args`` for the writer process, which gets them as JSON.

    They shape what a connection sees (a ``search_path``, a time zone, TLS files), so the writer
    must connect as the app does. Raises ConfigError naming an argument JSON cannot carry.
    """
    connect_args = dict(options.get("connect_args") or {})
    for key, value in connect_args.items():
        try:
            if json.loads(json.dumps(value)) != value:
                raise TypeError("it does not come back equal from JSON")
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"newlog.init_app: LOG_SPOOL_DIR: the app's engine connect_args {key!r} ({value!r}) cannot be passed "
                f"to the writer process ({exc}); give it in the database URL's query instead, or leave "
                "LOG_SPOOL_DIR unset"
            ) from None
    return connect_args


def start_spool(app: Flask, db: Any, model: Any, settings: Settings) -> SpoolQueue:
    """Return the started spool queue writing ``app``'s events to its log table through a writer process.

    The table is ``model`` (a Table or model class), else the app's ``LOG_TABLE`` model,
    else newlog's own table of that name, created by the writer if missing. The model's
    Python-side column defaults are computed in the app process (the writer only sees rows),
    and so are its ``TypeDecorator`` columns' bind steps (the writer only has the reflected table):
    see :func:`row_steps`, and :class:`LateModel` for a model imported after ``init_app``.
    """
    db = db if db is not None else app.extensions.get("sqlalchemy")
    if db is None:
        raise ConfigError(
            f"newlog.init_app: LOG_SPOOL_DIR={settings.LOG_SPOOL_DIR!r} needs the app's flask-sqlalchemy "
            "extension (call db.init_app(app) first, or pass db=...)"
        )
    table: Table | None
    if model is not None and not isinstance(model, str):
        table = resolve_table(db, model)
    else:
        name = model if isinstance(model, str) else settings.LOG_TABLE
        table = resolve_table(db, name) if known_table(db, name) is not None else None
    engine, options = app_engine_for(app, db, table)
    name = table.name if table is not None else (model if isinstance(model, str) else settings.LOG_TABLE)
    fill: RowStep | LateModel | None = None
    extra: list[str] = []
    if table is not None:
        fill, extra = row_steps(table, engine.dialect)
    else:
        fill = LateModel(db, name, engine.dialect)
    schema = table.schema if table is not None else None
    config = WriterConfig(
        dir=str(settings.LOG_SPOOL_DIR),
        key=target_key(engine.url.render_as_string(hide_password=True), f"{schema}.{name}" if schema else name),
        url=engine.url.render_as_string(hide_password=False),
        connect_args=writer_connect_args(options),
        schema=schema,
        table=name,
        create_table=table is None,
        extra_columns=extra,
        renames=column_renames(table) if table is not None else {},
        sequences=sequence_columns(table, engine.dialect) if table is not None else {},
        batch_rows=settings.LOG_SPOOL_BATCH_SIZE or default_batch_rows(engine.dialect.name),
        poll_interval=min(settings.LOG_FLUSH_INTERVAL, 1.0),
        drain_seconds=max(settings.LOG_SHUTDOWN_TIMEOUT, 30.0),
    )
    queue = SpoolQueue(
        settings.LOG_SPOOL_DIR,
        config,
        max_bytes=settings.LOG_SPOOL_MAX_BYTES,
        segment_bytes=settings.LOG_SPOOL_SEGMENT_BYTES,
        fill=fill,
        warn_interval=settings.LOG_OVERFLOW_WARN_INTERVAL,
        shutdown_timeout=settings.LOG_SHUTDOWN_TIMEOUT,
        probe=default_sink(app, db=db, table=table if table is not None else name, settings=settings),
    )
    if isinstance(fill, LateModel):
        fill.on_found = queue.model_known
    return queue


def column_renames(table: Table) -> dict[str, str]:
    """Return ``{key: name}`` for the model's columns stored under another name (``level = db.Column("log_level", ...)``).

    The app's rows are keyed as the model's attributes; the writer process reflects the table,
    which only knows the names.
    """
    return {column.key: column.name for column in table.columns if column.key != column.name}


def row_steps(table: Table, dialect: Any) -> tuple[RowStep | None, list[str]]:
    """Return what the app process does to a row of ``table`` before it spools it, and the columns it adds.

    The model's Python-side column defaults (those columns are the ones added), the row fitted to
    the columns, its ``TypeDecorator`` columns' bind steps. Raises ConfigError for a model the
    writer process cannot store without.
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
    looking the name up for every row cost 1.8 µs, this costs one attribute read. A model bound
    to another database or schema than the one the spool was set up for at ``init_app`` is
    reported at ERROR: its rows still go to that first target.
    """

    def __init__(self, db: Any, name: str, dialect: Any) -> None:
        self.db = db
        self.name = name
        self.dialect = dialect
        self.steps: RowStep | None = None
        self.on_found: Callable[[], None] | None = None  # told once the model is found (before its first row)
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
            if self.on_found is not None:
                self.on_found()
            with pipeline_thread():  # what newlog logs here must not come back to this spool
                self.steps = self._steps_of(table)
        self._appeared = False

    def _steps_of(self, table: Table) -> RowStep:
        bind_key = bind_key_of(table)
        renames = column_renames(table)
        sequences = sequence_columns(table, self.dialect)
        if bind_key is not None or table.schema is not None or renames or sequences:
            where = (
                f"bound to {bind_key!r}" if bind_key is not None
                else f"in schema {table.schema!r}" if table.schema is not None
                else f"its columns {', '.join(f'{key}={name!r}' for key, name in renames.items())} named otherwise"
                if renames
                else f"numbered from {', '.join(sequences.values())}"
            )
            _stdlib_log.error(
                "newlog: the log model %r (%s) was imported after newlog.init_app, which set the spool's writer up "
                "for a table %r in the default database and schema, its columns named as newlog's: its rows go "
                "there; import the model before newlog.init_app, or pass it: newlog.init_app(app, model=...)",
                self.name, where, self.name,
            )
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
