"""Sinks: callables that persist one batch of log rows. The default inserts through SQLAlchemy Core.

The worker calls a sink from its own thread with a list of rows; a sink may offer
``is_poison(exc)`` (the rows themselves are bad: retrying cannot help), ``describe_error(exc)``
(one short line for the reports) and ``after_fork()``. :class:`AppContextSink` runs any
sink inside the app context, for sinks that use flask-sqlalchemy's session or ``current_app``.

On PostgreSQL (any driver) the default sink writes a batch with one ``INSERT ... SELECT FROM
json_to_recordset``, the rows serialized once with orjson (:class:`JsonPlan`: the server parses
and converts them, as the spool writer has it do), instead of an ``INSERT`` executemany, when
the log table is one it can reproduce exactly: the row columns are date-times, strings (incl.
enums) and JSON, and every other column's default is either the database's own
(``server_default``, a serial key) or computed in Python (see :mod:`newlog.column_defaults`:
computed per row here, as the INSERT would). ``COPY ... FROM STDIN`` through psycopg 3
(``use_copy=True``, or where the JSON plan does not apply) goes through the same SQLAlchemy
bind processors and psycopg adapters as the INSERT. Either way the stored rows are identical
(tests/newlog/test_sinks_copy.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from flask import Flask
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    TypeDecorator,
    create_engine,
    insert,
    inspect,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine

from newlog.column_defaults import (
    Filler,
    NotInPython,
    defaults_filler,
    python_default_columns,
)
from newlog.models import ROW_COLUMNS, log_table
from newlog.queue_worker import Sink, error_text
from newlog.row_shape import json_serializer, row_shaper
from newlog.rows import build_row, encode_row
from newlog.sanitize import describe
from newlog.settings import ConfigError, Settings
from newlog.spool_store import SpoolRowStore, naive_timestamp_column

try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg 3 is optional: no COPY without it
    psycopg = None

_COPY_TYPES = (DateTime, String, JSON)

EngineFor = Callable[[Table], "tuple[Engine, bool] | None"]


class DatabaseSink:
    """Insert a batch in one transaction: the server-parsed JSON on PostgreSQL, else a Core executemany.

    ``use_copy`` forces the method (True: ``COPY`` through psycopg 3; False: always executemany);
    None picks the server-parsed JSON where :func:`json_plan` allows it, else COPY where
    :func:`copy_plan` does. ``table`` may be a function of the engine returning the Table: it is
    called at the first write (through this sink's engine). ``engine_for`` then says whether the
    table found needs another engine (a model imported after ``init_app``, bound to another of the
    app's databases): it returns that engine and whether the sink owns it, or None.
    """

    def __init__(
        self,
        engine: Engine,
        table: Table | Callable[[Engine], Table],
        *,
        use_copy: bool | None = None,
        owns_engine: bool = False,
        table_name: str | None = None,
        engine_for: EngineFor | None = None,
    ) -> None:
        self.engine = engine
        self.owns_engine = owns_engine
        self.use_copy = use_copy
        self._resolve = None if isinstance(table, Table) else table
        self._engine_for = engine_for
        self._resolving = threading.Lock()  # sync writes: many request threads make the first write at once
        self.table_name = table.name if isinstance(table, Table) else table_name
        if isinstance(table, Table):
            self._bind(table)

    def _bind(self, table: Table) -> None:
        self.table = table
        self.shape = row_shaper(table, self.engine.dialect)
        self.statement = insert(table)
        self.json = json_plan(self.engine, table) if self.use_copy is None else None
        self.copy = copy_plan(self.engine, table) if self.use_copy is not False and self.json is None else None
        if self.use_copy and self.copy is None:
            raise ConfigError(
                f"newlog: COPY needs PostgreSQL through psycopg 3 and a log table of known column types, "
                f"none of them a timestamp without time zone; "
                f"table {table.name!r} on driver {self.engine.dialect.name}+{self.engine.dialect.driver} has neither"
            )

    def _ensure_table(self) -> None:
        """Resolve a table given by name on the first write (the app's models are imported by then)."""
        if self._resolve is None:
            return
        with self._resolving:
            if self._resolve is None:
                return
            table = self._resolve(self.engine)
            other = self._engine_for(table) if self._engine_for is not None else None
            if other is not None:
                if self.owns_engine:
                    self.engine.dispose()
                self.engine, self.owns_engine = other
            self._bind(table)
            self._resolve = None

    @property
    def method(self) -> str:
        """Return how batches are written: ``"json"``, ``"copy"`` or ``"executemany"``."""
        self._ensure_table()
        if self.json is not None:
            return "json"
        return "copy" if self.copy is not None else "executemany"

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store ``rows`` in one transaction; a single row always through the INSERT.

        The worker stores a refused batch again row by row: through the INSERT, the reference, a
        row that only the batch path refuses is stored as an INSERT stores it (a ``\\u0000``
        escape in a ``json`` column: PostgreSQL's ``json_to_recordset`` refuses it).
        """
        self._ensure_table()
        if self.shape is not None:
            rows = [self.shape(row) for row in rows]
        with self.engine.begin() as connection:
            if self.json is not None and len(rows) > 1:
                self.json.write(connection, rows)
            elif self.copy is not None and len(rows) > 1:
                self.copy.write(connection, rows)
            else:
                connection.execute(self.statement, list(rows))

    def with_engine(
        self, engine: Engine, *, use_copy: bool | None = None, engine_for: EngineFor | None = None
    ) -> DatabaseSink:
        """Return a sink writing the same table (found the same way) through ``engine``, which it owns."""
        table = self._resolve if self._resolve is not None else self.table
        return DatabaseSink(
            engine, table, use_copy=use_copy, owns_engine=True, table_name=self.table_name, engine_for=engine_for
        )

    def after_fork(self) -> None:
        """Drop pooled connections inherited from the parent process (they belong to it)."""
        self.engine.dispose(close=False)

    def check(self) -> None:
        """Connect once (nothing else: the table is resolved, or created, at the first write); raise on failure."""
        with self.engine.connect():
            pass

    def probe(self) -> dict[str, Any]:
        """Check the database for real without storing anything; return ``{"ok", "connect", "table", "insert"}``.

        Connects, checks that the log table exists (never creates it), and inserts one row in
        a transaction that is rolled back. Each step is "ok", an error line, or "skipped".
        """
        result: dict[str, Any] = {"ok": False, "connect": "skipped", "table": "skipped", "insert": "skipped"}
        name = self.table_name or "?"
        result["table_name"] = name
        step = "connect"
        try:
            with self.engine.connect() as connection:  # one connection at a time: the pool holds one
                result["connect"] = "ok"
                step = "table"
                schema = self.table.schema if self._resolve is None else None
                exists = inspect(connection).has_table(name, schema=schema)
            if not exists:
                result["table"] = (
                    f"missing: table {name!r} does not exist (newlog creates its own at the app's first write "
                    "unless the app's migrations own it, see LOG_CREATE_TABLE: run them, or 'flask newlog-table')"
                )
                return result
            self._ensure_table()
            result["table"] = "ok"
            step = "insert"
            with self.engine.connect() as connection:
                transaction = connection.begin()
                try:
                    connection.execute(self.statement, [_probe_row()])
                finally:
                    transaction.rollback()
            result["insert"] = "ok"
        except Exception as exc:  # noqa: BLE001 - the probe reports, never raises
            result[step] = describe_error(exc)
            return result
        result["ok"] = True
        return result

    @property
    def url(self) -> str:
        """Return the database URL with the password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close the sink's connection when the engine is its own (not the app's)."""
        if self.owns_engine:
            self.engine.dispose()

    @staticmethod
    def is_poison(exc: BaseException) -> bool:
        """Return True when ``exc`` comes from the rows themselves (see :func:`is_poison`)."""
        return is_poison(exc)

    @staticmethod
    def describe_error(exc: BaseException) -> str:
        """Return one short line for ``exc`` (see :func:`describe_error`)."""
        return describe_error(exc)


class AppContextSink:
    """Run ``sink`` inside ``app.app_context()`` (for sinks that use ``db.session`` or ``current_app``)."""

    def __init__(self, app: Flask, sink: Sink) -> None:
        self.app = app
        self.sink = sink

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        failure: Exception | None = None
        with self.app.app_context():
            try:
                self.sink(rows)
            except Exception as exc:  # noqa: BLE001 - raised outside: not an app error for the teardown hooks
                failure = exc
        if failure is not None:
            raise failure

    def is_poison(self, exc: BaseException) -> bool:
        """Ask the wrapped sink, else :func:`is_poison`."""
        return getattr(self.sink, "is_poison", is_poison)(exc)

    def describe_error(self, exc: BaseException) -> str:
        """Ask the wrapped sink, else :func:`describe_error`."""
        return getattr(self.sink, "describe_error", describe_error)(exc)

    def after_fork(self) -> None:
        """Pass the fork on to the wrapped sink."""
        after_fork = getattr(self.sink, "after_fork", None)
        if after_fork is not None:
            after_fork()

    def check(self) -> None:
        """Pass the start-up check on to the wrapped sink (inside the app context)."""
        check = getattr(self.sink, "check", None)
        if check is not None:
            with self.app.app_context():
                check()

    @property
    def url(self) -> str:
        """Return the wrapped sink's URL (password hidden), if it has one."""
        return str(getattr(self.sink, "url", ""))

    def close(self) -> None:
        """Pass the close on to the wrapped sink."""
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()


class CopyPlan:
    """How to COPY rows into one table: the statement and each row column's bind processor."""

    def __init__(
        self, statement: str, keys: tuple[str, ...], processors: tuple[Any, ...], fill: Filler = dict
    ) -> None:
        self.statement = statement
        self.keys = keys
        self.processors = processors
        self.fill = fill

    def write(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """COPY ``rows`` on ``connection`` (inside its transaction); raise SQLAlchemy errors like execute()."""
        records = [self._record(row) for row in rows]
        driver = connection.connection.driver_connection
        try:
            with driver.cursor() as cursor, cursor.copy(self.statement) as copy:
                for record in records:
                    copy.write_row(record)
        except psycopg.Error as exc:
            if driver.broken or driver.closed:
                connection.invalidate(exc)
            raise sa_exc.DBAPIError.instance(
                self.statement, None, exc, psycopg.Error, dialect=connection.dialect
            ) from exc

    def _record(self, row: Mapping[str, Any]) -> list[Any]:
        row = self.fill(row)
        try:
            values = [row[key] for key in self.keys]
        except KeyError as exc:
            raise ValueError(f"newlog: log row lacks the column {exc.args[0]!r}: {sorted(row)}") from None
        return [value if process is None else process(value) for process, value in zip(self.processors, values)]


class JsonPlan:
    """How to store rows on PostgreSQL (any driver) as the spool writer does: one ``INSERT ... SELECT
    FROM json_to_recordset`` per batch (:class:`newlog.spool_store.SpoolRowStore`), each row with its
    Python-side defaults serialized once with orjson (:func:`newlog.rows.encode_row`).

    The worker thread runs in the app process, where its Python work holds the GIL: measured
    (100,000 rows into the indexed table, three rounds), 3.3-6.0 µs of the process's CPU per row
    against 18-22 µs for COPY (psycopg adapting each value), and 1.6-1.9x the rows/s. A JSON (not
    JSONB) column gets the dialect's own serializer's text (``json.dumps``, as the INSERT stores
    it), embedded as it is: the server keeps a JSON field's text.
    """

    def __init__(self, store: SpoolRowStore, fill: Filler, json_text: dict[str, Callable[[Any], str]]) -> None:
        self.store = store
        self.fill = fill
        self.json_text = json_text

    def write(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store ``rows`` on ``connection`` (inside its transaction); raise SQLAlchemy errors like execute()."""
        self.store.write(connection, [self._line(row) for row in rows])

    def _line(self, row: Mapping[str, Any]) -> bytes:
        """One JSON line (a trailing newline is whitespace between the array's elements)."""
        row = self.fill(row)
        if not self.json_text:
            return encode_row(row)
        embedded = {**row, **{key: orjson.Fragment(dump(row.get(key))) for key, dump in self.json_text.items()}}
        try:
            return orjson.dumps(embedded, default=describe)
        except (TypeError, orjson.JSONEncodeError):
            # orjson refuses another value (an int beyond 64 bits): encode_row's stdlib fallback,
            # which cannot embed a Fragment, stores the same documents (the JSON text then unescaped).
            return encode_row(row)


def _fast_path_columns(table: Table) -> tuple[list[Column[Any]], list[Column[Any]], Filler] | None:
    """Return the row columns, the Python-defaulted columns and their filler, or None when no fast path may store ``table``.

    None: a row column not a DateTime, String (Text, Enum) or JSON (JSONB) column, or another
    column's default a SQL expression or a sequence (those only an INSERT statement evaluates).
    """
    row_columns = [table.c[key] for key in ROW_COLUMNS]
    if not all(isinstance(column.type, _COPY_TYPES) for column in row_columns):
        return None
    try:
        return row_columns, python_default_columns(table), defaults_filler(table)
    except NotInPython:
        return None


def json_plan(engine: Engine, table: Table) -> JsonPlan | None:
    """Return the server-parsed JSON plan for ``table`` on ``engine``, or None where it could store other rows.

    PostgreSQL only, the same row column types as :func:`copy_plan` (no TypeDecorator: its bind
    processing would be skipped), and no other column with a default that is a SQL expression.
    """
    dialect = engine.dialect
    fast = _fast_path_columns(table) if dialect.name == "postgresql" else None
    if fast is None:
        return None
    row_columns, defaulted, fill = fast
    if any(isinstance(column.type, TypeDecorator) for column in defaulted):
        return None
    serialize = json_serializer(dialect)
    json_text = {
        str(column.key): serialize
        for column in row_columns + defaulted
        if isinstance(column.type, JSON) and not isinstance(column.type, JSONB)
    }
    store = SpoolRowStore(engine, table, [column.key for column in defaulted])
    return JsonPlan(store, fill, json_text)


def copy_plan(engine: Engine, table: Table) -> CopyPlan | None:
    """Return the COPY plan for ``table`` on ``engine``, or None when COPY could store different rows.

    COPY is used only on PostgreSQL through psycopg 3 (sync), when every row column is a
    DateTime, String (Text, Enum) or JSON (JSONB) column, and no other column's default is
    a SQL expression or a sequence (those only an INSERT statement evaluates), and no column it
    copies is a ``timestamp without time zone`` (COPY text ignores an offset there, where an
    INSERT turns an aware datetime into the session's wall time). Columns with a Python-side
    default get it computed per row and are copied too.
    """
    dialect = engine.dialect
    if psycopg is None or dialect.name != "postgresql" or dialect.driver != "psycopg":
        return None
    fast = _fast_path_columns(table)
    if fast is None:
        return None
    row_columns, defaulted, fill = fast
    columns = row_columns + defaulted
    if any(naive_timestamp_column(column) for column in columns):
        return None  # COPY text ignores an offset there; an INSERT turns an aware value into the session's wall time
    processors = tuple(column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns)
    preparer = dialect.identifier_preparer
    names = ", ".join(preparer.quote(column.name) for column in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    return CopyPlan(statement, tuple(column.key for column in columns), processors, fill)


def default_sink(app: Flask, *, db: Any = None, table: Any = None, settings: Settings | None = None) -> DatabaseSink:
    """Return the sink writing to ``table`` on a connection of its own to the app's database.

    ``db`` defaults to the app's flask-sqlalchemy extension (when it is registered only after
    ``init_app``, a :class:`DeferredSink` finds it at the first write); ``table`` may be a Table,
    a model class, or a table name (default the ``LOG_TABLE`` setting, "unified_logs"). A name
    is looked up at the first write, so models imported after ``init_app`` count: the app's
    own model of that name, else the existing table as the database describes it, else
    newlog's own table, created (several processes starting at once may race to create it:
    that is fine) unless ``LOG_CREATE_TABLE`` says not to (see :func:`may_create_table`): then
    the write fails with :class:`MissingLogTable` and is retried. The engine is
    :func:`writer_engine`: never the app's pool.
    """
    db = db if db is not None else app.extensions.get("sqlalchemy")
    if db is None:
        return DeferredSink(lambda: _registered_sink(app, table, settings))  # type: ignore[return-value]
    settings = settings or Settings.load(app.config)
    wanted = table if table is not None else settings.LOG_TABLE
    known = resolve_table(db, wanted) if not isinstance(wanted, str) or known_table(db, wanted) is not None else None
    app_engine, options = app_engine_for(app, db, known)
    engine = writer_engine(app_engine, settings.LOG_RETRY_SECONDS, options)
    owns = engine is not app_engine
    if known is not None:
        return DatabaseSink(engine, known, owns_engine=owns)

    def resolve_by_name(engine: Engine) -> Table:
        # The app's model may be imported after init_app: look again at the first write.
        if known_table(db, wanted) is not None:
            return resolve_table(db, wanted)
        if inspect(engine).has_table(wanted):
            return resolve_table(db, Table(wanted, MetaData(), autoload_with=engine))
        own = resolve_table(db, log_table(wanted))
        if not may_create_table(app, settings):
            raise MissingLogTable(missing_table_message(app, wanted, settings))
        _create_if_missing(engine, own)
        return own

    def engine_for(table: Table) -> tuple[Engine, bool] | None:
        return bound_writer_engine(app, db, table, lambda app_engine, options: writer_engine(app_engine, settings.LOG_RETRY_SECONDS, options))

    return DatabaseSink(engine, resolve_by_name, owns_engine=owns, table_name=wanted, engine_for=engine_for)


def bound_writer_engine(
    app: Flask, db: Any, table: Table, make: Callable[[Engine, dict[str, Any]], Engine]
) -> tuple[Engine, bool] | None:
    """For a table found at the first write that is bound to another of the app's databases: the engine
    ``make`` builds from that bind's engine and options, and whether it is a new one (None: not bound)."""
    if bind_key_of(table) is None:
        return None
    app_engine, options = app_engine_for(app, db, table)
    engine = make(app_engine, options)
    return engine, engine is not app_engine


_POOL_OPTIONS = frozenset(
    {"pool", "poolclass", "pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping",
     "pool_use_lifo", "pool_reset_on_return", "pool_logging_name", "echo_pool", "echo"}
)


def engine_options(app: Flask, db: Any, bind_key: str | None = None) -> dict[str, Any]:
    """Return the app's engine options that shape a connection (connect_args, JSON codecs...), not its pool's.

    ``bind_key``: those of that bind's engine (its ``SQLALCHEMY_BINDS`` entry, when a dict, over the defaults).
    """
    options = {**getattr(db, "_engine_options", {}), **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    if bind_key is not None:
        bind = app.config.get("SQLALCHEMY_BINDS", {}).get(bind_key)
        options.update(bind if isinstance(bind, Mapping) else {})
    return {key: value for key, value in options.items() if key not in _POOL_OPTIONS and key != "url"}


def app_metadatas(db: Any) -> list[MetaData]:
    """Return the app's MetaData objects, the default first (flask-sqlalchemy 3 keeps one per bind key)."""
    binds = getattr(db, "metadatas", None) or {}
    return [db.metadata, *(metadata for key, metadata in binds.items() if key is not None)]


def known_table(db: Any, name: str) -> Table | None:
    """Return the app's own table (model) called ``name``, whichever database it is bound to, or None."""
    for metadata in app_metadatas(db):
        if name in metadata.tables:
            return metadata.tables[name]
    return None


def app_engine_for(app: Flask, db: Any, table: Table | None) -> tuple[Engine, dict[str, Any]]:
    """Return the app's engine that holds ``table`` (its bind's, else the default one) and that engine's :func:`engine_options`."""
    bind_key = bind_key_of(table)
    with app.app_context():
        engine = bound_engine(db, bind_key)
    return engine, engine_options(app, db, bind_key)


def bind_key_of(table: Table | None) -> str | None:
    """Return the bind key of the app's table (``__bind_key__``, ``db.Table(..., bind_key=...)``), None for the default."""
    return None if table is None else table.metadata.info.get("bind_key")


def bound_engine(db: Any, bind_key: str | None) -> Engine:
    """Return the app's engine for ``bind_key`` (its ``SQLALCHEMY_BINDS`` database), the default one for None.

    Needs an app context.
    """
    if bind_key is None:
        return db.engine
    engines = getattr(db, "engines", {})
    if bind_key not in engines:
        raise ConfigError(f"newlog: the log table is bound to {bind_key!r}, which SQLALCHEMY_BINDS does not name")
    return engines[bind_key]


def attempt_seconds(retry_seconds: float) -> float:
    """Return how long one write may wait for the database: a third of ``retry_seconds``, 0.25-10 s."""
    return min(10.0, max(0.25, retry_seconds / 3))


def writer_engine(
    app_engine: Engine,
    retry_seconds: float,
    options: Mapping[str, Any] | None = None,
    *,
    pool_size: int = 1,
    max_overflow: int = 0,
    sqlite_timeout: float | None = None,
) -> Engine:
    """Return an engine of its own for the log writer: the app's URL and connect options, a pool of one.

    The log writer never takes a connection from the app's pool (requests never wait for
    the logger, and logging never waits for an exhausted pool). Each attempt is bounded so
    that ``retry_seconds`` allows about three: SQLite's busy timeout, PostgreSQL's connect
    timeout and statement timeout are a third of it (0.25-10 s). An in-memory SQLite
    database exists only on the app's own connection: then the app's engine is returned.
    ``pool_size`` / ``max_overflow`` size the pool for writers in several threads
    (``LOG_SYNC_WRITES``); ``sqlite_timeout`` replaces SQLite's busy timeout.
    """
    url = app_engine.url
    backend = url.get_backend_name()
    if backend == "sqlite" and (url.database in (None, "", ":memory:") or "mode=memory" in str(url)):
        return app_engine
    attempt = attempt_seconds(retry_seconds)
    options = {key: value for key, value in (options or {}).items() if key not in _POOL_OPTIONS}
    connect_args = dict(options.pop("connect_args", {}) or {})
    if backend == "sqlite":
        connect_args["timeout"] = attempt if sqlite_timeout is None else sqlite_timeout
    elif backend == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        connect_args.setdefault("connect_timeout", max(1, round(attempt)))
        # connect_args replace the URL's own ?options=... (a search_path, say): carry it over, as the app's engine has it
        in_url = url.query.get("options", "")
        given = str(connect_args["options"] if "options" in connect_args else " ".join(in_url) if isinstance(in_url, tuple) else in_url)
        connect_args["options"] = f"{given.strip()} -c statement_timeout={int(attempt * 1000)}".strip()
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=attempt,
        pool_pre_ping=True,
        connect_args=connect_args,
        **options,
    )


def _probe_row() -> dict[str, Any]:
    return build_row({"event": "newlog health probe (rolled back)", "level": "info", "module": "newlog"})


class SinkNotReady(RuntimeError):
    """The app's database is not set up yet (retried like an unreachable database)."""


class MissingLogTable(SinkNotReady):
    """The log table does not exist and newlog must not create it (Flask-Migrate / ``LOG_CREATE_TABLE``)."""


def may_create_table(app: Flask, settings: Settings | None) -> bool:
    """Return whether newlog may create its own log table for ``app`` when it is missing.

    ``LOG_CREATE_TABLE`` true / false decides; ``auto`` (the default) creates it unless the
    app is managed by Flask-Migrate (``app.extensions["migrate"]``): its schema changes go
    through Alembic, and a table created behind Alembic's back breaks the next migration.
    """
    policy = (settings or Settings.load(app.config)).LOG_CREATE_TABLE
    if policy == "auto":
        return "migrate" not in app.extensions
    return policy == "true"


def missing_table_message(app: Flask, name: str, settings: Settings | None) -> str:
    """Return what to do about the missing log table ``name`` of ``app``."""
    policy = (settings or Settings.load(app.config)).LOG_CREATE_TABLE
    why = (
        "the app is managed by Flask-Migrate (LOG_CREATE_TABLE=auto)" if policy == "auto" else "LOG_CREATE_TABLE=false"
    )
    return (
        f"newlog: the log table {name!r} does not exist and newlog does not create it: {why}. Add it to the app's "
        "migrations ('flask newlog-table --alembic' prints the op.create_table code, '--sql' the DDL) and run "
        "'flask db upgrade', or create it now with 'flask newlog-table', or set LOG_CREATE_TABLE=true"
    )


def _registered_sink(app: Flask, table: Any, settings: Settings | None) -> DatabaseSink:
    if app.extensions.get("sqlalchemy") is None:
        raise SinkNotReady(
            f"newlog: app {app.name!r} has no flask-sqlalchemy extension; call db.init_app(app) in the app factory "
            "(before or after newlog.init_app), or pass db=... (or sink=... to write elsewhere)"
        )
    return default_sink(app, table=table, settings=settings)


def _create_if_missing(engine: Engine, table: Table) -> None:
    """Create ``table`` unless it exists; another process creating it at the same moment is not an error."""
    try:
        table.create(engine, checkfirst=True)
    except sa_exc.DatabaseError:
        if not inspect(engine).has_table(table.name, schema=table.schema):
            raise


def resolve_table(db: Any, table: Any) -> Table:
    """Return the Table for a Table, a model class or a name; check it has the row columns."""
    if isinstance(table, str):
        known = known_table(db, table)
        resolved = known if known is not None else log_table(table)
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
    if isinstance(exc, (sa_exc.ProgrammingError, sa_exc.InterfaceError)):
        # A value the driver cannot bind (an object for a text column) fails as a ProgrammingError,
        # as a missing table does: told apart by the drivers' own wording.
        return any(words in str(exc.orig).lower() for words in _UNBINDABLE)
    return isinstance(exc, (TypeError, ValueError, UnicodeError))


# sqlite3 ("Error binding parameter 4: type 'dict' is not supported"; before 3.11 an InterfaceError),
# psycopg 3 ("cannot adapt type 'dict'"), psycopg2 ("can't adapt type 'dict'").
_UNBINDABLE = ("error binding parameter", "cannot adapt type", "can't adapt type")


def describe_error(exc: BaseException) -> str:
    """Return one short line for a write error: the driver's message without SQL or parameters; never raises.

    A missing log table gets a hint on how to create it.
    """
    original = getattr(exc, "orig", None) if isinstance(exc, sa_exc.DBAPIError) else None
    text = error_text(original if isinstance(original, BaseException) else exc)
    if _is_missing_table(exc):
        text += (
            " (the log table is missing: create it with the app's migrations, or drop LOG_TABLE/model so that "
            "newlog creates its own table at the next start)"
        )
    return text


def _is_missing_table(exc: BaseException) -> bool:
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    original = exc.orig
    if getattr(original, "sqlstate", None) == "42P01":  # PostgreSQL: undefined_table
        return True
    try:
        return "no such table" in str(original)
    except Exception:  # noqa: BLE001 - an unprintable driver error
        return False


class DeferredSink:
    """The default sink of an app whose flask-sqlalchemy extension is registered after ``newlog.init_app``.

    The legacy module looked the database up per event, so app factories could configure
    logging before ``db.init_app(app)``; this sink is built at the first write, when the
    factory has run. Until then a write raises :class:`SinkNotReady` and is retried.
    """

    def __init__(self, build: Callable[[], DatabaseSink]) -> None:
        self.build = build
        self.sink: DatabaseSink | None = None
        self._lock = threading.Lock()

    def _built(self) -> DatabaseSink:
        sink = self.sink
        if sink is None:
            with self._lock:  # sync writes come from many threads: one of them builds it
                if self.sink is None:
                    self.sink = self.build()
                sink = self.sink
        return sink

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self._built()(rows)

    is_poison = staticmethod(is_poison)
    describe_error = staticmethod(describe_error)

    def after_fork(self) -> None:
        """Pass the fork on to the sink, once built."""
        if self.sink is not None:
            self.sink.after_fork()

    def check(self) -> None:
        """Connect once, when the app's database is registered by now (else the first write retries)."""
        try:
            sink = self._built()
        except SinkNotReady:
            return
        sink.check()

    def probe(self) -> dict[str, Any]:
        """Probe the database (see :meth:`DatabaseSink.probe`); not ok while the app has no database."""
        try:
            sink = self._built()
        except SinkNotReady as exc:
            return {"ok": False, "connect": str(exc), "table": "skipped", "insert": "skipped"}
        return sink.probe()

    @property
    def url(self) -> str:
        """Return the database URL (password hidden), once the sink is built."""
        return self.sink.url if self.sink is not None else ""

    @property
    def table_name(self) -> str | None:
        """Return the log table's name, once the sink is built."""
        return self.sink.table_name if self.sink is not None else None

    def close(self) -> None:
        """Close the sink, once built."""
        if self.sink is not None:
            self.sink.close()
