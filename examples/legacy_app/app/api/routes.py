"""Core API routes: health, logging at every level, orders, coupons, payments, reports, sync."""

from __future__ import annotations

import logging
from typing import Callable

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_login import current_user, login_required

from app.decorators import system_logger, traced
from app.errors import NotFoundError, ValidationFailed
from app.services import billing
from app.services.reports import ReportService
from app.services.sync import run_sync
from app.utils import log_info  # re-exported by app.utils (listed in its __all__)
from app.utils.structlog_config import error_handler
from app.utils.structlog_config import get_api_logger, log_critical, log_debug, log_error, log_warning, should_log_debug

api_bp = Blueprint("api", __name__)
logger = get_api_logger()

# Legacy helpers used as values, not called directly.
LEVEL_FUNCTIONS: dict[str, Callable[..., None]] = {
    "info": log_info,
    "warning": log_warning,
    "error": log_error,
    "critical": log_critical,
}

ORDERS = {
    1: {"id": 1, "item": "Keyboard", "total_cents": 4_900},
    2: {"id": 2, "item": "Monitor", "total_cents": 21_900},
}

VALID_COUPONS = {"WELCOME10": 10, "SPRING5": 5}


@api_bp.get("/health")
def health():
    """Liveness probe; logs one INFO row."""
    log_info("Health check", module="api")
    return jsonify(status="ok", version=current_app.config["APP_VERSION"])


@api_bp.get("/log/<level>")
def log_at_level(level: str):
    """Log one message at ``level`` (debug, info, warning, error, critical)."""
    message = request.args.get("message", f"Demo {level} message")
    if level == "debug":
        if should_log_debug():
            log_debug(message, module="api", source="log_at_level")
        return jsonify(level=level, debug_enabled=should_log_debug())
    log_function = LEVEL_FUNCTIONS.get(level)
    if log_function is None:
        raise NotFoundError(f"Unknown log level: {level}", requested_level=level)
    log_function(message, module="api", source="log_at_level")
    logger.info("Level demo done", requested_level=level)
    return jsonify(level=level, logged=True)


@api_bp.get("/orders/<int:order_id>")
@login_required
@traced
def get_order(order_id: int):
    """Return a demo order; 404 (NotFoundError) for unknown ids."""
    if should_log_debug():
        log_debug("Looking up order", module="orders", order_id=order_id)
    order = ORDERS.get(order_id)
    if order is None:
        raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
    logger.info("Order viewed", module="orders", order_id=order_id)
    return jsonify(order)


@api_bp.post("/coupons/validate")
@error_handler
def validate_coupon():
    """Validate a coupon code; an invalid code is a LOW error, so the legacy
    ``error_handler`` runs this view twice (see the ``X-View-Calls`` header)."""
    g.view_calls = g.get("view_calls", 0) + 1
    code = str((request.get_json(silent=True) or {}).get("code", ""))
    log_info("Validating coupon", module="coupons", code=code, attempt=g.view_calls)
    discount = VALID_COUPONS.get(code.upper())
    if discount is None:
        raise ValidationFailed(f"Coupon {code!r} is not valid", code=code)
    return jsonify(code=code.upper(), discount_percent=discount, attempts=g.view_calls)


@api_bp.post("/payments")
@login_required
def create_payment():
    """Charge the logged-in user; above PAYMENT_LIMIT_CENTS the charge is declined (402)."""
    data = request.get_json(silent=True) or {}
    try:
        amount_cents = int(data.get("amount_cents", 0))
    except (TypeError, ValueError):
        raise ValidationFailed("amount_cents must be an integer", field="amount_cents") from None
    receipt = billing.charge(current_user, amount_cents, currency=data.get("currency", "EUR"))
    return jsonify(receipt), 201


@api_bp.get("/reports/daily")
@login_required
@traced
def daily_report():
    """Admins only (403 otherwise): counts of ``unified_logs`` rows by level."""
    if not current_user.is_admin():
        log_warning("Non-admin asked for the daily report", module="reports", username=current_user.username)
        abort(403)
    return jsonify(ReportService().daily_summary())


@api_bp.post("/sync")
def sync():
    """Run the (fake) synchronisation job."""
    source = str((request.get_json(silent=True) or {}).get("source", "crm"))
    return jsonify(run_sync(source))


@api_bp.route("/admin/log-level", methods=["GET", "PUT"])
@login_required
@traced
def log_level():
    """Admins only: the system logger's level (``getEffectiveLevel``); PUT ``{"level"}`` sets it (``setLevel``)."""
    if not current_user.is_admin():
        abort(403)
    if request.method == "PUT":
        level = str((request.get_json(silent=True) or {}).get("level", "")).upper()
        if level not in logging.getLevelNamesMapping():
            raise ValidationFailed(f"unknown level {level!r}", field="level")
        system_logger.setLevel(level)
    return jsonify(logger=system_logger.name, level=logging.getLevelName(system_logger.getEffectiveLevel()))
