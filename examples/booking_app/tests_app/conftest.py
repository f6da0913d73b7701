"""Fixtures of the booking portal's smoke tests.

The package builds its application when imported, from the environment: the
database (``DATABASE_URL``) and the log file (``LOG_FILE``) are chosen here,
before the first ``import app``, unless the caller chose them.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_SCRATCH = Path(tempfile.mkdtemp(prefix="raumbuchung-tests-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_SCRATCH / 'raumbuchung.db'}")
os.environ.setdefault("LOG_FILE", str(_SCRATCH / "logs" / "raumbuchung.log"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import UnifiedLog  # noqa: E402
from app.services.demo_data import seed  # noqa: E402

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def booking_app() -> Iterator[Flask]:
    """The application with CSRF protection on, as in production, and the demo data."""
    application = create_app({"TESTING": True})
    with application.app_context():
        seed()
    yield application
    with application.app_context():
        db.engine.dispose()


class Client:
    """A test client that sends its own request id and the CSRF token, and finds the rows it caused."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http: FlaskClient = app.test_client()
        self.request_id = ""
        self.csrf_token: str | None = None

    def open(self, method: str, path: str, *, csrf: bool = True, **kwargs: Any):
        """Send a request with a fresh ``X-Request-ID``; unsafe methods carry the CSRF token unless ``csrf=False``."""
        self.request_id = uuid.uuid4().hex
        headers = {"X-Request-ID": self.request_id, **kwargs.pop("headers", {})}
        if csrf and method not in ("GET", "HEAD") and self.csrf_token:
            headers["X-CSRFToken"] = self.csrf_token
        return self.http.open(path, method=method, headers=headers, **kwargs)

    def fetch_csrf_token(self) -> str:
        """Get a CSRF token bound to this client's session."""
        self.csrf_token = self.http.get("/api/csrf-token").get_json()["csrf_token"]
        return self.csrf_token

    def login(self, username: str) -> None:
        """Log in as a demo user through the JSON login."""
        self.fetch_csrf_token()
        response = self.open("POST", "/login", json={"username": username, "password": f"{username}-passwort"})
        assert response.status_code == 200, response.get_json()

    def rows(self, request_id: str | None = None) -> list[UnifiedLog]:
        """The stored rows of one request (default: the last one), in insertion order."""
        wanted = request_id or self.request_id
        with self.app.app_context():
            rows = db.session.scalars(select(UnifiedLog).order_by(UnifiedLog.id)).all()
            return [row for row in rows if (row.context or {}).get("request_id") == wanted]


@pytest.fixture
def client(booking_app: Flask) -> Client:
    """An anonymous client."""
    return Client(booking_app)


@pytest.fixture
def admin(booking_app: Flask) -> Client:
    """A client logged in as the admin ``anna``."""
    logged_in = Client(booking_app)
    logged_in.login("anna")
    return logged_in


@pytest.fixture
def employee(booking_app: Flask) -> Client:
    """A client logged in as the employee ``bernd`` (not an admin)."""
    logged_in = Client(booking_app)
    logged_in.login("bernd")
    return logged_in
