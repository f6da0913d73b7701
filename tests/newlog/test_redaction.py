"""Through the pipeline: a secret never reaches the stored row or the printed line (the word rules: test_sanitize)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

import newlog
from tests.conftest import MakeApp
from tests.newlog.test_sanitize import SENSITIVE, payloads
from tests.support import stored_rows

REDACTED = "[REDACTED]"


def log_and_read(app: Any, capsys: pytest.CaptureFixture[str], **fields: Any) -> tuple[dict[str, Any], str]:
    """Log one event with ``fields``; return its stored context and the line printed for it."""
    capsys.readouterr()
    newlog.log_info("redaction check", **fields)
    (row,) = stored_rows(app)
    return row["context"], capsys.readouterr().out


@pytest.mark.parametrize("key", ["password", "X-Auth-Token", "client_secret", "Authorization", "csrf_token", "apiKey"])
def test_a_secret_is_redacted_in_the_row_and_in_the_printed_line(
    make_app: MakeApp, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    app = make_app(LOG_RENDERER="json")
    context, printed = log_and_read(app, capsys, **{key: "hunter2-value", "user": "alice", "password_length": 13})
    assert (context[key], context["user"], context["password_length"]) == (REDACTED, "alice", 13)
    assert "hunter2-value" not in printed
    assert json.loads(printed)[key] == REDACTED


def test_headers_forms_and_to_dict_objects_are_redacted_as_they_are_stored(
    make_app: MakeApp, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_RENDERER="json")

    @app.post("/login")
    def login() -> str:
        class Account:
            def to_dict(self) -> dict[str, Any]:
                return {"id": 7, "password_hash": "pbkdf2$x", "password_changed_at": "2024-01-01"}

        newlog.log_info("login", headers=request.headers, form=request.form, account=Account())
        return "ok"

    capsys.readouterr()
    app.test_client().post(
        "/login?next=/home&token=url-secret",
        data={"user": "ann", "password": "form-secret"},
        headers={"Authorization": "Bearer header-secret", "X-Api-Key": "key-secret"},
    )
    (row,) = stored_rows(app)
    printed = capsys.readouterr().out
    context = row["context"]
    assert (context["headers"]["Authorization"], context["headers"]["X-Api-Key"]) == (REDACTED, REDACTED)
    assert context["form"] == {"user": "ann", "password": REDACTED}
    assert context["account"] == {"id": 7, "password_hash": REDACTED, "password_changed_at": "2024-01-01"}
    assert context["url"] == f"http://localhost/login?next=/home&token={REDACTED}"
    for secret in ("url-secret", "form-secret", "header-secret", "key-secret", "pbkdf2$x"):
        assert secret not in json.dumps(context) and secret not in printed


def test_the_url_of_an_error_payload_is_masked_too(make_app: MakeApp) -> None:
    app = make_app()

    @app.get("/reset")
    def reset() -> Any:
        return newlog.enhanced_error_handler(ValueError("invalid link"))

    payload = app.test_client().get("/reset?token=link-secret&step=2").get_json()
    assert payload["context"]["url"] == f"http://localhost/reset?token={REDACTED}&step=2"
    assert "link-secret" not in json.dumps(stored_rows(app)[0]["context"])


def test_logging_does_not_change_the_callers_data(make_app: MakeApp, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app()
    form = {"username": "alice", "password": "pw", "profile": {"token": "t"}}
    context, _ = log_and_read(app, capsys, form=form, form_multi=MultiDict([("password", "x")]))
    assert context["form"] == {"username": "alice", "password": REDACTED, "profile": {"token": REDACTED}}
    assert form == {"username": "alice", "password": "pw", "profile": {"token": "t"}}


def test_values_bound_to_the_context_are_redacted(make_app: MakeApp, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app()
    newlog.bind_context(session_cookie="c-1", tenant="acme")
    context, printed = log_and_read(app, capsys)
    assert (context["session_cookie"], context["tenant"]) == (REDACTED, "acme")
    assert "c-1" not in printed


@pytest.mark.parametrize("extra", ["ssn, Card", ["ssn", "card"]], ids=["comma-separated", "list"])
def test_more_sensitive_words_come_from_log_redact_keys(make_app: MakeApp, capsys: pytest.CaptureFixture[str], extra: Any) -> None:
    app = make_app(LOG_REDACT_KEYS=extra)
    context, printed = log_and_read(app, capsys, ssn="123-45-6789", card_number="4111", payment={"CARD_cvv": "999"}, password="pw", order=7)
    assert (context["ssn"], context["card_number"], context["payment"]) == (REDACTED, REDACTED, {"CARD_cvv": REDACTED})
    assert (context["password"], context["order"]) == (REDACTED, 7)  # the built-in words stay
    for secret in ("123-45-6789", "4111", "999"):
        assert secret not in printed


def test_log_redact_keys_from_the_environment(
    make_app: MakeApp, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_REDACT_KEYS", "iban")
    app = make_app()
    context, _ = log_and_read(app, capsys, iban="DE89 3704", amount=10)
    assert (context["iban"], context["amount"]) == (REDACTED, 10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads(), top_key=st.sampled_from(SENSITIVE))
def test_no_value_under_a_sensitive_key_is_ever_stored_or_printed(
    make_app: MakeApp, capsys: pytest.CaptureFixture[str], payload: Any, top_key: Any
) -> None:
    app = make_app(LOG_RENDERER="json", LOG_REDACT_KEYS="ssn")
    capsys.readouterr()
    top = top_key.decode() if isinstance(top_key, bytes) else top_key
    newlog.log_info("property", payload=payload, **{top: "SECRET-top"})
    (row,) = stored_rows(app)
    printed = capsys.readouterr().out
    assert "SECRET" not in json.dumps(row["context"]) and "SECRET" not in printed
    newlog.shutdown(5)
