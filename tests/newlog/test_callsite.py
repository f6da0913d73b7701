"""Callsite fields (LOG_CALLSITE): function, line, thread and process of the app code that logged."""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

import newlog
from tests.support import stored_rows

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import compat.structlog_config as legacy


def next_line() -> int:
    """Return the number of the caller's next line."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


@pytest.fixture
def app(make_app) -> Flask:
    """An app with LOG_CALLSITE on that stores every level (in memory)."""
    return make_app(LOG_CALLSITE=True, LOG_DB_LEVEL="DEBUG")


def contexts(app: Flask) -> list[dict[str, Any]]:
    """Return the context of every row stored so far."""
    return [row["context"] for row in stored_rows(app)]


def callsite(context: dict[str, Any]) -> tuple[Any, ...]:
    return context.get("function"), context.get("line"), context.get("thread"), context.get("process")


def test_the_fields_point_at_the_code_that_called_log_info(app) -> None:

    line = next_line()
    newlog.log_info("order placed", module="orders")

    (context,) = contexts(app)
    assert callsite(context) == (
        "test_the_fields_point_at_the_code_that_called_log_info", line, threading.get_ident(), os.getpid()
    )


HELPERS: dict[str, Callable[[str], Any]] = {
    **{
        f"{source} {name}": getattr(module, name)
        for source, module in (("newlog", newlog), ("legacy", legacy))
        for name in ("log_info", "log_warning", "log_error", "log_critical", "log_debug")
    },
    "newlog get_logger(name).info": newlog.get_logger("orders").info,
    "newlog get_api_logger().warning": newlog.get_api_logger().warning,
    "legacy get_logger(name).info": legacy.get_logger("orders").info,
    "legacy get_system_logger().error": legacy.get_system_logger().error,
}


@pytest.mark.parametrize("helper", HELPERS.values(), ids=HELPERS.keys())
def test_every_legacy_shaped_helper_points_at_its_caller_not_at_newlog_or_compat(app, helper) -> None:
    newlog.set_debug_logging_enabled(enabled=True)

    line = next_line()
    helper("something happened")

    (context,) = contexts(app)
    assert callsite(context)[:2] == (
        "test_every_legacy_shaped_helper_points_at_its_caller_not_at_newlog_or_compat", line
    )


def test_an_error_payload_logged_for_the_app_points_at_the_code_that_asked_for_it(app) -> None:

    line = next_line()
    newlog.enhanced_error_handler(ValueError("invalid amount"))

    (context,) = contexts(app)
    assert callsite(context)[:2] == ("test_an_error_payload_logged_for_the_app_points_at_the_code_that_asked_for_it", line)


def test_an_audit_event_keeps_the_audited_function_and_gets_no_unrelated_line(app) -> None:

    @newlog.audit_log("user.delete")
    def delete_user(user_id: int) -> None:
        pass

    delete_user(7)

    (context,) = contexts(app)
    assert context["function"].endswith("<locals>.delete_user")
    assert callsite(context)[1:] == (None, threading.get_ident(), os.getpid())


def test_a_thread_logs_its_own_thread_id(app) -> None:
    seen: dict[str, Any] = {}

    def job() -> None:
        seen["thread"] = threading.get_ident()
        seen["line"] = next_line()
        newlog.log_info("from a job thread")

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()

    (context,) = contexts(app)
    assert callsite(context) == ("job", seen["line"], seen["thread"], os.getpid())
    assert seen["thread"] != threading.get_ident()


def test_async_methods_point_at_the_coroutine_and_its_thread(app) -> None:
    logger = newlog.get_logger("orders")
    seen: dict[str, Any] = {}

    async def place_order() -> None:
        seen["thread"] = threading.get_ident()
        seen["line"] = next_line()
        await logger.ainfo("placed without blocking the loop")

    asyncio.run(place_order())

    (context,) = contexts(app)
    assert callsite(context)[:3] == ("place_order", seen["line"], seen["thread"])


def test_keys_the_call_gives_are_kept(app) -> None:

    line = next_line()
    newlog.log_info("import finished", process="nightly import")
    newlog.log_info("parsed", line="B-12")

    own_process, own_line = contexts(app)
    assert callsite(own_process)[:3] == ("test_keys_the_call_gives_are_kept", line, threading.get_ident())
    assert own_process["process"] == "nightly import"
    assert callsite(own_line) == (None, "B-12", threading.get_ident(), os.getpid())


def test_events_newlog_logs_from_flask_hooks_carry_no_callsite(app) -> None:

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

    in_view, unhandled, answered = contexts(app)
    assert in_view["function"] == "boom"
    assert unhandled["error"] == "card processor down"
    assert answered["error_type"] == "ValueError"
    for context in (unhandled, answered):
        assert not {"function", "line", "thread", "process"} & set(context)


def test_off_by_default(make_app) -> None:
    app = make_app()

    newlog.log_info("order placed")

    (context,) = contexts(app)
    assert not {"function", "line", "thread", "process"} & set(context)


def test_the_fields_are_stored(make_app, database_url) -> None:
    app = make_app(database_url, LOG_CALLSITE=True)

    line = next_line()
    newlog.log_warning("stock low", module="inventory", sku="A-1")

    (row,) = stored_rows(app)
    assert callsite(row["context"]) == ("test_the_fields_are_stored", line, threading.get_ident(), os.getpid())
