"""The rollback switch (LOG_SYNC_WRITES): each event written in the caller's thread, on a connection of its own."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select, text

import newlog
from newlog.models import log_table
from newlog.queue_worker import LogQueueWorker
from newlog.settings import ConfigError
from newlog.sync_writes import SyncWriter
from tests.newlog.test_fork import run_in_child
from tests.support import ManualClock, RecordingSink, newlog_records, read_rows, running_worker, stored_rows


@pytest.fixture
def orders_table(make_app, database_url) -> Iterator[Callable[..., tuple[Flask, SQLAlchemy, Table]]]:
    """Factory: a LOG_SYNC_WRITES app on ``database_url`` with an ``orders`` table of its own, dropped afterwards."""
    made: list[tuple[Flask, SQLAlchemy, Table]] = []

    def factory(**config: Any) -> tuple[Flask, SQLAlchemy, Table]:
        app = make_app(database_url, LOG_SYNC_WRITES=True, **config)
        db = app.extensions["sqlalchemy"]
        orders = Table(
            f"orders_{uuid.uuid4().hex[:10]}",
            db.metadata,
            Column("id", Integer, primary_key=True),
            Column("item", String(50)),
        )
        with app.app_context():
            orders.create(db.engine)
        made.append((app, db, orders))
        return app, db, orders

    yield factory
    for app, db, orders in made:
        with app.app_context():
            orders.drop(db.engine, checkfirst=True)


def sync_stats(app: Flask) -> dict[str, Any]:
    return app.extensions["newlog"].sync_writer.stats()


def test_each_event_is_in_the_table_when_the_call_returns(make_app, database_url) -> None:
    app = make_app(database_url, LOG_SYNC_WRITES=True)

    newlog.log_info("order placed", module="orders", order_id=1)
    stored_at_once = [row["message"] for row in read_rows(app)]
    newlog.log_warning("stock low", module="inventory")
    stored_next = [row["message"] for row in read_rows(app)]

    assert stored_at_once == ["order placed"]
    assert stored_next == ["order placed", "stock low"]
    assert app.extensions["newlog"].worker.stats()["enqueued"] == 0
    assert sync_stats(app) == {"written": 2, "handed_to_worker": 0, "lost": 0}


def add_order_view(
    app: Flask, db: SQLAlchemy, orders: Table, *, finish: str = "rollback", observe: Callable[[], None] | None = None
) -> None:
    """POST /orders: insert an order (the request's own work, uncommitted), log, ``observe()``, then ``finish`` it."""

    @app.post("/orders")
    def place() -> str:
        db.session.execute(orders.insert().values(item="tea"))
        newlog.log_info("order placed", module="orders", item="tea")
        if observe is not None:
            observe()
        getattr(db.session, finish)()  # rollback: e.g. the payment failed
        return finish


def test_a_request_that_logs_then_rolls_back_keeps_the_log_row_and_loses_only_its_work(orders_table) -> None:
    app, db, orders = orders_table()
    add_order_view(app, db, orders, finish="rollback")

    assert app.test_client().post("/orders").status_code == 200

    assert [row["message"] for row in stored_rows(app)] == ["order placed"]
    with app.app_context():
        assert db.session.execute(select(orders)).all() == []


def test_a_stored_event_never_commits_or_closes_the_callers_transaction(orders_table) -> None:
    app, db, orders = orders_table()
    seen: dict[str, Any] = {}

    def observe() -> None:
        seen["in_transaction"] = db.session().in_transaction()
        with create_engine(db.engine.url).connect() as other:  # what everyone else sees meanwhile
            seen["others_see_orders"] = other.execute(select(orders)).all()

    add_order_view(app, db, orders, finish="commit", observe=observe)
    app.test_client().post("/orders")

    assert seen == {"in_transaction": True, "others_see_orders": []}
    assert [row["message"] for row in stored_rows(app)] == ["order placed"]
    with app.app_context():
        assert [row.item for row in db.session.execute(select(orders))] == ["tea"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_row_is_committed_while_the_callers_transaction_is_still_open(orders_table) -> None:
    app, db, orders = orders_table()
    seen: dict[str, Any] = {}

    def observe() -> None:
        seen["stored_during_the_request"] = [row["message"] for row in read_rows(app)]

    add_order_view(app, db, orders, observe=observe)
    app.test_client().post("/orders")

    assert seen["stored_during_the_request"] == ["order placed"]
    assert sync_stats(app)["written"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_database_the_caller_itself_locked_sends_the_event_to_the_worker_at_once(orders_table, caplog) -> None:
    """SQLite has one writer at a time: waiting in the thread that holds the lock could only time out."""
    caplog.set_level(logging.ERROR, logger="newlog")
    app, db, orders = orders_table()
    add_order_view(app, db, orders)  # its insert holds SQLite's write lock until the rollback

    app.test_client().post("/orders")

    assert [row["message"] for row in stored_rows(app)] == ["order placed"]
    assert sync_stats(app)["handed_to_worker"] == 1
    (report,) = newlog_records(caplog, "LOG_SYNC_WRITES")
    assert "database is locked" in report and "handed to the background worker" in report


@pytest.fixture
def one_connection_app(database_url, tmp_path) -> Iterator[Flask]:
    """A LOG_SYNC_WRITES app whose own pool has one connection (flask-sqlalchemy reads that when it starts)."""
    app = Flask("one_connection_app")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 2},
        LOG_TABLE=f"logs_{uuid.uuid4().hex[:10]}",
        LOG_SYNC_WRITES=True,
        LOG_HEALTH_DIR=str(tmp_path / "health"),
        LOG_DRAIN_ON_SIGTERM=False,
    )
    db = SQLAlchemy(app)
    newlog.init_app(app)
    yield app
    newlog.shutdown(5)
    with app.app_context():
        log_table(app.config["LOG_TABLE"], MetaData()).drop(db.engine, checkfirst=True)
        db.engine.dispose()


def test_a_request_holding_the_apps_only_pooled_connection_still_logs(one_connection_app) -> None:
    app = one_connection_app
    db = app.extensions["sqlalchemy"]

    @app.get("/report")
    def report() -> str:
        db.session.execute(text("SELECT 1"))  # the session now holds the pool's only connection
        newlog.log_info("report viewed", module="reports")
        return "report"

    assert app.test_client().get("/report").status_code == 200

    assert [row["message"] for row in stored_rows(app)] == ["report viewed"]
    assert sync_stats(app)["written"] == 1


def test_a_failed_write_is_printed_and_the_event_is_not_lost(make_app, database_url, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="newlog")
    app = make_app(database_url, LOG_SYNC_WRITES=True, LOG_RETRY_SECONDS=30.0)
    db = app.extensions["sqlalchemy"]
    newlog.log_info("first", module="orders")  # creates the log table
    table = log_table(app.config["LOG_TABLE"], MetaData())
    with app.app_context():
        table.drop(db.engine)

    newlog.log_info("while the table is gone", module="orders")
    with app.app_context():
        table.create(db.engine)

    assert [row["message"] for row in stored_rows(app)] == ["while the table is gone"]
    assert sync_stats(app)["handed_to_worker"] == 1
    reports = newlog_records(caplog, "LOG_SYNC_WRITES")
    assert len(reports) == 1 and "handed to the background worker" in reports[0]


def test_threads_writing_at_once_lose_and_duplicate_nothing(make_app, database_url) -> None:
    app = make_app(database_url, LOG_SYNC_WRITES=True)
    start = threading.Barrier(6, timeout=10)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            for index in range(25):
                newlog.log_info(f"{name}-{index}", module="load")
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(f"t{number}",)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures
    messages = [row["message"] for row in stored_rows(app)]
    assert sorted(messages) == sorted(f"t{number}-{index}" for number in range(6) for index in range(25))
    stats = sync_stats(app)
    assert stats["written"] + stats["handed_to_worker"] == 150 and stats["lost"] == 0


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_writes_on_connections_of_its_own(make_app, database_url) -> None:
    app = make_app(database_url, LOG_SYNC_WRITES=True)
    newlog.log_info("parent before fork")  # the parent's pool now holds a connection

    def child() -> bool:
        for index in range(3):
            newlog.log_info(f"child event {index}")
        return sync_stats(app)["written"] == 3 and sync_stats(app)["handed_to_worker"] == 0

    assert run_in_child(child) == 0
    newlog.log_info("parent after fork")

    assert sorted(row["message"] for row in read_rows(app)) == [
        "child event 0", "child event 1", "child event 2", "parent after fork", "parent before fork"
    ]
    assert sync_stats(app) == {"written": 2, "handed_to_worker": 0, "lost": 0}


def test_an_in_memory_sqlite_database_is_refused_with_a_clear_error() -> None:
    app = Flask("memory_app")
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", LOG_SYNC_WRITES=True)
    SQLAlchemy(app)

    with pytest.raises(ConfigError, match="LOG_SYNC_WRITES=True needs a database .* in-memory SQLite"):
        newlog.init_app(app)
    assert "newlog" not in app.extensions


def test_off_by_default_events_go_through_the_queue(make_app, database_url) -> None:
    app = make_app(database_url)

    newlog.log_info("order placed")

    assert [row["message"] for row in stored_rows(app)] == ["order placed"]
    assert app.extensions["newlog"].worker.stats()["enqueued"] == 1
    assert app.extensions["newlog"].sync_writer is None


# -- SyncWriter as a plain object ---------------------------------------------------------------


def test_failures_are_reported_through_the_worker_which_takes_the_events(caplog) -> None:
    caplog.set_level(logging.ERROR, logger="newlog")
    failing, fallback = RecordingSink(), RecordingSink()
    failing.fail_with(ConnectionError("database unreachable (test sink)"))
    writer = SyncWriter(failing)
    with running_worker(fallback, flush_interval=0.05, warn_interval=10.0) as worker:
        for index in range(3):
            assert writer.write({"event": f"e{index}", "level": "info"}, logging.INFO, worker) is False
        assert worker.flush(10)
        last_error = worker.stats()["last_error"]

    assert fallback.messages == ["e0", "e1", "e2"]
    assert last_error == "ConnectionError: database unreachable (test sink)"
    (report,) = newlog_records(caplog)  # repeats within warn_interval are counted
    assert "caller's thread (LOG_SYNC_WRITES; handed to the background worker): ConnectionError" in report
    assert writer.stats() == {"written": 0, "handed_to_worker": 3, "lost": 0}


def test_after_a_database_failure_writes_go_straight_to_the_worker_for_a_while() -> None:
    sink, fallback, clock = RecordingSink(), RecordingSink(), ManualClock()
    writer = SyncWriter(sink, back_off=5.0, clock=clock)
    with running_worker(fallback, flush_interval=0.05) as worker:
        sink.fail_with(ConnectionError("database unreachable (test sink)"))
        writer.write({"event": "fails", "level": "info"}, logging.INFO, worker)
        sink.fail_with(None)
        clock.advance(4.9)
        writer.write({"event": "during the back-off", "level": "info"}, logging.INFO, worker)
        clock.advance(0.1)
        writer.write({"event": "after it", "level": "info"}, logging.INFO, worker)
        assert worker.flush(10)

    assert sink.calls == 2  # nothing was tried during the back-off
    assert sink.messages == ["after it"]
    assert fallback.messages == ["fails", "during the back-off"]


def test_a_row_the_sink_refuses_does_not_hold_back_the_next_events() -> None:
    sink = RecordingSink()
    writer = SyncWriter(sink, back_off=5.0, clock=ManualClock())
    with running_worker(RecordingSink(), flush_interval=0.05) as worker:
        sink.fail_with(ValueError("value too long for the module column"))  # about the row: retrying it cannot help
        writer.write({"event": "bad row", "level": "info"}, logging.INFO, worker)
        sink.fail_with(None)
        written_at_once = writer.write({"event": "next", "level": "info"}, logging.INFO, worker)

    assert written_at_once is True
    assert sink.messages == ["next"]


def test_an_event_the_worker_refuses_too_is_counted_lost_and_said_so(caplog) -> None:
    caplog.set_level(logging.ERROR, logger="newlog")
    failing = RecordingSink()
    failing.fail_with(ConnectionError("database unreachable (test sink)"))
    writer = SyncWriter(failing)
    worker = LogQueueWorker(RecordingSink())
    worker.shutdown(5)  # a closed worker accepts nothing

    writer.write({"event": "late", "level": "error"}, logging.ERROR, worker)

    assert writer.stats()["lost"] == 1
    assert worker.stats()["dropped_closed"] == 1
    assert "the background worker refused it too" in caplog.records[-1].getMessage()
