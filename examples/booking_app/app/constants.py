"""Application-wide constants: error enums, HTTP status codes, booking rules.

``ErrorCategory`` / ``ErrorSeverity`` are plain ``Enum`` classes (not ``str``
enums): code that needs the text uses ``.value``. ``BOOKING`` is a category of
this application only.
"""

from __future__ import annotations

from enum import Enum


class ErrorCategory(Enum):
    """What kind of failure an error is."""

    DATABASE = "database"
    VALIDATION = "validation"
    AUTHENTICATION = "authentication"
    AUTHORIZATION = "authorization"
    SYSTEM = "system"
    NETWORK = "network"
    BUSINESS = "business"
    SECURITY = "security"
    EXTERNAL = "external"
    BOOKING = "booking"


class ErrorSeverity(Enum):
    """How bad an error is; decides the level it is logged at."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class HttpStatus:
    """The HTTP status codes the application answers with."""

    OK = 200
    CREATED = 201
    NO_CONTENT = 204
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    FORBIDDEN = 403
    NOT_FOUND = 404
    CONFLICT = 409
    UNPROCESSABLE_ENTITY = 422
    INTERNAL_SERVER_ERROR = 500
    BAD_GATEWAY = 502
    SERVICE_UNAVAILABLE = 503
    GATEWAY_TIMEOUT = 504


class BookingStatus(Enum):
    """Life cycle of a booking."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


ROLES = ("mitarbeiter", "admin")
"""Roles a :class:`app.models.User` can have."""

MAX_BOOKING_HOURS = 10
"""The longest booking a user may make, in hours."""
