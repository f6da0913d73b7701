"""Billing: charges a user's card (fake provider).

Importing this module binds ``service="billing"`` into the legacy *global* log
context, so from then on every log event of the process says it comes from
billing (the import-time leak the migration has to remove).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app

from ..errors import PaymentDeclined, ValidationFailed
from ..utils import structlog_config
from ..utils.structlog_config import bind_context, error_monitor, with_log_context

bind_context(service="billing")


@with_log_context(component="payments")
@error_monitor
def charge(user: Any, amount_cents: int, currency: str = "EUR") -> dict[str, Any]:
    """Charge ``amount_cents`` to ``user`` and return the receipt."""
    structlog_config.log_info("Charging customer", module="billing", amount_cents=amount_cents, currency=currency)
    if amount_cents <= 0:
        raise ValidationFailed("amount_cents must be positive", field="amount_cents")
    limit = current_app.config["PAYMENT_LIMIT_CENTS"]
    if amount_cents > limit:
        raise PaymentDeclined(f"Charge of {amount_cents} {currency} exceeds the limit", limit_cents=limit)
    receipt = {
        "receipt_id": uuid.uuid4().hex[:12],
        "username": user.username,
        "amount_cents": amount_cents,
        "currency": currency,
    }
    structlog_config.log_info("Payment captured", module="billing", receipt_id=receipt["receipt_id"])
    return receipt
