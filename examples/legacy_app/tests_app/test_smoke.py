"""Smoke tests of the legacy application, as its own team wrote them.

They pin a few behaviours of the legacy logging module (rows in
``unified_logs``, the double view call of ``error_handler``) and patch the
legacy module by its dotted path, which a migration has to rewrite.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import LogLevel, UnifiedLog


@pytest.fixture
def legacy_app(tmp_path) -> Iterator[Flask]:
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'smoke.db'}"})
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(legacy_app: Flask) -> FlaskClient:
    return legacy_app.test_client()


def _rows(app: Flask) -> list[UnifiedLog]:
    with app.app_context():
        return list(db.session.scalars(select(UnifiedLog).order_by(UnifiedLog.id)))


def test_health_writes_a_log_row(legacy_app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/health")

    assert response.status_code == 200
    messages = [(row.level, row.module, row.message) for row in _rows(legacy_app)]
    assert (LogLevel.INFO, "api", "Health check") in messages


def test_debug_rows_are_never_written(legacy_app: Flask, client: FlaskClient) -> None:
    client.post("/api/debug", json={"enabled": True})
    client.get("/api/log/debug")

    assert all(row.level is not LogLevel.DEBUG for row in _rows(legacy_app))


def test_log_info_can_be_patched_by_dotted_path(client: FlaskClient) -> None:
    with mock.patch("app.utils.structlog_config.log_info") as fake_log_info:
        response = client.get("/api/errors/validation")

    assert response.status_code == 400
    fake_log_info.assert_any_call("About to fail validation", module="errors_demo")


def test_error_handler_runs_the_view_twice_for_low_errors(legacy_app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/coupons/validate", json={"code": "BOGUS"})

    assert response.status_code == 400
    assert response.headers["X-View-Calls"] == "2"
    attempts = [row.context["attempt"] for row in _rows(legacy_app) if row.message == "Validating coupon"]
    assert attempts == [1, 2]


def test_error_payload_shape(client: FlaskClient) -> None:
    response = client.get("/api/errors/timeout")

    assert response.status_code == 504
    payload = response.get_json()
    assert payload["error"] is True
    assert payload["category"] == "network"
    assert payload["severity"] == "high"
    assert payload["suggestions"]


def _login(client: FlaskClient, username: str, role: str = "user") -> None:
    assert client.post("/login", json={"username": username, "role": role}).status_code == 200


def test_is_admin_is_a_method_and_rows_store_its_value(legacy_app: Flask, client: FlaskClient) -> None:
    _login(client, "root", role="admin")
    assert client.get("/api/reports/daily").status_code == 200
    _login(client, "mallory")
    assert client.get("/api/reports/daily").status_code == 403

    flags = {row.context["current_username"]: row.context["is_admin"] for row in _rows(legacy_app) if "is_admin" in row.context}
    assert flags == {"root": True, "mallory": False}


def test_a_failing_protected_view_is_logged_through_logger_exception(legacy_app: Flask, client: FlaskClient) -> None:
    _login(client, "dave")

    assert client.get("/api/orders/99").status_code == 404

    [row] = [row for row in _rows(legacy_app) if row.message == "Protected view %s failed"]
    assert (row.level, row.module) == (LogLevel.ERROR, "system")
    assert row.context["positional_args"] == ["get_order"]  # the older chain does not format printf-style arguments
    assert "NotFoundError" in row.traceback


def test_admin_reads_and_sets_the_system_logger_level(client: FlaskClient) -> None:
    _login(client, "root", role="admin")

    assert client.get("/api/admin/log-level").get_json() == {"logger": "system", "level": "WARNING"}
    try:
        assert client.put("/api/admin/log-level", json={"level": "debug"}).get_json()["level"] == "DEBUG"
        assert client.get("/api/orders/1").status_code == 200  # isEnabledFor(DEBUG) is now true
    finally:
        client.put("/api/admin/log-level", json={"level": "NOTSET"})
    assert client.get("/api/admin/log-level").get_json()["level"] == "WARNING"
    assert client.put("/api/admin/log-level", json={"level": "LOUD"}).status_code == 400
