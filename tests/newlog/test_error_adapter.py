"""Behaviour of newlog.error_adapter: classification, the JSON payload, the decorators, the log event."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from flask import Flask, Response
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs
from werkzeug.exceptions import Forbidden, InternalServerError, NotFound, Unauthorized

from newlog.context import request_id_var, user_id_var
from newlog.error_adapter import (
    ErrorCategory,
    ErrorContext,
    ErrorMetadata,
    ErrorSeverity,
    classify,
    enhanced_error_handler,
    error_handler,
    error_monitor,
    error_response,
    register_error_metadata,
    unregister_error_metadata,
)

PAYLOAD_KEYS = {
    "error",
    "error_id",
    "category",
    "severity",
    "message_code",
    "message",
    "timestamp",
    "recoverable",
    "suggestions",
    "context",
}


class AppError(Exception):
    """An application's own base error that carries its metadata as attributes."""

    status_code = 409
    category = "business"
    severity = "medium"
    message_key = "order_already_paid"
    message = "This order is already paid."
    recoverable = False


class RegisteredError(Exception):
    pass


class RegisteredChildError(RegisteredError):
    pass


class UnregisteredChildError(RegisteredError):
    pass


@pytest.fixture
def registered() -> Iterator[None]:
    register_error_metadata(RegisteredError, ErrorMetadata(418, ErrorCategory.EXTERNAL, ErrorSeverity.LOW))
    register_error_metadata(
        RegisteredChildError,
        ErrorMetadata(503, ErrorCategory.EXTERNAL, ErrorSeverity.CRITICAL, "payments_down", "Payments are down."),
    )
    yield
    unregister_error_metadata(RegisteredError)
    unregister_error_metadata(RegisteredChildError)


@pytest.fixture
def app() -> Flask:
    return Flask(__name__)


@pytest.fixture
def request_ids() -> Iterator[None]:
    request_token = request_id_var.set("req-123")
    user_token = user_id_var.set(42)
    yield
    request_id_var.reset(request_token)
    user_id_var.reset(user_token)


def integrity_error() -> sa.exc.IntegrityError:
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (email TEXT UNIQUE)"))
        conn.execute(sa.text("INSERT INTO users VALUES ('a@example.com')"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users VALUES ('a@example.com')"))
    except sa.exc.IntegrityError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("SQLite accepted a duplicate in a UNIQUE column")


def operational_error() -> sa.exc.OperationalError:
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT * FROM missing_table"))
    except sa.exc.OperationalError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("selecting from a missing table did not fail")


def summary(error: BaseException) -> tuple[int, str, str]:
    metadata = classify(error)
    return metadata.status_code, metadata.category.value, metadata.severity.value


# --- classification ---------------------------------------------------------------


def test_app_error_is_classified_by_its_attributes() -> None:
    metadata = classify(AppError())

    assert metadata == ErrorMetadata(
        409, ErrorCategory.BUSINESS, ErrorSeverity.MEDIUM, "order_already_paid", "This order is already paid.", False
    )


def test_app_error_without_optional_attributes_uses_its_text_and_category_defaults() -> None:
    class QuotaError(Exception):
        status_code = 429
        category = ErrorCategory.SECURITY
        severity = ErrorSeverity.HIGH

    metadata = classify(QuotaError("Quota exceeded for today"))

    assert (metadata.status_code, metadata.category, metadata.severity) == (
        429,
        ErrorCategory.SECURITY,
        ErrorSeverity.HIGH,
    )
    assert metadata.message == "Quota exceeded for today"
    assert metadata.message_key == "security_error"
    assert metadata.recoverable is False


def test_registered_class_and_its_subclasses_use_the_registered_metadata(registered: None) -> None:
    assert summary(RegisteredError()) == (418, "external", "low")
    assert summary(UnregisteredChildError()) == (418, "external", "low")


def test_most_specific_registered_class_wins(registered: None) -> None:
    metadata = classify(RegisteredChildError())

    assert (metadata.status_code, metadata.severity, metadata.message_key, metadata.message) == (
        503,
        ErrorSeverity.CRITICAL,
        "payments_down",
        "Payments are down.",
    )


def test_unregistering_restores_the_default_classification(registered: None) -> None:
    unregister_error_metadata(RegisteredChildError)

    assert summary(RegisteredChildError()) == (418, "external", "low")


def test_registration_rejects_a_non_exception_class() -> None:
    with pytest.raises(TypeError, match="exception class"):
        register_error_metadata(dict, ErrorMetadata(400, "validation", "low"))  # type: ignore[arg-type]


def test_metadata_accepts_legacy_strings_and_rejects_unknown_values() -> None:
    assert ErrorMetadata(400, "validation", "low").category is ErrorCategory.VALIDATION  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown error category 'payments'"):
        ErrorMetadata(400, "payments", "low")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTP status"):
        ErrorMetadata(1000, ErrorCategory.SYSTEM, ErrorSeverity.LOW)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotFound(), (404, "validation", "low")),
        (Unauthorized(), (401, "authentication", "medium")),
        (Forbidden(), (403, "authorization", "medium")),
        (InternalServerError(), (500, "system", "high")),
    ],
)
def test_werkzeug_http_exceptions_are_classified_by_code(error: Exception, expected: tuple[int, str, str]) -> None:
    assert summary(error) == expected


def test_http_exception_message_is_its_description() -> None:
    assert classify(NotFound("No such order")).message == "No such order"


def test_real_integrity_error_is_a_400_database_error() -> None:
    metadata = classify(integrity_error())

    assert (metadata.status_code, metadata.category) == (400, ErrorCategory.DATABASE)
    assert "INSERT" not in metadata.message


def test_other_sqlalchemy_error_is_a_500_database_error() -> None:
    metadata = classify(operational_error())

    assert (metadata.status_code, metadata.category, metadata.severity) == (
        500,
        ErrorCategory.DATABASE,
        ErrorSeverity.HIGH,
    )
    assert "missing_table" not in metadata.message


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Upstream Timeout after 30s", (504, "network", "high")),
        ("connection refused", (504, "network", "high")),
        ("Permission required", (403, "authorization", "medium")),
        ("FORBIDDEN area", (403, "authorization", "medium")),
        ("access denied", (403, "authorization", "medium")),
        ("Invalid email address", (400, "validation", "low")),
        ("validation failed", (400, "validation", "low")),
        ("boom", (500, "system", "high")),
    ],
)
def test_plain_errors_are_classified_by_message_words(message: str, expected: tuple[int, str, str]) -> None:
    assert summary(RuntimeError(message)) == expected


def test_builtin_timeout_and_connection_errors_are_network_errors() -> None:
    assert summary(TimeoutError("timed out")) == (504, "network", "high")
    assert summary(ConnectionResetError()) == (504, "network", "high")


@given(st.text())
def test_any_plain_error_gets_a_known_status(message: str) -> None:
    assert classify(Exception(message)).status_code in {400, 403, 500, 504}


# --- enums ------------------------------------------------------------------------


def test_enums_equal_the_legacy_strings() -> None:
    assert ErrorCategory.DATABASE == "database"
    assert ErrorCategory.EXTERNAL == "external"
    assert ErrorSeverity.CRITICAL == "critical"
    assert [c.value for c in ErrorCategory] == [
        "database",
        "validation",
        "authentication",
        "authorization",
        "system",
        "network",
        "unknown",
        "business",
        "security",
        "external",
    ]
    assert [s.value for s in ErrorSeverity] == ["low", "medium", "high", "critical"]


# --- payload ----------------------------------------------------------------------


def test_payload_has_exactly_the_legacy_keys_and_plain_values() -> None:
    payload = enhanced_error_handler(ValueError("invalid quantity"))

    assert set(payload) == PAYLOAD_KEYS
    assert payload["error"] is True
    assert payload["category"] == "validation" and type(payload["category"]) is str
    assert payload["severity"] == "low" and type(payload["severity"]) is str
    assert payload["message_code"] == "validation_error"
    assert payload["recoverable"] is True
    assert payload["suggestions"] and all(isinstance(s, str) for s in payload["suggestions"])
    assert len(payload["error_id"]) == 32
    json.dumps(payload)


def test_payload_timestamp_is_iso_8601_utc() -> None:
    timestamp = datetime.fromisoformat(enhanced_error_handler(RuntimeError("boom"))["timestamp"])

    assert timestamp.utcoffset() == timezone.utc.utcoffset(None)
    assert abs((datetime.now(timezone.utc) - timestamp).total_seconds()) < 60


def test_each_call_gets_a_new_error_id() -> None:
    assert enhanced_error_handler(RuntimeError())["error_id"] != enhanced_error_handler(RuntimeError())["error_id"]


def test_extra_is_in_the_payload_only_when_given() -> None:
    assert "extra" not in enhanced_error_handler(RuntimeError("boom"))
    assert enhanced_error_handler(RuntimeError("boom"), extra={"order_id": 7})["extra"] == {"order_id": 7}
    assert enhanced_error_handler(RuntimeError("boom"), extra={})["extra"] == {}


def test_context_outside_a_request_has_only_ids() -> None:
    context = ErrorContext(RuntimeError())

    assert (context.request, context.url, context.method, context.extra) == (None, None, None, {})
    assert enhanced_error_handler(RuntimeError(), context)["context"] == {"request_id": None, "user_id": None}


def test_context_has_the_attributes_and_to_dict_of_both_legacy_variants(app: Flask, request_ids: None) -> None:
    with app.test_request_context("/orders", headers={"User-Agent": "agent"}, environ_base={"REMOTE_ADDR": "10.0.0.9"}):
        context = ErrorContext(KeyError("x"))
        request = context.request

    assert request is not None and request.path == "/orders"
    assert context.to_dict() == {
        "error_id": context.error_id,
        "timestamp": context.timestamp.isoformat(),
        "request_id": "req-123",
        "user_id": 42,
        "url": "http://localhost/orders",
        "method": "GET",
        "extra": {"ip_address": "10.0.0.9", "user_agent": "agent"},
    }


def test_metadata_to_dict_gives_plain_values() -> None:
    assert ErrorMetadata(409, "business", "medium", "paid", "Paid.", True).to_dict() == {
        "status_code": 409,
        "category": "business",
        "severity": "medium",
        "message_key": "paid",
        "message": "Paid.",
        "recoverable": True,
    }


def test_context_inside_a_request_has_request_details_and_context_var_ids(app: Flask, request_ids: None) -> None:
    with app.test_request_context(
        "/orders/7?x=1", method="POST", headers={"User-Agent": "pytest-agent"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    ):
        payload = enhanced_error_handler(RuntimeError("boom"))

    assert payload["context"] == {
        "request_id": "req-123",
        "user_id": 42,
        "url": "http://localhost/orders/7?x=1",
        "method": "POST",
        "meta": {"ip_address": "10.1.2.3", "user_agent": "pytest-agent"},
    }


def test_given_context_provides_the_error_id_and_timestamp() -> None:
    context = ErrorContext(RuntimeError())

    payload = enhanced_error_handler(RuntimeError(), context)

    assert payload["error_id"] == context.error_id
    assert payload["timestamp"] == context.timestamp.isoformat()


# --- logging ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "level"),
    [
        (RegisteredChildError("payments down"), "critical"),
        (RuntimeError("boom"), "error"),
        (Forbidden(), "warning"),
        (ValueError("invalid"), "warning"),
    ],
)
def test_error_is_logged_once_at_the_level_of_its_severity(registered: None, error: Exception, level: str) -> None:
    with capture_logs() as logs:
        payload = enhanced_error_handler(error)

    assert len(logs) == 1
    event = logs[0]
    assert event["log_level"] == level
    assert event["module"] == "error_handler"
    assert event["error_id"] == payload["error_id"]
    assert event["category"] == payload["category"]
    assert event["severity"] == payload["severity"]
    assert event["status_code"] == classify(error).status_code


def test_log_message_contains_the_real_error_text() -> None:
    with capture_logs() as logs:
        enhanced_error_handler(RuntimeError("disk full"))

    assert "disk full" in logs[0]["event"]
    assert "{e}" not in logs[0]["event"]


# --- decorators -------------------------------------------------------------------


def test_error_handler_calls_the_function_once_and_returns_a_json_response(app: Flask) -> None:
    calls = []

    @error_handler
    def view() -> str:
        calls.append(1)
        raise ValueError("invalid quantity")

    with app.test_request_context("/"), capture_logs() as logs:
        response, status = view()

    assert len(calls) == 1
    assert len(logs) == 1
    assert status == 400
    assert isinstance(response, Response)
    assert set(response.get_json()) == PAYLOAD_KEYS
    assert response.get_json()["category"] == "validation"


def test_error_handler_calls_a_low_severity_failure_once(app: Flask) -> None:
    calls = []

    @error_handler
    def view() -> str:
        calls.append(1)
        raise NotFound()

    with app.test_request_context("/"):
        _, status = view()

    assert (len(calls), status) == (1, 404)


def test_error_handler_returns_the_result_when_nothing_fails(app: Flask) -> None:
    @error_handler
    def view(x: int) -> int:
        """Doc."""
        return x * 2

    assert view(21) == 42
    assert (view.__name__, view.__doc__) == ("view", "Doc.")


def test_error_handler_works_in_a_flask_route(app: Flask) -> None:
    @app.route("/fail")
    @error_handler
    def fail() -> str:
        raise PermissionError("Permission denied")

    response = app.test_client().get("/fail")

    assert response.status_code == 403
    assert response.get_json()["context"]["url"] == "http://localhost/fail"


def test_error_handler_wraps_async_functions(app: Flask) -> None:
    calls = []

    @error_handler
    async def view() -> str:
        calls.append(1)
        raise TimeoutError("upstream timeout")

    assert inspect.iscoroutinefunction(view)
    with app.test_request_context("/"):
        response, status = asyncio.run(view())

    assert len(calls) == 1
    assert status == 504
    assert response.get_json()["category"] == "network"


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
def test_error_handler_does_not_swallow_interrupts(app: Flask, exc_type: type[BaseException]) -> None:
    @error_handler
    def view() -> None:
        raise exc_type()

    with app.test_request_context("/"), pytest.raises(exc_type):
        view()


def test_error_response_fits_a_flask_error_handler(app: Flask) -> None:
    app.register_error_handler(Exception, error_response)

    @app.route("/orders")
    def orders() -> str:
        raise integrity_error()

    response = app.test_client().get("/orders")

    assert response.status_code == 400
    assert response.get_json()["category"] == "database"


def test_error_response_outside_an_app_returns_the_payload_dict() -> None:
    body, status = error_response(RuntimeError("boom"))

    assert status == 500
    assert isinstance(body, dict) and set(body) == PAYLOAD_KEYS


def test_error_monitor_logs_and_reraises_the_original_error() -> None:
    error = RuntimeError("boom")

    @error_monitor
    def job() -> None:
        raise error

    with capture_logs() as logs, pytest.raises(RuntimeError) as raised:
        job()

    assert raised.value is error
    assert len(logs) == 1
    assert logs[0]["module"] == "error_handler"
    assert logs[0]["extra"] == {"function": "job"}


def test_error_monitor_wraps_async_functions() -> None:
    @error_monitor
    async def job() -> None:
        raise ValueError("invalid")

    with capture_logs() as logs, pytest.raises(ValueError, match="invalid"):
        asyncio.run(job())

    assert [(event["log_level"], event["extra"]) for event in logs] == [("warning", {"function": "job"})]
