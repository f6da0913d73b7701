"""The legacy Flask application: app factory, request hooks and error handlers.

``create_app(config=None)`` builds the app; the logging module it depends on is
``app.utils.structlog_config`` (the legacy module the toolkit migrates away from).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.errors import AppError
from app.extensions import db, login_manager
from app.utils.structlog_config import (  # legacy logging module
    # configuration and loggers
    configure_structlog,
    get_system_logger,
    # per-request context
    bind_request_context,
    clear_request_context,
    request_id_var,
    # error handling
    ErrorContext,
    ErrorSeverity,
    enhanced_error_handler,
    # process-wide context dict, written directly in create_app()
    _global_context,
)

logger = get_system_logger()

DEFAULT_APP_VERSION = "1.4.2"

# Status codes for errors that reach the catch-all handler, by legacy category.
_STATUS_BY_CATEGORY = {"network": 504, "authorization": 403, "validation": 400, "database": 500}


def _database_uri(app: Flask, config: Mapping[str, Any]) -> str:
    """Return the database URI: ``config`` first, then ``DATABASE_URL``, then a SQLite file."""
    if config.get("SQLALCHEMY_DATABASE_URI"):
        return str(config["SQLALCHEMY_DATABASE_URI"])
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs; psycopg (v3) is the installed driver.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return "sqlite:///" + os.path.join(app.instance_path, "legacy_app.db")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the Flask application."""
    config = dict(config or {})
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", "legacy-app-dev-secret"),
        APP_NAME="legacy-app",
        APP_VERSION=os.environ.get("APP_VERSION", DEFAULT_APP_VERSION),
        REGION=os.environ.get("REGION", "local"),
        PAYMENT_LIMIT_CENTS=100_000,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
    )
    app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_uri(app, config)

    db.init_app(app)
    login_manager.init_app(app)
    configure_structlog(app)

    # Every log event of the process carries the region (legacy: direct write to the global dict).
    _global_context["region"] = app.config["REGION"]

    _register_request_hooks(app)
    _register_error_handlers(app)
    _register_blueprints(app)

    from app.cli import register_cli

    register_cli(app)

    with app.app_context():
        db.create_all()
        logger.info("Application started", module="system", version=app.config["APP_VERSION"])

    return app


def _register_blueprints(app: Flask) -> None:
    """Register the blueprints (imported here to avoid circular imports)."""
    from app.api import api_bp, context_bp, errors_bp
    from app.auth import auth_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(context_bp, url_prefix="/api")
    app.register_blueprint(errors_bp, url_prefix="/api/errors")


def _register_request_hooks(app: Flask) -> None:
    """Fill ``flask.g`` and the legacy request context for every request."""

    @app.before_request
    def start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.url = request.url
        g.method = request.method
        g.ip_address = request.remote_addr
        g.user_agent = request.headers.get("User-Agent")
        user_id = current_user.id if current_user.is_authenticated else None
        bind_request_context(g.request_id, user_id=user_id)

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = request_id_var.get() or g.get("request_id", "")
        if "view_calls" in g:
            response.headers["X-View-Calls"] = str(g.view_calls)
        duration_ms = round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 2)
        logger.info(
            "Request completed",
            module="http",
            path=request.path,
            status_code=response.status_code,
            duration_ms=duration_ms,
        )
        return response

    @app.teardown_request
    def end_request(exception: BaseException | None = None) -> None:
        clear_request_context()


def _register_error_handlers(app: Flask) -> None:
    """Turn every error into the legacy JSON error payload."""

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        payload = enhanced_error_handler(error)
        return jsonify(payload), error.status_code

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        if error.code is None or error.code < 400:  # redirects raised by routing
            return error
        payload = enhanced_error_handler(error)
        return jsonify(payload), error.code

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        db.session.rollback()
        payload = enhanced_error_handler(error, ErrorContext(error, request), extra={"constraint": "unique"})
        return jsonify(payload), 400

    @app.errorhandler(SQLAlchemyError)
    def handle_database_error(error: SQLAlchemyError):
        db.session.rollback()
        payload = enhanced_error_handler(error, ErrorContext(error, request))
        return jsonify(payload), 500

    @app.errorhandler(Exception)
    def handle_unexpected_error(error: Exception):
        payload = enhanced_error_handler(error, ErrorContext(error, request), extra={"handler": "unexpected"})
        if payload["severity"] == ErrorSeverity.CRITICAL:
            logger.critical("Critical error reached the catch-all handler", module="system", error_id=payload["error_id"])
        return jsonify(payload), _STATUS_BY_CATEGORY.get(payload["category"], 500)
