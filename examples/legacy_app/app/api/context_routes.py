"""Routes around the legacy *global* log context and the debug switch.

Reaches the legacy module as ``from app.utils import structlog_config`` (the
submodule, not the instance of the same name) plus a few from-imports.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.errors import ValidationFailed
from app.utils import structlog_config
from app.utils.structlog_config import is_debug_logging_enabled, set_debug_logging_enabled

context_bp = Blueprint("log_context", __name__)


@context_bp.get("/context")
def show_context():
    """Return the process-global log context."""
    return jsonify(structlog_config.get_context())


@context_bp.post("/context/bind")
def bind():
    """Bind the JSON object's keys into the global context (leaks into every later request)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not data:
        structlog_config.log_error(
            "Refusing to bind an empty or non-object context", module="context", payload_type=type(data).__name__
        )
        raise ValidationFailed("Send a non-empty JSON object of context values")
    structlog_config.bind_context(**data)
    structlog_config.log_info("Context bound", module="context", keys=sorted(data))
    return jsonify(structlog_config.get_context())


@context_bp.post("/context/clear")
def clear():
    """Clear the global context (also what other modules bound at import time)."""
    structlog_config.clear_context()
    structlog_config.log_info("Context cleared", module="context")
    return jsonify(structlog_config.get_context())


@context_bp.get("/context/scoped")
def scoped():
    """Log inside ``with LogContext(...)``; the keys are gone afterwards."""
    from app.utils.structlog_config import LogContext, get_context, log_info

    with LogContext(operation="scoped_demo", step=1):
        log_info("Inside a LogContext", module="context")
        inside = get_context()
    log_info("After the LogContext", module="context")
    return jsonify(inside=inside, after=get_context())


@context_bp.post("/debug")
def toggle_debug():
    """Flip the legacy debug switch; DEBUG rows still never appear (legacy defect)."""
    enabled = bool((request.get_json(silent=True) or {}).get("enabled", True))
    set_debug_logging_enabled(enabled=enabled)
    structlog_config.log_debug("Debug logging toggled", module="context", enabled=enabled)
    return jsonify(debug_enabled=is_debug_logging_enabled())
