"""Error classification and JSON error payloads: the legacy module's error-handling part.

``classify(error)`` decides the HTTP status, category and severity of an exception;
``enhanced_error_handler`` turns it into the legacy JSON payload and logs it once;
``error_handler`` / ``error_monitor`` are the route decorators built on both.

Without a profile, newlog answers with its own catalogue. With an application's
:class:`~newlog.error_profile.ErrorProfile` (``use_error_profile``: per app, or the
process default), it answers the way that app's legacy module did - its catalogue,
enums, base exception, status mapper, suggestions, payload shape, id and timestamp
formats - byte for byte. ``error_catalogue()`` is the public view of either catalogue.

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeAlias, TypeVar, overload

from flask import Flask, Request, Response, current_app, has_app_context, has_request_context, jsonify
from flask import request as current_request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from newlog import sanitize
from newlog.context import request_id_var, user_id_var
from newlog.error_profile import ErrorProfile, value_of

__all__ = [
    "ErrorCatalogue",
    "ErrorCategory",
    "ErrorContext",
    "ErrorMetadata",
    "ErrorSeverity",
    "classify",
    "current_error_profile",
    "enhanced_error_handler",
    "error_catalogue",
    "error_handler",
    "error_monitor",
    "error_response",
    "register_error_metadata",
    "unregister_error_metadata",
    "use_error_profile",
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


def _to_category(value: object) -> Any:
    """newlog's member for a legacy string or an enum with a known value; other enum members stay as they are."""
    raw = getattr(value, "value", value)
    try:
        return ErrorCategory(str(raw).lower())
    except ValueError:
        if isinstance(value, enum.Enum):
            return value
        valid = ", ".join(member.value for member in ErrorCategory)
        raise ValueError(f"unknown error category {value!r}: use one of {valid}") from None


def _to_severity(value: object) -> Any:
    """newlog's member for a legacy string or an enum with a known value; other enum members stay as they are."""
    raw = getattr(value, "value", value)
    try:
        return ErrorSeverity(str(raw).lower())
    except ValueError:
        if isinstance(value, enum.Enum):
            return value
        valid = ", ".join(member.value for member in ErrorSeverity)
        raise ValueError(f"unknown error severity {value!r}: use one of {valid}") from None


@dataclass(frozen=True)
class ErrorMetadata:
    """How an error is reported: HTTP status, category, severity and client-facing text.

    ``category`` / ``severity`` also accept the legacy strings (``"database"``) or an
    application's own enum members (kept as they are unless newlog knows their value).
    ``message_key`` / ``message`` default to ``"<category>_error"`` and newlog's generic
    message for the category. The attributes are those of the newer legacy variant's
    ``ErrorMetadata``; the older variant's dict had the same keys but ``message_key``.
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
            object.__setattr__(self, "message_key", f"{value_of(category)}_error")
        if not self.message:
            object.__setattr__(self, "message", _DEFAULT_MESSAGES.get(category))

    @classmethod
    def _exact(
        cls, status_code: int, category: Any, severity: Any, message_key: str | None, message: Any, recoverable: bool
    ) -> ErrorMetadata:
        """Build metadata as a profile answered it: no defaults filled in, values kept (a None message stays None)."""
        metadata = object.__new__(cls)
        for name, value in (
            ("status_code", status_code),
            ("category", _profile_member(category, ErrorCategory)),
            ("severity", _profile_member(severity, ErrorSeverity)),
            ("message_key", message_key),
            ("message", message),
            ("recoverable", recoverable),
        ):
            object.__setattr__(metadata, name, value)
        return metadata

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a dict with the category and severity values (the newer legacy ``to_dict``)."""
        data = asdict(self)
        data["category"] = value_of(self.category)
        data["severity"] = value_of(self.severity)
        return data


def _profile_member(value: Any, kind: type[enum.Enum]) -> Any:
    """A profile's plain string becomes newlog's member when newlog knows it; anything else is kept."""
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            return value
    return value


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
    if not isinstance(category, ErrorCategory):
        category = ErrorCategory.UNKNOWN
    try:
        severity = _to_severity(getattr(error, "severity"))
    except ValueError:
        severity = ErrorSeverity.MEDIUM
    if not isinstance(severity, ErrorSeverity):
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


_INTEGRITY_MESSAGE = "The data conflicts with an existing record or a database constraint."
_NETWORK_WORDS = ("timeout", "connection")
_AUTHORIZATION_WORDS = ("permission", "forbidden", "denied")
_VALIDATION_WORDS = ("validation", "invalid")


def classify(error: BaseException) -> ErrorMetadata:
    """Return the ErrorMetadata for ``error``.

    Registered classes (most specific first) win. Then, with an error profile in effect
    (``current_error_profile()``), the profile's rules answer, as the app's legacy module
    did. Without one, newlog's own order: the error's own ``status_code`` / ``category`` /
    ``severity`` attributes, werkzeug ``HTTPException`` by code, SQLAlchemy
    ``IntegrityError`` (400) and other ``SQLAlchemyError`` (500), builtin ``TimeoutError``
    / ``ConnectionError``, words in the message, else 500 system; this never raises.
    """
    registered = _registered(error)
    if registered is not None:
        return registered
    profile = current_error_profile()
    if profile is not None:
        resolved = profile.resolve(error)
        return ErrorMetadata._exact(
            resolved.status_code,
            resolved.category,
            resolved.severity,
            resolved.message_key,
            resolved.message,
            resolved.recoverable,
        )
    metadata = _from_attributes(error)
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
            _INTEGRITY_MESSAGE,
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

    The attributes of both legacy variants: ``error``, ``error_id``, ``timestamp``,
    ``request_id`` / ``user_id`` (from ``newlog.context``'s ContextVars), ``request``
    (the given one, else the current Flask request, else None), ``url``, ``method`` and
    ``extra`` (``ip_address``, ``user_agent`` of the request; ``{}`` outside one). Under an
    error profile, ``error_id`` and ``timestamp`` are made in the app's legacy formats.
    """

    def __init__(self, error: BaseException, request: Request | None = None) -> None:
        profile = current_error_profile()
        self.error = error
        self.error_id: str = profile.new_error_id() if profile is not None else uuid.uuid4().hex
        self.timestamp: datetime = profile.now() if profile is not None else datetime.now(UTC)
        self.request_id: str | None = request_id_var.get()
        self.user_id: int | None = user_id_var.get()
        if request is None and has_request_context():
            request = current_request._get_current_object()  # type: ignore[attr-defined]
        self.request: Request | None = request
        self.url: str | None = sanitize.mask_url(request.url) if request is not None else None
        self.method: str | None = request.method if request is not None else None
        self.extra: dict[str, str | None] = (
            {"ip_address": request.remote_addr, "user_agent": request.headers.get("User-Agent")}
            if request is not None
            else {}
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the context as the legacy ``to_dict``: ids, formatted timestamp, url, method, extra."""
        return {
            "error_id": self.error_id,
            "timestamp": _format_timestamp(self.timestamp, current_error_profile()),
            "request_id": self.request_id,
            "user_id": self.user_id,
            "url": self.url,
            "method": self.method,
            "extra": self.extra,
        }


def _format_timestamp(timestamp: datetime, profile: ErrorProfile | None) -> str:
    return profile.format_timestamp(timestamp) if profile is not None else timestamp.isoformat()


# -- the profile in effect ------------------------------------------------------------------------

PROFILE_KEY = "newlog.error_profile"
"""The ``app.extensions`` key of an app's error profile."""

_NOT_SET = object()
_process_profile: ErrorProfile | None = None


def use_error_profile(profile: ErrorProfile | None, app: Flask | None = None) -> None:
    """Answer errors the way ``profile`` says (None: newlog's own catalogue); returns None.

    With ``app``, for that app only (stored in ``app.extensions``; an app-level None means
    newlog's own even if a process default is set); without, the process default, used
    outside an app context and by apps without a profile of their own. This is the one
    entry point ``newlog.init_app(app, errors=...)`` and ``compat.install(..., profile=...)``
    call.
    """
    global _process_profile
    if profile is not None and not isinstance(profile, ErrorProfile):
        raise TypeError(f"use_error_profile() needs a newlog.error_profile.ErrorProfile or None, got {profile!r}")
    if app is None:
        _process_profile = profile
    else:
        app.extensions[PROFILE_KEY] = profile


def current_error_profile() -> ErrorProfile | None:
    """Return the error profile in effect: the current app's, else the process default, else None."""
    if has_app_context():
        profile = current_app.extensions.get(PROFILE_KEY, _NOT_SET)
        if profile is not _NOT_SET:
            return profile  # type: ignore[return-value]
    return _process_profile


# -- payloads -----------------------------------------------------------------------------------


def _newlog_payload(
    metadata: ErrorMetadata, context: ErrorContext, extra: dict[str, Any] | None
) -> dict[str, Any]:
    block: dict[str, Any] = {"request_id": context.request_id, "user_id": context.user_id}
    if context.request is not None:
        block.update(url=context.url, method=context.method, meta=dict(context.extra))
    payload: dict[str, Any] = {
        "error": True,
        "error_id": context.error_id,
        "category": metadata.category.value,
        "severity": metadata.severity.value,
        "message_code": metadata.message_key,
        "message": metadata.message,
        "timestamp": context.timestamp.isoformat(),
        "recoverable": metadata.recoverable,
        "suggestions": list(_SUGGESTIONS.get(metadata.category, _SUGGESTIONS[ErrorCategory.UNKNOWN])),
        "context": block,
    }
    if extra is not None:
        payload["extra"] = extra
    return payload


def _profile_payload(
    profile: ErrorProfile,
    error: BaseException,
    metadata: ErrorMetadata,
    context: ErrorContext,
    extra: dict[str, Any] | None,
) -> dict[str, Any]:
    shape = profile.payload
    values: dict[str, Any] = {
        "error": True,
        "error_id": context.error_id,
        "category": value_of(metadata.category),
        "severity": value_of(metadata.severity),
        "message_code": metadata.message_key,
        "message": metadata.message,
        "timestamp": profile.format_timestamp(context.timestamp),
        "recoverable": metadata.recoverable,
        "suggestions": profile.suggestions_for(metadata.category),
    }
    payload: dict[str, Any] = {}
    for key in shape.keys:
        payload[key] = _context_block(shape, error, metadata, context) if key == "context" else values[key]
    if extra is not None and (shape.extra == "given" or extra):
        payload["extra"] = extra
    return payload


def _context_block(shape: Any, error: BaseException, metadata: ErrorMetadata, context: ErrorContext) -> dict[str, Any]:
    meta_values = {
        "status_code": metadata.status_code,
        "error_type": type(error).__name__,
        "details": getattr(error, "details", None) or {},
        **{key: context.extra.get(key) for key in ("ip_address", "user_agent")},
    }
    block: dict[str, Any] = {}
    for key in shape.context:
        if key == "request_id":
            block[key] = context.request_id
        elif key == "user_id":
            block[key] = context.user_id
        elif key in ("url", "method"):
            value = getattr(context, key)
            if value:
                block[key] = value
        else:
            block["meta"] = {name: meta_values[name] for name in shape.meta}
    return block


def _log(
    error: BaseException,
    metadata: ErrorMetadata,
    context: ErrorContext,
    extra: dict[str, Any] | None,
    profile: ErrorProfile | None,
) -> None:
    from newlog.api import log_critical, log_error, log_warning

    severity = value_of(metadata.severity)
    if severity == ErrorSeverity.CRITICAL.value:
        log = log_critical
    elif severity == ErrorSeverity.HIGH.value:
        log = log_error
    else:
        log = log_warning
    fields: dict[str, Any] = {
        "error_id": context.error_id,
        "error_type": type(error).__name__,
        "category": value_of(metadata.category),
        "severity": severity,
    }
    if profile is None or "message_code" in profile.payload.keys:
        fields["message_code"] = metadata.message_key
    fields["status_code"] = metadata.status_code
    if profile is None:
        if context.url is not None:
            fields["url"] = context.url
            fields["method"] = context.method
        message = f"{type(error).__name__}: {error}"
    else:
        # the legacy module's log event: its classified message, the request's ip and agent
        fields.update(context.extra)
        message = f"{type(error).__name__}: {metadata.message}"
    if extra is not None and (profile is None or extra):
        fields["extra"] = extra
    try:
        log(message, module="error_handler", exception=error, **fields)
    except Exception:
        _fallback_logger.exception("newlog could not log error %s", context.error_id)


def _handle(
    error: BaseException, context: ErrorContext | None, extra: dict[str, Any] | None
) -> tuple[dict[str, Any], ErrorMetadata, ErrorProfile | None]:
    profile = current_error_profile()
    context = context if context is not None else ErrorContext(error)
    metadata = classify(error)
    if profile is None:
        payload = _newlog_payload(metadata, context, extra)
    else:
        payload = _profile_payload(profile, error, metadata, context, extra)
    _log(error, metadata, context, extra, profile)
    return payload, metadata, profile


def enhanced_error_handler(
    error: BaseException, context: ErrorContext | None = None, *, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Log ``error`` once and return the legacy JSON error payload (a dict).

    Under an error profile the payload is the app's legacy one (keys, order, texts,
    formats); otherwise newlog's, which has ``extra`` only when ``extra`` is given. Use
    ``classify(error)`` or ``error_response(error)`` for the HTTP status.
    """
    payload, _, _ = _handle(error, context, extra)
    return payload


def error_response(error: BaseException, *, extra: dict[str, Any] | None = None) -> ErrorResponse:
    """Log ``error`` once and return ``(jsonify(payload), status_code)``.

    The status is the classification's, or under an error profile the one the app's
    ``error_handler`` answered with (its status mapper). Fits
    ``app.register_error_handler(Exception, error_response)``. Outside a Flask app
    context the payload dict is returned instead of a Response.
    """
    payload, metadata, profile = _handle(error, None, extra)
    body: Response | dict[str, Any] = jsonify(payload) if has_app_context() else payload
    status = profile.status_for(error) if profile is not None and profile.status is not None else metadata.status_code
    return body, status


# -- the public catalogue -----------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCatalogue:
    """The client-facing texts errors are answered with.

    ``messages``: message key -> text; ``texts``: every fixed message text (including
    those without a key); ``suggestions``: category value -> suggestions;
    ``default_suggestions``: for a category without its own.
    """

    messages: Mapping[str, str]
    texts: frozenset[str]
    suggestions: Mapping[str, tuple[str, ...]]
    default_suggestions: tuple[str, ...]


def error_catalogue(profile: ErrorProfile | None | object = _NOT_SET) -> ErrorCatalogue:
    """Return the catalogue of ``profile`` (default: the one in effect; None: newlog's own)."""
    if profile is _NOT_SET:
        profile = current_error_profile()
    if profile is None:
        messages = {f"{category.value}_error": text for category, text in _DEFAULT_MESSAGES.items()}
        messages["database_integrity_error"] = _INTEGRITY_MESSAGE
        return ErrorCatalogue(
            messages=messages,
            texts=frozenset(messages.values()),
            suggestions={category.value: texts for category, texts in _SUGGESTIONS.items()},
            default_suggestions=_SUGGESTIONS[ErrorCategory.UNKNOWN],
        )
    assert isinstance(profile, ErrorProfile)
    messages = profile.messages()
    fixed = {
        rule.outcome.message.value
        for rule in profile.rules
        if rule.outcome is not None and rule.outcome.message.kind == "literal"
    }
    return ErrorCatalogue(
        messages=messages,
        texts=frozenset(messages.values()) | fixed,
        suggestions=profile.suggestion_table(),
        default_suggestions=profile.default_suggestions,
    )


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
    """Decorate a sync or async function: on ``Exception`` log it once and re-raise it unchanged.

    The error event carries ``extra={"function": <the function's name>}``, as the legacy
    (older variant's) ``error_monitor`` stored it.
    """
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await func(*args, **kwargs)
            except Exception as exc:
                _handle(exc, None, {"function": func.__name__})
                raise

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            _handle(exc, None, {"function": func.__name__})
            raise

    return wrapper
