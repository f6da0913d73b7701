"""``audit_log(action)``: one structured event per call of a function, always stored in the database.

The event is logged by the "audit" logger with ``module="audit"`` and ``persist=True`` (so
``LOG_DB_LEVEL`` never filters it out); its message is the action name and it carries
``action``, ``status`` ("success" / "failed"), ``error_type`` (on failure), ``duration_ms``,
``function`` and ``arguments``. Arguments are captured before the call; their values are
redacted by name with the same words as every event (the built-in ones plus
``LOG_REDACT_KEYS``), made JSON-safe and cut to a bounded size. The exception of a failed
call is re-raised unchanged; logging the event never raises into the caller.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from newlog import state
from newlog.api import get_logger
from newlog.sanitize import REDACTED, Limits, Sanitizer, safe_key

F = TypeVar("F", bound=Callable[..., Any])

AUDIT_LOGGER = "audit"
MAX_ARGUMENT_CHARS = 1000
MAX_ARGUMENTS_CHARS = 8000
ARGUMENT_LIMITS = Limits(max_string=MAX_ARGUMENT_CHARS, max_depth=4, max_items=50, bytes_as_length=True)
SUCCESS = "success"
FAILED = "failed"

_stdlib_log = logging.getLogger("newlog")


def audit_log(action: str, *, arguments: bool = True, logger: str = AUDIT_LOGGER) -> Callable[[F], F]:
    """Return a decorator that logs one stored audit event per call of a sync or async function.

    Works on functions, methods (``self`` / ``cls`` are left out of ``arguments``),
    ``classmethod`` and ``staticmethod``. ``arguments=False`` records no arguments.
    """
    if not isinstance(action, str) or not action.strip():
        raise TypeError(
            f"audit_log() needs an action name as its first argument, got {action!r}: "
            'write @audit_log("user.delete"), not @audit_log'
        )

    def decorate(func: F) -> F:
        if isinstance(func, (classmethod, staticmethod)):
            return type(func)(decorate(func.__func__))  # type: ignore[return-value]
        if not callable(func):
            raise TypeError(f"@audit_log({action!r}) must decorate a function, got {func!r}")
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"@audit_log({action!r}) cannot time the generator function {func.__qualname__}: "
                "decorate the function that consumes it"
            )
        return _wrap(func, action.strip(), arguments, logger)  # type: ignore[return-value]

    return decorate


def _wrap(func: Callable[..., Any], action: str, capture: bool, logger_name: str) -> Callable[..., Any]:
    capture_arguments = _ArgumentCapture(func) if capture else None
    function = f"{getattr(func, '__module__', None) or '?'}.{getattr(func, '__qualname__', repr(func))}"

    def fields(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"module": "audit", "action": action, "function": function, "persist": True}
        if capture_arguments is not None:
            out["arguments"] = capture_arguments(args, kwargs)
        return out

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            event = fields(args, kwargs)
            started = time.perf_counter()
            try:
                result = await func(*args, **kwargs)
            except Exception as exc:
                await _aemit(logger_name, _finish(event, started, exc))
                raise
            except BaseException as exc:  # cancelled: log without awaiting again
                _emit(logger_name, _finish(event, started, exc))
                raise
            await _aemit(logger_name, _finish(event, started, None))
            return result

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        event = fields(args, kwargs)
        started = time.perf_counter()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            _emit(logger_name, _finish(event, started, exc))
            raise
        _emit(logger_name, _finish(event, started, None))
        return result

    return wrapper


def _finish(event: dict[str, Any], started: float, exc: BaseException | None) -> dict[str, Any]:
    event["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
    if exc is None:
        event["status"] = SUCCESS
    else:
        event["status"] = FAILED
        event["error_type"] = type(exc).__name__
    return event


def _emit(logger_name: str, event: dict[str, Any]) -> None:
    try:
        logger = get_logger(logger_name)
        method = logger.info if event["status"] == SUCCESS else logger.warning
        method(event["action"], **event)
    except Exception:  # noqa: BLE001 - auditing must never break the audited call
        _stdlib_log.exception("newlog: could not log the audit event %r", event.get("action"))


async def _aemit(logger_name: str, event: dict[str, Any]) -> None:
    try:
        logger = get_logger(logger_name)
        method = logger.ainfo if event["status"] == SUCCESS else logger.awarning
        await method(event["action"], **event)
    except Exception:  # noqa: BLE001 - auditing must never break the audited call
        _stdlib_log.exception("newlog: could not log the audit event %r", event.get("action"))


class _ArgumentCapture:
    """Callable ``(args, kwargs) -> dict``: the call's arguments by parameter name, sanitized."""

    def __init__(self, func: Callable[..., Any]) -> None:
        try:
            self.signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            self.signature = None
        parameters = list(self.signature.parameters.values()) if self.signature is not None else []
        self.skip_first = bool(parameters) and parameters[0].name in ("self", "cls") and parameters[0].kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            return _sanitize(self._by_name(args, kwargs))
        except Exception as exc:  # noqa: BLE001 - e.g. a mapping whose iteration raises
            return {"<error>": f"<arguments not captured: {type(exc).__name__}>"}

    def _by_name(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.signature is None:
            return {"args": list(args), **kwargs}
        try:
            bound = self.signature.bind_partial(*args, **kwargs)
        except TypeError:  # the call itself will raise; record what was passed
            return {"args": list(args), **kwargs}
        named: dict[str, Any] = {}
        for index, (name, value) in enumerate(bound.arguments.items()):
            if index == 0 and self.skip_first:
                continue
            if self.signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                named.update(value)
            else:
                named[name] = value
        return named


def _sanitize(named: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``named`` redacted by key and JSON-safe, each value within a budget of characters.

    Each argument may use ``MAX_ARGUMENT_CHARS`` and all of them ``MAX_ARGUMENTS_CHARS``:
    long strings are cut with a marker, long containers end with a "[n more items]" entry,
    bytes are shown by their length only. A redacted value is never converted or read.
    """
    sanitizer = Sanitizer(state.current().sanitizer.words, ARGUMENT_LIMITS)
    out: dict[str, Any] = {}
    left = MAX_ARGUMENTS_CHARS
    for name, value in named.items():
        key = safe_key(name)
        if sanitizer.is_sensitive(key):
            out[key] = REDACTED
        elif left <= 0:
            out[key] = f"<omitted: arguments over {MAX_ARGUMENTS_CHARS} chars>"
        else:
            out[key], used = sanitizer.clean_within(value, min(MAX_ARGUMENT_CHARS, left))
            left -= used + len(key) + 4
    return out
