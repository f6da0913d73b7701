"""How the spool writer process stores decoded spool rows: COPY text on PostgreSQL, a DBAPI executemany elsewhere.

The writer's rows arrive as JSON, already final (the app process built them and computed the
model's Python-side defaults), so this module only encodes each value for the wire, without
SQLAlchemy's per-row work (measured: the Core executemany and psycopg's ``write_row`` cost the
writer about 45 µs of CPU per row; this path about a fifth of that, see ``benchmarks/bench_pipeline.py``):

- PostgreSQL through psycopg 3: ``COPY ... FROM STDIN`` in text format, rows encoded here
  (``\\N`` for NULL, backslash escapes); date-times are passed as the ISO text the app wrote
  (PostgreSQL parses it), JSON as compact JSON text.
- Any other database whose driver takes ``?`` parameters (SQLite): the compiled INSERT through
  the DBAPI ``executemany``, each value through the column type's own bind processor (so the
  stored text is SQLAlchemy's), JSON as compact JSON text.
- Else: SQLAlchemy Core's executemany with the decoded Python values.

Stored values equal the INSERT path's; JSON text is compact (orjson), so a ``JSON`` (not
``JSONB``) column holds the same document with other spacing and non-ASCII characters unescaped.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import orjson

try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg 3 is optional: no COPY without it
    psycopg = None
from sqlalchemy import JSON, Column, Table, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from newlog.models import ROW_COLUMNS

Encoder = Callable[[Any], Any]


def _copy_text(value: Any) -> str:
    """Return ``value`` as one field of PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if not isinstance(value, str):
        value = orjson.dumps(value).decode() if isinstance(value, (dict, list)) else str(value)
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    return value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


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

    def __init__(self, engine: Engine, table: Table, extra_columns: Sequence[str] = ()) -> None:
        dialect = engine.dialect
        keys = list(ROW_COLUMNS) + [key for key in extra_columns if key in table.c and key not in ROW_COLUMNS]
        self.keys = tuple(keys)
        self.columns = [table.c[key] for key in keys]
        self.table = table
        if psycopg is not None and dialect.name == "postgresql" and dialect.driver == "psycopg":
            self.method = "copy"
            self.encoders = [_json_encoder(column) if isinstance(column.type, JSON) else None for column in self.columns]
            preparer = dialect.identifier_preparer
            names = ", ".join(preparer.quote(column.name) for column in self.columns)
            self.statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
        elif dialect.paramstyle == "qmark":
            self.method = "executemany"
            compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
            self.statement = str(compiled)
            order = [compiled.binds[name].key for name in compiled.positiontup or ()]
            position = {key: index for index, key in enumerate(keys)}
            self.order = [position[key] for key in order]
            self.encoders = [self._driver_encoder(column, dialect) for column in self.columns]
        else:
            self.method = "core"
            self.statement = str(insert(table))
            self.parsers = {column.key: parse for column in self.columns if (parse := python_value(column)) is not None}

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

    def encode(self, values: dict[str, Any]) -> Any:
        """Return one decoded row ready for :meth:`write`; raises ValueError/TypeError for a bad row."""
        row = [values.get(key) for key in self.keys]
        if self.method == "copy":
            fields = [value if encoder is None else encoder(value) for encoder, value in zip(self.encoders, row)]
            return "\t".join([_copy_text(value) for value in fields]) + "\n"
        if self.method == "executemany":
            encoded = [value if encoder is None else encoder(value) for encoder, value in zip(self.encoders, row)]
            return tuple(encoded[index] for index in self.order)
        record = dict(zip(self.keys, row))
        for key, parse in self.parsers.items():
            record[key] = parse(record[key])
        return record

    def write(self, connection: Connection, rows: list[Any]) -> None:
        """Store encoded ``rows`` inside ``connection``'s transaction (errors raised as SQLAlchemy errors)."""
        if not rows:
            return
        if self.method == "copy":
            _copy(connection, self.statement, "".join(rows))
        elif self.method == "executemany":
            connection.exec_driver_sql(self.statement, rows)
        else:
            connection.execute(insert(self.table), rows)


def _copy(connection: Connection, statement: str, data: str) -> None:
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(data)
    except psycopg.Error as exc:
        if driver.broken or driver.closed:
            connection.invalidate(exc)
        raise sa_exc.DBAPIError.instance(statement, None, exc, psycopg.Error, dialect=connection.dialect) from exc

