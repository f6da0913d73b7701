"""Routes that fail on purpose, one per error class the legacy handler classifies.

This module reaches the legacy module through a module alias
(``import app.utils.structlog_config as slc``) and attribute access.
"""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import select

import app.utils.structlog_config as slc
from app.errors import NotFoundError, PaymentDeclined, ValidationFailed
from app.extensions import db
from app.models import User

errors_bp = Blueprint("errors_demo", __name__)

DUPLICATE_USERNAME = "duplicate-user"


@errors_bp.get("/validation")
def raise_validation():
    """ValidationFailed -> 400, validation/low."""
    slc.log_info("About to fail validation", module="errors_demo")
    raise ValidationFailed("Field 'email' is required", field="email")


@errors_bp.get("/not-found")
def raise_not_found():
    """NotFoundError -> 404, validation/low."""
    raise NotFoundError("Invoice 999 does not exist", invoice_id=999)


@errors_bp.get("/payment")
def raise_payment_declined():
    """PaymentDeclined -> 402, business/high."""
    raise PaymentDeclined("Card declined by issuer", reason="insufficient_funds")


@errors_bp.get("/http-404")
def raise_http_not_found():
    """werkzeug NotFound -> 404."""
    abort(404)


@errors_bp.get("/http-403")
def raise_http_forbidden():
    """werkzeug Forbidden -> 403, authorization/medium."""
    abort(403)


@errors_bp.post("/integrity")
def raise_integrity_error():
    """A real unique-constraint violation on users.username -> 400, database/medium."""
    if db.session.execute(select(User).filter_by(username=DUPLICATE_USERNAME)).scalar_one_or_none() is None:
        db.session.add(User(username=DUPLICATE_USERNAME))
        db.session.commit()
    slc.log_info("Inserting a duplicate user", module="errors_demo", username=DUPLICATE_USERNAME)
    db.session.add(User(username=DUPLICATE_USERNAME))
    db.session.commit()  # raises IntegrityError
    return {"unreachable": True}


@slc.error_monitor
def _call_inventory_service() -> dict:
    raise RuntimeError("Inventory service timeout after 30s")


@errors_bp.get("/timeout")
def raise_timeout():
    """Generic exception mentioning 'timeout' -> 504, network/high (logged by error_monitor too)."""
    return _call_inventory_service()


@errors_bp.get("/permission")
def raise_permission():
    """Generic exception mentioning 'permission' -> 403, authorization/medium."""
    raise PermissionError("permission denied for export of ledger")


@errors_bp.get("/invalid")
def raise_invalid():
    """Generic exception mentioning 'invalid' -> 400, validation/low."""
    raise ValueError("invalid invoice number 'INV-??'")


@errors_bp.get("/unexpected")
def raise_unexpected():
    """Anything else -> 500, unknown/high (the older variant's 'unknown' category)."""
    slc.log_warning("About to divide by zero", module="errors_demo", category_hint=slc.ErrorCategory.UNKNOWN)
    return {"result": 1 / 0}
