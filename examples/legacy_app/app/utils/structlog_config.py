"""
Structured logging configuration (structlog) for the application.

This module:
  * configures structlog for the whole process (``StructlogConfig.configure``),
  * writes every log event to the ``unified_logs`` table (``SQLAlchemyLogHandler``),
  * keeps request / user / global context for log events,
  * provides the convenience helpers used everywhere (``log_info``, ``log_error``, ...),
  * provides the error handling helpers used by the API (``enhanced_error_handler``,
    ``error_handler``, ``error_monitor``).

Usage:
    from app.utils.structlog_config import configure_structlog, log_info

    configure_structlog(app)
    log_info("Something happened", module="orders", order_id=42)

NOTE FOR REVIEWERS: this file is the *older* variant of the legacy module, kept
as the input of the migration toolkit. Its defects are deliberate and each one
is marked with a ``# LEGACY DEFECT:`` comment. Do not fix them here.
"""

import logging
import os
import socket
import sys
import threading
import time
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone
from functools import wraps
from queue import Empty, Queue
from typing import Any, Callable, Dict, Optional

import structlog
from flask import current_app, g, has_request_context, jsonify
from flask import request as flask_request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.models import LogLevel, UnifiedLog

# ---------------------------------------------------------------------------
# Module-level state
# ---------------------------------------------------------------------------

# Context variables for request tracking
request_id_var: ContextVar[Optional[str]] = ContextVar("request_id", default=None)
user_id_var: ContextVar[Optional[int]] = ContextVar("user_id", default=None)

# Debug logging switch (see set_debug_logging_enabled)
_debug_logging_enabled = False

# Global context merged into every log event.
# LEGACY DEFECT: a plain process-wide dict - not thread-safe, shared by every request and
# thread, so a value bound while serving one request leaks into all later requests.
_global_context = {}


# ---------------------------------------------------------------------------
# Database handler
# ---------------------------------------------------------------------------


class SQLAlchemyLogHandler:
    """
    structlog processor that stores log events in the unified_logs table.

    Designed to batch log entries in a background thread (see _process_logs).
    """

    def __init__(self, batch_size: int = 100, flush_interval: float = 5.0):
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        # LEGACY DEFECT: unbounded queue that nothing ever puts into (__call__ commits directly).
        self.log_queue = Queue()
        self.batch_buffer = []
        self.last_flush = time.time()
        self._shutdown = False
        self._lock = threading.Lock()

        # Start background processing thread
        # LEGACY DEFECT: dead thread - it polls the never-fed queue forever.
        self._thread = threading.Thread(target=self._process_logs, name="SQLAlchemyLogHandler", daemon=True)
        self._thread.start()

    def __call__(self, logger, method_name, event_dict):
        """Process a log event (structlog processor interface)."""
        if self._shutdown:
            return event_dict

        # Skip DEBUG level logs - they are too noisy for the database
        # LEGACY DEFECT: DEBUG dropped twice - the first processor of the chain already dropped it.
        if method_name == "debug" or str(event_dict.get("level", "")).lower() == "debug":
            raise structlog.DropEvent

        try:
            log_entry = self._build_log_entry(event_dict)
            if log_entry is None:
                return event_dict

            # LEGACY DEFECT: synchronous INSERT + COMMIT per event, in the calling (request) thread.
            with current_app.app_context():
                try:
                    db_log = UnifiedLog.create_log_entry(**log_entry)
                    db.session.add(db_log)
                    db.session.commit()
                except Exception as e:
                    # LEGACY DEFECT: f-string bug - "{e}" is printed literally, the error is lost.
                    logging.error("Failed to save log entry to database: {e}")
        except Exception as e:
            # LEGACY DEFECT: every failure (no app context, DB down, bad JSON) is swallowed;
            # the event is silently missing from the table. Same f-string bug.
            logging.error("Error in SQLAlchemyLogHandler: {e}")

        return event_dict

    def _build_log_entry(self, event_dict) -> Optional[Dict[str, Any]]:
        """Build the keyword arguments of UnifiedLog.create_log_entry from an event."""
        try:
            if not isinstance(event_dict, dict):
                return {
                    "timestamp": datetime.now(timezone.utc),
                    "level": LogLevel.INFO,
                    "module": "unknown",
                    "message": str(event_dict),
                    "traceback": None,
                    "context": {},
                }

            # Timestamp
            timestamp = self._parse_timestamp(event_dict.get("timestamp"))

            # Level
            level_str = str(event_dict.get("level", "info")).upper()
            try:
                level = LogLevel[level_str]
            except KeyError:
                level = LogLevel.INFO

            # Module
            module = event_dict.get("module")
            if not module:
                logger_name = event_dict.get("logger") or event_dict.get("logger_name")
                if logger_name:
                    module = str(logger_name).split(".")[-1]
                else:
                    module = "unknown"

            # Message
            message = event_dict.get("event")
            if message is None:
                message = event_dict.get("message", "")

            # Traceback
            traceback_str = None
            if "exception" in event_dict:
                traceback_str = str(event_dict["exception"])

            return {
                "timestamp": timestamp,
                "level": level,
                "module": str(module),
                "message": str(message),
                "traceback": traceback_str,
                "context": self._build_context(event_dict),
            }
        except Exception as e:
            logging.error("Error building log entry: {e}")  # LEGACY DEFECT: f-string bug
            return None

    def _parse_timestamp(self, value) -> datetime:
        """Parse the TimeStamper ISO string into an aware datetime."""
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if isinstance(value, str):
            try:
                if value.endswith("Z"):
                    value = value[:-1] + "+00:00"
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=timezone.utc)
                return parsed
            except ValueError:
                pass
        return datetime.now(timezone.utc)

    def _build_context(self, event_dict) -> Dict[str, Any]:
        """Collect the JSON context stored with the log row."""
        context = {}

        # Request context
        if has_request_context():
            context["request_id"] = request_id_var.get()
            context["user_id"] = user_id_var.get()
            context["url"] = getattr(g, "url", None)
            context["method"] = getattr(g, "method", None)
            context["ip_address"] = getattr(g, "ip_address", None)
            context["user_agent"] = getattr(g, "user_agent", None)

            # User context
            try:
                if current_user and current_user.is_authenticated:
                    context["current_user_id"] = current_user.id
                    context["current_username"] = current_user.username
                    context["current_user_role"] = getattr(current_user, "role", None)
                    is_admin = getattr(current_user, "is_admin", False)
                    context["is_admin"] = is_admin() if callable(is_admin) else is_admin
            except Exception:
                pass

        # Everything else from the event
        excluded_keys = {"level", "module", "event", "timestamp", "exception", "logger", "logger_name"}
        for key, value in event_dict.items():
            if key in excluded_keys or value is None:
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif hasattr(value, "to_dict"):
                value = value.to_dict()
            context[key] = value

        return context

    def _process_logs(self):
        """Background thread: batch queued log entries and flush them."""
        # LEGACY DEFECT: dead code - log_queue is never fed, so this only ever times out.
        while not self._shutdown:
            try:
                entry = self.log_queue.get(timeout=1.0)
                with self._lock:
                    self.batch_buffer.append(entry)
                    should_flush = (
                        len(self.batch_buffer) >= self.batch_size
                        or time.time() - self.last_flush >= self.flush_interval
                    )
                if should_flush:
                    self._flush_logs()
            except Empty:
                if self.batch_buffer and time.time() - self.last_flush >= self.flush_interval:
                    self._flush_logs()
            except Exception as e:
                logging.error("Error in log processing thread: {e}")  # LEGACY DEFECT: f-string bug

    def _flush_logs(self):
        """Write the batch buffer to the database."""
        # LEGACY DEFECT: dead code; if it ever ran, current_app is unavailable in this thread.
        with self._lock:
            if not self.batch_buffer:
                return
            entries = list(self.batch_buffer)
            self.batch_buffer.clear()
        try:
            with current_app.app_context():
                for entry in entries:
                    db.session.add(UnifiedLog.create_log_entry(**entry))
                db.session.commit()
            self.last_flush = time.time()
        except Exception as e:
            logging.error("Failed to flush {len(entries)} log entries: {e}")  # LEGACY DEFECT: f-string bug

    def shutdown(self):
        """Stop the background thread, flushing what is left."""
        self._shutdown = True
        if self.batch_buffer:
            self._flush_logs()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


# ---------------------------------------------------------------------------
# structlog configuration
# ---------------------------------------------------------------------------


class StructlogConfig:
    """Configures structlog once per process."""

    def __init__(self):
        self.handler = None
        self.configured = False
        self.app = None

    def configure(self, app=None):
        """Configure structlog (idempotent)."""
        if self.configured:
            return

        if app is not None:
            self.app = app

        if self.handler is None:
            self.handler = SQLAlchemyLogHandler()

        processors = [
            self._filter_debug_logs,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            self._add_request_context,
            self._add_user_context,
            self._add_global_context,
            self.handler,
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
            # LEGACY DEFECT: double rendering - JSONRenderer re-renders the console *string*,
            # so stdlib receives a JSON-quoted string full of escaped padding/colour codes.
            structlog.processors.JSONRenderer(),
        ]

        structlog.configure(
            processors=processors,
            context_class=dict,
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        )

        self.configured = True

    def _filter_debug_logs(self, logger, method_name, event_dict):
        """Drop DEBUG events."""
        # LEGACY DEFECT: ignores _debug_logging_enabled, so the debug switch is dead.
        if method_name == "debug":
            raise structlog.DropEvent
        return event_dict

    def _add_request_context(self, logger, method_name, event_dict):
        """Add request_id / user_id when inside a request."""
        if has_request_context():
            request_id = request_id_var.get()
            if request_id:
                event_dict["request_id"] = request_id
            user_id = user_id_var.get()
            if user_id:
                event_dict["user_id"] = user_id
        return event_dict

    def _add_user_context(self, logger, method_name, event_dict):
        """Add the logged-in user."""
        if has_request_context():
            try:
                if current_user and current_user.is_authenticated:
                    event_dict["user_id"] = current_user.id
                    event_dict["username"] = current_user.username
            except Exception:
                pass
        return event_dict

    def _add_global_context(self, logger, method_name, event_dict):
        """Add application info and the global context."""
        global _global_context

        try:
            event_dict["app_name"] = current_app.config.get("APP_NAME", current_app.name)
            event_dict["app_version"] = current_app.config.get("APP_VERSION", "unknown")
        except RuntimeError:
            event_dict["app_name"] = "unknown"
            event_dict["app_version"] = "unknown"

        if has_request_context():
            event_dict["environment"] = os.environ.get("FLASK_ENV", "production")
            event_dict["host"] = socket.gethostname()

        if hasattr(logger, "name"):
            event_dict["logger_name"] = logger.name

        # LEGACY DEFECT: global context is applied last, so it silently overrides
        # per-call keyword arguments with the same name.
        event_dict.update(_global_context)
        return event_dict

    def shutdown(self):
        """Shut down the database handler."""
        if self.handler is not None:
            self.handler.shutdown()


# Global instance
structlog_config = StructlogConfig()


# ---------------------------------------------------------------------------
# Loggers
# ---------------------------------------------------------------------------


def get_logger(name: str = None):
    """Get a structlog logger (configures structlog on first use)."""
    if not structlog_config.configured:
        structlog_config.configure()
    return structlog.get_logger(name)


def configure_structlog(app):
    """Configure structlog for a Flask app."""
    structlog_config.configure(app)

    @app.teardown_appcontext
    def log_app_teardown(exception=None):
        if exception is not None:
            logger = get_logger("system")
            logger.error(
                "Application error",
                module="system",
                error=str(exception),
                error_type=type(exception).__name__,
            )

    return structlog_config


def get_system_logger():
    """Logger for system events."""
    return get_logger("system")


def get_api_logger():
    """Logger for API events."""
    return get_logger("api")


def get_auth_logger():
    """Logger for authentication events."""
    return get_logger("auth")


def get_db_logger():
    """Logger for database events."""
    return get_logger("database")


def get_sync_logger():
    """Logger for synchronisation jobs."""
    return get_logger("sync")


def get_task_logger():
    """Logger for background tasks."""
    return get_logger("task")


# ---------------------------------------------------------------------------
# Convenience functions
# ---------------------------------------------------------------------------


def log_info(message: str, module: str = "app", **kwargs):
    """Log an INFO message."""
    logger = get_logger("app")
    logger.info(message, module=module, **kwargs)


def log_warning(message: str, module: str = "app", exception: Exception = None, **kwargs):
    """Log a WARNING message."""
    logger = get_logger("app")
    if exception:
        kwargs["exception"] = str(exception)
    logger.warning(message, module=module, **kwargs)


def log_error(message: str, module: str = "app", exception: Exception = None, **kwargs):
    """Log an ERROR message (with the current traceback)."""
    logger = get_logger("app")
    if exception:
        kwargs["error"] = str(exception)
        kwargs["exc_info"] = True
    logger.error(message, module=module, **kwargs)


def log_critical(message: str, module: str = "app", exception: Exception = None, **kwargs):
    """Log a CRITICAL message (with the current traceback)."""
    logger = get_logger("app")
    if exception:
        kwargs["error"] = str(exception)
        kwargs["exc_info"] = True
    logger.critical(message, module=module, **kwargs)


def log_debug(message: str, module: str = "app", **kwargs):
    """Log a DEBUG message if debug logging is enabled."""
    if not should_log_debug():
        return
    logger = get_logger("app")
    # LEGACY DEFECT: even when enabled, DEBUG is dropped by the filter and by the DB handler.
    logger.debug(message, module=module, **kwargs)


def should_log_debug() -> bool:
    """Whether debug logging is enabled."""
    return _debug_logging_enabled


def set_debug_logging_enabled(*, enabled: bool):
    """Enable or disable debug logging (reconfigures structlog)."""
    global _debug_logging_enabled
    _debug_logging_enabled = bool(enabled)
    # Reconfigure so the new setting takes effect
    # LEGACY DEFECT: loggers cached by cache_logger_on_first_use keep the old chain,
    # and the new chain still drops DEBUG anyway.
    structlog_config.configured = False
    structlog_config.configure(structlog_config.app)


def is_debug_logging_enabled() -> bool:
    """Whether debug logging is enabled."""
    return _debug_logging_enabled


# ---------------------------------------------------------------------------
# Context helpers
# ---------------------------------------------------------------------------


def bind_context(**kwargs):
    """Bind values to the global log context."""
    # LEGACY DEFECT: writes the process-global dict; visible to every request and thread.
    _global_context.update(kwargs)


def clear_context():
    """Clear the global log context."""
    # LEGACY DEFECT: also wipes what other requests / import-time code bound.
    _global_context.clear()


def get_context() -> Dict[str, Any]:
    """Return a copy of the global log context."""
    return _global_context.copy()


def bind_request_context(request_id: str, user_id: int = None):
    """Bind request id and user id for the current request."""
    request_id_var.set(request_id)
    if user_id is not None:
        user_id_var.set(user_id)


def clear_request_context():
    """Clear request id and user id."""
    request_id_var.set(None)
    user_id_var.set(None)


class LogContext:
    """
    Context manager for temporary log context.

        with LogContext(order_id=42):
            log_info("Processing order")
    """

    def __init__(self, **kwargs):
        self.context = kwargs
        self.old_context = None

    def __enter__(self):
        global _global_context
        self.old_context = _global_context.copy()
        _global_context.update(self.context)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        global _global_context
        # LEGACY DEFECT: restoring a snapshot discards whatever other threads bound meanwhile.
        _global_context.clear()
        _global_context.update(self.old_context)
        return False


def with_log_context(**context):
    """Decorator that runs the function inside a LogContext."""

    def decorator(func):
        # LEGACY DEFECT: no functools.wraps - the wrapper's __name__ is "wrapper",
        # which breaks Flask endpoint names and introspection.
        def wrapper(*args, **kwargs):
            with LogContext(**context):
                return func(*args, **kwargs)

        return wrapper

    return decorator


# ---------------------------------------------------------------------------
# Error handling
# ---------------------------------------------------------------------------


class ErrorCategory:
    """Error categories."""

    DATABASE = "database"
    VALIDATION = "validation"
    AUTHENTICATION = "authentication"
    AUTHORIZATION = "authorization"
    SYSTEM = "system"
    NETWORK = "network"
    UNKNOWN = "unknown"


class ErrorSeverity:
    """Error severities."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ErrorContext:
    """Everything known about an error when it happens."""

    def __init__(self, error: Exception, request=None):
        self.error = error
        self.error_id = str(uuid.uuid4())
        self.timestamp = datetime.now(timezone.utc)
        self.request_id = request_id_var.get()
        self.user_id = user_id_var.get()
        self.url = None
        self.method = None
        self.extra = {}

        if request is None and has_request_context():
            request = flask_request
        if request is not None:
            self.url = request.url
            self.method = request.method
            self.extra = {
                "ip_address": request.remote_addr,
                "user_agent": request.headers.get("User-Agent"),
            }

    def to_dict(self) -> Dict[str, Any]:
        return {
            "error_id": self.error_id,
            "timestamp": self.timestamp.isoformat(),
            "request_id": self.request_id,
            "user_id": self.user_id,
            "url": self.url,
            "method": self.method,
            "extra": self.extra,
        }


_SUGGESTIONS = {
    ErrorCategory.DATABASE: ["Check the submitted data for duplicates", "Retry the request later"],
    ErrorCategory.VALIDATION: ["Check the request parameters", "See the API documentation"],
    ErrorCategory.AUTHENTICATION: ["Log in and retry the request"],
    ErrorCategory.AUTHORIZATION: ["Ask an administrator for access"],
    ErrorCategory.NETWORK: ["Retry the request later", "Check the status of the upstream service"],
    ErrorCategory.SYSTEM: ["Contact support with the error id"],
    ErrorCategory.UNKNOWN: ["Contact support with the error id"],
}


def _as_str(value) -> str:
    """Enum members (from app.constants) to their string value."""
    return getattr(value, "value", value)


def _classify_error(error: Exception) -> Dict[str, Any]:
    """Return status_code, category, severity, message and recoverable for an error."""
    try:
        # imported here to avoid a circular import (app.errors -> ... -> structlog_config)
        from app.errors import AppError
    except ImportError:
        AppError = None

    if AppError is not None and isinstance(error, AppError):
        return {
            "status_code": error.status_code,
            "category": _as_str(error.category),
            "severity": _as_str(error.severity),
            "message": error.message,
            "recoverable": error.recoverable,
        }

    if isinstance(error, HTTPException):
        code = error.code or 500
        if code == 401:
            category, severity = ErrorCategory.AUTHENTICATION, ErrorSeverity.MEDIUM
        elif code == 403:
            category, severity = ErrorCategory.AUTHORIZATION, ErrorSeverity.MEDIUM
        elif code < 500:
            category, severity = ErrorCategory.VALIDATION, ErrorSeverity.LOW
        else:
            category, severity = ErrorCategory.SYSTEM, ErrorSeverity.HIGH
        return {
            "status_code": code,
            "category": category,
            "severity": severity,
            "message": error.description or error.name,
            "recoverable": code < 500,
        }

    if isinstance(error, IntegrityError):
        return {
            "status_code": 400,
            "category": ErrorCategory.DATABASE,
            "severity": ErrorSeverity.MEDIUM,
            "message": "The data conflicts with existing records",
            "recoverable": True,
        }

    if isinstance(error, SQLAlchemyError):
        return {
            "status_code": 500,
            "category": ErrorCategory.DATABASE,
            "severity": ErrorSeverity.HIGH,
            "message": "A database error occurred",
            "recoverable": False,
        }

    error_message = str(error).lower()
    if "timeout" in error_message or "connection" in error_message:
        return {
            "status_code": 504,
            "category": ErrorCategory.NETWORK,
            "severity": ErrorSeverity.HIGH,
            "message": "The service is temporarily unavailable",
            "recoverable": True,
        }
    if "permission" in error_message or "forbidden" in error_message or "denied" in error_message:
        return {
            "status_code": 403,
            "category": ErrorCategory.AUTHORIZATION,
            "severity": ErrorSeverity.MEDIUM,
            "message": "You do not have permission to perform this action",
            "recoverable": False,
        }
    if "validation" in error_message or "invalid" in error_message:
        return {
            "status_code": 400,
            "category": ErrorCategory.VALIDATION,
            "severity": ErrorSeverity.LOW,
            "message": str(error),
            "recoverable": True,
        }

    return {
        "status_code": 500,
        "category": ErrorCategory.UNKNOWN,
        "severity": ErrorSeverity.HIGH,
        "message": "An unexpected error occurred",
        "recoverable": False,
    }


def enhanced_error_handler(error: Exception, context: ErrorContext = None, *, extra: Dict[str, Any] = None) -> Dict[str, Any]:
    """
    Classify an error, log it and build the JSON payload returned to the client.
    """
    if context is None:
        context = ErrorContext(error)

    info = _classify_error(error)
    category = info["category"]
    severity = info["severity"]

    payload = {
        "error": True,
        "error_id": context.error_id,
        "category": category,
        "severity": severity,
        "message": info["message"],
        "timestamp": context.timestamp.isoformat(),
        "recoverable": info["recoverable"],
        "suggestions": list(_SUGGESTIONS.get(category, ["Contact support with the error id"])),
        "context": {
            "request_id": context.request_id,
            "user_id": context.user_id,
        },
    }
    if context.url:
        payload["context"]["url"] = context.url
    if context.method:
        payload["context"]["method"] = context.method
    if extra:
        payload["extra"] = extra

    log_kwargs = {
        "error_id": context.error_id,
        "error_type": type(error).__name__,
        "category": category,
        "severity": severity,
        "status_code": info["status_code"],
    }
    log_kwargs.update(context.extra)
    if extra:
        log_kwargs["extra"] = extra

    message = f"{type(error).__name__}: {info['message']}"
    try:
        if severity == ErrorSeverity.CRITICAL:
            log_critical(message, module="error_handler", exception=error, **log_kwargs)
        elif severity == ErrorSeverity.HIGH:
            log_error(message, module="error_handler", exception=error, **log_kwargs)
        else:
            log_warning(message, module="error_handler", exception=error, **log_kwargs)
    except Exception as log_exc:
        logging.error("Failed to log error {context.error_id}: {log_exc}")  # LEGACY DEFECT: f-string bug

    return payload


def error_handler(func: Callable) -> Callable:
    """
    Route decorator: turns exceptions into a JSON error response.

        @bp.route("/things")
        @error_handler
        def things(): ...
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as e:
            payload = enhanced_error_handler(e)
            status_code = _classify_error(e)["status_code"]

            # Low/medium errors are often transient: retry once
            if payload["severity"] in (ErrorSeverity.LOW, ErrorSeverity.MEDIUM):
                # LEGACY DEFECT: runs the wrapped function a second time (side effects twice,
                # a second round of log rows), for errors that are not transient at all.
                try:
                    return func(*args, **kwargs)
                except Exception:
                    pass

            return jsonify(payload), status_code

    return wrapper


def error_monitor(func: Callable) -> Callable:
    """Decorator for service functions: log the error and re-raise it."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as e:
            payload = enhanced_error_handler(e, extra={"function": func.__name__})
            log_error(
                f"Error in monitored function {func.__name__}",
                module="error_monitor",
                error_id=payload["error_id"],
            )
            raise

    return wrapper

