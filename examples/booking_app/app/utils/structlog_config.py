"""
Strukturiertes Logging (structlog) für das Raumbuchungsportal.

Dieses Modul
  * konfiguriert structlog für den ganzen Prozess (``StructlogConfig.configure``),
  * schreibt jedes Log-Ereignis in die Tabelle ``unified_logs`` (``SQLAlchemyLogHandler``),
  * ergänzt Request-, Benutzer- und globalen Kontext,
  * stellt die Hilfsfunktionen bereit (``log_info``, ``log_error``, ...),
  * und die Fehlerbehandlung der API (``enhanced_error_handler``, ``error_handler``)
    mit den Texten aus ``app.messages.ErrorMessages``.

Verwendung:
    from app.utils.structlog_config import configure_structlog, get_api_logger

    configure_structlog(app)
    get_api_logger().info("Raum %s gebucht", room.name, module="bookings")

Version 3 (nach dem Upgrade): die Kontext-Helfer (``bind_context`` ...) sind
entfallen - Code schreibt direkt in ``_global_context``; Debug-Logging ist aus.

NOTE FOR REVIEWERS: this file is the *newer* variant of the legacy module as a real
application carries it: coupled to the application's catalogue, enums, exceptions,
status mapper, log model and time helpers. It is an input of the migration toolkit;
its defects are deliberate and each one is marked with a ``# LEGACY DEFECT:`` comment.
"""

import logging
import os
import socket
import sys
import threading
import time
import uuid
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from functools import wraps
from queue import Empty, Queue
from typing import Any, Callable, Dict, Optional

import structlog
from flask import current_app, g, has_request_context, jsonify
from flask import request as flask_request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ..constants import ErrorCategory, ErrorSeverity, HttpStatus
from ..errors import map_exception_to_status
from ..extensions import db
from ..messages import ErrorMessages
from .time_utils import parse_iso, to_iso, utc_now

try:
    from app.models import LogLevel, UnifiedLog
except ImportError:  # pragma: no cover - alte Installationen hatten das Modell unter app.logging_models
    from app.logging_models import LogLevel, UnifiedLog

# ---------------------------------------------------------------------------
# Modulzustand
# ---------------------------------------------------------------------------

APP_DISPLAY_NAME = "Raumbuchung Portal"

# Kontextvariablen für Request-Tracking
request_id_var: ContextVar[Optional[str]] = ContextVar("request_id", default=None)
user_id_var: ContextVar[Optional[int]] = ContextVar("user_id", default=None)

# Globaler Kontext, wird in jedes Ereignis übernommen (direkt beschreibbar).
# LEGACY DEFECT: a plain process-wide dict - not thread-safe, shared by every request and
# thread, so a value bound while serving one request leaks into all later requests.
_global_context = {}

# Rechnername einmal beim Import (im Container: Pod-Name aus der Umgebung)
_HOSTNAME = os.environ.get("POD_NAME") or socket.gethostname()


# ---------------------------------------------------------------------------
# Datenbank-Handler
# ---------------------------------------------------------------------------


class SQLAlchemyLogHandler:
    """
    structlog-Prozessor, der Ereignisse in ``unified_logs`` speichert.

    Gedacht für Stapelverarbeitung in einem Hintergrund-Thread (siehe _process_logs).
    """

    def __init__(self, batch_size: int = 50, flush_interval: float = 2.0):
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        # LEGACY DEFECT: unbounded queue that nothing ever puts into (__call__ commits directly).
        self.log_queue = Queue()
        self.batch_buffer = []
        self.last_flush = time.time()
        self._shutdown = False
        self._lock = threading.Lock()

        # LEGACY DEFECT: dead thread - it polls the never-fed queue forever.
        self._thread = threading.Thread(target=self._process_logs, name="LogBatchWriter", daemon=True)
        self._thread.start()

    def __call__(self, logger, method_name, event_dict):
        """structlog-Prozessor: Ereignis speichern."""
        if self._shutdown:
            return event_dict

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
                    db.session.add(UnifiedLog(**log_entry))
                    db.session.commit()
                except Exception as e:
                    db.session.rollback()
                    # LEGACY DEFECT: f-string bug - "{e}" is printed literally, the error is lost.
                    logging.error("Log-Eintrag konnte nicht gespeichert werden: {e}")
        except Exception as e:
            # LEGACY DEFECT: every failure (no app context, DB down, bad JSON) is swallowed;
            # the event is silently missing from the table. Same f-string bug.
            logging.error("Fehler im SQLAlchemyLogHandler: {e}")

        return event_dict

    def _build_log_entry(self, event_dict) -> Optional[Dict[str, Any]]:
        """Spalten der Log-Zeile aus einem Ereignis."""
        try:
            if not isinstance(event_dict, dict):
                return {
                    "timestamp": utc_now(),
                    "level": LogLevel.INFO,
                    "module": "unknown",
                    "message": str(event_dict),
                    "traceback": None,
                    "context": {},
                }

            timestamp = self._parse_timestamp(event_dict.get("timestamp"))

            level_name = str(event_dict.get("level", "info")).upper()
            level = LogLevel[level_name] if level_name in LogLevel.__members__ else LogLevel.INFO

            module = event_dict.get("module")
            if not module:
                logger_name = event_dict.get("logger") or event_dict.get("logger_name")
                module = str(logger_name).split(".")[-1] if logger_name else "unknown"

            message = event_dict.get("event")
            if message is None:
                message = event_dict.get("message", "")

            traceback_str = None
            if "exception" in event_dict:
                traceback_str = str(event_dict["exception"])

            return {
                "timestamp": timestamp,
                "level": level,
                "module": str(module)[:100],
                "message": str(message),
                "traceback": traceback_str,
                "context": self._build_context(event_dict),
            }
        except Exception as e:
            logging.error("Fehler beim Aufbau des Log-Eintrags: {e}")  # LEGACY DEFECT: f-string bug
            return None

    def _parse_timestamp(self, value):
        """ISO-Zeitstempel des TimeStamper in eine UTC-datetime."""
        if isinstance(value, str):
            try:
                return parse_iso(value)
            except ValueError:
                pass
        return utc_now()

    def _build_context(self, event_dict) -> Dict[str, Any]:
        """JSON-Kontext der Log-Zeile."""
        context = {}

        if has_request_context():
            context["request_id"] = request_id_var.get()
            context["user_id"] = user_id_var.get()
            context["url"] = getattr(g, "url", None)
            context["method"] = getattr(g, "method", None)
            context["ip_address"] = getattr(g, "ip_address", None)
            context["user_agent"] = getattr(g, "user_agent", None)

            try:
                if current_user and current_user.is_authenticated:
                    context["current_user_id"] = current_user.id
                    context["current_username"] = current_user.username
                    context["is_admin"] = current_user.is_admin()
            except Exception:
                pass

        excluded_keys = {"level", "module", "event", "timestamp", "exception", "logger", "logger_name"}
        for key, value in event_dict.items():
            if key in excluded_keys or value is None:
                continue
            if hasattr(value, "isoformat"):
                value = to_iso(value)
            elif hasattr(value, "to_dict"):
                value = value.to_dict()
            context[key] = value

        return context

    def _process_logs(self):
        """Hintergrund-Thread: gepufferte Einträge in Stapeln schreiben."""
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
                logging.error("Fehler im Log-Thread: {e}")  # LEGACY DEFECT: f-string bug

    def _flush_logs(self):
        """Puffer in die Datenbank schreiben."""
        # LEGACY DEFECT: dead code; if it ever ran, current_app is unavailable in this thread.
        with self._lock:
            if not self.batch_buffer:
                return
            entries = list(self.batch_buffer)
            self.batch_buffer.clear()
        try:
            with current_app.app_context():
                for entry in entries:
                    db.session.add(UnifiedLog(**entry))
                db.session.commit()
            self.last_flush = time.time()
        except Exception as e:
            logging.error("{len(entries)} Log-Einträge verloren: {e}")  # LEGACY DEFECT: f-string bug

    def shutdown(self):
        """Thread stoppen, Rest schreiben."""
        self._shutdown = True
        if self.batch_buffer:
            self._flush_logs()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


# ---------------------------------------------------------------------------
# structlog-Konfiguration
# ---------------------------------------------------------------------------


def _detect_environment() -> str:
    """Umgebung: APP_ENV, sonst aus dem Debug-Modus der App."""
    env = os.environ.get("APP_ENV")
    if env:
        return env.lower()
    try:
        return "development" if current_app.debug else "production"
    except RuntimeError:
        return "production"


class StructlogConfig:
    """Konfiguriert structlog einmal pro Prozess."""

    def __init__(self):
        self.handler = None
        self.configured = False
        self.app = None

    def configure(self, app=None):
        """structlog konfigurieren (idempotent)."""
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
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            self._add_request_context,
            self._add_user_context,
            self._add_global_context,
            self.handler,
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
            # LEGACY DEFECT: double rendering - JSONRenderer re-renders the console *string*,
            # so stdlib (and the application's log file) receives a JSON-quoted string.
            structlog.processors.JSONRenderer(ensure_ascii=False),
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
        """DEBUG verwerfen."""
        # LEGACY DEFECT: DEBUG can never be logged (should_log_debug() is hard-wired too).
        if method_name == "debug":
            raise structlog.DropEvent
        return event_dict

    def _add_request_context(self, logger, method_name, event_dict):
        """request_id / user_id im Request."""
        if has_request_context():
            request_id = request_id_var.get()
            if request_id:
                event_dict["request_id"] = request_id
            user_id = user_id_var.get()
            if user_id:
                event_dict["user_id"] = user_id
        return event_dict

    def _add_user_context(self, logger, method_name, event_dict):
        """Angemeldeter Benutzer."""
        if has_request_context():
            try:
                if current_user and current_user.is_authenticated:
                    event_dict["user_id"] = current_user.id
                    event_dict["username"] = current_user.username
            except Exception:
                pass
        return event_dict

    def _add_global_context(self, logger, method_name, event_dict):
        """Anwendungsinfo und globaler Kontext."""
        global _global_context

        event_dict["app_name"] = APP_DISPLAY_NAME
        try:
            event_dict["app_version"] = current_app.config.get("APP_VERSION", "0.0.0")
        except RuntimeError:
            event_dict["app_version"] = "unbekannt"
        event_dict["environment"] = _detect_environment()
        event_dict["host"] = _HOSTNAME

        if hasattr(logger, "name"):
            event_dict["logger_name"] = logger.name

        # LEGACY DEFECT: global context is applied last, so it silently overrides
        # per-call keyword arguments with the same name.
        event_dict.update(_global_context)
        return event_dict

    def shutdown(self):
        """Datenbank-Handler beenden."""
        if self.handler is not None:
            self.handler.shutdown()


# Globale Instanz
structlog_config = StructlogConfig()


# ---------------------------------------------------------------------------
# Logger
# ---------------------------------------------------------------------------


def get_logger(name: str = None):
    """structlog-Logger (konfiguriert beim ersten Aufruf)."""
    if not structlog_config.configured:
        structlog_config.configure()
    return structlog.get_logger(name)


def configure_structlog(app):
    """structlog für eine Flask-App konfigurieren."""
    structlog_config.configure(app)

    @app.teardown_appcontext
    def log_app_teardown(exception=None):
        if exception is not None:
            get_logger("system").error(
                "Anwendungsfehler",
                module="system",
                error=str(exception),
                error_type=type(exception).__name__,
            )

    return structlog_config


def get_system_logger():
    """Logger für Systemereignisse."""
    return get_logger("system")


def get_api_logger():
    """Logger für die API."""
    return get_logger("api")


def get_auth_logger():
    """Logger für Anmeldung."""
    return get_logger("auth")


def get_db_logger():
    """Logger für die Datenbank."""
    return get_logger("database")


def get_sync_logger():
    """Logger für Kalender-Synchronisation."""
    return get_logger("sync")


def get_task_logger():
    """Logger für Skripte und Aufgaben."""
    return get_logger("task")


# ---------------------------------------------------------------------------
# Hilfsfunktionen
# ---------------------------------------------------------------------------


def log_info(message: str, module: str = "app", **kwargs):
    """INFO loggen."""
    get_logger("app").info(message, module=module, **kwargs)


def log_warning(message: str, module: str = "app", exception: Exception = None, **kwargs):
    """WARNING loggen."""
    if exception:
        kwargs["exception"] = str(exception)
    get_logger("app").warning(message, module=module, **kwargs)


def log_error(message: str, module: str = "app", exception: Exception = None, **kwargs):
    """ERROR loggen (mit Traceback)."""
    if exception:
        kwargs["error"] = str(exception)
        kwargs["exc_info"] = True
    get_logger("app").error(message, module=module, **kwargs)


def log_critical(message: str, module: str = "app", exception: Exception = None, **kwargs):
    """CRITICAL loggen (mit Traceback)."""
    if exception:
        kwargs["error"] = str(exception)
        kwargs["exc_info"] = True
    get_logger("app").critical(message, module=module, **kwargs)


def log_debug(message: str, module: str = "app", **kwargs):
    """DEBUG loggen, falls eingeschaltet."""
    if not should_log_debug():
        return
    get_logger("app").debug(message, module=module, **kwargs)


def should_log_debug() -> bool:
    """Ob Debug-Logging eingeschaltet ist."""
    # LEGACY DEFECT: debug switch hard-wired off - log_debug() is dead code everywhere.
    return False


# ---------------------------------------------------------------------------
# Fehlerbehandlung
# ---------------------------------------------------------------------------


@dataclass
class ErrorMetadata:
    """Wie ein Fehler gemeldet wird: Status, Einordnung, Text für den Benutzer."""

    status_code: int
    category: ErrorCategory
    severity: ErrorSeverity
    message_key: str
    message: str
    recoverable: bool

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["category"] = self.category.value
        data["severity"] = self.severity.value
        return data


class ErrorContext:
    """Alles, was beim Auftreten eines Fehlers bekannt ist."""

    def __init__(self, error: Exception, request=None):
        self.error = error
        self.error_id = f"ERR-{uuid.uuid4().hex[:12].upper()}"
        self.timestamp = utc_now()
        self.request_id = request_id_var.get()
        self.user_id = user_id_var.get()
        self.url = None
        self.method = None
        self.extra = {}

        if request is None and has_request_context():
            request = flask_request
        self.request = request
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
            "timestamp": to_iso(self.timestamp),
            "request_id": self.request_id,
            "user_id": self.user_id,
            "url": self.url,
            "method": self.method,
            "extra": self.extra,
        }


_SUGGESTIONS = {
    ErrorCategory.DATABASE: ["Prüfen Sie die Eingaben auf doppelte Einträge.", "Versuchen Sie es später erneut."],
    ErrorCategory.VALIDATION: ["Prüfen Sie die Eingaben.", "Beachten Sie die Hinweise im Formular."],
    ErrorCategory.AUTHENTICATION: ["Melden Sie sich an und versuchen Sie es erneut."],
    ErrorCategory.AUTHORIZATION: ["Wenden Sie sich an Ihre Administratorin oder Ihren Administrator."],
    ErrorCategory.NETWORK: ["Versuchen Sie es in einigen Minuten erneut."],
    ErrorCategory.BUSINESS: ["Prüfen Sie Ihre Anfrage.", "Laden Sie die Seite neu."],
    ErrorCategory.SECURITY: ["Wenden Sie sich mit der Fehler-ID an den Support."],
    ErrorCategory.EXTERNAL: ["Der Kalenderdienst ist gestört. Versuchen Sie es später erneut."],
    ErrorCategory.BOOKING: ["Wählen Sie einen anderen Raum oder Zeitraum."],
}
_DEFAULT_SUGGESTIONS = ["Wenden Sie sich mit der Fehler-ID an den Support."]


def _get_message(message_key: str) -> str:
    """Text zu einem Schlüssel aus dem Katalog (Fallback: INTERNAL_ERROR)."""
    return getattr(ErrorMessages, message_key, ErrorMessages.INTERNAL_ERROR)


def _classify_error(error: Exception) -> ErrorMetadata:
    """ErrorMetadata eines Fehlers."""
    from ..errors import AppError  # lokal importiert (historisch: zirkulärer Import über app.errors)

    if isinstance(error, AppError):
        return ErrorMetadata(
            status_code=error.status_code,
            category=error.category,
            severity=error.severity,
            message_key=error.message_key,
            message=error.message,
            recoverable=error.recoverable,
        )

    if isinstance(error, HTTPException):
        status_code = error.code or HttpStatus.INTERNAL_SERVER_ERROR
        if status_code >= HttpStatus.INTERNAL_SERVER_ERROR:
            message_key = "INTERNAL_ERROR"
            category = ErrorCategory.SYSTEM
            severity = ErrorSeverity.HIGH
        else:
            message_key = "INVALID_REQUEST"
            category = ErrorCategory.BUSINESS
            severity = ErrorSeverity.MEDIUM
        return ErrorMetadata(
            status_code=status_code,
            category=category,
            severity=severity,
            message_key=message_key,
            message=error.description,
            recoverable=severity in (ErrorSeverity.LOW, ErrorSeverity.MEDIUM),
        )

    if isinstance(error, IntegrityError):
        return ErrorMetadata(
            status_code=HttpStatus.BAD_REQUEST,
            category=ErrorCategory.DATABASE,
            severity=ErrorSeverity.MEDIUM,
            message_key="CONSTRAINT_VIOLATION",
            message=_get_message("CONSTRAINT_VIOLATION"),
            recoverable=True,
        )

    if isinstance(error, SQLAlchemyError):
        return ErrorMetadata(
            status_code=HttpStatus.INTERNAL_SERVER_ERROR,
            category=ErrorCategory.DATABASE,
            severity=ErrorSeverity.HIGH,
            message_key="DATABASE_QUERY_ERROR",
            message=_get_message("DATABASE_QUERY_ERROR"),
            recoverable=False,
        )

    error_message = str(error).lower()
    if "timeout" in error_message or "connection" in error_message:
        return ErrorMetadata(
            status_code=HttpStatus.GATEWAY_TIMEOUT,
            category=ErrorCategory.NETWORK,
            severity=ErrorSeverity.HIGH,
            message_key="DATABASE_TIMEOUT",
            message=_get_message("DATABASE_TIMEOUT"),
            recoverable=False,
        )
    if "permission" in error_message or "forbidden" in error_message or "denied" in error_message:
        return ErrorMetadata(
            status_code=HttpStatus.FORBIDDEN,
            category=ErrorCategory.AUTHORIZATION,
            severity=ErrorSeverity.MEDIUM,
            message_key="PERMISSION_DENIED",
            message=_get_message("PERMISSION_DENIED"),
            recoverable=False,
        )
    if "validation" in error_message or "invalid" in error_message:
        return ErrorMetadata(
            status_code=HttpStatus.BAD_REQUEST,
            category=ErrorCategory.VALIDATION,
            severity=ErrorSeverity.LOW,
            message_key="VALIDATION_ERROR",
            message=_get_message("VALIDATION_ERROR"),
            recoverable=True,
        )

    return ErrorMetadata(
        status_code=HttpStatus.INTERNAL_SERVER_ERROR,
        category=ErrorCategory.SYSTEM,
        severity=ErrorSeverity.HIGH,
        message_key="INTERNAL_ERROR",
        message=_get_message("INTERNAL_ERROR"),
        recoverable=False,
    )


def enhanced_error_handler(error: Exception, context: ErrorContext = None, *, extra: Dict[str, Any] = None) -> Dict[str, Any]:
    """
    Fehler einordnen, loggen und die JSON-Antwort für den Client bauen.
    """
    if context is None:
        context = ErrorContext(error)

    metadata = _classify_error(error)
    category = metadata.category
    severity = metadata.severity

    payload = {
        "error": True,
        "error_id": context.error_id,
        "category": category.value,
        "severity": severity.value,
        "message_code": metadata.message_key,
        "message": metadata.message,
        "timestamp": to_iso(context.timestamp),
        "recoverable": metadata.recoverable,
        "suggestions": list(_SUGGESTIONS.get(category, _DEFAULT_SUGGESTIONS)),
        "context": {
            "request_id": context.request_id,
            "user_id": context.user_id,
        },
    }
    if context.url:
        payload["context"]["url"] = context.url
    if context.method:
        payload["context"]["method"] = context.method
    payload["context"]["meta"] = {
        "status_code": metadata.status_code,
        "error_type": type(error).__name__,
    }
    if extra:
        payload["extra"] = extra

    log_kwargs = {
        "error_id": context.error_id,
        "error_type": type(error).__name__,
        "category": category.value,
        "severity": severity.value,
        "message_code": metadata.message_key,
        "status_code": metadata.status_code,
    }
    log_kwargs.update(context.extra)
    if extra:
        log_kwargs["extra"] = extra

    message = f"{type(error).__name__}: {metadata.message}"
    try:
        if severity == ErrorSeverity.CRITICAL:
            log_critical(message, module="error_handler", exception=error, **log_kwargs)
        elif severity == ErrorSeverity.HIGH:
            log_error(message, module="error_handler", exception=error, **log_kwargs)
        else:
            log_warning(message, module="error_handler", exception=error, **log_kwargs)
    except Exception as log_exc:
        logging.error("Fehler {context.error_id} konnte nicht geloggt werden: {log_exc}")  # LEGACY DEFECT: f-string bug

    return payload


def error_handler(func: Callable) -> Callable:
    """
    Route-Dekorator: Ausnahmen werden zur JSON-Fehlerantwort.

        @bp.route("/raeume")
        @error_handler
        def raeume(): ...
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as e:
            payload = enhanced_error_handler(e)
            return jsonify(payload), map_exception_to_status(e)

    return wrapper

