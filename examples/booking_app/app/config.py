"""Settings of the booking portal, read from the environment with development defaults.

The application's own logging settings (``LOG_FILE``, ``LOG_MAX_BYTES``,
``LOG_BACKUP_COUNT``, ``LOG_LEVEL``) configure the rotating file handler of
``app.logging_setup``; structlog's events reach that file through stdlib logging.
"""

from __future__ import annotations

import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _database_url() -> str:
    """``DATABASE_URL`` (``postgres://`` URLs use psycopg 3), else a SQLite file in ``instance/``."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(BASE_DIR, "instance", "raumbuchung.db")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Default settings; ``create_app(overrides)`` replaces single keys."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "raumbuchung-dev-secret")
    APP_VERSION = os.environ.get("APP_VERSION", "3.2.1")
    TENANT = os.environ.get("TENANT", "stadtwerke-demo")
    BUILD_ID = os.environ.get("BUILD_ID", "local")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # The application's own logging settings (not newlog's).
    LOG_FILE = os.environ.get("LOG_FILE", os.path.join(BASE_DIR, "logs", "raumbuchung.log"))
    LOG_MAX_BYTES = int(os.environ.get("LOG_MAX_BYTES", str(2 * 1024 * 1024)))
    LOG_BACKUP_COUNT = int(os.environ.get("LOG_BACKUP_COUNT", "5"))
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    MAX_ACTIVE_BOOKINGS = 3
    WTF_CSRF_TIME_LIMIT = None
