"""The request event (LOG_REQUEST_EVENT): one http_request_completed per request, however the request ended."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Blueprint, Flask, Response, abort, redirect, stream_with_context
from flask_login import LoginManager, UserMixin, login_required, login_user
from flask_wtf.csrf import CSRFProtect

import newlog
from newlog.request_event import REQUEST_EVENT
from tests.support import ManualClock, printed_events, stored_rows


class User(UserMixin):
    def __init__(self, ident: int) -> None:
        self.id = ident


def with_clock(app: Flask) -> ManualClock:
    """Give ``app`` a clock the test moves by hand; return it."""
    clock = ManualClock()
    app.extensions["newlog"].clock = clock
    return clock


@pytest.fixture
def app(make_app) -> Flask:
    """An app with LOG_REQUEST_EVENT on (rows kept in memory)."""
    return make_app(LOG_REQUEST_EVENT=True, SECRET_KEY="test-only")


def request_events(app: Flask) -> list[dict[str, Any]]:
    """Return the stored request events: their context plus ``level`` and ``module``."""
    return [
        {**row["context"], "level": row["level"], "module": row["module"]}
        for row in stored_rows(app)
        if row["message"] == REQUEST_EVENT
    ]


def test_a_request_gives_one_event_with_route_endpoint_status_duration_and_size(app) -> None:
    clock = with_clock(app)
    orders = Blueprint("orders", __name__, url_prefix="/orders")

    @orders.get("/<int:order_id>")
    def show(order_id: int) -> Any:
        clock.advance(0.25)
        return {"order_id": order_id, "items": ["tea", "milk"]}

    app.register_blueprint(orders)

    response = app.test_client().get("/orders/42?expand=items", headers={"X-Request-ID": "req-7"})

    (event,) = request_events(app)
    assert event == {
        **event,
        "level": "INFO",
        "module": "http",
        "method": "GET",
        "route": "/orders/<int:order_id>",
        "endpoint": "orders.show",
        "status": 200,
        "outcome": "success",
        "duration_ms": 250.0,
        "response_size": len(response.data),
        "request_id": "req-7",
    }


def test_an_exception_in_the_view_gives_a_500_error_event(app) -> None:

    @app.post("/pay")
    def pay() -> str:
        raise RuntimeError("card processor down")

    response = app.test_client().post("/pay")

    assert response.status_code == 500
    (event,) = request_events(app)
    assert (event["level"], event["status"], event["outcome"]) == ("ERROR", 500, "server_error")
    assert (event["route"], event["endpoint"], event["error_type"]) == ("/pay", "pay", "RuntimeError")
    assert event["response_size"] == len(response.data)


def test_an_exception_a_testing_app_propagates_still_gives_its_event(app) -> None:
    app.testing = True

    @app.get("/pay")
    def pay() -> str:
        raise RuntimeError("card processor down")

    with pytest.raises(RuntimeError):
        app.test_client().get("/pay")

    (event,) = request_events(app)
    assert (event["status"], event["outcome"], event["error_type"]) == (500, "server_error", "RuntimeError")
    assert "response_size" not in event


def test_a_csrf_rejection_gives_a_400_event_and_the_view_never_runs(app) -> None:
    CSRFProtect(app)
    ran: list[bool] = []

    @app.post("/transfer")
    def transfer() -> str:
        ran.append(True)
        return "moved"

    response = app.test_client().post("/transfer", data={"amount": "100"})

    assert response.status_code == 400 and not ran
    (event,) = request_events(app)
    assert (event["route"], event["endpoint"], event["method"]) == ("/transfer", "transfer", "POST")
    assert (event["status"], event["outcome"], event["level"]) == (400, "client_error", "INFO")


def test_a_before_request_guard_answering_403_gives_its_event(app) -> None:

    @app.before_request
    def only_admins() -> Any:
        return "admins only", 403

    @app.get("/admin")
    def admin() -> str:
        return "secret"

    app.test_client().get("/admin")

    (event,) = request_events(app)
    assert (event["route"], event["status"], event["outcome"]) == ("/admin", 403, "client_error")


@pytest.mark.parametrize(("login_view", "status", "outcome"), [(None, 401, "client_error"), ("login", 302, "redirect")])
def test_a_login_guard_gives_its_401_or_redirect_event(app, login_view, status, outcome) -> None:
    manager = LoginManager(app)
    manager.user_loader(lambda ident: User(int(ident)))
    manager.login_view = login_view

    @app.get("/login")
    def login() -> str:
        return "log in"

    @app.get("/account")
    @login_required
    def account() -> str:
        return "yours"

    app.test_client().get("/account")

    (event,) = request_events(app)
    assert (event["route"], event["endpoint"], event["status"], event["outcome"]) == (
        "/account", "account", status, outcome
    )


def test_the_user_id_is_the_user_logged_in_during_the_request(app) -> None:
    LoginManager(app).user_loader(lambda ident: User(int(ident)))

    @app.post("/login/<int:ident>")
    def login(ident: int) -> Any:
        login_user(User(ident))
        return redirect("/")

    @app.get("/me")
    def me() -> str:
        return "me"

    client = app.test_client()
    client.post("/login/5")
    client.get("/me")

    logged_in, later = request_events(app)
    assert (logged_in["user_id"], logged_in["status"], logged_in["outcome"]) == (5, 302, "redirect")
    assert later["user_id"] == 5


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/nowhere/1234", 404), ("DELETE", "/known", 405)])
def test_a_request_no_route_matched_gives_an_event_without_route_or_endpoint(app, method, path, status) -> None:
    app.get("/known")(lambda: "known")

    app.test_client().open(path, method=method)

    (event,) = request_events(app)
    assert (event["method"], event["status"], event["outcome"]) == (method, status, "client_error")
    assert "route" not in event and "endpoint" not in event


def test_an_abort_in_the_view_gives_its_status(app) -> None:

    @app.get("/orders/<int:order_id>")
    def show(order_id: int) -> str:
        abort(404)

    app.test_client().get("/orders/9")

    (event,) = request_events(app)
    assert (event["route"], event["status"], event["outcome"]) == ("/orders/<int:order_id>", 404, "client_error")


def test_a_streamed_body_has_no_size(app) -> None:

    @app.get("/export")
    def export() -> Response:
        return Response(stream_with_context(iter(["a,b\n", "1,2\n"])), mimetype="text/csv")

    response = app.test_client().get("/export")

    assert response.data == b"a,b\n1,2\n"
    (event,) = request_events(app)
    assert event["status"] == 200 and "response_size" not in event


def test_concurrent_requests_each_get_their_own_event(app) -> None:
    both_in = threading.Barrier(2, timeout=10)

    @app.get("/slow/<name>")
    def slow(name: str) -> str:
        both_in.wait()
        return name

    failures: list[BaseException] = []

    def call(name: str) -> None:
        try:
            assert app.test_client().get(f"/slow/{name}", headers={"X-Request-ID": name}).status_code == 200
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures
    assert sorted(event["request_id"] for event in request_events(app)) == ["first", "second"]


def test_a_request_context_pushed_by_hand_serves_no_request_and_gets_no_event(app) -> None:

    with app.test_request_context("/orders/1"):
        newlog.log_info("rendering an e-mail with url_for")

    assert request_events(app) == []


def test_off_by_default(make_app) -> None:
    app = make_app()
    app.get("/")(lambda: "home")

    app.test_client().get("/")

    assert request_events(app) == []


def test_stored_per_the_persistence_policy_and_always_printed(make_app, database_url, capsys) -> None:
    app = make_app(database_url, LOG_REQUEST_EVENT=True, LOG_DB_LEVEL="WARNING", LOG_RENDERER="json")

    @app.before_request
    def keep_audited_requests() -> None:
        from flask import request

        if request.path.startswith("/audited"):
            newlog.bind_context(persist=True)

    app.add_url_rule("/ok", "ok", lambda: "fine")
    app.add_url_rule("/audited", "audited", lambda: "fine")

    @app.get("/fail")
    def fail() -> str:
        raise RuntimeError("down")

    client = app.test_client()
    for path in ("/ok", "/audited", "/fail"):
        client.get(path)

    stored = [row for row in stored_rows(app) if row["message"] == REQUEST_EVENT]
    assert [(row["context"]["route"], row["context"]["status"], row["level"]) for row in stored] == [
        ("/audited", 200, "INFO"),
        ("/fail", 500, "ERROR"),
    ]
    printed = [event for event in printed_events(capsys) if event["event"] == REQUEST_EVENT]
    assert [(event["route"], event["status"]) for event in printed] == [("/ok", 200), ("/audited", 200), ("/fail", 500)]
