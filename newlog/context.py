"""Log context: per-request/per-task values on ``structlog.contextvars``, plus static context.

There is no second context store: request-scoped values are structlog ContextVars
(one per key), so a value bound in one thread or asyncio task never reaches another.
Static context (app name, version, environment) is data set at start-up and added to
every event in every thread (per app, see :mod:`newlog.state`); its functions are
re-exported here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from structlog.contextvars import (
    bind_contextvars,
    bound_contextvars,
    clear_contextvars,
    get_contextvars,
    unbind_contextvars,
)

from newlog.state import get_static_context, reset_static_context, set_static_context

__all__ = [
    "bind_context",
    "bind_request_context",
    "clear_context",
    "clear_request_context",
    "get_context",
    "get_static_context",
    "log_context",
    "request_id_var",
    "reset_static_context",
    "set_static_context",
    "unbind_context",
    "user_id_var",
]

F = TypeVar("F", bound=Callable[..., Any])

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)


def bind_context(**kwargs: Any) -> None:
    """Bind ``kwargs`` to the current thread's / task's log context."""
    bind_contextvars(**kwargs)


def unbind_context(*keys: str) -> None:
    """Remove ``keys`` from the current log context (missing keys are ignored)."""
    unbind_contextvars(*keys)


def clear_context() -> None:
    """Remove every key bound in the current log context (static context stays)."""
    clear_contextvars()


def get_context() -> dict[str, Any]:
    """Return a copy of the current log context (without the static context)."""
    return get_contextvars()


def bind_request_context(request_id: str | None, user_id: int | None = None) -> None:
    """Set ``request_id_var`` / ``user_id_var`` and bind both keys to the log context."""
    request_id_var.set(request_id)
    user_id_var.set(user_id)
    bind_contextvars(request_id=request_id, user_id=user_id)


def clear_request_context() -> None:
    """Reset ``request_id_var`` / ``user_id_var`` and unbind their keys."""
    request_id_var.set(None)
    user_id_var.set(None)
    unbind_contextvars("request_id", "user_id")


class log_context:  # noqa: N801 - reads as a function at call sites, like contextlib helpers
    """Bind ``kwargs`` for the duration of a ``with`` block or of each call of a decorated function.

    Previous values of the same keys are restored afterwards; other keys are untouched.
    Works on plain and ``async def`` functions and keeps their name (``functools.wraps``).
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._stack: list[Any] = []

    def __enter__(self) -> log_context:
        manager = bound_contextvars(**self._kwargs)
        manager.__enter__()
        self._stack.append(manager)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.pop().__exit__(*exc_info)

    def __call__(self, func: F) -> F:
        kwargs = self._kwargs
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kw: Any) -> Any:
                with bound_contextvars(**kwargs):
                    return await func(*args, **kw)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            with bound_contextvars(**kwargs):
                return func(*args, **kw)

        return wrapper  # type: ignore[return-value]
