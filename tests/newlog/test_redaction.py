"""Sensitive values never reach the log table or the printed line: they become ``[REDACTED]``."""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

import newlog
from tests.newlog.pipeline_support import stored_rows
from tests.newlog.queue_support import RecordingSink

REDACTED = "[REDACTED]"


def log_and_read(app: Flask, capsys: pytest.CaptureFixture[str], **fields: Any) -> tuple[dict[str, Any], str]:
    """Log one event with ``fields``; return its stored context and the line printed for it."""
    capsys.readouterr()
    newlog.log_info("redaction check", **fields)
    assert newlog.flush(5) is True
    printed = capsys.readouterr().out
    (row,) = stored_rows(app)
    return row["context"], printed


@pytest.mark.parametrize(
    "key",
    ["password", "PASSWORD", "Password", "token", "access_token", "Api_Token", "client_secret", "SECRET_KEY",
     "authorization", "Authorization", "cookie", "set_cookie", "X-Auth-Token", "refresh-token", "db_password_hash"],
)
def test_sensitive_keys_are_redacted_in_the_row_and_the_printed_line(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str], key: str
) -> None:
    app, _ = make_app(LOG_RENDERER="json")
    context, printed = log_and_read(app, capsys, **{key: "hunter2-value", "user": "alice"})
    assert context[key] == REDACTED
    assert context["user"] == "alice"
    assert "hunter2-value" not in printed
    assert json.loads(printed)[key] == REDACTED


def test_nested_dicts_and_lists_of_dicts_are_redacted_at_every_level(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = make_app(LOG_RENDERER="json")
    request_data = {
        "headers": {"Authorization": "Bearer abc123", "Accept": "application/json", "Cookie": "session=xyz"},
        "body": {"user": {"name": "alice", "credentials": {"password": "pw-1", "otp_secret": "otp-1"}}},
    }
    users = [{"name": "bob", "password": "pw-2"}, {"name": "carol", "tokens": ["t-1", "t-2"]}]
    pairs = ({"api_token": "t-3"}, "plain")

    context, printed = log_and_read(app, capsys, request_data=request_data, users=users, pairs=pairs)

    expected = {
        "request_data": {
            "headers": {"Authorization": REDACTED, "Accept": "application/json", "Cookie": REDACTED},
            "body": {"user": {"name": "alice", "credentials": {"password": REDACTED, "otp_secret": REDACTED}}},
        },
        "users": [{"name": "bob", "password": REDACTED}, {"name": "carol", "tokens": REDACTED}],
        "pairs": [{"api_token": REDACTED}, "plain"],
    }
    assert {key: context[key] for key in expected} == expected
    printed_event = json.loads(printed)
    assert {key: printed_event[key] for key in expected} == expected
    for secret in ("abc123", "session=xyz", "pw-1", "otp-1", "pw-2", "t-1", "t-3"):
        assert secret not in printed


def test_logging_does_not_change_the_callers_data(make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    app, _ = make_app(LOG_RENDERER="json")
    form = {"username": "alice", "password": "pw", "profile": {"token": "t"}}
    context, _ = log_and_read(app, capsys, form=form)
    assert context["form"] == {"username": "alice", "password": REDACTED, "profile": {"token": REDACTED}}
    assert form == {"username": "alice", "password": "pw", "profile": {"token": "t"}}


@pytest.mark.parametrize(
    "make_mapping",
    [OrderedDict, lambda items: defaultdict(str, items), MultiDict],
    ids=["OrderedDict", "defaultdict", "werkzeug MultiDict (request.form)"],
)
def test_dict_subclasses_are_redacted_too(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str], make_mapping: Callable[[dict[str, str]], Any]
) -> None:
    app, _ = make_app(LOG_RENDERER="json")
    form = make_mapping({"username": "alice", "password": "pw-form"})
    context, printed = log_and_read(app, capsys, form=form, forms=[make_mapping({"token": "t-form"})])
    assert context["form"]["password"] == REDACTED
    assert context["form"]["username"] in ("alice", ["alice"])
    assert context["forms"][0]["token"] == REDACTED
    assert "pw-form" not in printed and "t-form" not in printed


def test_values_bound_to_the_context_are_redacted(make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    app, _ = make_app(LOG_RENDERER="json")
    newlog.bind_context(session_cookie="c-1", tenant="acme")
    context, printed = log_and_read(app, capsys)
    assert (context["session_cookie"], context["tenant"]) == (REDACTED, "acme")
    assert "c-1" not in printed


def test_a_secret_nested_deeper_than_the_stored_depth_is_not_printed(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = make_app(LOG_RENDERER="json")
    deep: dict[str, Any] = {"password": "deep-secret", "note": "deep-note"}
    for _ in range(25):
        deep = {"level": deep}
    context, printed = log_and_read(app, capsys, deep=deep)
    assert "deep-secret" not in printed
    assert "deep-secret" not in json.dumps(context)
    assert json.loads(printed)["deep"]["level"]["level"]  # the shallow part is still printed


@pytest.mark.parametrize("extra", ["ssn, Card", ["ssn", "card"]], ids=["comma-separated", "list"])
def test_more_sensitive_words_come_from_log_redact_keys(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str], extra: Any
) -> None:
    app, _ = make_app(LOG_RENDERER="json", LOG_REDACT_KEYS=extra)
    context, printed = log_and_read(
        app, capsys, ssn="123-45-6789", card_number="4111", payment={"CARD_cvv": "999"}, password="pw", order=7
    )
    assert (context["ssn"], context["card_number"], context["payment"]) == (REDACTED, REDACTED, {"CARD_cvv": REDACTED})
    assert (context["password"], context["order"]) == (REDACTED, 7)  # the built-in words stay
    for secret in ("123-45-6789", "4111", "999"):
        assert secret not in printed


def test_log_redact_keys_from_the_environment(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_REDACT_KEYS", "iban")
    app, _ = make_app(LOG_RENDERER="json")
    context, _ = log_and_read(app, capsys, iban="DE89 3704", amount=10)
    assert (context["iban"], context["amount"]) == (REDACTED, 10)


# -- property: whatever the shape, a value under a sensitive key never comes out -----------------

SENSITIVE = ["password", "Access_Token", "client-secret", "AUTHORIZATION", "cookies", "ssn"]
HARMLESS = ["name", "id", "items", "note", "author", "tok"]


@st.composite
def payloads(draw: st.DrawFn, depth: int = 0) -> Any:
    """Nested dicts/lists whose sensitive keys hold ``SECRET-n`` and other keys ``keep-n`` leaves."""
    counter = draw(st.integers(0, 10**6))
    if depth >= 4 or draw(st.booleans()):
        return f"keep-{counter}"
    if draw(st.booleans()):
        return [draw(payloads(depth + 1)) for _ in range(draw(st.integers(0, 3)))]
    result: dict[str, Any] = {}
    for index, key in enumerate(draw(st.lists(st.sampled_from(SENSITIVE + HARMLESS), max_size=4, unique=True))):
        if key in SENSITIVE:
            result[key] = draw(st.sampled_from([f"SECRET-{counter}-{index}", {"inner": f"SECRET-{counter}-{index}"}]))
        else:
            result[key] = draw(payloads(depth + 1))
    return result


def leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=payloads(), top_key=st.sampled_from(SENSITIVE))
def test_no_value_under_a_sensitive_key_is_ever_stored_or_printed(
    capsys: pytest.CaptureFixture[str], payload: Any, top_key: str
) -> None:
    sink = RecordingSink()
    app = Flask("redaction_property")
    app.config.update(LOG_RENDERER="json", LOG_REDACT_KEYS="ssn", LOG_FLUSH_INTERVAL=0.01)
    worker = newlog.init_app(app, sink=sink)
    try:
        capsys.readouterr()
        newlog.log_info("property", payload=payload, **{top_key: "SECRET-top"})
        assert worker.flush(5) is True
        printed = capsys.readouterr().out
        (row,) = sink.rows
        stored = json.dumps(row["context"])
        assert "SECRET" not in stored and "SECRET" not in printed
        for leaf in leaves(payload):
            if leaf.startswith("keep-"):
                assert leaf in stored and leaf in printed
    finally:
        worker.shutdown(5)
