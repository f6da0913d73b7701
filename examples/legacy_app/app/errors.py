"""The application's own exceptions.

Every error the application raises on purpose derives from :class:`AppError`
and carries the metadata ``enhanced_error_handler`` needs to classify it
(status code, category, severity, message key, user message, recoverable).
"""

from __future__ import annotations

from typing import Any

from app.constants import ErrorCategory, ErrorSeverity


class AppError(Exception):
    """Base class of the application's errors; class attributes are the defaults."""

    status_code: int = 500
    category: ErrorCategory = ErrorCategory.SYSTEM
    severity: ErrorSeverity = ErrorSeverity.HIGH
    message_key: str = "errors.app"
    message: str = "Something went wrong"
    recoverable: bool = False

    def __init__(self, message: str | None = None, **details: Any) -> None:
        if message is not None:
            self.message = message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """Return the error's metadata as a JSON-ready dict."""
        return {
            "status_code": self.status_code,
            "category": self.category.value,
            "severity": self.severity.value,
            "message_key": self.message_key,
            "message": self.message,
            "recoverable": self.recoverable,
            "details": self.details,
        }


class ValidationFailed(AppError):
    """The client sent data that does not pass validation (LOW, recoverable)."""

    status_code = 400
    category = ErrorCategory.VALIDATION
    severity = ErrorSeverity.LOW
    message_key = "errors.validation_failed"
    message = "The submitted data is invalid"
    recoverable = True


class NotFoundError(AppError):
    """A domain object the client asked for does not exist (LOW)."""

    status_code = 404
    category = ErrorCategory.VALIDATION
    severity = ErrorSeverity.LOW
    message_key = "errors.not_found"
    message = "The requested resource does not exist"
    recoverable = False


class PaymentDeclined(AppError):
    """The payment provider refused a charge (HIGH, business)."""

    status_code = 402
    category = ErrorCategory.BUSINESS
    severity = ErrorSeverity.HIGH
    message_key = "errors.payment_declined"
    message = "The payment was declined"
    recoverable = False
