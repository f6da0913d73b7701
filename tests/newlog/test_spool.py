"""The durable mode (``LOG_SPOOL_DIR``): every accepted event stored exactly once, through real app and writer
processes, on SQLite and PostgreSQL, whatever process is killed when."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import errno
import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    Numeric,
    PickleType,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    Uuid,
    create_engine,
    event,
    func,
    inspect,
    make_url,
    text,
)
from sqlalchemy import (
    Sequence as SqlSequence,
)
from sqlalchemy.types import UserDefinedType

import newlog
from newlog.clock import SystemClock
from newlog.heartbeat import read_heartbeats
from newlog.rows import build_row, encode_row
from newlog.settings import ConfigError
from newlog.spool_files import STALE_SECONDS, Segment
from newlog.spool_writer import PROGRESS_TABLE, SpoolWriter
from tests.conftest import MakeApp, require_postgres
from tests.newlog.spool_support import (
    AppProcess,
    kill_process,
    spool_files,
    stored_seqs,
    wait_for_rows,
    wait_until_gone,
)
from tests.support import LogLevel, log_columns, stored_rows, wait_until

N = 3000


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def table_name() -> str:
    return f"spool_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def drop_table(database_url: str, table_name: str) -> Any:
    yield
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP TABLE IF EXISTS "{table_name}"'))
    engine.dispose()


def exactly_once(url: str, table: str, count: int) -> None:
    seqs = stored_seqs(url, table)
    duplicated = {seq: times for seq, times in seqs.items() if times > 1}
    missing = set(range(count)) - set(seqs)
    assert not duplicated and not missing and len(seqs) == count, (
        f"{len(missing)} missing (e.g. {sorted(missing)[:5]}), {len(duplicated)} duplicated, {len(seqs)} stored"
    )


@pytest.fixture(params=["sqlite", "postgresql", "postgresql-psycopg2"])
def any_driver_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite, PostgreSQL through psycopg 3, and a plain ``postgresql://`` URL (SQLAlchemy's default: psycopg2)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'logs.db'}"
    url = make_url(require_postgres())
    if request.param == "postgresql-psycopg2":
        url = url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def test_every_event_is_stored_once_and_the_spool_is_emptied(
    make_app: MakeApp, any_driver_url: str, spool_dir: Path
) -> None:
    app = make_app(any_driver_url, init=False, LOG_SPOOL_DIR=str(spool_dir))
    queue = newlog.init_app(app)
    for seq in range(500):
        newlog.log_info("spooled", module="orders", seq=seq, payload={"nested": [1, 2.5, None, "Zoë ✓"]})
    newlog.log_warning("careful", module="orders", seq=500)
    assert newlog.flush(60)

    rows = stored_rows(app)
    assert [row["context"]["seq"] for row in rows] == list(range(501))
    assert rows[0]["module"] == "orders" and rows[0]["context"]["payload"] == {"nested": [1, 2.5, None, "Zoë ✓"]}
    assert rows[-1]["level"] == "WARNING"
    stats = queue.stats()
    assert stats["mode"] == "spool" and stats["alive"]
    assert (stats["enqueued"], stats["written"], stats["dropped_failed"], stats["queued"]) == (501, 501, 0, 0)

    writer_pid = stats["writer_pid"]
    assert newlog.shutdown(30)
    wait_until_gone(writer_pid)
    assert spool_files(spool_dir) == []
    assert not list(spool_dir.glob("*.owner"))


def legacy_model_table(name: str, level: Any = None) -> Table:
    """A real app's log model: an extra ``created_at`` column with a Python-side default (``level``: its type)."""
    return Table(
        name,
        MetaData(),
        *log_columns(**({"level": level} if level is not None else {})),
        Column("created_at", DateTime(timezone=True), nullable=False, default=lambda: CREATED_AT),
        Column("source", String(20), nullable=False, default="web"),
    )


CREATED_AT = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
HOSTILE = [
    {"nested": {"deep": [1, 2.5, None, True, "tab\there", 'quote"s', "back\\slash"]}},
    {"text": "unicode ✓ 😀 中文 e\u0301 \\N \\u00e9"},
    {"number": 2**62, "small": 1e-300, "negative": -0.0},
]


def rows_through_both_modes(
    make_app: MakeApp, database_url: str, tmp_path: Path, model: Callable[[str], Table], *, imported_late: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """Log the same events through the worker thread and through the spool, each into a ``model`` table.

    Return each mode's stored rows as raw SQL reads them, without ``id``, the event's
    ``timestamp`` last (the one column that differs between the modes: the events are logged twice).
    ``imported_late``: the table exists in the database, but the app's model joins the app's
    MetaData only after ``init_app`` (named by ``LOG_TABLE``), as in an app factory that imports
    its models with its blueprints.
    """
    stored: dict[str, list[tuple[Any, ...]]] = {}
    for mode in ("thread", "spool"):
        table = model(f"{mode}_{uuid.uuid4().hex[:8]}")
        app = make_app(database_url, init=False, APP_NAME="equal")
        if mode == "spool":
            app.config["LOG_SPOOL_DIR"] = str(tmp_path / "spool")
        db = app.extensions["sqlalchemy"]
        with app.app_context():
            table.create(db.engine)
        try:
            if imported_late:
                app.config["LOG_TABLE"] = table.name
                newlog.init_app(app, db=db)
                table = table.to_metadata(db.metadata)
            else:
                newlog.init_app(app, db=db, model=table)
            with app.app_context():
                newlog.log_info("plain", module="api")
                for index, extra in enumerate(HOSTILE):
                    newlog.log_warning(f"event {index}", module="api", **extra)
                try:
                    raise RuntimeError("boom")
                except RuntimeError:
                    newlog.log_error("failed", module="api", order_id=7)
            assert newlog.flush(60)
            columns = ", ".join(f'"{column.name}"' for column in table.c if column.key not in ("id", "timestamp"))
            columns += f', "{table.c.timestamp.name}"'
            documents = {"context"} | {column.name for column in table.c if isinstance(column.type, JSON)}  # compared as documents
            with app.app_context(), db.engine.connect() as connection:
                result = connection.execute(text(f'SELECT {columns} FROM "{table.name}" ORDER BY id'))
                stored[mode] = [
                    tuple(json.loads(value) if name in documents and isinstance(value, str) else value for name, value in row._mapping.items())
                    for row in result
                ]
        finally:
            newlog.shutdown(30)
            with app.app_context():
                table.drop(db.engine)
                db.engine.dispose()
    return stored


def spooled_as_inserted(
    make_app: MakeApp, database_url: str, tmp_path: Path, model: Callable[[str], Table], **options: Any
) -> list[tuple[Any, ...]]:
    """The rows the spool stored for :func:`rows_through_both_modes`' five events, checked equal to the worker thread's
    (which stores through the model's INSERT) but for the event's timestamp."""
    stored = rows_through_both_modes(make_app, database_url, tmp_path, model, **options)
    assert len(stored["spool"]) == len(stored["thread"]) == 5
    assert without_timestamps(stored["spool"]) == without_timestamps(stored["thread"])
    return stored["spool"]


def without_timestamps(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [row[:-1] for row in rows]


def test_spooled_rows_equal_the_thread_mode_rows(make_app: MakeApp, database_url: str, tmp_path: Path) -> None:
    """Same events, same app model, once through the worker thread and once through the spool: same rows."""
    spooled = spooled_as_inserted(make_app, database_url, tmp_path, legacy_model_table)
    created, source = spooled[0][5:7]  # SQLite hands a raw SELECT the text, without offset
    assert str(created).startswith("2025-01-02 03:04:05") and source == "web"


def enum_model_table(name: str) -> Table:
    """The legacy ``UnifiedLog`` model's level: ``Enum(LogLevel)``, a native enum type on PostgreSQL."""
    return legacy_model_table(name, level=Enum(LogLevel, name=f"{name}_level"))


def test_a_native_enum_level_column_gets_the_same_rows_through_the_spool(make_app: MakeApp, database_url: str, tmp_path: Path) -> None:
    spooled = spooled_as_inserted(make_app, database_url, tmp_path, enum_model_table)
    assert [row[0] for row in spooled] == ["INFO", "WARNING", "WARNING", "WARNING", "ERROR"]


class JSONText(TypeDecorator[Any]):
    """The ``JSONEncodedDict`` of SQLAlchemy's docs: JSON text in a text column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True)


class Masked(TypeDecorator[str]):
    """A column whose text is encoded before it is stored (what an encrypting type does)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else "enc:" + base64.b64encode(value.encode()).decode()


class NaiveUTC(TypeDecorator[dt.datetime]):
    """A timestamp stored as naive UTC, in a decorator chain (the outer one only passes it on)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.astimezone(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=1)


class Stamp(TypeDecorator[dt.datetime]):
    impl = NaiveUTC
    cache_ok = True


class Sealed(TypeDecorator[str]):
    """An encrypting type whose stored form is binary."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        return None if value is None else value.encode()[::-1]


def decorated_model_table(name: str) -> Table:
    """A real app's log model whose columns carry TypeDecorators (one on a Python-side default column)."""
    return Table(
        name,
        MetaData(),
        *log_columns(timestamp=NaiveUTC, message=Masked, context=JSONText),
        Column("created_at", Stamp, nullable=False, default=lambda: CREATED_AT),
        Column("source", String(20), nullable=False, default="web"),
    )


def test_type_decorators_of_the_model_apply_to_spooled_rows_as_to_the_insert(
    make_app: MakeApp, database_url: str, tmp_path: Path
) -> None:
    """The writer process has no model, only the table the database describes: the decorators run in the app."""
    spooled = spooled_as_inserted(make_app, database_url, tmp_path, decorated_model_table)
    message, context, created = spooled[4][2], spooled[4][4], spooled[4][5]
    assert message == "enc:" + base64.b64encode(b"failed").decode()  # not in clear
    assert context["order_id"] == 7  # stored as JSON text by JSONText (a dict would be refused by the text column)
    assert str(created).startswith("2025-01-02 02:04:05")  # NaiveUTC's shift, through Stamp
    an_hour_ago = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=1)
    for row in spooled:
        stamp = row[-1] if isinstance(row[-1], dt.datetime) else dt.datetime.fromisoformat(row[-1])
        assert stamp.tzinfo is None and abs(stamp - an_hour_ago) < dt.timedelta(minutes=5)


def test_a_model_imported_after_init_app_gets_the_same_rows_through_the_spool(
    make_app: MakeApp, database_url: str, tmp_path: Path
) -> None:
    """The app factory imports its models after ``init_app``: the spool finds the model when it joins the app's
    MetaData, so its defaults and decorators apply, and the writer stores the columns they fill."""
    spooled = spooled_as_inserted(make_app, database_url, tmp_path, decorated_model_table, imported_late=True)
    message, created, source = spooled[4][2], spooled[4][5], spooled[4][6]
    assert message == "enc:" + base64.b64encode(b"failed").decode() and source == "web"
    assert str(created).startswith("2025-01-02 02:04:05")


def typed_model_table(name: str) -> Table:
    """A model whose Python-side defaults are of types SQLite and MySQL emulate (``Uuid``, ``Interval``) and others."""
    return Table(
        name,
        MetaData(),
        *log_columns(),
        Column("request_uuid", Uuid, default=lambda: uuid.UUID(int=7)),
        Column("elapsed", Interval, default=dt.timedelta(hours=1, microseconds=5)),
        Column("flag", Boolean, default=True),
        Column("day", Date, default=lambda: dt.date(2025, 1, 2)),
        Column("at", Time, default=lambda: dt.time(3, 4, 5)),
        Column("amount", Numeric(10, 2), default=decimal.Decimal("1.50")),
        Column("kind", Enum("a", "b", name="kind_e", native_enum=False), default="a"),
        Column("big", BigInteger, default=2**40),
    )


def test_values_of_types_the_database_emulates_are_stored_as_the_insert_stores_them(
    make_app: MakeApp, database_url: str, tmp_path: Path
) -> None:
    """The writer only has the reflected column (``CHAR(32)``, ``DATETIME``): the app process stores a ``Uuid`` as
    32 hex digits and an ``Interval`` as a time after the epoch on SQLite, as the INSERT does (dashes before, and
    the interval refused)."""
    spooled = spooled_as_inserted(make_app, database_url, tmp_path, typed_model_table)
    if make_url(database_url).get_backend_name() == "sqlite":
        assert spooled[0][5:7] == ("00000000000000000000000000000007", "1970-01-01 01:00:00.000005")


def renamed_model_table(name: str) -> Table:
    """A model whose attributes are stored under other column names (``level = db.Column("log_level", ...)``)."""
    return Table(
        name,
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("created", DateTime(timezone=True), key="timestamp"),
        Column("log_level", String(20), key="level"),
        Column("module", String(100)),
        Column("msg", Text, key="message"),
        Column("traceback", Text),
        Column("context", JSON),
        Column("made_at", DateTime(timezone=True), key="created_at", nullable=False, default=lambda: CREATED_AT),
    )


def test_columns_the_model_names_otherwise_than_its_attributes_get_their_values_through_the_spool(
    make_app: MakeApp, database_url: str, tmp_path: Path
) -> None:
    """The writer reflects the table, which only knows the names: the app tells it which row key is which column."""
    spooled = spooled_as_inserted(make_app, database_url, tmp_path, renamed_model_table)
    assert spooled[4][:3] == ("ERROR", "api", "failed")


def sequence_model_table(name: str) -> Table:
    """A model numbering its rows from an explicit sequence (``db.Sequence``): PostgreSQL draws from it, SQLite ignores it."""
    return Table(name, MetaData(), Column("id", Integer, SqlSequence(f"{name}_id_seq"), primary_key=True), *log_columns()[1:])


def test_a_model_numbered_by_an_explicit_sequence_gets_its_ids_from_it_through_the_spool(
    make_app: MakeApp, database_url: str, tmp_path: Path
) -> None:
    """An INSERT puts ``nextval`` in the statement on PostgreSQL (the column has no server default): so does the writer."""
    spooled_as_inserted(make_app, database_url, tmp_path, sequence_model_table)


@pytest.mark.parametrize("model", [renamed_model_table, sequence_model_table], ids=["renamed columns", "sequence"])
def test_a_model_imported_after_init_app_that_the_writer_must_be_told_of_gets_the_same_rows_through_the_spool(
    make_app: MakeApp, database_url: str, tmp_path: Path, model: Callable[[str], Table]
) -> None:
    """The writer process was started at ``init_app`` without the model: when it appears, the writer is restarted
    with what it must know (which row key is which column, the sequence to draw from) before a row of it is stored."""
    spooled_as_inserted(make_app, database_url, tmp_path, model, imported_late=True)


def nul_default_model_table(name: str) -> Table:
    """A model whose JSON column default carries a NUL character: an INSERT stores its ``\\u0000`` escape."""
    table = legacy_model_table(name)
    table.append_column(Column("meta", JSON, default=lambda: {"raw": "a\x00b"}))
    return table


def test_a_row_the_batch_path_refuses_but_an_insert_stores_is_stored_as_the_insert_stores_it(
    make_app: MakeApp, database_url: str, tmp_path: Path
) -> None:
    """PostgreSQL's ``json_to_recordset`` refuses a ``\\u0000`` escape that a ``json`` column takes from an INSERT:
    the row, refused alone, is stored through the INSERT in both modes, not given up."""
    spooled = spooled_as_inserted(make_app, database_url, tmp_path, nul_default_model_table)
    assert spooled[0][7] == {"raw": "a\x00b"}


class Checked(TypeDecorator[str]):
    """A type whose bind step refuses some values (as an encrypting type refuses an over-long text)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is not None and "forbidden" in value:
            raise ValueError("forbidden text")
        return value


def test_a_row_the_model_refuses_in_the_app_process_is_dropped_counted_and_reported_never_raised(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"))
    db = app.extensions["sqlalchemy"]
    table = legacy_model_table("checked")
    table.c.message.type = Checked()
    with app.app_context():
        table.create(db.engine)
    queue = newlog.init_app(app, db=db, model=table)
    with app.app_context():
        newlog.log_info("allowed", module="api")
        newlog.log_info("forbidden", module="api")  # does not raise into the app
        newlog.log_info("allowed again", module="api")
    assert not newlog.flush(60)  # one event since the last flush was lost, and said so
    stats = queue.stats()
    assert (stats["enqueued"], stats["written"], stats["dropped_spool_error"]) == (2, 2, 1)
    assert "forbidden text" in stats["last_error"]
    assert "refused the row: ValueError: forbidden text; event dropped" in caplog.text
    with app.app_context(), db.engine.connect() as connection:
        assert [row[0] for row in connection.execute(text("SELECT message FROM checked ORDER BY id"))] == ["allowed", "allowed again"]


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A PostgreSQL schema of its own, dropped with what it holds afterwards."""
    name = f"applogs_{uuid.uuid4().hex[:8]}"
    engine = create_engine(require_postgres())
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    yield name
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


@pytest.mark.parametrize("found_by", ["model-schema", "connect-args-search-path"])
def test_the_writer_process_finds_the_log_table_where_the_app_does(
    make_app: MakeApp, pg_schema: str, tmp_path: Path, found_by: str
) -> None:
    """A model in a schema of its own, or a table the app's engine finds through its ``connect_args``:
    the writer process, which only gets the database URL otherwise, stores there."""
    table = legacy_model_table("schema_logs")
    options: dict[str, Any] = {}
    if found_by == "model-schema":
        table.schema = pg_schema
    else:
        options = {"connect_args": {"options": f"-c search_path={pg_schema}"}}
    app = make_app(require_postgres(), init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"), SQLALCHEMY_ENGINE_OPTIONS=options)
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        table.create(db.engine)
    newlog.init_app(app, db=db, model=table)
    with app.app_context():
        for index in range(3):
            newlog.log_info(f"event {index}", module="api")
    assert newlog.flush(60), newlog.health()
    with create_engine(require_postgres()).connect() as connection:
        stored = connection.execute(text(f'SELECT message FROM "{pg_schema}".schema_logs ORDER BY id')).scalars().all()
    assert stored == ["event 0", "event 1", "event 2"]


def test_engine_connect_args_the_writer_process_cannot_get_are_refused(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path
) -> None:
    app = make_app(
        sqlite_url,
        init=False,
        LOG_SPOOL_DIR=str(tmp_path / "spool"),
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"factory": sqlite3.Connection}},  # the default: harmless here
    )
    with pytest.raises(ConfigError, match="connect_args.*'factory'.*cannot be passed to the writer process"):
        newlog.init_app(app)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"creator": lambda: sqlite3.connect(":memory:")}, "creator"),  # a Cloud SQL / IAM connector's way in
        ({"execution_options": {"schema_translate_map": {None: "tenant_a"}}}, "schema_translate_map"),
    ],
    ids=["creator", "schema_translate_map"],
)
def test_engine_options_that_change_where_a_connection_goes_are_refused_for_the_spool(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path, options: dict[str, Any], named: str
) -> None:
    """The writer process connects with the URL and ``connect_args``: an engine that connects or names its schemas
    another way would have the writer store elsewhere, or nowhere (the thread mode uses the app's engine options)."""
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"), SQLALCHEMY_ENGINE_OPTIONS=options)
    with pytest.raises(ConfigError, match=rf"engine's {named}.*the writer process.*leave LOG_SPOOL_DIR unset"):
        newlog.init_app(app)


def test_a_connect_hook_of_the_app_engine_which_the_writer_process_cannot_run_is_named_at_init_app(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``@event.listens_for(engine, "connect")`` setting a search_path: the writer connects without it, so say so."""
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"))
    db = app.extensions["sqlalchemy"]

    def set_search_path(dbapi_connection: Any, record: Any) -> None:
        pass

    with app.app_context():
        event.listen(db.engine, "connect", set_search_path)
    with caplog.at_level(logging.WARNING, logger="newlog"):
        newlog.init_app(app, db=db)
    warnings = [record.getMessage() for record in caplog.records if "on each new connection" in record.getMessage()]
    assert len(warnings) == 1 and "set_search_path" in warnings[0] and "connect_args" in warnings[0]


def test_an_engine_without_hooks_of_the_app_gets_no_such_warning(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"))
    with caplog.at_level(logging.WARNING, logger="newlog"):
        newlog.init_app(app)
    assert not [record for record in caplog.records if "on each new connection" in record.getMessage()]


def test_thread_mode_settings_given_with_a_spool_are_said_not_to_apply(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A team that sized its queue, then turned the durable mode on: its LOG_QUEUE_SIZE no longer bounds anything."""
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"), LOG_QUEUE_SIZE=50_000)
    with caplog.at_level(logging.WARNING, logger="newlog"):
        newlog.init_app(app)
    said = [record.getMessage() for record in caplog.records if "do(es) not apply" in record.getMessage()]
    assert len(said) == 1 and "LOG_QUEUE_SIZE" in said[0] and "LOG_BATCH_SIZE" not in said[0] and "LOG_SPOOL_MAX_BYTES" in said[0]


@pytest.mark.parametrize("binary", [Sealed, PickleType], ids=["encrypting-decorator", "pickle-type"])
def test_a_model_column_stored_as_binary_is_refused_for_the_spool(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path, binary: type[Any]
) -> None:
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"))
    table = legacy_model_table("sealed")
    table.c.context.type = binary()
    with pytest.raises(ConfigError, match=f"'context' is a {binary.__name__} stored as LargeBinary.*leave LOG_SPOOL_DIR unset"):
        newlog.init_app(app, db=app.extensions["sqlalchemy"], model=table)


@pytest.mark.usefixtures("drop_table")
@pytest.mark.parametrize("also_kill_the_writer", [False, True], ids=["app-only", "app-and-writer"])
def test_kill_9_of_the_app_then_a_restart_stores_exactly_the_accepted_events(
    database_url: str, table_name: str, spool_dir: Path, also_kill_the_writer: bool
) -> None:
    app = AppProcess(database_url, table_name, spool_dir)
    writer = app.writer_pid()
    assert app.log(0, N) == N
    if also_kill_the_writer:
        kill_process(writer)
    app.kill()
    if not also_kill_the_writer:
        wait_until_gone(writer)  # a writer whose app is gone stores what is left, then exits by itself

    restarted = AppProcess(database_url, table_name, spool_dir)
    wait_for_rows(database_url, table_name, N)
    assert restarted.flush()
    exactly_once(database_url, table_name, N)
    assert restarted.stop() == 0
    exactly_once(database_url, table_name, N)
    assert spool_files(spool_dir) == []


@pytest.mark.usefixtures("drop_table")
def test_kill_9_of_the_writer_mid_batch_stores_every_row_once(
    database_url: str, table_name: str, spool_dir: Path
) -> None:
    app = AppProcess(database_url, table_name, spool_dir)
    assert app.log(0, 10) == 10 and app.flush()  # the table exists; the writer is connected
    writer = app.writer_pid()
    engine = create_engine(database_url)
    with blocked_table(engine, table_name) as writer_blocked:
        assert app.log(10, N - 10) == N - 10
        writer_blocked(writer)  # the writer has claimed a batch in its transaction and waits to store it
        kill_process(writer)
    engine.dispose()
    assert app.flush(), app.stats()
    stats = app.stats()
    assert stats["writer_restarts"] >= 1 and stats["writer_pid"] != writer
    assert (stats["enqueued"], stats["written"], stats["queued"]) == (N, N, 0)
    exactly_once(database_url, table_name, N)
    assert app.stop() == 0


class blocked_table:
    """Hold a lock that stops the writer inside its batch transaction; ``writer_blocked(pid)`` waits for it.

    PostgreSQL: ``LOCK TABLE`` on the log table (the writer's INSERT waits on it, after its progress
    UPDATE; ``pg_stat_activity`` shows the wait). SQLite: an exclusive transaction on the file
    (the writer waits in its busy handler).
    """

    def __init__(self, engine: Any, table: str) -> None:
        self.engine = engine
        self.table = table

    def __enter__(self) -> Any:
        self.connection = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            self.connection.begin()
            self.connection.execute(text(f'LOCK TABLE "{self.table}" IN ACCESS EXCLUSIVE MODE'))
        else:
            self.connection.exec_driver_sql("BEGIN EXCLUSIVE")
        return self.writer_blocked

    def writer_blocked(self, pid: int) -> None:
        if self.engine.dialect.name != "postgresql":
            time.sleep(0.3)  # SQLite shows no waiter: give the writer's poll (20 ms) time to reach the lock
            return
        deadline = time.monotonic() + 30
        query = text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO%json_to_recordset%' "
            "AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as probe:
            while probe.execute(query).scalar() == 0:
                assert time.monotonic() < deadline, "the writer never reached the locked table"
                time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        if self.engine.dialect.name == "postgresql":
            self.connection.rollback()
        else:
            self.connection.exec_driver_sql("ROLLBACK")
        self.connection.close()


@pytest.mark.parametrize("reserve", [None, 0.5], ids=["default-reserve", "LOG_QUEUE_RESERVE=0.5"])
def test_a_full_spool_drops_the_newest_events_counted_and_keeps_room_for_warnings(tmp_path: Path, reserve: float | None) -> None:
    """The last ``LOG_QUEUE_RESERVE`` share of ``LOG_SPOOL_MAX_BYTES`` (a tenth by default) takes only WARNING and above."""
    app = Flask("full_spool")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'missing-dir' / 'logs.db'}",  # the writer cannot store
        LOG_SPOOL_DIR=str(tmp_path / "spool"),
        LOG_SPOOL_MAX_BYTES=20_000,
        LOG_SHUTDOWN_TIMEOUT=0.5,
        LOG_HEALTH_DIR=str(tmp_path / "health"),
        LOG_DRAIN_ON_SIGTERM=False,
    )
    if reserve is not None:
        app.config["LOG_QUEUE_RESERVE"] = reserve
    SQLAlchemy(app)
    queue = newlog.init_app(app)
    accepted = sum(queue.enqueue({"event": f"info {i}", "level": "info"}) for i in range(1000))
    below_reserve = 20_000 * (1 - (0.1 if reserve is None else reserve))
    assert below_reserve - 500 < queue.stats()["spool_bytes_pending"] <= below_reserve  # within one row of it
    warnings = sum(queue.enqueue({"event": f"warning {i}", "level": "warning"}, 30) for i in range(1000))
    stats = queue.stats()
    assert 0 < accepted < 1000 and 0 < warnings < 1000
    assert stats["dropped_overflow_below_warning"] == 1000 - accepted
    assert stats["dropped_overflow_warning_or_above"] == 1000 - warnings
    assert stats["enqueued"] == accepted + warnings == stats["written"] + stats["dropped_failed"] + stats["queued"]
    assert stats["spool_bytes_pending"] <= 20_000
    assert not queue.flush(0.1)


def test_rows_the_database_refuses_go_to_the_rejected_file_counted(make_app: MakeApp, tmp_path: Path) -> None:
    url = require_postgres()
    table = legacy_model_table(f"refuse_{uuid.uuid4().hex[:8]}")
    table.append_constraint(CheckConstraint("message NOT LIKE 'far too long%'", name=f"{table.name}_refuses"))
    app = make_app(url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"))
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        table.create(db.engine)
    try:
        queue = newlog.init_app(app, db=db, model=table)
        newlog.log_info("short", seq=0)
        newlog.log_info("far too long for the column", seq=1)
        newlog.log_info("short too", seq=2)
        assert not newlog.flush(60)  # something logged since the last flush was lost
        stats = queue.stats()
        assert (stats["enqueued"], stats["written"], stats["dropped_failed"], stats["queued"]) == (3, 2, 1, 0)
        with app.app_context(), db.engine.connect() as connection:
            assert connection.execute(text(f'SELECT message FROM "{table.name}" ORDER BY id')).scalars().all() == [
                "short",
                "short too",
            ]
        rejected = [json.loads(line) for line in next((tmp_path / "spool").glob("*.rejected")).read_text().splitlines()]
        assert len(rejected) == 1 and "far too long" in rejected[0]["line"] and "violates check constraint" in rejected[0]["error"]
    finally:
        newlog.shutdown(30)
        with app.app_context():
            table.drop(db.engine)


def test_spool_settings_that_cannot_work_are_refused(make_app: MakeApp, sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(tmp_path / "spool"))
    db = app.extensions["sqlalchemy"]
    with pytest.raises(ConfigError, match="LOG_SPOOL_DIR.*sink=.*exclude each other"):
        newlog.init_app(app, sink=lambda rows: None)
    with_sql_default = legacy_model_table("sql_default")
    with_sql_default.append_column(Column("inserted_at", DateTime, default=func.now()))
    with pytest.raises(ConfigError, match="inserted_at.*server_default"):
        newlog.init_app(app, db=db, model=with_sql_default)
    with pytest.raises(ConfigError, match="LOG_SPOOL_MAX_BYTES"):
        newlog.Settings.load({"LOG_SPOOL_MAX_BYTES": "0"})


def test_a_spool_directory_that_cannot_be_one_is_refused_naming_the_setting(
    make_app: MakeApp, sqlite_url: str, tmp_path: Path
) -> None:
    """A path that is a file (a typo, a mount gone): ``init_app`` says which setting and path, not a bare OSError."""
    taken = tmp_path / "spool"
    taken.write_text("not a directory")
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(taken))
    with pytest.raises(ConfigError, match=rf"LOG_SPOOL_DIR='{taken}'.*cannot be used as the spool directory"):
        newlog.init_app(app, db=app.extensions["sqlalchemy"])




class ShiftedClock(SystemClock):
    """The system clock, moved forward by hand (to age a heartbeat without waiting)."""

    def __init__(self) -> None:
        self.shift = 0.0

    def now(self) -> float:
        return super().now() + self.shift


def test_health_covers_the_writer_process_through_its_heartbeat(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path
) -> None:
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir))
    queue = newlog.init_app(app)
    newlog.log_info("first")
    assert newlog.flush(60)
    writer = queue.stats()["writer_pid"]
    health_dir = app.extensions["newlog"].health_dir

    def published() -> list[dict[str, Any]]:
        return [beat for beat in read_heartbeats(health_dir) if beat["pid"] == os.getpid()]

    deadline = time.monotonic() + 30
    while not published() and time.monotonic() < deadline:  # the first report of the writer is published
        time.sleep(0.05)
    stats = queue.stats()
    assert newlog.health()["ok"] and not stats["writer_stale"]
    assert [(beat["mode"], beat["writer_pid"], beat["alive"]) for beat in published()] == [("spool", writer, True)]

    clock = ShiftedClock()
    queue.clock = clock
    os.kill(writer, signal.SIGSTOP)  # a writer hung in a database call beats no more
    try:
        clock.shift = STALE_SECONDS + 1
        assert queue.stats()["writer_stale"] and not newlog.health()["ok"]
    finally:
        os.kill(writer, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while queue.stats()["writer_stale"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert newlog.health()["ok"]


def test_a_writer_that_cannot_deliver_says_for_how_long_and_stops_saying_it_once_it_delivers(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path
) -> None:
    """The app's model has no table yet: the writer keeps the rows and fails every try; nothing is dropped,
    so its stats say how long it has been failing (``flask newlog-health`` reports "not delivering")."""
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir))
    db = app.extensions["sqlalchemy"]
    table = Table(f"late_{uuid.uuid4().hex[:8]}", db.metadata, *log_columns())
    queue = newlog.init_app(app, db=db, model=table)
    newlog.log_info("waits for its table")
    wait_until(lambda: queue.stats()["writer_failing_seconds"] is not None, 30, "the writer reported its failing tries")
    stats = queue.stats()
    assert "does not exist yet" in stats["last_error"] and stats["queued"] == 1 and newlog.health()["ok"]
    with app.app_context():
        table.create(db.engine)
    assert newlog.flush(60)
    wait_until(lambda: queue.stats()["writer_failing_seconds"] is None, 30, "the writer reported it delivers again")


def test_the_writer_creates_no_table_before_a_row_nor_ever_in_place_of_a_model_imported_later(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path
) -> None:
    """The writer starts with ``init_app``; the app factory imports its model later and runs ``create_all``:
    newlog's own table must not be there first, and once the model is known, never."""
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir))
    db = app.extensions["sqlalchemy"]
    name = app.config["LOG_TABLE"]
    queue = newlog.init_app(app, db=db)
    wait_until(lambda: bool(queue.stats()["writer_heartbeat"]), 30, "the writer reported (it has connected)")
    assert not inspect(create_engine(sqlite_url)).has_table(name)

    Table(name, db.metadata, *log_columns(), Column("created_at", DateTime(timezone=True), nullable=False, default=lambda: CREATED_AT))  # the model
    newlog.log_info("before create_all")
    wait_until(lambda: queue.stats()["writer_failing_seconds"] is not None, 30, "the writer found no table to store into")
    assert "does not exist yet" in queue.stats()["last_error"]
    assert not inspect(create_engine(sqlite_url)).has_table(name)

    with app.app_context():
        db.create_all()
    assert newlog.flush(60)
    with create_engine(sqlite_url).connect() as connection:
        stored = connection.execute(text(f'SELECT message, created_at FROM "{name}"')).all()
    assert [(message, str(created)[:19]) for message, created in stored] == [("before create_all", "2025-01-02 03:04:05")]


def test_rows_logged_before_the_model_is_imported_wait_for_it_instead_of_making_newlogs_table_in_its_place(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app factory logs, then imports its model (slowly) and runs ``create_all``: the writer, which has a row
    to store and no model, waits instead of making newlog's table first (which ``create_all`` would then keep,
    without the model's columns). A row spooled before the model was known has none of its Python-side
    defaults (NULL here; a NOT NULL such column refuses it: give it a server_default, or import the model first)."""
    monkeypatch.setattr(newlog.spool_app, "CREATE_GRACE_SECONDS", 600.0)
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir))
    db = app.extensions["sqlalchemy"]
    name = app.config["LOG_TABLE"]
    queue = newlog.init_app(app, db=db)
    newlog.log_info("the factory is starting")
    wait_until(lambda: queue.stats()["writer_heartbeat"].get("waiting_for_model"), 30, "the writer held the row for a model")
    assert not inspect(create_engine(sqlite_url)).has_table(name)
    assert queue.stats()["writer_failing_seconds"] is None  # waiting is not failing

    Table(name, db.metadata, *log_columns(), Column("created_at", DateTime(timezone=True), default=lambda: CREATED_AT))
    with app.app_context():
        db.create_all()
    newlog.log_info("the factory is done")
    assert newlog.flush(60)
    with create_engine(sqlite_url).connect() as connection:
        stored = connection.execute(text(f'SELECT message, created_at FROM "{name}" ORDER BY id')).all()
    assert [(message, str(created)[:19]) for message, created in stored] == [
        ("the factory is starting", "None"),
        ("the factory is done", "2025-01-02 03:04:05"),
    ]


@pytest.mark.parametrize("owner", ["LOG_CREATE_TABLE=false", "Flask-Migrate"])
def test_the_writer_never_makes_a_table_that_the_apps_migrations_own(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path, owner: str
) -> None:
    """As the worker thread: with Flask-Migrate (``LOG_CREATE_TABLE=auto``) or ``LOG_CREATE_TABLE=false`` the rows
    wait in the spool until the migration has made the table, which newlog's own would collide with."""
    settings = {"LOG_CREATE_TABLE": "false"} if owner == "LOG_CREATE_TABLE=false" else {}
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir), **settings)
    if owner == "Flask-Migrate":
        app.extensions["migrate"] = object()  # what Migrate(app, db) registers
    name = app.config["LOG_TABLE"]
    queue = newlog.init_app(app, db=app.extensions["sqlalchemy"])
    newlog.log_info("before the migration")
    newlog.flush(0)  # store now: no waiting for a model either
    wait_until(lambda: queue.stats()["writer_failing_seconds"] is not None, 30, "the writer found no table to store into")
    assert "does not exist yet" in queue.stats()["last_error"]
    assert not inspect(create_engine(sqlite_url)).has_table(name)

    Table(name, MetaData(), *log_columns()).create(create_engine(sqlite_url))  # the migration
    assert newlog.flush(60)
    with create_engine(sqlite_url).connect() as connection:
        assert connection.execute(text(f'SELECT message FROM "{name}"')).scalars().all() == ["before the migration"]


def test_without_a_model_a_flush_ends_the_wait_and_newlogs_table_is_made(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(newlog.spool_app, "CREATE_GRACE_SECONDS", 600.0)
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir))
    newlog.init_app(app, db=app.extensions["sqlalchemy"])
    newlog.log_info("no model in this app")
    assert newlog.flush(60)
    with create_engine(sqlite_url).connect() as connection:
        assert connection.execute(text(f'SELECT message FROM "{app.config["LOG_TABLE"]}"')).scalars().all() == ["no model in this app"]


def _log_in_child(first: int) -> None:
    for seq in range(first, first + 100):
        newlog.log_info("from a child", seq=seq)  # no flush: the child's own writer stores them after it exits


def test_forked_children_get_their_own_spool_and_writer(make_app: MakeApp, sqlite_url: str, spool_dir: Path) -> None:
    import multiprocessing

    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir))
    table = app.config["LOG_TABLE"]
    queue = newlog.init_app(app)
    newlog.log_info("parent", seq=1000)
    assert newlog.flush(60)
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_log_in_child, args=(first,)) for first in (0, 100)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    wait_for_rows(sqlite_url, table, 201)
    assert stored_seqs(sqlite_url, table) == Counter(range(200)) + Counter([1000])
    assert queue.stats()["enqueued"] == 1  # the children counted their own


def test_a_clean_stop_right_after_the_writer_died_leaves_no_spool_behind(sqlite_url: str, spool_dir: Path) -> None:
    """Found by the state machine: the stop came while the supervisor waited to restart the writer."""
    table = f"restart_{uuid.uuid4().hex[:8]}"
    app = AppProcess(sqlite_url, table, spool_dir)
    assert app.log(0, 100) == 100 and app.flush()
    first = app.writer_pid()
    kill_process(first)
    kill_process(app.writer_pid(other_than=first))  # killed before its first heartbeat: the next restart waits 0.5 s
    assert app.stop() == 0  # everything is stored: shutdown must still have a writer clean up
    exactly_once(sqlite_url, table, 100)
    assert spool_files(spool_dir) == []


def test_full_segments_give_way_to_new_ones_which_are_removed_once_stored(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path
) -> None:
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir), LOG_SPOOL_SEGMENT_BYTES=4096)
    queue = newlog.init_app(app)
    for seq in range(300):
        newlog.log_info("rotating", seq=seq, payload="x" * 100)
    newlog.log_info("longer than a segment", seq=300, payload="y" * 10_000)  # gets a segment of its own size
    newlog.log_info("after it", seq=301)
    assert newlog.flush(60)

    rows = stored_rows(app)
    assert [row["context"]["seq"] for row in rows] == list(range(302))
    assert rows[300]["context"]["payload"] == "y" * 10_000
    stats = queue.stats()
    assert (stats["enqueued"], stats["written"], stats["queued"]) == (302, 302, 0)
    # Delivered full segments are removed; only the one in use stays, many segments on.
    wait_until(lambda: len(spool_files(spool_dir)) == 1, 30, "the delivered full segments were not removed")
    in_use = Segment.parse(spool_files(spool_dir)[0])
    assert in_use is not None and in_use.seq > 10


def test_a_segment_that_gets_no_disk_space_drops_the_event_counted_and_the_next_ones_go_on(
    make_app: MakeApp, sqlite_url: str, spool_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(sqlite_url, init=False, LOG_SPOOL_DIR=str(spool_dir), LOG_SPOOL_SEGMENT_BYTES=4096)
    queue = newlog.init_app(app)
    newlog.log_info("fits", seq=0, payload="x" * 3000)

    def disk_full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", disk_full)  # the next segment's disk space cannot be reserved
    newlog.log_info("needs a new segment", seq=1, payload="y" * 3000)
    stats = queue.stats()
    assert (stats["enqueued"], stats["dropped_spool_error"]) == (1, 1)
    assert "No space left on device" in stats["last_error"]
    assert "spool write failed" in caplog.text and "event dropped" in caplog.text
    assert len(spool_files(spool_dir)) == 1  # no empty segment is left from the failed attempt

    monkeypatch.undo()
    newlog.log_info("space is back", seq=2, payload="z" * 3000)
    assert not newlog.flush(60)  # an event logged since the last flush was lost
    assert [row["context"]["seq"] for row in stored_rows(app)] == [0, 2]
    stats = queue.stats()
    assert (stats["enqueued"], stats["written"], stats["dropped_spool_error"], stats["queued"]) == (2, 2, 1, 0)


def test_without_posix_fallocate_a_segment_is_reserved_by_writing_zeros(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newlog.spool_append import SegmentAppender

    monkeypatch.delattr(os, "posix_fallocate")  # as on macOS
    appender = SegmentAppender(tmp_path, "key", "owner", window=3 * 4096)
    appender.append(b'{"message": "first"}\n')
    path = tmp_path / Segment("key", "owner", 0).name
    assert path.stat().st_size == 3 * 4096 and path.stat().st_blocks * 512 >= 3 * 4096  # allocated, not sparse
    assert path.read_bytes().rstrip(b"\0") == b'{"message": "first"}\n'
    appender.close()


def spool_line(seq: int) -> bytes:
    return encode_row(build_row({"event": "row", "level": "info", "seq": seq}))


@contextlib.contextmanager
def writer_of_a_dead_process_segment(
    url: str, directory: Path, content: bytes, **config: Any
) -> Iterator[tuple[SpoolWriter, str]]:
    """A segment with ``content`` whose process is gone (no owner lock), and a writer (not started) to deliver it.

    Yields the writer and the table it stores into (created by the writer, dropped after).
    """
    directory.mkdir()
    (directory / Segment("k", "dead-owner", 0).name).write_bytes(content)
    table = f"dead_{uuid.uuid4().hex[:8]}"
    settings = {"dir": str(directory), "key": "k", "owner": "me", "parent_pid": os.getpid(), "url": url,
                "table": table, "create_table": True, **config}
    writer = SpoolWriter(settings, control=None, reports=io.BytesIO())
    writer.connect()
    assert writer.engine is not None
    try:
        yield writer, table
    finally:
        with writer.engine.begin() as connection:
            connection.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
        writer.engine.dispose()


def test_a_dead_process_segment_is_read_up_to_its_nul_padding_and_a_torn_last_line_fails(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A kill -9 in the middle of a copy leaves part of a line, then the segment's NUL padding."""
    torn = spool_line(2)[:25]
    content = spool_line(0) + spool_line(1) + torn + bytes(8192)
    directory = tmp_path / "spool"
    with writer_of_a_dead_process_segment(sqlite_url, directory, content) as (writer, table):
        for _ in range(3):  # the lines, then the torn rest, then a pass that finds nothing and removes the segment
            writer.deliver_once()
        assert writer.counters["rows_written"] == 2 and writer.counters["rows_failed"] == 1
        assert stored_seqs(sqlite_url, table) == Counter([0, 1])
        rejected = json.loads((directory / "k.rejected").read_text())
        assert rejected["line"] == torn.decode() and "unreadable" in rejected["error"]
        assert spool_files(directory) == []


def test_foreign_lines_in_a_full_batch_are_rejected_alone_and_every_good_line_is_stored_once(
    any_driver_url: str, tmp_path: Path
) -> None:
    """On PostgreSQL the server checks a batch's lines (the writer hands them over unread): a bad
    one fails the batch, whose lines are then stored again in halves, down to one by one (this one
    is under 16 lines), each checked; elsewhere each line is checked first. Either way the same
    rows are stored and the same lines rejected."""
    foreign = [b"[1, 2]", b'{"event": cut', b"\xff\xfe not UTF-8", b'"a string"']
    content = b"".join(spool_line(seq) + bad + b"\n" for seq, bad in enumerate(foreign)) + spool_line(4) + bytes(4096)
    directory = tmp_path / "spool"
    with writer_of_a_dead_process_segment(any_driver_url, directory, content) as (writer, table):
        for _ in range(3):  # the batch (one by one after the refusal), then a pass that removes the segment
            writer.deliver_once()
        assert stored_seqs(any_driver_url, table) == Counter(range(5))
        assert (writer.counters["rows_written"], writer.counters["rows_failed"]) == (5, 4)
        # PostgreSQL: the batch refused, then a transaction per line; elsewhere one batch.
        assert writer.counters["batches"] == (len(foreign) + 5 if writer.store_checks_lines else 1)
        rejected = [json.loads(line) for line in (directory / "k.rejected").read_text().splitlines()]
        assert [entry["line"] for entry in rejected] == [line.decode(errors="backslashreplace") for line in foreign]
        assert all("unreadable spool line" in entry["error"] for entry in rejected)


def test_a_refused_batch_is_stored_again_in_halves_so_one_bad_row_costs_few_transactions(tmp_path: Path) -> None:
    url = require_postgres()
    bad = encode_row(build_row({"event": "row", "level": "info", "seq": -1}) | {"level": "L" * 50})  # > String(20)
    content = b"".join(spool_line(seq) for seq in range(150)) + bad + b"".join(spool_line(seq) for seq in range(150, 300))
    directory = tmp_path / "spool"
    with writer_of_a_dead_process_segment(url, directory, content + bytes(4096)) as (writer, table):
        for _ in range(3):
            writer.deliver_once()
        assert stored_seqs(url, table) == Counter(range(300))
        assert (writer.counters["rows_written"], writer.counters["rows_failed"]) == (300, 1)
        rejected = json.loads((directory / "k.rejected").read_text())
        assert rejected["line"] == bad.decode().rstrip("\n") and "too long" in rejected["error"]
        assert writer.counters["batches"] <= 2 * 9 + 16  # halves down to 16 lines, then one by one: not 301


def test_a_batch_read_ahead_is_not_stored_when_the_progress_row_moved_under_the_writer(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The writer reads and decodes the next batch while it stores one; the progress table still decides."""
    lines = [spool_line(seq) for seq in range(6)]
    content = b"".join(lines) + bytes(4096)
    with writer_of_a_dead_process_segment(sqlite_url, tmp_path / "spool", content, batch_rows=2) as (writer, table):
        assert writer.engine is not None
        assert writer.deliver_once()  # seq 0-1 stored; seq 2-3 read ahead
        name = Segment("k", "dead-owner", 0).name
        state = writer.states[name]
        assert state.prefetch is not None and state.prefetch[0] == len(lines[0]) + len(lines[1])
        moved = sum(len(line) for line in lines[:4])  # as if another writer had stored seq 2-3 meanwhile
        with writer.engine.begin() as connection:
            connection.execute(text(f"UPDATE {PROGRESS_TABLE} SET byte_offset = {moved} WHERE segment = '{name}'"))
        for _ in range(4):
            writer.deliver_once()
        assert stored_seqs(sqlite_url, table) == Counter([0, 1, 4, 5])  # 2 and 3 are the other writer's


def test_a_line_whose_value_the_driver_cannot_bind_is_rejected_alone_and_does_not_hold_the_spool_up(
    any_driver_url: str, tmp_path: Path
) -> None:
    """A driver that cannot bind a value (SQLite, given an object for a text column) refuses the batch with a
    ProgrammingError that no retry cures: the line is rejected alone and every other line is stored once."""
    unbindable = encode_row(build_row({"event": "row", "level": "info", "seq": 3}) | {"message": {"a": 1}})
    content = b"".join(spool_line(seq) for seq in range(3)) + unbindable + spool_line(4) + bytes(4096)
    directory = tmp_path / "spool"
    with writer_of_a_dead_process_segment(any_driver_url, directory, content) as (writer, table):
        for _ in range(3):
            writer.deliver_once()
        stored = stored_seqs(any_driver_url, table)
        assert +(stored - Counter([3])) == Counter([0, 1, 2, 4])
        assert writer.counters["rows_written"] + writer.counters["rows_failed"] == 5
        assert writer.counters["rows_failed"] == (0 if stored[3] else 1)
        assert spool_files(directory) == []


class Box(UserDefinedType[Any]):
    """A column type SQLAlchemy does not reflect (PostgreSQL's geometric ``box``)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "box"


def test_the_writer_stores_the_columns_only_the_app_fills_without_being_told_and_leaves_server_defaults_alone(
    any_driver_url: str, tmp_path: Path
) -> None:
    """Rows spooled by a process that knew the model, delivered by a writer started before the model was
    imported (a restart recovering them): a column without a server default comes from the row; one
    with a server default keeps it; a nullable JSON column the row lacks stays SQL NULL, as an INSERT leaves it;
    a column of a type SQLAlchemy does not know (PostgreSQL's ``box``: reflected as NullType) is left to the database."""
    name = f"told_{uuid.uuid4().hex[:8]}"
    table = Table(
        name,
        MetaData(),
        *log_columns(),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("note", String(20)),
        Column("flag", String(5), server_default="yes"),
        Column("meta", JSON),
        Column("area", Box),
    )
    engine = create_engine(any_driver_url)
    table.create(engine)
    line = encode_row(build_row({"event": "row", "level": "info", "seq": 0}) | {"created_at": CREATED_AT.isoformat(), "note": "n"})
    try:
        directory = tmp_path / "spool"
        with writer_of_a_dead_process_segment(any_driver_url, directory, line + bytes(4096), table=name, create_table=False) as (writer, _):
            for _ in range(3):  # the line, then a pass that removes the segment (and its progress row)
                writer.deliver_once()
            assert writer.counters["rows_written"] == 1, writer.last_error
        with engine.connect() as connection:
            created, note, flag, meta_is_null = connection.execute(
                text(f'SELECT created_at, note, flag, meta IS NULL FROM "{name}"')
            ).one()
        assert str(created).startswith("2025-01-02 03:04:05") and (note, flag, bool(meta_is_null)) == ("n", "yes", True)
    finally:
        table.drop(engine)
        engine.dispose()


def test_the_app_side_never_imports_the_writer_module_which_the_writer_process_runs_as_main() -> None:
    """``python -m newlog.spool_writer`` imports the package first: had it imported the module too, the writer
    process would run it twice (runpy's RuntimeWarning on the writer's stderr, and two copies of its state)."""
    probe = "import sys, newlog, newlog.spool, newlog.spool_app; print('newlog.spool_writer' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
