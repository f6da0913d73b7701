"""The booking portal ("Raumbuchung"): app factory, request hooks, error handlers.

The application object is built when the package is imported (``app = create_app()``
at the bottom): ``gunicorn app:app``, ``flask --app app run`` and the scripts in
``scripts/`` all use it. Tests call ``create_app(overrides)`` for an app of their own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.config import Config
from app.errors import AppError, AuthenticationRequired, map_exception_to_status
from app.extensions import csrf, db, login_manager
from app.logging_setup import configure_logging
from app.utils.structlog_config import (
    ErrorContext,
    _global_context,
    configure_structlog,
    enhanced_error_handler,
    get_system_logger,
    request_id_var,
    user_id_var,
)

logger = get_system_logger()


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Create the booking portal; ``overrides`` replace single settings of :class:`app.config.Config`."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.update(overrides or {})

    configure_logging(app)
    configure_structlog(app)
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)

    # Every log event of the process names the tenant this deployment serves.
    _global_context["tenant"] = app.config["TENANT"]

    _register_request_hooks(app)
    _register_error_handlers(app)
    _register_blueprints(app)

    from app.cli import register_cli

    register_cli(app)

    with app.app_context():
        db.create_all()
        logger.info("Raumbuchung %s gestartet (Mandant %s)", app.config["APP_VERSION"], app.config["TENANT"], module="system")

    return app


def _register_blueprints(app: Flask) -> None:
    """Register the blueprints (imported here to avoid circular imports)."""
    from app.admin import admin_bp
    from app.auth import auth_bp
    from app.bookings import bookings_bp
    from app.fehler import fehler_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(bookings_bp, url_prefix="/api")
    app.register_blueprint(admin_bp, url_prefix="/api/admin")
    app.register_blueprint(fehler_bp, url_prefix="/api/fehler")


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    """API calls get a JSON 401 (AuthenticationRequired); pages redirect to the login form."""
    if request.path.startswith("/api/"):
        raise AuthenticationRequired("login required", path=request.path)
    return redirect(url_for("auth.login_form", next=request.path))


def _register_request_hooks(app: Flask) -> None:
    """Fill ``flask.g`` and the logging module's context variables for every request."""

    @app.before_request
    def start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.url = request.url
        g.method = request.method
        g.ip_address = request.headers.get("X-Forwarded-For", request.remote_addr)
        g.user_agent = request.headers.get("User-Agent")
        request_id_var.set(g.request_id)
        user_id_var.set(current_user.id if current_user.is_authenticated else None)

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        duration_ms = round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 2)
        logger.info(
            "%s %s -> %s",
            request.method,
            request.path,
            response.status_code,
            module="http",
            status_code=response.status_code,
            duration_ms=duration_ms,
        )
        return response


def _register_error_handlers(app: Flask) -> None:
    """Every error becomes the logging module's JSON error payload."""

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        payload = enhanced_error_handler(error)
        return jsonify(payload), error.status_code

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        logger.warning("CSRF-Prüfung fehlgeschlagen: %s", error.description, module="security")
        payload = enhanced_error_handler(error, ErrorContext(error, request))
        return jsonify(payload), error.code

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        if error.code is None or error.code < 400:  # redirects raised by routing
            return error
        payload = enhanced_error_handler(error, ErrorContext(error, request))
        return jsonify(payload), error.code

    @app.errorhandler(SQLAlchemyError)
    def handle_database_error(error: SQLAlchemyError):
        db.session.rollback()
        payload = enhanced_error_handler(error, extra={"hint": "db"})
        return jsonify(payload), map_exception_to_status(error)

    @app.errorhandler(Exception)
    def handle_unexpected_error(error: Exception):
        payload = enhanced_error_handler(error, ErrorContext(error, request))
        return jsonify(payload), map_exception_to_status(error)


app = create_app()
