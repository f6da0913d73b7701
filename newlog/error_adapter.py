"""Error classification and JSON error payloads: the legacy module's error-handling part.

``classify(error)`` decides the HTTP status, category and severity of an exception;
``enhanced_error_handler`` turns it into the legacy JSON payload and logs it once;
``error_handler`` / ``error_monitor`` are the route decorators built on both.

Changes from the legacy module: ``error_handler`` calls the wrapped function once
(the older variant called it a second time for LOW/MEDIUM errors), log messages
contain the real error text (the legacy ones contained a literal ``{e}``), and
``KeyboardInterrupt`` / ``SystemExit`` are never caught.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeAlias, TypeVar, overload

from flask import Request, Response, has_app_context, has_request_context, jsonify
from flask import request as current_request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from newlog.context import request_id_var, user_id_var

__all__ = [
    "ErrorCategory",
    "ErrorContext",
    "ErrorMetadata",
    "ErrorSeverity",
    "classify",
    "enhanced_error_handler",
    "error_handler",
    "error_monitor",
    "error_response",
    "register_error_metadata",
    "unregister_error_metadata",
]

P = ParamSpec("P")
R = TypeVar("R")
ErrorResponse: TypeAlias = "tuple[Response | dict[str, Any], int]"

_fallback_logger = logging.getLogger(__name__)


class ErrorCategory(enum.StrEnum):
    """What kind of failure an error is; values are the legacy lowercase strings."""

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


class ErrorSeverity(enum.StrEnum):
    """How bad an error is; values are the legacy lowercase strings."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


_DEFAULT_MESSAGES: dict[ErrorCategory, str] = {
    ErrorCategory.DATABASE: "A database error occurred.",
    ErrorCategory.VALIDATION: "The request data is not valid.",
    ErrorCategory.AUTHENTICATION: "Authentication is required.",
    ErrorCategory.AUTHORIZATION: "You do not have permission to perform this action.",
    ErrorCategory.SYSTEM: "An internal error occurred.",
    ErrorCategory.NETWORK: "A network operation timed out or failed.",
    ErrorCategory.UNKNOWN: "An unexpected error occurred.",
    ErrorCategory.BUSINESS: "The action is not allowed in the current state.",
    ErrorCategory.SECURITY: "The request was rejected for security reasons.",
    ErrorCategory.EXTERNAL: "An external service failed.",
}

_SUGGESTIONS: dict[ErrorCategory, tuple[str, ...]] = {
    ErrorCategory.DATABASE: (
        "Check that the data does not duplicate an existing record.",
        "Try again later; contact support with the error ID if it persists.",
    ),
    ErrorCategory.VALIDATION: (
        "Check the request data against the expected format.",
        "Correct the invalid fields and try again.",
    ),
    ErrorCategory.AUTHENTICATION: (
        "Sign in and try again.",
        "Check that your session or token has not expired.",
    ),
    ErrorCategory.AUTHORIZATION: (
        "Check that your account has permission for this action.",
        "Ask an administrator for access.",
    ),
    ErrorCategory.SYSTEM: (
        "Try again later.",
        "Contact support with the error ID if the problem persists.",
    ),
    ErrorCategory.NETWORK: (
        "Check your connection and try again.",
        "The remote service may be slow or down; retry in a moment.",
    ),
    ErrorCategory.UNKNOWN: (
        "Try again later.",
        "Contact support with the error ID.",
    ),
    ErrorCategory.BUSINESS: (
        "Check that the action is allowed in the current state.",
        "Refresh the data and try again.",
    ),
    ErrorCategory.SECURITY: (
        "The request was blocked; do not retry it unchanged.",
        "Contact support with the error ID if you think this is a mistake.",
    ),
    ErrorCategory.EXTERNAL: (
        "An external service failed; try again later.",
        "Contact support with the error ID if it persists.",
    ),
}


def _to_category(value: object) -> ErrorCategory:
    raw = getattr(value, "value", value)
    try:
        return ErrorCategory(str(raw).lower())
    except ValueError:
        valid = ", ".join(member.value for member in ErrorCategory)
        raise ValueError(f"unknown error category {value!r}: use one of {valid}") from None


def _to_severity(value: object) -> ErrorSeverity:
    raw = getattr(value, "value", value)
    try:
        return ErrorSeverity(str(raw).lower())
    except ValueError:
        valid = ", ".join(member.value for member in ErrorSeverity)
        raise ValueError(f"unknown error severity {value!r}: use one of {valid}") from None


@dataclass(frozen=True)
class ErrorMetadata:
    """How an error is reported: HTTP status, category, severity and client-facing text.

    ``category`` / ``severity`` also accept the legacy strings (``"database"``) or an
    application's own enums with those values. ``message_key`` / ``message`` default to
    ``"<category>_error"`` and the category's generic message.
    """

    status_code: int
    category: ErrorCategory
    severity: ErrorSeverity
    message_key: str | None = None
    message: str | None = None
    recoverable: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.status_code, bool) or not isinstance(self.status_code, int):
            raise TypeError(f"ErrorMetadata.status_code must be an int, got {self.status_code!r}")
        if not 100 <= self.status_code <= 599:
            raise ValueError(f"ErrorMetadata.status_code must be an HTTP status (100-599), got {self.status_code}")
        category = _to_category(self.category)
        object.__setattr__(self, "category", category)
        object.__setattr__(self, "severity", _to_severity(self.severity))
        if not self.message_key:
            object.__setattr__(self, "message_key", f"{category.value}_error")
        if not self.message:
            object.__setattr__(self, "message", _DEFAULT_MESSAGES[category])


_registry: dict[type[BaseException], ErrorMetadata] = {}


def register_error_metadata(exc_class: type[BaseException], metadata: ErrorMetadata) -> None:
    """Classify ``exc_class`` and its subclasses with ``metadata``; returns None.

    The most specific registered class in the error's MRO wins. Registering a class
    again replaces its metadata.
    """
    if not (isinstance(exc_class, type) and issubclass(exc_class, BaseException)):
        raise TypeError(f"register_error_metadata() needs an exception class, got {exc_class!r}")
    if not isinstance(metadata, ErrorMetadata):
        raise TypeError(f"register_error_metadata() needs an ErrorMetadata, got {metadata!r}")
    _registry[exc_class] = metadata


def unregister_error_metadata(exc_class: type[BaseException]) -> None:
    """Forget the metadata registered for exactly ``exc_class`` (no-op if none); returns None."""
    _registry.pop(exc_class, None)


def _registered(error: BaseException) -> ErrorMetadata | None:
    for klass in type(error).__mro__:
        metadata = _registry.get(klass)
        if metadata is not None:
            return metadata
    return None


def _from_attributes(error: BaseException) -> ErrorMetadata | None:
    if not all(hasattr(error, name) for name in ("status_code", "category", "severity")):
        return None
    status_code = getattr(error, "status_code")
    if isinstance(status_code, bool) or not isinstance(status_code, int) or not 100 <= status_code <= 599:
        return None
    try:
        category = _to_category(getattr(error, "category"))
    except ValueError:
        category = ErrorCategory.UNKNOWN
    try:
        severity = _to_severity(getattr(error, "severity"))
    except ValueError:
        severity = ErrorSeverity.MEDIUM
    message = getattr(error, "message", None) or str(error)
    return ErrorMetadata(
        status_code=status_code,
        category=category,
        severity=severity,
        message_key=getattr(error, "message_key", None),
        message=str(message) if message else None,
        recoverable=bool(getattr(error, "recoverable", False)),
    )


def _from_http_exception(error: HTTPException) -> ErrorMetadata:
    code = error.code or 500
    if code >= 500:
        category, severity, recoverable = ErrorCategory.SYSTEM, ErrorSeverity.HIGH, code in (502, 503, 504)
    elif code == 401:
        category, severity, recoverable = ErrorCategory.AUTHENTICATION, ErrorSeverity.MEDIUM, True
    elif code == 403:
        category, severity, recoverable = ErrorCategory.AUTHORIZATION, ErrorSeverity.MEDIUM, False
    else:
        category, severity, recoverable = ErrorCategory.VALIDATION, ErrorSeverity.LOW, True
    return ErrorMetadata(
        status_code=code,
        category=category,
        severity=severity,
        message_key=f"http_{code}",
        message=error.description,
        recoverable=recoverable,
    )


_NETWORK_WORDS = ("timeout", "connection")
_AUTHORIZATION_WORDS = ("permission", "forbidden", "denied")
_VALIDATION_WORDS = ("validation", "invalid")


def classify(error: BaseException) -> ErrorMetadata:
    """Return the ErrorMetadata for ``error``; never raises.

    Order: registered classes (most specific first), the error's own ``status_code`` /
    ``category`` / ``severity`` attributes, werkzeug ``HTTPException`` by code, SQLAlchemy
    ``IntegrityError`` (400) and other ``SQLAlchemyError`` (500), builtin ``TimeoutError`` /
    ``ConnectionError``, words in the message, else 500 system.
    """
    metadata = _registered(error) or _from_attributes(error)
    if metadata is not None:
        return metadata
    if isinstance(error, HTTPException):
        return _from_http_exception(error)
    if isinstance(error, IntegrityError):
        return ErrorMetadata(
            400,
            ErrorCategory.DATABASE,
            ErrorSeverity.MEDIUM,
            "database_integrity_error",
            "The data conflicts with an existing record or a database constraint.",
            recoverable=True,
        )
    if isinstance(error, SQLAlchemyError):
        return ErrorMetadata(500, ErrorCategory.DATABASE, ErrorSeverity.HIGH)
    text = str(error).lower()
    if isinstance(error, TimeoutError | ConnectionError) or any(word in text for word in _NETWORK_WORDS):
        return ErrorMetadata(504, ErrorCategory.NETWORK, ErrorSeverity.HIGH, recoverable=True)
    if any(word in text for word in _AUTHORIZATION_WORDS):
        return ErrorMetadata(403, ErrorCategory.AUTHORIZATION, ErrorSeverity.MEDIUM)
    if any(word in text for word in _VALIDATION_WORDS):
        return ErrorMetadata(400, ErrorCategory.VALIDATION, ErrorSeverity.LOW, recoverable=True)
    return ErrorMetadata(500, ErrorCategory.SYSTEM, ErrorSeverity.HIGH)


class ErrorContext:
    """Where and when an error happened: ids, time, request details.

    ``request_id`` / ``user_id`` come from ``newlog.context``'s ContextVars. ``url``,
    ``method`` and ``extra`` (``ip_address``, ``user_agent``) come from ``request``, else
    from the current Flask request; outside a request they are None.
    """

    def __init__(self, error: BaseException, request: Request | None = None) -> None:
        self.error = error
        self.error_id: str = uuid.uuid4().hex
        self.timestamp: datetime = datetime.now(UTC)
        self.request_id: str | None = request_id_var.get()
        self.user_id: int | None = user_id_var.get()
        if request is None and has_request_context():
            request = current_request._get_current_object()  # type: ignore[attr-defined]
        self.url: str | None = request.url if request is not None else None
        self.method: str | None = request.method if request is not None else None
        self.extra: dict[str, str | None] | None = (
            {"ip_address": request.remote_addr, "user_agent": request.headers.get("User-Agent")}
            if request is not None
            else None
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the payload's ``context`` dict; ``url``/``method``/``meta`` only when known."""
        data: dict[str, Any] = {"request_id": self.request_id, "user_id": self.user_id}
        if self.url is not None:
            data["url"] = self.url
        if self.method is not None:
            data["method"] = self.method
        if self.extra is not None:
            data["meta"] = dict(self.extra)
        return data


def _log(error: BaseException, metadata: ErrorMetadata, context: ErrorContext, extra: dict[str, Any] | None) -> None:
    from newlog.api import log_critical, log_error, log_warning

    if metadata.severity is ErrorSeverity.CRITICAL:
        log = log_critical
    elif metadata.severity is ErrorSeverity.HIGH:
        log = log_error
    else:
        log = log_warning
    fields: dict[str, Any] = {
        "error_id": context.error_id,
        "error_type": type(error).__name__,
        "category": metadata.category.value,
        "severity": metadata.severity.value,
        "status_code": metadata.status_code,
        "message_code": metadata.message_key,
    }
    if context.url is not None:
        fields["url"] = context.url
        fields["method"] = context.method
    if extra is not None:
        fields["extra"] = extra
    try:
        log(f"{type(error).__name__}: {error}", module="error_handler", exception=error, **fields)
    except Exception:
        _fallback_logger.exception("newlog could not log error %s", context.error_id)


def _handle(
    error: BaseException, context: ErrorContext | None, extra: dict[str, Any] | None
) -> tuple[dict[str, Any], ErrorMetadata]:
    metadata = classify(error)
    context = context if context is not None else ErrorContext(error)
    payload: dict[str, Any] = {
        "error": True,
        "error_id": context.error_id,
        "category": metadata.category.value,
        "severity": metadata.severity.value,
        "message_code": metadata.message_key,
        "message": metadata.message,
        "timestamp": context.timestamp.isoformat(),
        "recoverable": metadata.recoverable,
        "suggestions": list(_SUGGESTIONS[metadata.category]),
        "context": context.to_dict(),
    }
    if extra is not None:
        payload["extra"] = extra
    _log(error, metadata, context, extra)
    return payload, metadata


def enhanced_error_handler(
    error: BaseException, context: ErrorContext | None = None, *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Log ``error`` once and return the legacy JSON error payload (a dict).

    The payload has ``extra`` only when ``extra`` is given. Use ``classify(error)`` or
    ``error_response(error)`` for the HTTP status.
    """
    payload, _ = _handle(error, context, extra)
    return payload


def error_response(error: BaseException, *, extra: dict[str, Any] | None = None) -> ErrorResponse:
    """Log ``error`` once and return ``(jsonify(payload), status_code)``.

    Fits ``app.register_error_handler(Exception, error_response)``. Outside a Flask app
    context the payload dict is returned instead of a Response.
    """
    payload, metadata = _handle(error, None, extra)
    body: Response | dict[str, Any] = jsonify(payload) if has_app_context() else payload
    return body, metadata.status_code


@overload
def error_handler(func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R | ErrorResponse]]: ...
@overload
def error_handler(func: Callable[P, R]) -> Callable[P, R | ErrorResponse]: ...
def error_handler(func: Callable[P, Any]) -> Callable[P, Any]:
    """Decorate a sync or async function: call it once; on ``Exception`` return ``error_response(exc)``.

    ``KeyboardInterrupt``, ``SystemExit`` and other non-``Exception`` errors propagate.
    Unlike the older legacy variant, the function is never called a second time.
    """
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await func(*args, **kwargs)
            except Exception as exc:
                return error_response(exc)

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            return error_response(exc)

    return wrapper


@overload
def error_monitor(func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...
@overload
def error_monitor(func: Callable[P, R]) -> Callable[P, R]: ...
def error_monitor(func: Callable[P, Any]) -> Callable[P, Any]:
    """Decorate a sync or async function: on ``Exception`` log it once and re-raise it unchanged."""
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await func(*args, **kwargs)
            except Exception as exc:
                _handle(exc, None, None)
                raise

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            _handle(exc, None, None)
            raise

    return wrapper
