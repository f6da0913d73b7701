"""The characterization program: the legacy API, called through the old import path, one action at a time.

Each :class:`Action` drives one part of the legacy contract (every level, with and without an
exception, inside and outside an ``except`` block, named loggers, bound context,
``enhanced_error_handler`` for each error class, the decorators, the debug switch) and returns
what the caller can observe (``result``) plus what the allowed deltas need (``meta``). The
runner calls it in a *place*: inside a request, a test request context, only an app context,
or outside both. ``api`` is the module imported from the old path, whatever serves it,
seen through :class:`Variant`: the keyword arguments the recorded module did not accept are
left out (and listed in the document), the same way before and after the switch.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import Forbidden, InternalServerError, NotFound, ServiceUnavailable, Unauthorized

MODULE = "characterize"
PLACES = ("request", "test_request_context", "app_context", "outside")
IN_APP = ("request", "test_request_context", "app_context")


@dataclass(frozen=True)
class Action:
    """One named use of the legacy API; ``needs`` are the legacy names it calls (older-only names skip it)."""

    name: str
    run: Callable[[Any], dict[str, Any]]
    needs: tuple[str, ...] = ()
    places: tuple[str, ...] = PLACES


OPTIONAL_KEYWORDS: dict[str, tuple[str, ...]] = {
    "enhanced_error_handler": ("extra",),
    "log_warning": ("exception",),
    "log_error": ("exception",),
    "log_critical": ("exception",),
    "bind_request_context": ("user_id",),
    "set_debug_logging_enabled": ("enabled",),
}
"""Keyword arguments the program passes that some legacy copies do not accept."""


@dataclass(frozen=True)
class Variant:
    """Which optional keywords each legacy function accepts, as found in the module recorded first.

    ``keywords[function][keyword]`` is True (passed as a keyword) or False (left out; an
    ``enabled`` flag is passed positionally instead). Functions absent from the map are
    called as written. The before-record stores it; the after-run reuses it.
    """

    keywords: dict[str, dict[str, bool]] = field(default_factory=dict)

    @classmethod
    def of(cls, api: Any) -> Variant:
        """Return the variant of the module ``api`` (inspecting its functions' signatures)."""
        found: dict[str, dict[str, bool]] = {}
        for function, keywords in OPTIONAL_KEYWORDS.items():
            target = getattr(api, function, None)
            if callable(target):
                found[function] = {keyword: _accepts(target, keyword) for keyword in keywords}
        return cls(found)

    def adapted(self, function: str, target: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``target`` calling it with only the keywords this variant accepts."""
        accepted = self.keywords.get(function)
        if not accepted or all(accepted.values()):
            return target

        @functools.wraps(target)
        def call(*args: Any, **kwargs: Any) -> Any:
            for keyword, ok in accepted.items():
                if not ok and keyword in kwargs:
                    value = kwargs.pop(keyword)
                    if keyword == "enabled":
                        args = (*args, value)
            return target(*args, **kwargs)

        return call


def _accepts(function: Callable[..., Any], keyword: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # not introspectable (a builtin, a C extension): call it as written
        return True
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == keyword and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY))
        for p in parameters
    )


class AdaptedApi:
    """The legacy module as the program calls it: attributes pass through, functions of the variant map adapt."""

    def __init__(self, api: Any, variant: Variant) -> None:
        self._api = api
        self._variant = variant

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._api, name)
        return self._variant.adapted(name, value) if callable(value) and name in self._variant.keywords else value


def _log_levels(api: Any) -> dict[str, Any]:
    api.log_info("Characterize info", module=MODULE, order_id=42, tags=["a", "b"])
    api.log_warning("Characterize warning", module=MODULE, attempt=1)
    api.log_error("Characterize error", module=MODULE, code="E1")
    api.log_critical("Characterize critical", module=MODULE)
    api.log_info("Characterize default module")
    return {"result": None}


def _debug_off(api: Any) -> dict[str, Any]:
    enabled = api.should_log_debug()
    api.log_debug("Characterize debug while off", module=MODULE)
    api.get_logger(MODULE).debug("Characterize logger debug while off")
    return {"result": {"should_log_debug": enabled}, "meta": {"debug": enabled}}


def _debug_on(api: Any) -> dict[str, Any]:
    api.set_debug_logging_enabled(enabled=True)
    try:
        observed = {"should_log_debug": api.should_log_debug(), "is_enabled": api.is_debug_logging_enabled()}
        if api.should_log_debug():
            api.log_debug("Characterize debug while on", module=MODULE, detail="x")
        api.get_logger(MODULE).debug("Characterize logger debug while on")
        api.log_info("Characterize info while debug on", module=MODULE)
    finally:
        api.set_debug_logging_enabled(enabled=False)
    observed["after_off"] = api.is_debug_logging_enabled()
    return {"result": observed, "meta": {"debug": True}}


def _raised(error: BaseException) -> BaseException:
    """Return ``error`` after raising and catching it, so it carries a traceback."""
    try:
        raise error
    except BaseException as caught:  # noqa: BLE001
        return caught


def _exceptions_in_except_block(api: Any) -> dict[str, Any]:
    try:
        raise ValueError("Characterize value error")
    except ValueError as error:
        api.log_warning("Characterize warning with exception", module=MODULE, exception=error)
        api.log_error("Characterize error with exception", module=MODULE, exception=error)
        api.log_critical("Characterize critical with exception", module=MODULE, exception=error)
        api.log_error("Characterize error without exception argument", module=MODULE)
    return {"result": None}


def _exceptions_outside_except_block(api: Any) -> dict[str, Any]:
    error = _raised(KeyError("characterize-missing"))
    api.log_warning("Characterize warning with stored exception", module=MODULE, exception=error)
    api.log_error("Characterize error with stored exception", module=MODULE, exception=error)
    api.log_critical("Characterize critical with stored exception", module=MODULE, exception=error)
    return {"result": None}


def _named_loggers(api: Any) -> dict[str, Any]:
    api.get_logger(MODULE).info("Characterize named logger", items=3)
    api.get_system_logger().warning("Characterize system logger")
    api.get_api_logger().info("Characterize api logger", module="api")
    api.get_auth_logger().info("Characterize auth logger")
    api.get_db_logger().error("Characterize db logger", table="orders")
    api.get_sync_logger().info("Characterize sync logger")
    api.get_task_logger().critical("Characterize task logger")
    return {"result": None}


def _logger_positional_args(api: Any) -> dict[str, Any]:
    api.get_logger(MODULE).info("Characterize processed %s items", 3)
    return {"result": None}


def _logger_exc_info(api: Any) -> dict[str, Any]:
    logger = api.get_logger(MODULE)
    try:
        raise LookupError("characterize lookup failed")
    except LookupError:
        logger.error("Characterize logger exc_info", exc_info=True)
        logger.exception("Characterize logger exception")
    return {"result": None}


def _bound_context(api: Any) -> dict[str, Any]:
    api.bind_context(order_ref="A-1", channel="web")
    try:
        api.log_info("Characterize with bound context", module=MODULE)
        seen = api.get_context()
    finally:
        del api._global_context["order_ref"]
        del api._global_context["channel"]
    api.log_info("Characterize after unbinding", module=MODULE)
    return {
        "result": {"context": seen},
        "meta": {"bound": {"order_ref": "A-1", "channel": "web"}, "context_results": ["context"]},
    }


def _log_context(api: Any) -> dict[str, Any]:
    with api.LogContext(operation="characterize", step=1):
        api.log_info("Characterize inside LogContext", module=MODULE)
        inside = api.get_context()
    api.log_info("Characterize after LogContext", module=MODULE)
    return {
        "result": {"inside": inside, "after": api.get_context()},
        "meta": {"bound": {"operation": "characterize", "step": 1}, "context_results": ["inside", "after"]},
    }


def _context_override(api: Any) -> dict[str, Any]:
    with api.LogContext(origin="from-context"):
        api.log_info("Characterize call keyword vs bound context", module=MODULE, origin="from-call")
    return {"result": None, "meta": {"bound": {"origin": "from-context"}, "passed": {"origin": "from-call"}}}


def _with_log_context(api: Any) -> dict[str, Any]:
    @api.with_log_context(job="characterize-job")
    def characterize_job(value: int) -> int:
        api.log_info("Characterize decorated job", module=MODULE, value=value)
        return value * 2

    returned = characterize_job(21)
    return {
        "result": {"returned": returned, "function_name": characterize_job.__name__},
        "meta": {"bound": {"job": "characterize-job"}},
    }


def _global_context_write(api: Any) -> dict[str, Any]:
    api._global_context["characterize_flag"] = "on"
    try:
        api.log_info("Characterize with global context write", module=MODULE)
        seen = "characterize_flag" in api._global_context
    finally:
        del api._global_context["characterize_flag"]
    return {"result": {"visible_after_write": seen}, "meta": {"bound": {"characterize_flag": "on"}}}


def _clear_context(api: Any) -> dict[str, Any]:
    saved = api.get_context()
    api.bind_context(temporary="yes")
    api.clear_context()
    try:
        api.log_info("Characterize after clear_context", module=MODULE)
        cleared = api.get_context()
    finally:
        api.bind_context(**saved)
    return {"result": {"context": cleared}, "meta": {"bound": {"temporary": "yes"}, "context_results": ["context"]}}


def _request_context_helpers(api: Any) -> dict[str, Any]:
    previous = (api.request_id_var.get(), api.user_id_var.get())
    api.bind_request_context("characterize-request", user_id=7)
    try:
        api.log_info("Characterize with request context bound", module=MODULE)
        bound = {"request_id": api.request_id_var.get(), "user_id": api.user_id_var.get()}
        api.clear_request_context()
        api.log_info("Characterize after clear_request_context", module=MODULE)
        cleared = {"request_id": api.request_id_var.get(), "user_id": api.user_id_var.get()}
    finally:
        if previous == (None, None):
            api.clear_request_context()
        else:
            api.bind_request_context(previous[0], user_id=previous[1])
    return {"result": {"bound": bound, "cleared": cleared}, "meta": {"request_context": {"user_id": 7}}}


# Errors, one per classification class of the legacy enhanced_error_handler.
ERROR_CLASSES: dict[str, Callable[[], BaseException]] = {
    "http_401": lambda: Unauthorized(),
    "http_403": lambda: Forbidden(),
    "http_404": lambda: NotFound(),
    "http_500": lambda: InternalServerError(),
    "http_503": lambda: ServiceUnavailable(),
    "integrity": lambda: IntegrityError("INSERT INTO things (name) VALUES (?)", ("x",), Exception("UNIQUE constraint failed: things.name")),
    "sqlalchemy": lambda: OperationalError("SELECT 1", (), Exception("disk I/O error")),
    "timeout_words": lambda: RuntimeError("upstream timeout after 30s"),
    "connection_words": lambda: RuntimeError("connection reset by peer"),
    "builtin_connection_error": lambda: ConnectionRefusedError("refused by upstream"),
    "permission_words": lambda: RuntimeError("permission denied for export"),
    "forbidden_words": lambda: RuntimeError("forbidden: read-only account"),
    "invalid_words": lambda: ValueError("invalid invoice number"),
    "validation_words": lambda: RuntimeError("validation failed for field email"),
    "unclassified": lambda: ZeroDivisionError("division by zero"),
}


def _error_payload(kind: str) -> Callable[[Any], dict[str, Any]]:
    def run(api: Any) -> dict[str, Any]:
        error = ERROR_CLASSES[kind]()
        return {"result": {"error_type": type(error).__name__, "payload": api.enhanced_error_handler(error)}}

    return run


def _error_in_except_block(api: Any) -> dict[str, Any]:
    try:
        raise RuntimeError("characterize job crashed")
    except RuntimeError as error:
        payload = api.enhanced_error_handler(error, extra={"job": "characterize"})
    return {"result": {"error_type": "RuntimeError", "payload": payload}}


def _error_with_context(api: Any) -> dict[str, Any]:
    error = _raised(ValueError("invalid characterize input"))
    context = api.ErrorContext(error)
    observed = {
        name: getattr(context, name, "<missing>")
        for name in ("error_id", "timestamp", "request_id", "user_id", "url", "method", "extra")
    }
    observed["timestamp"] = observed["timestamp"].isoformat() if hasattr(observed["timestamp"], "isoformat") else None
    payload = api.enhanced_error_handler(error, context)
    return {
        "result": {
            "error_type": type(error).__name__,
            "error_context": observed,
            "payload": payload,
            "same_id": payload["error_id"] == context.error_id,
        }
    }


def _handled(api: Any, error: Callable[[], BaseException] | None) -> dict[str, Any]:
    calls = {"count": 0}

    @api.error_handler
    def characterize_view() -> Any:
        calls["count"] += 1
        api.log_info("Characterize handled call", module=MODULE, attempt=calls["count"])
        if error is not None:
            raise error()
        return {"ok": True}

    returned = characterize_view()
    if isinstance(returned, tuple):
        response, status = returned
        body = response.get_json() if hasattr(response, "get_json") else response
        result = {"status": status, "body": body}
    else:
        result = {"returned": returned}
    result["calls"] = calls["count"]
    result["function_name"] = characterize_view.__name__
    return {"result": result, "meta": {"calls": calls["count"]}}


def _error_monitor(api: Any) -> dict[str, Any]:
    @api.error_monitor
    def characterize_task() -> None:
        api.log_info("Characterize monitored task started", module=MODULE)
        raise RuntimeError("upstream connection reset")

    try:
        characterize_task()
    except RuntimeError as error:
        reraised = f"{type(error).__name__}: {error}"
    else:
        reraised = None
    return {"result": {"reraised": reraised, "function_name": characterize_task.__name__}}


def _read_own_write(api: Any) -> dict[str, Any]:
    from flask import current_app
    from sqlalchemy import func, select, table

    db = current_app.extensions["sqlalchemy"]
    log_table = table(current_app.config.get("LOG_TABLE", "unified_logs"))
    with db.engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(log_table)).scalar_one()
        api.log_info("Characterize read own write", module=MODULE)
        after = connection.execute(select(func.count()).select_from(log_table)).scalar_one()
    return {"result": {"rows_visible_right_after_logging": after - before}}


def _constants(holder: Any) -> dict[str, Any]:
    """Return the members of an Enum class, or the upper-case constants of a plain class."""
    if isinstance(holder, enum.EnumMeta):
        return {member.name: member for member in holder}
    return {name: getattr(holder, name) for name in dir(holder) if name.isupper() and not name.startswith("_")}


def _error_enums(api: Any) -> dict[str, Any]:
    category, severity = api.ErrorCategory, api.ErrorSeverity
    categories, severities = _constants(category), _constants(severity)
    api.log_info(
        "Characterize enum in an event",
        module=MODULE,
        category=categories.get("DATABASE", next(iter(categories.values()), None)),
        severity=severities.get("HIGH", next(iter(severities.values()), None)),
    )
    return {
        "result": {
            "categories": categories,
            "severities": severities,
            "enum_classes": {"ErrorCategory": isinstance(category, enum.EnumMeta), "ErrorSeverity": isinstance(severity, enum.EnumMeta)},
        }
    }


ACTIONS: tuple[Action, ...] = (
    Action("log_levels", _log_levels),
    Action("debug_off", _debug_off),
    Action("debug_on", _debug_on, needs=("set_debug_logging_enabled", "is_debug_logging_enabled")),
    Action("exceptions_in_except_block", _exceptions_in_except_block),
    Action("exceptions_outside_except_block", _exceptions_outside_except_block),
    Action("named_loggers", _named_loggers),
    Action("logger_positional_args", _logger_positional_args),
    Action("logger_exc_info", _logger_exc_info),
    Action("bound_context", _bound_context, needs=("bind_context", "get_context")),
    Action("log_context", _log_context, needs=("LogContext", "get_context")),
    Action("context_override", _context_override, needs=("LogContext",)),
    Action("with_log_context", _with_log_context, needs=("with_log_context",)),
    Action("global_context_write", _global_context_write),
    Action("clear_context", _clear_context, needs=("bind_context", "clear_context", "get_context")),
    Action("request_context_helpers", _request_context_helpers, needs=("bind_request_context", "clear_request_context")),
    *(Action(f"enhanced_error_handler/{kind}", _error_payload(kind)) for kind in ERROR_CLASSES),
    Action("enhanced_error_handler/in_except_block", _error_in_except_block),
    Action("enhanced_error_handler/error_context", _error_with_context),
    Action("error_handler/low_severity", lambda api: _handled(api, lambda: ValueError("invalid coupon code")), places=IN_APP),
    Action("error_handler/high_severity", lambda api: _handled(api, lambda: RuntimeError("disk on fire")), places=IN_APP),
    Action("error_handler/success", lambda api: _handled(api, None), places=IN_APP),
    Action("error_monitor", _error_monitor, needs=("error_monitor",)),
    Action("error_enums", _error_enums),
    Action("read_own_write", _read_own_write, places=IN_APP),
)


def available_actions(api: Any) -> list[str]:
    """Return the names of the actions ``api`` (the legacy module) has every needed name for."""
    return [action.name for action in ACTIONS if all(hasattr(api, name) for name in action.needs)]


def select_actions(api: Any, skip: list[str]) -> tuple[list[str], list[str]]:
    """Return (actions to run, skipped actions): those ``api`` supports minus those matching a ``skip`` pattern.

    A pattern is an action name or a glob (``enhanced_error_handler/*``); one that matches no
    action of the program raises ValueError naming it (a typo must not pass silently).
    """
    names = [action.name for action in ACTIONS]
    for pattern in skip:
        if not fnmatch.filter(names, pattern):
            raise ValueError(f"--skip {pattern!r} matches no action; the actions are: {', '.join(names)}")
    skipped = [name for name in available_actions(api) if any(fnmatch.fnmatchcase(name, pattern) for pattern in skip)]
    return [name for name in available_actions(api) if name not in skipped], skipped


def action(name: str) -> Action:
    """Return the action called ``name`` (KeyError if there is none)."""
    for candidate in ACTIONS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
