"""Request ids: taken from the incoming header or generated, returned, stored; no context leaks between requests."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from flask import Flask, jsonify
from flask_login import LoginManager, UserMixin, login_user, logout_user

import newlog
from newlog.context import request_id_var, user_id_var
from tests.support import RecordingSink
from tests.support import stored_rows as stored

GENERATED = re.compile(r"[0-9a-f]{32}")




def add_views(app: Flask) -> None:
    """/bind binds request data and logs; /peek reports the context it starts with and logs."""

    @app.get("/bind")
    def bind() -> Any:
        newlog.bind_context(tenant="acme", cart_id=17)
        newlog.log_info("bound", module="shop")
        return jsonify(newlog.get_context())

    @app.get("/peek")
    def peek() -> Any:
        seen = {"context": newlog.get_context(), "request_id_var": request_id_var.get()}
        newlog.log_info("peeked", module="shop")
        return jsonify(seen)

    @app.get("/boom")
    def boom() -> str:
        newlog.bind_context(stage="charging")
        raise RuntimeError("card processor down")


def test_the_incoming_request_id_is_used_returned_and_stored(make_app) -> None:
    app = make_app()
    add_views(app)

    response = app.test_client().get("/peek", headers={"X-Request-ID": "req-42.a"})

    assert response.headers["X-Request-ID"] == "req-42.a"
    assert response.json == {"context": {"request_id": "req-42.a", "user_id": None}, "request_id_var": "req-42.a"}
    (row,) = stored(app)
    assert row["context"]["request_id"] == "req-42.a"
    assert row["context"]["method"] == "GET"
    assert row["context"]["url"] == "http://localhost/peek"


def test_a_request_id_is_generated_when_none_comes_in(make_app) -> None:
    app = make_app()
    add_views(app)
    client = app.test_client()

    first = client.get("/peek").headers["X-Request-ID"]
    second = client.get("/peek").headers["X-Request-ID"]

    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second
    assert [row["context"]["request_id"] for row in stored(app)] == [first, second]


@pytest.mark.parametrize(
    "incoming", ["has spaces", "x" * 129, "<script>", "id\ttab", "-leading-dash", "", "   "], ids=repr
)
def test_an_unusable_incoming_id_is_replaced(make_app, incoming: str) -> None:
    app = make_app()
    add_views(app)

    response = app.test_client().get("/peek", headers={"X-Request-ID": incoming})

    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_the_header_name_is_configurable(make_app) -> None:
    app = make_app(LOG_REQUEST_ID_HEADER="X-Correlation-ID")
    add_views(app)

    headers = {"X-Correlation-ID": "00-4bf92f3577b34da6-01", "X-Request-ID": "ignored"}
    response = app.test_client().get("/peek", headers=headers)

    assert response.headers["X-Correlation-ID"] == "00-4bf92f3577b34da6-01"
    assert "X-Request-ID" not in response.headers
    assert stored(app)[0]["context"]["request_id"] == "00-4bf92f3577b34da6-01"


def test_a_view_that_sets_the_header_itself_keeps_its_value(make_app) -> None:
    app = make_app()

    @app.get("/upstream")
    def upstream() -> Any:
        return "ok", 200, {"X-Request-ID": "from-upstream"}

    assert app.test_client().get("/upstream").headers["X-Request-ID"] == "from-upstream"


def test_nothing_bound_in_one_request_reaches_the_next_on_the_same_thread(make_app) -> None:
    app = make_app()
    add_views(app)
    client = app.test_client()

    bound = client.get("/bind", headers={"X-Request-ID": "first"})
    peeked = client.get("/peek", headers={"X-Request-ID": "second"})
    failed = client.get("/boom")
    after_error = client.get("/peek", headers={"X-Request-ID": "third"})

    assert bound.json == {"request_id": "first", "user_id": None, "tenant": "acme", "cart_id": 17}
    assert peeked.json["context"] == {"request_id": "second", "user_id": None}
    assert failed.status_code == 500
    assert after_error.json["context"] == {"request_id": "third", "user_id": None}
    assert newlog.get_context() == {}
    assert (request_id_var.get(), user_id_var.get()) == (None, None)
    rows = {row["message"] + ":" + row["context"].get("request_id", ""): row["context"] for row in stored(app)}
    assert "tenant" not in rows["peeked:second"] and "cart_id" not in rows["peeked:second"]
    assert "stage" not in rows["peeked:third"]


def test_the_context_around_a_request_is_restored_after_it(make_app) -> None:
    app = make_app()
    add_views(app)
    request_id_var.set("outer-job")

    with newlog.log_context(job="nightly-import"):
        response = app.test_client().get("/bind")
        assert newlog.get_context() == {"job": "nightly-import"}

    assert "job" not in response.json
    assert request_id_var.get() == "outer-job"
    request_id_var.set(None)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def serve() -> Iterator[Any]:
    """Serve a WSGI app over real HTTP from ONE server thread that handles every request in turn."""
    servers: list[WSGIServer] = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, server_class=WSGIServer, handler_class=QuietHandler)
        threading.Thread(target=server.serve_forever, name="one-server-thread", daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url: str, **headers: str) -> tuple[dict[str, Any], Any]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
        return json.loads(response.read()), response.headers


def test_a_real_server_thread_reused_for_every_request_leaks_nothing(make_app, serve) -> None:
    app = make_app()
    add_views(app)
    threads: set[str] = set()

    @app.get("/thread")
    def thread() -> Any:
        threads.add(threading.current_thread().name)
        return jsonify(newlog.get_context())

    base = serve(app)
    bound, bound_headers = get(f"{base}/bind", **{"X-Request-ID": "http-1"})
    seen, seen_headers = get(f"{base}/peek")
    context_of_third, _ = get(f"{base}/thread")

    assert bound["tenant"] == "acme"
    assert bound_headers["X-Request-ID"] == "http-1"
    assert seen["context"] == {"request_id": seen_headers["X-Request-ID"], "user_id": None}
    assert set(context_of_third) == {"request_id", "user_id"}
    assert threads == {"one-server-thread"}
    peeked = [row for row in stored(app) if row["message"] == "peeked"]
    assert peeked[0]["context"]["request_id"] == seen_headers["X-Request-ID"]
    assert "tenant" not in peeked[0]["context"]


def test_an_unhandled_error_is_logged_once_with_the_request_context(make_app) -> None:
    app = make_app()
    add_views(app)

    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-boom"})

    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-boom"
    errors = [row for row in stored(app) if row["message"] == "Application error"]
    assert len(errors) == 1
    context = errors[0]["context"]
    assert (context["request_id"], context["url"]) == ("req-boom", "http://localhost/boom")
    assert context["stage"] == "charging"
    assert context["error"] == "card processor down"
    assert errors[0]["module"] == "system"
    assert "RuntimeError: card processor down" in errors[0]["traceback"]


def test_not_found_responses_carry_the_request_id(make_app) -> None:
    app = make_app()

    response = app.test_client().get("/nowhere", headers={"X-Request-ID": "lost-1"})

    assert (response.status_code, response.headers["X-Request-ID"]) == (404, "lost-1")


def test_an_error_outside_a_request_is_still_logged_once(make_app) -> None:
    app = make_app()

    with pytest.raises(KeyError):
        with app.app_context():
            raise KeyError("cli task failed")

    errors = [row for row in stored(app) if row["message"] == "Application error"]
    assert len(errors) == 1
    assert "request_id" not in errors[0]["context"]


def test_hooks_the_app_registered_before_init_app_see_the_request_id(make_app) -> None:
    app = make_app(init=False)

    @app.before_request
    def early() -> None:
        newlog.log_info("rate limit checked")

    @app.teardown_request
    def late(exc: BaseException | None) -> None:
        newlog.log_info("session closed")

    newlog.init_app(app, sink=RecordingSink())
    app.test_client().get("/nowhere", headers={"X-Request-ID": "hooks-1"})

    rows = {row["message"]: row["context"] for row in stored(app)}
    assert rows["rate limit checked"]["request_id"] == "hooks-1"
    assert rows["session closed"]["request_id"] == "hooks-1"


class User(UserMixin):
    def __init__(self, ident: int) -> None:
        self.id = ident
        self.username = f"user{ident}"


def add_login(app: Flask) -> None:
    app.secret_key = "test-only"
    manager = LoginManager(app)
    manager.user_loader(lambda ident: User(int(ident)))

    @app.post("/login/<int:ident>")
    def login(ident: int) -> Any:
        newlog.log_info("before login")
        login_user(User(ident))
        newlog.log_info("after login")
        return jsonify(newlog.get_context())

    @app.get("/me")
    def me() -> Any:
        newlog.log_info("me")
        return jsonify(newlog.get_context())

    @app.post("/logout")
    def logout() -> Any:
        logout_user()
        newlog.log_info("after logout")
        return jsonify(newlog.get_context())


def test_user_id_follows_flask_login_in_and_stays_for_the_logout_request(make_app) -> None:
    """Logging in binds the user's id at once; logging out keeps it for that request's events, as legacy did."""
    app = make_app()
    add_login(app)
    client = app.test_client()

    logged_in = client.post("/login/5")
    me = client.get("/me")
    logged_out = client.post("/logout")
    anonymous = client.get("/me")

    assert logged_in.json["user_id"] == 5
    assert me.json["user_id"] == 5
    assert logged_out.json["user_id"] == 5
    assert anonymous.json["user_id"] is None
    rows = {row["message"] + str(index): row["context"] for index, row in enumerate(stored(app))}
    assert "user_id" not in rows["before login0"]
    assert rows["after login1"]["user_id"] == 5
    assert rows["after login1"]["current_user_id"] == 5
    assert rows["me2"]["user_id"] == 5
    assert rows["after logout3"]["user_id"] == 5
    assert "current_user_id" not in rows["after logout3"] and "username" not in rows["after logout3"]
    assert rows["after login1"]["username"] == rows["after login1"]["current_username"] == "user5"
    assert "user_id" not in rows["me4"]
    assert user_id_var.get() is None


def test_an_app_without_flask_login_logs_no_user(make_app) -> None:
    app = make_app()
    add_views(app)

    assert app.test_client().get("/peek").json["context"]["user_id"] is None
