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
