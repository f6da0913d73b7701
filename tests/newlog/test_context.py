"""Log context: bound values reach the events of their own thread / task only; static context reaches all."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

import newlog
from tests.support import stored_rows


def contexts_by_message(app: Any) -> dict[str, dict[str, Any]]:
    assert newlog.flush(5) is True
    return {row["message"]: row["context"] for row in stored_rows(app)}


def test_bind_unbind_clear_and_get() -> None:
    newlog.bind_context(tenant="acme", region="eu")
    newlog.bind_context(region="us")
    assert newlog.get_context() == {"tenant": "acme", "region": "us"}

    newlog.unbind_context("region", "never-bound")
    assert newlog.get_context() == {"tenant": "acme"}

    snapshot = newlog.get_context()
    snapshot["tampered"] = True
    assert newlog.get_context() == {"tenant": "acme"}

    newlog.clear_context()
    assert newlog.get_context() == {}


def test_bound_values_are_stored_with_each_event(make_app: Callable[..., Any]) -> None:
    app = make_app()
    newlog.bind_context(tenant="acme", job_id=12)
    newlog.log_info("bound")
    newlog.unbind_context("job_id")
    newlog.log_info("after unbind")
    newlog.clear_context()
    newlog.log_info("after clear")
    newlog.bind_context(tenant="acme")
    newlog.log_info("overridden", tenant="globex")

    contexts = contexts_by_message(app)
    assert (contexts["bound"]["tenant"], contexts["bound"]["job_id"]) == ("acme", 12)
    assert contexts["after unbind"]["tenant"] == "acme" and "job_id" not in contexts["after unbind"]
    assert "tenant" not in contexts["after clear"]
    assert contexts["overridden"]["tenant"] == "globex"


def test_log_context_as_a_with_block_restores_what_was_bound_before(make_app: Callable[..., Any]) -> None:
    app = make_app()
    newlog.bind_context(tenant="acme")
    with newlog.log_context(tenant="globex", step="import"):
        newlog.log_info("inside")
        with newlog.log_context(step="validate"):
            newlog.log_info("nested")
        newlog.log_info("back in outer")
    newlog.log_info("outside")

    contexts = contexts_by_message(app)
    assert (contexts["inside"]["tenant"], contexts["inside"]["step"]) == ("globex", "import")
    assert contexts["nested"]["step"] == "validate"
    assert contexts["back in outer"]["step"] == "import"
    assert contexts["outside"]["tenant"] == "acme" and "step" not in contexts["outside"]
    assert newlog.get_context() == {"tenant": "acme"}


def test_log_context_restores_even_when_the_block_raises() -> None:
    with pytest.raises(KeyError):
        with newlog.log_context(step="import"):
            raise KeyError("boom")
    assert newlog.get_context() == {}


def test_log_context_as_a_decorator_on_a_function(make_app: Callable[..., Any]) -> None:
    app = make_app()

    @newlog.log_context(task="nightly_sync")
    def sync_accounts(count: int) -> int:
        """Sync the accounts."""
        newlog.log_info("syncing", count=count)
        return count * 2

    assert sync_accounts(3) == 6
    assert sync_accounts(4) == 8  # the same decorator is reusable
    newlog.log_info("after")

    assert (sync_accounts.__name__, sync_accounts.__doc__) == ("sync_accounts", "Sync the accounts.")
    assert newlog.flush(5) is True
    rows = stored_rows(app)
    assert [(row["message"], row["context"].get("task")) for row in rows] == [
        ("syncing", "nightly_sync"), ("syncing", "nightly_sync"), ("after", None)
    ]


def test_log_context_as_a_decorator_on_a_coroutine_function(make_app: Callable[..., Any]) -> None:
    app = make_app()

    @newlog.log_context(task="fetch")
    async def fetch(name: str) -> str:
        await asyncio.sleep(0.01)
        newlog.log_info("fetched", name=name)
        return name.upper()

    async def main() -> list[str]:
        async def untagged() -> None:
            await asyncio.sleep(0.005)
            newlog.log_info("untagged task")

        results = await asyncio.gather(fetch("a"), fetch("b"), untagged())
        return [result for result in results if result]

    assert fetch.__name__ == "fetch"
    assert asyncio.iscoroutinefunction(fetch)
    assert asyncio.run(main()) == ["A", "B"]

    assert newlog.flush(5) is True

    contexts = stored_rows(app)
    tasks = sorted((row["message"], row["context"].get("name"), row["context"].get("task")) for row in contexts)
    assert tasks == [("fetched", "a", "fetch"), ("fetched", "b", "fetch"), ("untagged task", None, None)]


def test_a_value_bound_in_one_thread_never_reaches_another_threads_events(make_app: Callable[..., Any]) -> None:
    app = make_app()
    workers = 6
    events_each = 20
    start = threading.Barrier(workers)

    def handle_requests(worker: int) -> None:
        start.wait()
        for index in range(events_each):
            if worker % 2 == 0:  # even threads bind, odd threads never do
                newlog.bind_context(tenant=f"tenant-{worker}", seq=index)
            newlog.log_info(f"w{worker}-e{index}", worker=worker)

    threads = [threading.Thread(target=handle_requests, args=(worker,)) for worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert newlog.flush(5) is True

    rows = stored_rows(app)
    assert len(rows) == workers * events_each
    for row in rows:
        worker = row["context"]["worker"]
        if worker % 2 == 0:
            assert row["context"]["tenant"] == f"tenant-{worker}"
            assert row["message"] == f"w{worker}-e{row['context']['seq']}"
        else:
            assert "tenant" not in row["context"] and "seq" not in row["context"]
    assert newlog.get_context() == {}  # nor does it reach the main thread


def test_static_context_is_on_every_event_in_every_thread(make_app: Callable[..., Any]) -> None:
    app = make_app(APP_VERSION="2.4.1", ENVIRONMENT="staging")
    newlog.set_static_context(region="eu-west")
    newlog.log_info("main thread")
    thread = threading.Thread(target=newlog.log_info, args=("other thread",))
    thread.start()
    thread.join(5)
    newlog.log_info("event value wins", environment="canary")

    contexts = contexts_by_message(app)
    for message in ("main thread", "other thread"):
        assert {key: contexts[message][key] for key in ("app_name", "app_version", "environment", "region")} == {
            "app_name": app.name, "app_version": "2.4.1", "environment": "staging", "region": "eu-west"
        }
    assert contexts["event value wins"]["environment"] == "canary"
    assert newlog.get_static_context()["region"] == "eu-west"
    assert "region" not in newlog.get_context()  # static context is not part of the bound context


def test_request_id_and_user_id_vars(make_app: Callable[..., Any]) -> None:
    app = make_app()
    assert (newlog.request_id_var.get(), newlog.user_id_var.get()) == (None, None)
    newlog.bind_request_context("req-1", user_id=7)
    assert (newlog.request_id_var.get(), newlog.user_id_var.get()) == ("req-1", 7)
    newlog.log_info("in request")

    seen_in_thread: list[Any] = []
    thread = threading.Thread(target=lambda: seen_in_thread.append(newlog.request_id_var.get()))
    thread.start()
    thread.join(5)

    newlog.clear_request_context()
    newlog.log_info("after request")
    assert (newlog.request_id_var.get(), newlog.user_id_var.get()) == (None, None)
    assert seen_in_thread == [None]

    contexts = contexts_by_message(app)
    assert (contexts["in request"]["request_id"], contexts["in request"]["user_id"]) == ("req-1", 7)
    assert "request_id" not in contexts["after request"] and "user_id" not in contexts["after request"]


def test_each_request_gets_its_own_request_id_and_nothing_bound_leaks_to_the_next(
    make_app: Callable[..., Any],
) -> None:
    app = make_app()

    @app.get("/orders/<int:order_id>")
    def order(order_id: int) -> dict[str, Any]:
        if order_id == 1:
            newlog.bind_context(promo="SPRING")
        newlog.log_info("viewed order", order_id=order_id)
        return {"request_id": newlog.request_id_var.get()}

    client = app.test_client()
    first = client.get("/orders/1", headers={"X-Request-ID": "abc-123"})
    second = client.get("/orders/2")

    assert first.headers["X-Request-ID"] == "abc-123" == first.json["request_id"]
    generated = second.headers["X-Request-ID"]
    assert generated and generated != "abc-123" and second.json["request_id"] == generated
    assert newlog.flush(5) is True
    rows = stored_rows(app)
    contexts = {row["context"]["order_id"]: row["context"] for row in rows if row["message"] == "viewed order"}
    assert (contexts[1]["request_id"], contexts[1]["promo"], contexts[1]["method"]) == ("abc-123", "SPRING", "GET")
    assert contexts[2]["request_id"] == generated and "promo" not in contexts[2]
    assert contexts[1]["url"].endswith("/orders/1")
