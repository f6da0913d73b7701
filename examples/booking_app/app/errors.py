"""The application's exceptions and the exception -> HTTP status mapping.

Every error raised on purpose derives from :class:`AppError` and carries what
an error response needs: status code, category, severity, message key, the
(German) message from ``ErrorMessages`` and whether the client can recover.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.constants import ErrorCategory, ErrorSeverity, HttpStatus
from app.messages import ErrorMessages


class AppError(Exception):
    """Base class of the application's errors; class attributes are the defaults."""

    status_code: int = HttpStatus.INTERNAL_SERVER_ERROR
    category: ErrorCategory = ErrorCategory.SYSTEM
    severity: ErrorSeverity = ErrorSeverity.HIGH
    message_key: str = "INTERNAL_ERROR"
    recoverable: bool = False

    def __init__(self, detail: str | None = None, **details: Any) -> None:
        self.message = getattr(ErrorMessages, self.message_key, ErrorMessages.INTERNAL_ERROR)
        self.detail = detail
        self.details = details
        super().__init__(detail or self.message)


class ValidationError(AppError):
    """The client sent data that does not pass validation."""

    status_code = HttpStatus.UNPROCESSABLE_ENTITY
    category = ErrorCategory.VALIDATION
    severity = ErrorSeverity.LOW
    message_key = "INVALID_TIME_RANGE"
    recoverable = True


class AuthenticationRequired(AppError):
    """The route needs a logged-in user."""

    status_code = HttpStatus.UNAUTHORIZED
    category = ErrorCategory.AUTHENTICATION
    severity = ErrorSeverity.MEDIUM
    message_key = "AUTHENTICATION_REQUIRED"
    recoverable = True


class LoginFailed(AppError):
    """Wrong user name or password."""

    status_code = HttpStatus.UNAUTHORIZED
    category = ErrorCategory.AUTHENTICATION
    severity = ErrorSeverity.MEDIUM
    message_key = "LOGIN_FAILED"
    recoverable = True


class AccessDenied(AppError):
    """The user may not do this (not the owner, not an admin)."""

    status_code = HttpStatus.FORBIDDEN
    category = ErrorCategory.SECURITY
    severity = ErrorSeverity.MEDIUM
    message_key = "PERMISSION_DENIED"


class RoomNotFound(AppError):
    """No room with that id."""

    status_code = HttpStatus.NOT_FOUND
    category = ErrorCategory.BOOKING
    severity = ErrorSeverity.LOW
    message_key = "ROOM_NOT_FOUND"


class BookingNotFound(AppError):
    """No booking with that id."""

    status_code = HttpStatus.NOT_FOUND
    category = ErrorCategory.BOOKING
    severity = ErrorSeverity.LOW
    message_key = "BOOKING_NOT_FOUND"


class BookingConflict(AppError):
    """The room is already booked for (part of) the time range."""

    status_code = HttpStatus.CONFLICT
    category = ErrorCategory.BOOKING
    severity = ErrorSeverity.MEDIUM
    message_key = "BOOKING_CONFLICT"
    recoverable = True


class BookingLimitReached(AppError):
    """The user has too many active bookings."""

    status_code = HttpStatus.CONFLICT
    category = ErrorCategory.BUSINESS
    severity = ErrorSeverity.LOW
    message_key = "BOOKING_LIMIT_REACHED"
    recoverable = True


class CalendarUnavailable(AppError):
    """The external calendar service did not answer."""

    status_code = HttpStatus.BAD_GATEWAY
    category = ErrorCategory.EXTERNAL
    severity = ErrorSeverity.CRITICAL
    message_key = "CALENDAR_UNAVAILABLE"


def map_exception_to_status(error: BaseException) -> int:
    """Return the HTTP status the application answers ``error`` with."""
    if isinstance(error, AppError):
        return error.status_code
    if isinstance(error, HTTPException):
        return error.code or HttpStatus.INTERNAL_SERVER_ERROR
    if isinstance(error, IntegrityError):
        return HttpStatus.CONFLICT
    if isinstance(error, SQLAlchemyError):
        return HttpStatus.INTERNAL_SERVER_ERROR
    if isinstance(error, TimeoutError):
        return HttpStatus.GATEWAY_TIMEOUT
    if isinstance(error, PermissionError):
        return HttpStatus.FORBIDDEN
    if isinstance(error, (ValueError, KeyError)):
        return HttpStatus.BAD_REQUEST
    return HttpStatus.INTERNAL_SERVER_ERROR
