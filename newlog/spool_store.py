"""How the spool writer process stores spool rows: JSON parsed by the server on PostgreSQL, a DBAPI executemany elsewhere.

The writer's rows arrive as JSON lines, already final (the app process built them and computed
the model's Python-side defaults), so this module only hands them to the database:

- PostgreSQL (any driver): one ``INSERT ... SELECT ... FROM json_to_recordset(:rows)`` per batch,
  ``:rows`` being the batch's lines joined into one JSON array, as they are. The server parses
  them and converts each value with its column type's input function, as COPY text does. The
  writer does not even read a full batch's lines (:attr:`SpoolRowStore.checks_lines`): the
  server refuses a batch holding one that is not a JSON object, as a poison error, and the
  writer then stores the lines again in halves, down to one by one, checking each, so a torn or
  foreign line fails alone.
  Measured side by side against COPY text encoded here (``benchmarks/bench_spool_store.py``,
  three runs): the writer's CPU per row 0.16-0.17x (1.2-1.3 µs against 7.1-8.1), the server's
  1.3-1.6x (18.0-22.1 µs against 14.0-15.0), so 0.91-1.07x the CPU in total and 0.93-1.08x the
  rows/s when each has a core to itself. Chosen because the writer's CPU is the part the app's
  host pays (a production database is usually elsewhere), and, measured in the burst regime of
  ``bench_pipeline.py`` (the server on the same 2 cores as the app), Python work in the writer
  is what competes with the app: COPY text took 57-58% of a core there and stored 31.7-33.6k
  rows/s (two runs), this path 14-15% and 39.3-45.9k (six runs). Binary COPY through psycopg 3 was tried too (the server's
  CPU 12-13 µs a row, but the writer's 8-9 µs, converting each value exactly for its column's
  server type): 59% of a core and 30.7k rows/s in the burst, so not kept. And this path uses no
  driver-specific API (COPY needs psycopg 3's). Tested with psycopg 3 and psycopg2.
- Any other database whose driver takes ``?`` parameters (SQLite): the compiled INSERT through
  the DBAPI ``executemany``, each value through the column type's own bind processor (so the
  stored text is SQLAlchemy's), JSON as compact JSON text.
- Else: SQLAlchemy Core's executemany with the decoded Python values.

Stored values equal the INSERT path's: a JSON column that is not ``none_as_null`` gets JSON
``null`` for a missing or null value, as SQLAlchemy stores it. JSON text is compact (orjson), so a
``JSON`` (not ``JSONB``) column holds the same document with other spacing and non-ASCII
characters unescaped.
"""

from __future__ import annotations

import datetime as dt
import decimal
import operator
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy import column as sql_column
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import NullType

from newlog.models import ROW_COLUMNS

Encoder = Callable[[Any], Any]


def _json_encoder(column: Column[Any]) -> Encoder:
    """Return the JSON column's encoder: compact JSON text; None as JSON ``null`` unless ``none_as_null``."""
    if getattr(column.type, "none_as_null", False):
        return lambda value: None if value is None else orjson.dumps(value).decode()
    return lambda value: orjson.dumps(value).decode()


def python_value_of_datetime(value: Any) -> Any:
    """Return the datetime an ISO text stands for (other values as they are)."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def python_value(column: Column[Any]) -> Encoder | None:
    """Return how a JSON value becomes the Python value the column's type expects (None: as is)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return None
    if python_type is dt.datetime:
        return python_value_of_datetime
    for kind, parse in (
        (dt.date, dt.date.fromisoformat),
        (dt.time, dt.time.fromisoformat),
        (uuid.UUID, uuid.UUID),
    ):
        if python_type is kind:
            return lambda value, parse=parse: parse(value) if isinstance(value, str) else value  # type: ignore[misc]
    if python_type is decimal.Decimal:
        return lambda value: None if value is None else decimal.Decimal(str(value))
    return None


def _utc_text(value: str) -> str:
    """``2024-01-02T03:04:05.123456+00:00`` -> ``2024-01-02 03:04:05.123456`` (SQLite's stored form)."""
    return value[:10] + " " + value[11:26]


def _utc_text_shortcut(encode: Encoder) -> Encoder:
    """Skip parsing for the timestamps orjson writes for UTC datetimes (measured: 10 of the writer's ~27 µs per row)."""

    def shortcut(value: Any) -> Any:
        if type(value) is str and len(value) == 32 and value[10] == "T" and value.endswith("+00:00"):
            return _utc_text(value)
        return encode(value)

    return shortcut


def _utc_text_shortcut_matches(encode: Encoder) -> bool:
    """Return True when the column stores exactly what the shortcut produces (checked on samples)."""
    samples = ("2024-01-02T03:04:05.123456+00:00", "1999-12-31T23:59:59.000001+00:00")
    try:
        return all(encode(sample) == _utc_text(sample) for sample in samples)
    except Exception:  # noqa: BLE001 - an unusual type: no shortcut
        return False


class SpoolRowStore:
    """Encode decoded spool rows for ``table`` and store a batch inside the caller's transaction."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        extra_columns: Sequence[str] = (),
        renames: Mapping[str, str] | None = None,
        sequences: Mapping[str, str] | None = None,
    ) -> None:
        dialect = engine.dialect
        renames = dict(renames or {})  # a row key -> the column's name, where the app's model maps an attribute to another name
        by_name = {name: key for key, name in renames.items()}
        # A column name -> the sequence an INSERT draws it from (PostgreSQL: see column_defaults.sequence_columns).
        self.drawn = {name: func.nextval(literal(sequence)) for name, sequence in (sequences or {}).items() if name in table.c}
        keys = list(ROW_COLUMNS) + [key for key in extra_columns if renames.get(key, key) in table.c and key not in ROW_COLUMNS]
        keys += [
            key
            for column in app_filled_columns(table)
            if (key := by_name.get(column.key, column.key)) not in keys and column.name not in self.drawn
        ]
        missing = [renames.get(key, key) for key in keys if renames.get(key, key) not in table.c]
        if missing:
            raise LookupError(
                f"log table {table.name!r} has no column {', '.join(map(repr, missing))}: the spool keeps the rows "
                "until it has (or until the app, started with its model, says what its columns are called)"
            )
        self.keys = tuple(keys)  # the spooled row's keys
        self.columns = [table.c[renames.get(key, key)] for key in keys]
        self.table = table
        self.parsers = {column.key: parse for column in self.columns if (parse := python_value(column)) is not None}
        if dialect.name == "postgresql":
            self.method = "json"
            self.statement = _insert_from_json(table, self.keys, self.columns, self.drawn)
        elif dialect.paramstyle == "qmark":
            self.method = "executemany"
            compiled = insert(table).compile(dialect=dialect, column_keys=[column.key for column in self.columns])
            self.statement = str(compiled)
            order = [compiled.binds[name].key for name in compiled.positiontup or ()]
            position = {column.key: index for index, column in enumerate(self.columns)}
            self.order = [position[key] for key in order]
            self.encoders = [self._driver_encoder(column, dialect) for column in self.columns]
            # The writer's hot loop on SQLite (per row: 7.5 µs as a generic loop, measured): one
            # C-level lookup of every key, then only the columns that have an encoder.
            self._values_of = operator.itemgetter(*(self.keys[index] for index in self.order))
            self._encoded = [
                (place, encoder) for place, index in enumerate(self.order) if (encoder := self.encoders[index]) is not None
            ]
        else:
            self.method = "core"
            self.statement = str(insert(table))

    @staticmethod
    def _driver_encoder(column: Column[Any], dialect: Any) -> Encoder | None:
        if isinstance(column.type, JSON):
            return _json_encoder(column)
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        parse = python_value(column)
        if parse is None:
            return process
        if process is None:
            return parse
        encode = lambda value: process(parse(value))  # noqa: E731
        if parse is python_value_of_datetime and _utc_text_shortcut_matches(encode):
            return _utc_text_shortcut(encode)
        return encode

    @property
    def checks_lines(self) -> bool:
        """True when a batch holding a line that is not a JSON object fails as poison, so lines need no check first.

        The server-parsed JSON: the server refuses the batch (invalid JSON, or an element that is
        not an object); :meth:`write` refuses a batch that is not UTF-8 or holds a NUL byte (a torn
        line reads as NULs), which the drivers refuse otherwise than with a database error.
        """
        return self.method == "json"

    def encode(self, line: bytes, values: dict[str, Any]) -> Any:
        """Return the row of a spool ``line`` (decoded: ``values``) ready for :meth:`write`.

        Raises ValueError/TypeError for a row that cannot be encoded.
        """
        if self.method == "json":
            return line
        if self.method == "executemany":
            try:
                row = list(self._values_of(values))
            except KeyError:  # a row spooled without some key (an older process's): stored as NULL, as an INSERT leaves it
                row = [values.get(self.keys[index]) for index in self.order]
            for place, encoder in self._encoded:
                row[place] = encoder(row[place])
            return tuple(row)
        return self.record(values)

    def record(self, values: dict[str, Any]) -> dict[str, Any]:
        """Return the decoded spool row ``values`` as SQLAlchemy Core's INSERT takes it (see :meth:`write_inserted`).

        Raises ValueError/TypeError for a value its column's type cannot take.
        """
        record = {column.key: values.get(key) for key, column in zip(self.keys, self.columns)}
        for key, parse in self.parsers.items():
            record[key] = parse(record[key])
        return record

    def write_inserted(self, connection: Connection, records: list[dict[str, Any]]) -> None:
        """Store :meth:`record` rows through SQLAlchemy Core's INSERT, the reference path.

        The writer tries a line refused alone on the batch path this way too before it rejects
        it: the server-parsed JSON refuses what an INSERT stores (a ``\\u0000`` escape in a
        ``json`` column: ``json_to_recordset`` refuses it).
        """
        if records:
            connection.execute(insert(self.table).values(self.drawn) if self.drawn else insert(self.table), records)

    def write(self, connection: Connection, rows: list[Any]) -> None:
        """Store encoded ``rows`` inside ``connection``'s transaction (errors raised as SQLAlchemy errors)."""
        if not rows:
            return
        if self.method == "json":
            connection.execute(self.statement, {"rows": _json_array(rows)})
        elif self.method == "executemany":
            connection.exec_driver_sql(self.statement, rows)
        else:
            self.write_inserted(connection, rows)


def app_filled_columns(table: Table) -> list[Column[Any]]:
    """Return the columns of the reflected ``table`` that only the app's rows can fill.

    Those without a server default (nor generated, nor the auto-incremented key): their values
    are the model's Python-side defaults, which the app process computed into the spooled row,
    and an INSERT that left them out would store NULL anyway. So the writer stores them even when
    it was not told of them: the model was imported after ``init_app``, or the rows were spooled
    by an earlier process that knew it (recovered at a start). A nullable JSON column is left
    out: stored from a missing key it would get JSON ``null``, where an INSERT leaving it out
    stores SQL NULL. So is a column of a type SQLAlchemy does not reflect (a PostgreSQL ``box``,
    an extension's ``citext``: NullType), which the batch statement cannot name a type for.
    """
    return [
        column
        for column in table.columns
        if column.server_default is None
        and column.computed is None
        and column.identity is None
        and column is not table.autoincrement_column
        and not (column.nullable and isinstance(column.type, JSON))
        and not isinstance(column.type, NullType)
    ]


def _json_array(lines: list[bytes]) -> str:
    """The JSON array of the spooled ``lines`` as text; a poison error (see ``is_poison``) for bytes no line may hold."""
    joined = b"[" + b",".join(lines) + b"]"
    if b"\x00" in joined:
        raise sa_exc.StatementError("a spool line holds a NUL byte (a torn line)", None, None, None)
    try:
        return joined.decode()
    except UnicodeDecodeError as exc:
        raise sa_exc.StatementError(f"a spool line is not UTF-8: {exc}", None, None, exc) from exc


def _insert_from_json(
    table: Table, keys: Sequence[str], columns: Sequence[Column[Any]], drawn: Mapping[str, Any] | None = None
) -> Any:
    """``INSERT INTO table (...) SELECT ... FROM json_to_recordset(CAST(:rows AS JSON)) AS r(key type, ...)``.

    The record's fields are named by the spool's keys and typed by their columns (a typed field is
    read with its type's input function, so a value the column refuses fails the batch, as an
    INSERT would); JSON columns that are not ``none_as_null`` turn a SQL NULL into JSON ``null``.
    ``columns`` are ``table``'s columns of ``keys``, in the same order; ``drawn`` adds columns by
    name with the expression that fills them (``nextval`` of their sequence).
    """
    records = (
        func.json_to_recordset(cast(bindparam("rows", type_=Text()), JSON))
        .table_valued(*(sql_column(key, Text() if naive_timestamp_column(column) else column.type) for key, column in zip(keys, columns)))
        .render_derived(name="r", with_types=True)
    )
    fields = []
    for key, column in zip(keys, columns):
        field: Any = records.c[key]
        if isinstance(column.type, JSON) and not column.type.none_as_null:
            field = func.coalesce(field, cast(literal_column("'null'"), column.type))
        elif naive_timestamp_column(column):
            field = _naive_timestamp(field, column)
        fields.append(field)
    drawn = drawn or {}
    return insert(table).from_select([*columns, *(table.c[name] for name in drawn)], select(*fields, *drawn.values()))


_OFFSET_AT_THE_END = r"[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def naive_timestamp_column(column: Column[Any]) -> bool:
    """True for a ``timestamp without time zone`` column."""
    return isinstance(column.type, DateTime) and not column.type.timezone


def _naive_timestamp(field: Any, column: Column[Any]) -> Any:
    """The JSON text ``field`` as an INSERT stores it in the naive timestamp ``column``.

    An INSERT sends an aware datetime as a ``timestamptz``, which the server turns into the
    session's wall time, and a naive one as a ``timestamp``, kept as it is. The text input of
    ``timestamp`` ignores an offset, so a value with one goes through ``timestamptz`` first
    (a naive one must not: in a session not in UTC it could fall in a daylight-saving gap).
    """
    return case(
        (field.regexp_match(_OFFSET_AT_THE_END), cast(cast(field, DateTime(timezone=True)), column.type)),
        else_=cast(field, column.type),
    )
