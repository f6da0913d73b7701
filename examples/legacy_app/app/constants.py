"""Application-wide constants.

The error enums are what the *newer* variant of ``structlog_config`` imports
(``from app.constants import ErrorCategory, ErrorSeverity``). They are ``str``
enums whose values are the same lowercase strings the older variant used as
plain class attributes, so both variants serialise them identically.
"""

from __future__ import annotations

from enum import Enum


class ErrorCategory(str, Enum):
    """What kind of failure an error is."""

    DATABASE = "database"
    VALIDATION = "validation"
    AUTHENTICATION = "authentication"
    AUTHORIZATION = "authorization"
    SYSTEM = "system"
    NETWORK = "network"
    UNKNOWN = "unknown"
    BUSINESS = "business"
    SECURITY = "security"
    EXTERNAL = "external"


class ErrorSeverity(str, Enum):
    """How bad an error is; decides the log level it is reported at."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


USER_ROLES = ("user", "admin")
"""Roles a :class:`app.models.User` can have."""
