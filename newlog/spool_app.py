"""Wire a Flask app's log table to a :class:`~newlog.spool.SpoolQueue` (``LOG_SPOOL_DIR`` is set)."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask
from sqlalchemy import Table
from sqlalchemy.engine import Engine

from newlog.column_defaults import sequence_columns
from newlog.settings import ConfigError, Settings
from newlog.sinks import app_engine_for, default_sink, known_table, may_create_table, resolve_table
from newlog.spool import SpoolQueue, WriterConfig
from newlog.spool_files import target_key
from newlog.spool_rows import LateModel, RowStep, column_renames, row_steps

_stdlib_log = logging.getLogger("newlog")

CREATE_GRACE_SECONDS = 10.0
"""Without a model of the log table at ``init_app``: how long the writer waits before it makes newlog's own.

The app factory may import its model (and run ``create_all`` or its migrations) a while after
``init_app`` and after its first log lines; newlog's table made first would take the model's
place. The rows wait in the spool meanwhile; a flush or the app's exit ends the wait.
"""


def default_batch_rows(dialect: str) -> int:
    """Return the writer's rows per transaction when ``LOG_SPOOL_BATCH_SIZE`` is not set.

    PostgreSQL: 20,000 (one INSERT from a JSON array per batch; measured against 5,000 with
    ``benchmarks/bench_pipeline.py``: about 10% more rows/s, most of the per-batch overhead being the
    round trips and the commit). Elsewhere (SQLite): 5,000, as the writer's transaction holds the
    database file's write lock while it stores a batch.
    """
    return 20_000 if dialect == "postgresql" else 5_000


def connection_hooks(engine: Engine) -> list[str]:
    """Return the names of the app's own functions that run on each new connection of ``engine`` (SQLAlchemy's excepted).

    ``@event.listens_for(engine, "connect")`` (a ``SET search_path``, a ``PRAGMA``): the writer
    process connects without them.
    """
    hooks = [*engine.pool.dispatch.connect, *engine.pool.dispatch.first_connect, *engine.pool.dispatch.checkout]
    return [
        f"{getattr(hook, '__module__', '?')}.{getattr(hook, '__qualname__', repr(hook))}"
        for hook in hooks
        if not str(getattr(hook, "__module__", "")).startswith("sqlalchemy.")
    ]


def refuse_options_the_writer_cannot_follow(options: dict[str, Any]) -> None:
    """Raise ConfigError naming an engine option that makes the app's connections go elsewhere than the URL says.

    ``creator`` (a Cloud SQL or IAM connector), ``schema_translate_map``: the writer process
    connects with the URL and :func:`writer_connect_args` only.
    """
    elsewhere = {
        "creator": options.get("creator"),
        "schema_translate_map": (options.get("execution_options") or {}).get("schema_translate_map"),
    }
    for name, value in elsewhere.items():
        if value is not None:
            raise ConfigError(
                f"newlog.init_app: LOG_SPOOL_DIR: the app's engine's {name} ({value!r}) decides where its connections "
                "go, and the writer process connects with the database URL and connect_args only: leave "
                "LOG_SPOOL_DIR unset (the worker thread uses the app's engine options)"
            )


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
    thread_only = [key for key in ("LOG_QUEUE_SIZE", "LOG_BATCH_SIZE") if key in settings.given]
    if thread_only:
        _stdlib_log.warning(
            "newlog: LOG_SPOOL_DIR is set, so %s (the worker thread's) do(es) not apply: the durable mode is bounded "
            "by LOG_SPOOL_MAX_BYTES and stores LOG_SPOOL_BATCH_SIZE rows per transaction",
            ", ".join(thread_only),
        )
    engine, options = app_engine_for(app, db, table)
    refuse_options_the_writer_cannot_follow(options)
    hooks = connection_hooks(engine)
    if hooks:
        _stdlib_log.warning(
            "newlog: LOG_SPOOL_DIR: the app's engine runs %s on each new connection; the spool's writer process "
            "connects with the database URL and connect_args only, without it: if it decides where the log table "
            "is (a search_path), put that in connect_args (options='-c search_path=...') or give the model its schema",
            ", ".join(hooks),
        )
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
        create_table=table is None and may_create_table(app, settings),  # never behind the app's migrations
        create_grace=CREATE_GRACE_SECONDS if table is None else 0.0,
        extra_columns=extra,
        renames=column_renames(table) if table is not None else {},
        sequences=sequence_columns(table, engine.dialect) if table is not None else {},
        batch_rows=settings.LOG_SPOOL_BATCH_SIZE or default_batch_rows(engine.dialect.name),
        poll_interval=min(settings.LOG_FLUSH_INTERVAL, 1.0),
        drain_seconds=max(settings.LOG_SHUTDOWN_TIMEOUT, 30.0),
    )
    probe = default_sink(app, db=db, table=table if table is not None else name, settings=settings)
    try:
        queue = SpoolQueue(
            settings.LOG_SPOOL_DIR,
            config,
            max_bytes=settings.LOG_SPOOL_MAX_BYTES,
            reserve=settings.LOG_QUEUE_RESERVE,
            segment_bytes=settings.LOG_SPOOL_SEGMENT_BYTES,
            fill=fill,
            warn_interval=settings.LOG_OVERFLOW_WARN_INTERVAL,
            shutdown_timeout=settings.LOG_SHUTDOWN_TIMEOUT,
            probe=probe,
        )
    except OSError as exc:  # not a directory, no permission, no room for the first segment
        raise ConfigError(
            f"newlog.init_app: LOG_SPOOL_DIR={str(settings.LOG_SPOOL_DIR)!r} cannot be used as the spool directory "
            f"({exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}); give a writable local directory "
            "with room for one segment per app process (LOG_SPOOL_SEGMENT_BYTES), or leave LOG_SPOOL_DIR unset"
        ) from exc
    if isinstance(fill, LateModel):
        fill.on_found = queue.model_known
    return queue
