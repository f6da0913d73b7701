"""Identity fields of stored rows (app_name, app_version, environment, host) keep the legacy module's values.

By default the legacy rules; an app whose legacy module had its own (a hard-coded display
name, APP_ENV, a pod name: the ``IDENTITY`` / ``REQUEST_ONLY`` of its profile module) keeps
them through ``newlog.set_identity``. User attributes are stored as values.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import Flask, current_app
from flask_login import LoginManager, UserMixin, login_user

import newlog
from tests.support import RecordingSink, stored_rows

IDENTITY = ("app_name", "app_version", "environment", "host")


def identities(app: Flask) -> dict[str, dict[str, Any]]:
    """message -> the identity fields of its row."""
    return {row["message"]: {key: row["context"].get(key) for key in IDENTITY} for row in stored_rows(app)}


def log_inside_and_outside_a_request(app: Flask) -> None:
    @app.get("/identity")
    def view() -> str:
        newlog.log_info("in a request")
        return "ok"

    newlog.log_info("at start-up")
    with app.app_context():
        newlog.log_info("in an app context")
    assert app.test_client().get("/identity").status_code == 200


def test_the_default_rules_are_the_legacy_ones(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASK_ENV", raising=False)
    app = make_app(APP_NAME="Shop", APP_VERSION="2.1.0")

    log_inside_and_outside_a_request(app)

    seen = identities(app)
    outside = {"app_name": "Shop", "app_version": "2.1.0", "environment": None, "host": None}
    assert seen["at start-up"] == seen["in an app context"] == outside
    assert seen["in a request"] == {**outside, "environment": "production", "host": socket.gethostname()}


def test_without_app_name_and_version_the_flask_name_and_unknown(make_app) -> None:
    app = make_app()

    newlog.log_info("plain")

    assert identities(app)["plain"] == {"app_name": app.name, "app_version": "unknown", "environment": None, "host": None}


def test_a_debug_app_is_development_not_production(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASK_ENV", raising=False)
    app = make_app(DEBUG=True)

    log_inside_and_outside_a_request(app)

    assert identities(app)["in a request"]["environment"] == "development"


def test_flask_env_and_environment_settings(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_ENV", "staging")
    legacy_rule = make_app()
    configured = make_app(ENVIRONMENT="eu-prod")

    log_inside_and_outside_a_request(legacy_rule)
    with configured.app_context():
        newlog.log_info("configured")

    assert identities(legacy_rule)["in a request"]["environment"] == "staging"
    assert identities(configured)["configured"]["environment"] == "eu-prod"  # newlog's own setting: every event


def test_an_apps_own_rules_from_its_profile(make_app) -> None:
    app = make_app(init=False, APP_VERSION="3.2.1")

    def app_version() -> str:  # the legacy module read it per event, with a fallback outside an app
        try:
            return current_app.config.get("APP_VERSION", "0.0.0")
        except RuntimeError:
            return "unbekannt"

    newlog.set_identity(
        {"app_name": "Raumbuchung Portal", "app_version": app_version, "environment": "test", "host": lambda: "pod-7"},
        request_only={"environment"},
        app=app,
    )
    newlog.init_app(app, sink=RecordingSink())

    log_inside_and_outside_a_request(app)

    seen = identities(app)
    assert seen["in an app context"] == {"app_name": "Raumbuchung Portal", "app_version": "3.2.1", "environment": None, "host": "pod-7"}
    assert seen["at start-up"]["app_version"] == "unbekannt"
    assert seen["in a request"]["environment"] == "test"


def test_process_wide_rules_apply_to_every_app_and_an_apps_own_win(make_app) -> None:
    first = make_app()
    second = make_app(init=False)
    newlog.set_identity({"app_name": "Portal", "host": "shared-host"})
    newlog.init_app(second, sink=RecordingSink())
    newlog.set_identity({"app_name": "Second Portal"}, app=second)

    for app in (first, second):
        with app.app_context():
            newlog.log_info(f"from {app.name}")

    assert identities(first)[f"from {first.name}"]["app_name"] == "Portal"
    assert identities(second)[f"from {second.name}"]["app_name"] == "Second Portal"
    assert identities(second)[f"from {second.name}"]["host"] == "shared-host"


def test_a_failing_identity_function_leaves_its_key_out_and_never_breaks_the_caller(make_app) -> None:
    app = make_app()

    def broken() -> str:
        raise KeyError("POD_NAME")

    newlog.set_identity({"host": broken}, app=app)
    with app.app_context():
        newlog.log_info("still logged")

    assert identities(app)["still logged"]["host"] is None


def test_request_only_names_a_rule() -> None:
    with pytest.raises(ValueError, match="request_only names key\\(s\\) without a rule: region"):
        newlog.set_identity({"app_name": "x"}, request_only={"region"})


class Employee(UserMixin):
    def __init__(self, ident: int, role: str) -> None:
        self.id = ident
        self.username = f"user{ident}"
        self._role = role

    def is_admin(self) -> bool:
        return self._role == "admin"

    def role(self) -> str:
        return self._role


def add_admin_login(app: Flask) -> None:
    """``POST /login`` logs in user 1, an admin, and logs "logged in"."""
    app.secret_key = "test-only"
    LoginManager(app).user_loader(lambda ident: Employee(int(ident), "admin"))

    @app.post("/login")
    def login() -> str:
        login_user(Employee(1, "admin"))
        newlog.log_info("logged in")
        return "ok"


def test_user_attributes_that_are_methods_are_stored_as_their_values(make_app) -> None:
    app = make_app()
    add_admin_login(app)

    app.test_client().post("/login")

    [row] = [row for row in stored_rows(app) if row["message"] == "logged in"]
    assert (row["context"]["is_admin"], row["context"]["current_user_role"]) == (True, "admin")


def test_init_app_takes_the_profile_modules_pieces(make_app) -> None:
    from newlog.error_adapter import enhanced_error_handler
    from newlog.error_profile import ErrorProfile, Outcome, PayloadShape, Rule, Text

    profile = ErrorProfile(
        rules=(Rule(outcome=Outcome(500, "system", "high", "INTERNAL_ERROR", Text.literal("Interner Fehler"), False)),),
        payload=PayloadShape(keys=("error", "message")),
    )
    app = make_app(init=False)
    newlog.init_app(app, sink=RecordingSink(), errors=profile, identity={"app_name": "Portal", "host": "pod-2"}, request_only={"host"})

    log_inside_and_outside_a_request(app)
    with app.app_context():
        payload = enhanced_error_handler(RuntimeError("boom"))

    assert payload == {"error": True, "message": "Interner Fehler"}
    seen = identities(app)
    assert (seen["in an app context"]["app_name"], seen["in an app context"]["host"]) == ("Portal", None)
    assert seen["in a request"]["host"] == "pod-2"


def test_a_profile_keeps_the_legacy_teardown_message_and_user_keys(make_app) -> None:
    """The profile's teardown text (with error_type), and only the user keys the legacy handler stored."""
    from newlog.error_profile import ErrorProfile, Outcome, PayloadShape, Rule, Text

    profile = ErrorProfile(
        rules=(Rule(outcome=Outcome(500, "system", "high", "INTERNAL_ERROR", Text.literal("Interner Fehler"), False)),),
        payload=PayloadShape(keys=("error", "message")),
        teardown_message="Anwendungsfehler",
        user_context=(("current_user_id", "id"), ("is_admin", "is_admin")),
    )
    app = make_app(init=False)
    newlog.init_app(app, sink=RecordingSink(), errors=profile)
    add_admin_login(app)

    @app.get("/boom")
    def boom() -> str:
        raise LookupError("kaputt")

    client = app.test_client()
    client.post("/login")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/boom").status_code == 500

    rows = {row["message"]: row["context"] for row in stored_rows(app)}
    assert {key: rows["logged in"].get(key) for key in ("current_user_id", "is_admin", "username")} == {
        "current_user_id": 1,
        "is_admin": True,
        "username": "user1",
    }
    assert "current_user_role" not in rows["logged in"] and "current_username" not in rows["logged in"]
    assert rows["Anwendungsfehler"]["error_type"] == "LookupError"
    assert "Application error" not in rows
