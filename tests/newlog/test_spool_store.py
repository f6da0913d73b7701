"""On PostgreSQL the spool writer hands a batch's JSON lines to the server as they are: it stores
exactly the rows the default sink's INSERT executemany stores, and a value the table refuses
fails the batch as a poison error (so the writer stores the lines again in halves, down to one by one)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import JSON, MetaData, Table, create_engine, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine

from newlog.models import log_table
from newlog.rows import build_row, encode_row
from newlog.sinks import DatabaseSink, is_poison
from newlog.spool_store import SpoolRowStore
from tests.conftest import require_postgres
from tests.newlog import test_sinks_copy
from tests.newlog.test_sinks_copy import EVENTS, legacy_table, rows_of, stored

meta = test_sinks_copy.meta  # the MetaData whose tables are dropped after the test


@pytest.fixture(params=["psycopg", "psycopg2"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """PostgreSQL through psycopg 3 and through psycopg2 (SQLAlchemy's default for ``postgresql://``)."""
    engine = create_engine(make_url(require_postgres()).set(drivername=f"postgresql+{request.param}"))
    yield engine
    engine.dispose()


def context_of_type(kind: JSON) -> Any:
    """newlog's table, its context column of type ``kind``."""

    def make(name: str, meta: MetaData) -> Table:
        table = log_table(name, meta)
        table.c.context.type = kind
        return table

    return make


def spool_lines(rows: list[dict[str, Any]]) -> list[bytes]:
    """The rows as the app process spools them (one JSON line each, without the newline)."""
    return [encode_row(row).rstrip(b"\n") for row in rows]


def documents(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Stored rows with the context as the document it holds (a JSON column keeps the text's spacing)."""
    return [(*row[:5], None if row[5] is None else json.loads(row[5])) for row in rows]


def store_lines(engine: Engine, table: Table, lines: list[bytes]) -> None:
    store = SpoolRowStore(engine, table)
    assert store.method == "json"
    with engine.begin() as connection:
        store.write(connection, [store.encode(line, orjson.loads(line)) for line in lines])


@pytest.mark.parametrize(
    "make_table",
    [log_table, legacy_table, context_of_type(JSONB(none_as_null=True)), context_of_type(JSON(none_as_null=True))],
    ids=["newlog-table", "legacy-enum-table", "jsonb-none-as-null", "json-none-as-null"],
)
def test_the_server_parsed_batch_stores_the_rows_the_insert_stores(engine: Engine, meta: MetaData, make_table: Any) -> None:
    by_spool = make_table(f"spool_{uuid.uuid4().hex[:8]}", meta)
    by_insert = make_table(f"insert_{uuid.uuid4().hex[:8]}", meta)
    meta.create_all(engine)
    rows = rows_of(EVENTS)

    store_lines(engine, by_spool, spool_lines(rows))
    DatabaseSink(engine, by_insert, use_copy=False)(rows)

    spooled = stored(engine, by_spool)
    assert documents(spooled) == documents(stored(engine, by_insert))
    assert len(spooled) == len(EVENTS)
    assert spooled[0][4] is None  # traceback: SQL NULL
    none_as_null = by_spool.c.context.type.none_as_null
    assert spooled[-1][5] == (None if none_as_null else "null")  # a None context, as the INSERT stores it


def test_a_value_the_table_refuses_fails_the_batch_as_a_poison_error(engine: Engine, meta: MetaData) -> None:
    table = log_table(f"spool_{uuid.uuid4().hex[:8]}", meta)
    meta.create_all(engine)
    lines = spool_lines([build_row({"event": "fine"}), build_row({"event": "x"}) | {"level": "L" * 50}])  # > String(20)
    with pytest.raises(sa_exc.DataError) as caught:
        store_lines(engine, table, lines)
    assert is_poison(caught.value)
    assert stored(engine, table) == []
