"""Callsite fields (LOG_CALLSITE): function, line, thread and process of the app code that logged."""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

import newlog
from tests.newlog.pipeline_support import flushed_rows
from tests.newlog.queue_support import RecordingSink

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import compat.structlog_config as legacy


def next_line() -> int:
    """Return the number of the caller's next line."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


def make_recording_app(**config: Any) -> tuple[Flask, RecordingSink]:
    app = Flask("callsite_test")
    app.config.update(LOG_FLUSH_INTERVAL=0.05, **config)
    sink = RecordingSink()
    newlog.init_app(app, sink=sink)
    return app, sink


@pytest.fixture
def recording_app() -> Iterator[tuple[Flask, RecordingSink]]:
    """An app with LOG_CALLSITE on that stores every level; its rows are kept in memory."""
    yield make_recording_app(LOG_CALLSITE=True, LOG_DB_LEVEL="DEBUG")


def contexts(sink: RecordingSink) -> list[dict[str, Any]]:
    """Return the context of every row written so far."""
    assert newlog.flush(10)
    return [dict(row["context"]) for row in sink.rows]


def callsite(context: dict[str, Any]) -> tuple[Any, ...]:
    return context.get("function"), context.get("line"), context.get("thread"), context.get("process")


def test_the_fields_point_at_the_code_that_called_log_info(recording_app) -> None:
    _, sink = recording_app

    line = next_line()
    newlog.log_info("order placed", module="orders")

    (context,) = contexts(sink)
    assert callsite(context) == (
        "test_the_fields_point_at_the_code_that_called_log_info", line, threading.get_ident(), os.getpid()
    )


HELPERS: dict[str, Callable[[str], Any]] = {
    "newlog.log_info": newlog.log_info,
    "newlog.log_warning": newlog.log_warning,
    "newlog.log_error": newlog.log_error,
    "newlog.log_critical": newlog.log_critical,
    "newlog.log_debug": newlog.log_debug,
    "newlog.get_logger(name).info": newlog.get_logger("orders").info,
    "newlog.get_api_logger().warning": newlog.get_api_logger().warning,
    "legacy log_info": legacy.log_info,
    "legacy log_warning": legacy.log_warning,
    "legacy log_error": legacy.log_error,
    "legacy log_critical": legacy.log_critical,
    "legacy get_logger(name).info": legacy.get_logger("orders").info,
    "legacy get_system_logger().error": legacy.get_system_logger().error,
}


@pytest.mark.parametrize("helper", HELPERS.values(), ids=HELPERS.keys())
def test_every_legacy_shaped_helper_points_at_its_caller_not_at_newlog_or_compat(recording_app, helper) -> None:
    _, sink = recording_app
    newlog.set_debug_logging_enabled(enabled=True)

    line = next_line()
    helper("something happened")

    (context,) = contexts(sink)
    assert callsite(context)[:2] == (
        "test_every_legacy_shaped_helper_points_at_its_caller_not_at_newlog_or_compat", line
    )


def test_an_error_payload_logged_for_the_app_points_at_the_code_that_asked_for_it(recording_app) -> None:
    _, sink = recording_app

    line = next_line()
    newlog.enhanced_error_handler(ValueError("invalid amount"))

    (context,) = contexts(sink)
    assert callsite(context)[:2] == ("test_an_error_payload_logged_for_the_app_points_at_the_code_that_asked_for_it", line)


def test_an_audit_event_keeps_the_audited_function_and_gets_no_unrelated_line(recording_app) -> None:
    _, sink = recording_app

    @newlog.audit_log("user.delete")
    def delete_user(user_id: int) -> None:
        pass

    delete_user(7)

    (context,) = contexts(sink)
    assert context["function"].endswith("<locals>.delete_user")
    assert callsite(context)[1:] == (None, threading.get_ident(), os.getpid())


def test_a_thread_logs_its_own_thread_id(recording_app) -> None:
    _, sink = recording_app
    seen: dict[str, Any] = {}

    def job() -> None:
        seen["thread"] = threading.get_ident()
        seen["line"] = next_line()
        newlog.log_info("from a job thread")

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()

    (context,) = contexts(sink)
    assert callsite(context) == ("job", seen["line"], seen["thread"], os.getpid())
    assert seen["thread"] != threading.get_ident()


def test_async_methods_point_at_the_coroutine_and_its_thread(recording_app) -> None:
    _, sink = recording_app
    logger = newlog.get_logger("orders")
    seen: dict[str, Any] = {}

    async def place_order() -> None:
        seen["thread"] = threading.get_ident()
        seen["line"] = next_line()
        await logger.ainfo("placed without blocking the loop")

    asyncio.run(place_order())

    (context,) = contexts(sink)
    assert callsite(context)[:3] == ("place_order", seen["line"], seen["thread"])


def test_keys_the_call_gives_are_kept(recording_app) -> None:
    _, sink = recording_app

    line = next_line()
    newlog.log_info("import finished", process="nightly import")
    newlog.log_info("parsed", line="B-12")

    own_process, own_line = contexts(sink)
    assert callsite(own_process)[:3] == ("test_keys_the_call_gives_are_kept", line, threading.get_ident())
    assert own_process["process"] == "nightly import"
    assert callsite(own_line) == (None, "B-12", threading.get_ident(), os.getpid())


def test_events_newlog_logs_from_flask_hooks_carry_no_callsite(recording_app) -> None:
    app, sink = recording_app

    @app.get("/boom")
    def boom() -> str:
        newlog.log_info("about to fail")
        raise RuntimeError("card processor down")

    @app.get("/pay")
    @newlog.error_handler
    def pay() -> str:
        raise ValueError("invalid amount")

    client = app.test_client()
    assert client.get("/boom").status_code == 500
    assert client.get("/pay").status_code == 400

    in_view, unhandled, answered = contexts(sink)
    assert in_view["function"] == "boom"
    assert unhandled["error"] == "card processor down"
    assert answered["error_type"] == "ValueError"
    for context in (unhandled, answered):
        assert not {"function", "line", "thread", "process"} & set(context)


def test_off_by_default() -> None:
    _, sink = make_recording_app()

    newlog.log_info("order placed")

    (context,) = contexts(sink)
    assert not {"function", "line", "thread", "process"} & set(context)


def test_the_fields_are_stored(make_app) -> None:
    app, _ = make_app(LOG_CALLSITE=True)

    line = next_line()
    newlog.log_warning("stock low", module="inventory", sku="A-1")

    (row,) = flushed_rows(app)
    assert callsite(row["context"]) == ("test_the_fields_are_stored", line, threading.get_ident(), os.getpid())
