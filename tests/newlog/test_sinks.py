"""The database sink: a connection of its own (never the app's pool), attempts bounded within the retry
budget, a probe that stores nothing, and short error lines with a hint for a missing table. On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

import newlog
from newlog.sinks import DatabaseSink, default_sink, describe_error, writer_engine
from tests.conftest import MakeApp
from tests.support import read_rows, stored_rows


def attempt_bound_ms(engine: sa.Engine) -> int:
    """Return how long one statement of ``engine`` may wait: SQLite's busy timeout, PostgreSQL's statement timeout."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar())
        value = connection.exec_driver_sql("SHOW statement_timeout").scalar()
        return int(value.removesuffix("ms")) if value.endswith("ms") else int(value.removesuffix("s")) * 1000


def test_the_writer_has_its_own_pool_of_one_with_attempts_a_third_of_the_retry_budget(
    make_app: MakeApp, database_url: str
) -> None:
    app = make_app(database=database_url, LOG_RETRY_SECONDS=3.0)
    db: SQLAlchemy = app.extensions["sqlalchemy"]
    sink: DatabaseSink = app.extensions["newlog"].worker.sink
    with app.app_context():
        app_engine = db.engine
    assert sink.engine is not app_engine and sink.owns_engine
    assert (sink.engine.pool.size(), sink.engine.pool._max_overflow) == (1, 0)  # type: ignore[attr-defined]
    assert attempt_bound_ms(sink.engine) == 1000


def test_an_in_memory_sqlite_database_is_written_through_the_apps_own_engine(make_app: MakeApp) -> None:
    app = make_app(database="sqlite://")
    with app.app_context():
        app.extensions["sqlalchemy"].engine  # noqa: B018 - created on first use
        assert app.extensions["newlog"].worker.sink.engine is app.extensions["sqlalchemy"].engine
    newlog.log_info("in memory")
    assert [row["message"] for row in stored_rows_in_memory(app)] == ["in memory"]


def stored_rows_in_memory(app: object) -> list[dict[str, object]]:
    """An in-memory database is only visible on the app's connection: read it there."""
    assert newlog.flush(5)
    db = app.extensions["sqlalchemy"]  # type: ignore[attr-defined]
    with app.app_context():  # type: ignore[attr-defined]
        with db.engine.connect() as connection:
            table = app.config["LOG_TABLE"]  # type: ignore[attr-defined]
            return [dict(row._mapping) for row in connection.execute(sa.text(f'SELECT message FROM "{table}"'))]


def test_the_apps_connect_options_are_kept_but_not_its_pool_options(database_url: str) -> None:
    app_engine = sa.create_engine(database_url, pool_size=20)
    engine = writer_engine(app_engine, 30.0, {"pool_size": 20, "pool_recycle": 5, "connect_args": {}})
    try:
        assert engine.url == app_engine.url
        assert engine.pool.size() == 1
        assert attempt_bound_ms(engine) == 10_000  # capped at 10 s
    finally:
        engine.dispose()
        app_engine.dispose()


def test_the_probe_connects_checks_the_table_and_inserts_in_a_rolled_back_transaction(
    make_app: MakeApp, database_url: str
) -> None:
    app = make_app(database=database_url)
    sink: DatabaseSink = app.extensions["newlog"].worker.sink
    missing = sink.probe()
    assert (missing["ok"], missing["connect"], missing["insert"]) == (False, "ok", "skipped")
    assert missing["table"].startswith(f"missing: table {app.config['LOG_TABLE']!r} does not exist")

    newlog.log_info("creates the table")
    assert len(stored_rows(app)) == 1
    assert sink.probe() == {"ok": True, "connect": "ok", "table": "ok", "insert": "ok", "table_name": app.config["LOG_TABLE"]}
    assert len(read_rows(app)) == 1  # the probe's row was rolled back


def test_the_probe_reports_an_unreachable_database_in_one_line(tmp_path: object) -> None:
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    sink = DatabaseSink(engine, newlog.log_table("unified_logs"), owns_engine=True)
    result = sink.probe()
    assert result["ok"] is False and result["table"] == "skipped"
    assert result["connect"].startswith("OperationalError: connection failed") and "\n" not in result["connect"]


def test_error_lines_are_short_and_a_missing_table_gets_a_hint(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text('INSERT INTO "no_such_log_table" (message) VALUES (:m)'), {"m": "x" * 10_000})
    except sa.exc.DBAPIError as exc:
        line = describe_error(exc)
    finally:
        engine.dispose()
    assert "\n" not in line and len(line) < 700 and "x" * 100 not in line
    assert "the log table is missing: create it with the app's migrations" in line


def test_a_sink_built_for_an_app_reads_the_table_name_at_the_first_write(make_app: MakeApp, database_url: str) -> None:
    app = make_app(database=database_url, init=False)
    sink = default_sink(app)
    assert sink.table_name == app.config["LOG_TABLE"]
    sink([newlog.rows.build_row({"event": "first write creates the table"})])
    sink.close()
    assert [row["message"] for row in read_rows_of(app)] == ["first write creates the table"]


def read_rows_of(app: object) -> list[dict[str, object]]:
    from tests.support import table_rows

    return table_rows(app.config["SQLALCHEMY_DATABASE_URI"], app.config["LOG_TABLE"])  # type: ignore[attr-defined]
