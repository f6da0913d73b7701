"""The default sink's fast paths on PostgreSQL, the server-parsed JSON (the default) and COPY, store
exactly the rows the INSERT executemany stores."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    create_engine,
    func,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from newlog.column_defaults import defaults_filler
from newlog.models import log_table
from newlog.rows import build_row, encode_row
from newlog.settings import ConfigError
from newlog.sinks import DatabaseSink, copy_plan, is_poison
from newlog.spool_store import SpoolRowStore
from tests.conftest import require_postgres
from tests.support import LogLevel, log_columns


def legacy_table(name: str, meta: MetaData) -> Table:
    """The legacy app's ``UnifiedLog`` shape: a native enum for the level."""
    return Table(
        name,
        meta,
        Column("id", Integer, primary_key=True),
        Column("timestamp", DateTime(timezone=True), nullable=False),
        Column("level", Enum(LogLevel, name=f"{name}_level"), nullable=False),
        Column("module", String(100), nullable=False),
        Column("message", Text, nullable=False),
        Column("traceback", Text),
        Column("context", JSON),
    )


EVENTS: list[dict[str, Any]] = [
    {"event": "plain", "level": "info", "timestamp": "2024-01-02T03:04:05.123456Z", "module": "api"},
    {"event": "offset", "level": "warning", "timestamp": "2024-06-30T23:59:59.999999+05:30", "logger": "app.billing"},
    {"event": "naive time", "level": "error", "timestamp": dt.datetime(2024, 2, 29, 12, 0, 0, 1), "exception": "Traceback:\n  boom"},
    {"event": "unicode ✓ 😀 中文 e\u0301", "level": "critical", "user": "Zoë", "tags": ["ß", "→", "🚀"], "quote": 'a "b" \\ c'},
    {"event": "tabs\tnew\nlines\r\\back\\slash", "level": "debug", "path": "C:\\temp\\x", "nested": {"a": {"b": [1, 2.5, None, True]}}},
    {"event": "no context", "level": "info"},
    {"event": "escapes in json", "level": "info", "raw": "\\N", "sep": "\t|\n", "unicode_escape": "\\u00e9"},
    {"event": "big numbers", "level": "info", "n": 2**62, "f": 1e-300, "neg": -0.0},
]


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine(require_postgres())
    yield engine
    engine.dispose()


@pytest.fixture
def meta(engine: Engine) -> Iterator[MetaData]:
    meta = MetaData()
    yield meta
    meta.drop_all(engine)


def stored(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    query = f'SELECT timestamp, level::text, module, message, traceback, context::text FROM "{table.name}" ORDER BY id'
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def rows_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [build_row(event) for event in events]
    rows[-1]["context"] = None  # a NULL-ish context: JSON null, as the INSERT stores it
    return rows


FAST_PATHS = pytest.mark.parametrize("use_copy, method", [(None, "json"), (True, "copy")], ids=["json", "copy"])


@FAST_PATHS
@pytest.mark.parametrize("make_table", [log_table, legacy_table], ids=["newlog-table", "legacy-enum-table"])
def test_the_fast_path_stores_the_same_rows_as_executemany(
    engine: Engine, meta: MetaData, make_table: Any, use_copy: bool | None, method: str
) -> None:
    by_copy = make_table(f"copy_{uuid.uuid4().hex[:8]}", meta)
    by_insert = make_table(f"insert_{uuid.uuid4().hex[:8]}", meta)
    meta.create_all(engine)
    copy_sink, insert_sink = DatabaseSink(engine, by_copy, use_copy=use_copy), DatabaseSink(engine, by_insert, use_copy=False)
    assert (copy_sink.method, insert_sink.method) == (method, "executemany")

    rows = rows_of(EVENTS)
    copy_sink(rows)
    insert_sink(rows)

    copied, inserted = stored(engine, by_copy), stored(engine, by_insert)
    assert copied == inserted
    assert len(copied) == len(EVENTS)
    assert copied[0][0] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)
    assert copied[0][4] is None  # traceback NULL
    assert copied[2][4] == "Traceback:\n  boom"
    assert "Zo\\u00eb" in copied[3][5] and copied[-1][5] == "null"


def test_fast_path_errors_are_classified_like_insert_errors(engine: Engine, meta: MetaData) -> None:
    table = log_table(f"copy_{uuid.uuid4().hex[:8]}", meta)
    meta.create_all(engine)
    bad = build_row({"event": "x"}) | {"level": "L" * 50}  # longer than String(20)
    for use_copy in (None, True, False):
        sink = DatabaseSink(engine, table, use_copy=use_copy)
        with pytest.raises(sa_exc.DataError) as caught:
            sink([build_row({"event": "fine"}), bad])
        assert is_poison(caught.value)
    assert stored(engine, table) == []


def test_copy_is_used_only_where_it_stores_the_same_rows(engine: Engine, tmp_path: Any) -> None:
    meta = MetaData()
    assert copy_plan(engine, log_table("plain", meta)) is not None
    assert copy_plan(create_engine(f"sqlite:///{tmp_path / 'x.db'}"), log_table("plain", MetaData())) is None
    with_python_default = log_table("with_python_default", meta)
    with_python_default.append_column(Column("created_by", String(20), default="newlog"))
    assert copy_plan(engine, with_python_default) is not None
    with_sql_default = log_table("with_sql_default", meta)
    with_sql_default.append_column(Column("created_at", DateTime(timezone=True), default=func.now()))
    assert copy_plan(engine, with_sql_default) is None
    odd_type = Table(
        "odd", meta, Column("id", Integer, primary_key=True), Column("timestamp", String(40)),
        *(Column(name, Text) for name in ("level", "module", "message", "traceback")), Column("context", Integer),
    )
    assert copy_plan(engine, odd_type) is None


CREATED_AT = dt.datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=dt.timezone.utc)


def app_model_table(name: str, meta: MetaData) -> Table:
    """A real app's log model: extra columns with Python-side defaults (scalar, callable, context-sensitive)."""
    table = legacy_table(name, meta)
    table.append_column(Column("created_at", DateTime(timezone=True), nullable=False, default=lambda: CREATED_AT))
    table.append_column(Column("source", String(20), nullable=False, default="web"))
    table.append_column(Column("archived", Boolean, nullable=False, default=False))
    table.append_column(Column("message_length", Integer, default=lambda ctx: len(ctx.get_current_parameters()["message"])))
    table.append_column(Column("trace_id", Uuid, default=lambda: uuid.UUID(int=7)))
    table.append_column(Column("note", Text, server_default="server side"))
    return table


@FAST_PATHS
def test_the_fast_path_fills_python_side_defaults_of_a_real_model_like_the_insert(
    engine: Engine, meta: MetaData, use_copy: bool | None, method: str
) -> None:
    by_copy = app_model_table(f"copy_{uuid.uuid4().hex[:8]}", meta)
    by_insert = app_model_table(f"insert_{uuid.uuid4().hex[:8]}", meta)
    meta.create_all(engine)
    copy_sink, insert_sink = DatabaseSink(engine, by_copy, use_copy=use_copy), DatabaseSink(engine, by_insert, use_copy=False)
    assert (copy_sink.method, insert_sink.method) == (method, "executemany")

    rows = rows_of(EVENTS)
    copy_sink(rows)
    insert_sink(rows)

    columns = "timestamp, level::text, module, message, traceback, context::text, created_at, source, archived, message_length, trace_id, note"
    with engine.connect() as connection:
        copied, inserted = (
            [tuple(row) for row in connection.execute(text(f'SELECT {columns} FROM "{table.name}" ORDER BY id'))]
            for table in (by_copy, by_insert)
        )
    assert copied == inserted
    assert copied[0][6:] == (CREATED_AT, "web", False, len("plain"), uuid.UUID(int=7), "server side")


def test_python_side_defaults_are_filled_under_plain_str_keys_so_orjson_serializes_the_row() -> None:
    """orjson refuses SQLAlchemy's quoted_name keys: the row would fall back to the stdlib encoder (about 10x slower: bench_pipeline.py, section (d))."""
    row = defaults_filler(app_model_table("keys", MetaData()))(build_row({"event": "x"}))
    assert {"created_at", "source", "archived", "message_length", "trace_id"} <= set(row)
    assert all(type(key) is str for key in row)
    assert orjson.loads(orjson.dumps(row))["source"] == "web"


def test_a_row_orjson_refuses_is_stored_by_the_json_path_as_the_insert_stores_it(engine: Engine, meta: MetaData) -> None:
    """An app's column default may make what orjson refuses (an int key, an int beyond 64 bits): the stdlib encoder takes it."""

    def with_odd_default(name: str) -> Table:
        table = log_table(name, meta)
        table.append_column(Column("meta", JSON, default=lambda: {1: "one", "big": 2**70}))
        table.append_column(Column("big", Numeric, default=2**70))  # orjson refuses the row: the stdlib encoder
        return table

    by_json, by_insert = with_odd_default(f"json_{uuid.uuid4().hex[:8]}"), with_odd_default(f"insert_{uuid.uuid4().hex[:8]}")
    meta.create_all(engine)
    json_sink, insert_sink = DatabaseSink(engine, by_json), DatabaseSink(engine, by_insert, use_copy=False)
    assert json_sink.method == "json"
    rows = rows_of(EVENTS[:2])
    json_sink(rows)
    insert_sink(rows)
    query = 'SELECT message, context::text, meta::text, big::text FROM "{}" ORDER BY id'
    with engine.connect() as connection:
        stored_json, stored_insert = (
            [(message, orjson.loads(context), orjson.loads(meta_), big) for message, context, meta_, big in connection.execute(text(query.format(table.name)))]
            for table in (by_json, by_insert)
        )
    assert stored_json == stored_insert
    assert stored_json[0][2:] == ({"1": "one", "big": 2**70}, str(2**70))


NAIVE_IN_A_DST_GAP = dt.datetime(2024, 3, 10, 2, 30)  # no such wall time in New York: 02:00 -> 03:00
AWARE_SUMMER = dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.timezone.utc)


def naive_model_table(name: str, meta: MetaData) -> Table:
    """A real app's model with naive timestamps (``db.DateTime``), defaults naive and aware."""
    return Table(
        name,
        meta,
        *log_columns(timestamp=DateTime),
        Column("created_at", DateTime, default=lambda: NAIVE_IN_A_DST_GAP),
        Column("seen_at", DateTime, default=lambda: AWARE_SUMMER),
    )


@pytest.fixture
def new_york() -> Iterator[Engine]:
    """An engine whose sessions run in New York time (a server or role whose TimeZone is not UTC)."""
    engine = create_engine(require_postgres(), connect_args={"options": "-c timezone=America/New_York"})
    meta = MetaData()
    yield engine
    with engine.begin() as connection:
        for table in connection.execute(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'naive\\_%'")).scalars():
            connection.execute(text(f'DROP TABLE "{table}"'))
    meta.clear()
    engine.dispose()


def test_naive_timestamp_columns_store_what_the_insert_stores_in_a_session_not_in_utc(new_york: Engine) -> None:
    """An INSERT converts an aware datetime to the session's wall time for a ``timestamp without time zone``
    column and keeps a naive one as it is: the server-parsed JSON (thread sink and spool writer) does the same."""
    meta = MetaData()
    tables = {way: naive_model_table(f"naive_{way}_{uuid.uuid4().hex[:6]}", meta) for way in ("insert", "json", "spool")}
    meta.create_all(new_york)
    rows = rows_of(EVENTS)
    DatabaseSink(new_york, tables["insert"], use_copy=False)(rows)
    json_sink = DatabaseSink(new_york, tables["json"])
    assert json_sink.method == "json"
    json_sink(rows)
    fill = defaults_filler(tables["spool"])
    store = SpoolRowStore(new_york, tables["spool"], ["created_at", "seen_at"])
    with new_york.begin() as connection:
        store.write(connection, [encode_row(fill(row)) for row in rows])

    columns = "timestamp, level, module, message, traceback, context::text, created_at, seen_at"
    with new_york.connect() as connection:
        stored = {way: [tuple(row) for row in connection.execute(text(f'SELECT {columns} FROM "{table.name}" ORDER BY id'))] for way, table in tables.items()}
    assert stored["json"] == stored["insert"]
    assert [row[:5] + row[6:] for row in stored["spool"]] == [row[:5] + row[6:] for row in stored["insert"]]  # JSON: compact text
    first = stored["insert"][0]
    assert first[0] == dt.datetime(2024, 1, 1, 22, 4, 5, 123456)  # 03:04:05Z in New York
    assert first[6:] == (NAIVE_IN_A_DST_GAP, dt.datetime(2024, 7, 1, 8, 0))


def test_copy_is_not_used_for_naive_timestamp_columns(new_york: Engine) -> None:
    """COPY text cannot convert an aware value to the session's wall time as the INSERT does: no COPY plan."""
    table = naive_model_table(f"naive_copy_{uuid.uuid4().hex[:6]}", MetaData())
    assert copy_plan(new_york, table) is None
    with pytest.raises(ConfigError, match="timestamp without time zone"):
        DatabaseSink(new_york, table, use_copy=True)
