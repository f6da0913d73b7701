"""structlog wiring: the processor chain and ``structlog.configure``.

The configuration is set once per process. Its processors read the settings of the
current app when they run (see :mod:`newlog.state`), so loggers cached on first use keep
working after ``init_app`` and two apps keep their own settings.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import structlog

from newlog import state
from newlog.callsite import add_callsite
from newlog.handlers import DatabaseLogHandler
from newlog.output import LineWriterFactory, Outputs, Renderer
from newlog.processors import (
    add_logger_name,
    add_request_context,
    add_static_context,
    add_timestamp,
    add_user_context,
    drop_debug_unless_enabled,
    sanitize,
)
from newlog.settings import Settings
from newlog.tracing import add_trace_context

if TYPE_CHECKING:
    from flask import Flask

    from newlog.queue_worker import LogQueueWorker


def current_outputs() -> Outputs:
    """Return the outputs of the current app (see :func:`newlog.state.current`)."""
    return state.current().outputs


class LogConfig:
    """The process's structlog set-up: the processor chain (``processors``) and ``configure()``.

    ``handler`` is the enqueuing processor; ``renderer`` the last one. ``configure(app)``
    also wires ``app`` (legacy ``StructlogConfig.configure(app)``).
    """

    def __init__(self) -> None:
        self.handler = DatabaseLogHandler()
        self.renderer = Renderer(current_outputs)
        self.logger_factory = LineWriterFactory(current_outputs)
        self.chain: list[Any] = build_chain(self.handler, self.renderer)
        self.configured = False
        self._lock = threading.RLock()

    @property
    def processors(self) -> list[Any]:
        """Return the processor chain (the live list structlog uses), in order."""
        return self.chain

    @property
    def settings(self) -> Settings:
        """Return the settings of the current app (the defaults before any ``init_app``)."""
        return state.current().settings

    def worker_for(self) -> LogQueueWorker | None:
        """Return the worker of the current app context, else of the most recently initialised app."""
        return state.current().worker

    def configure(self, app: Flask | None = None, **kwargs: Any) -> LogQueueWorker | None:
        """Configure structlog (idempotent); with ``app``, also ``init_app(app, **kwargs)`` and return its worker."""
        with self._lock:
            if not self.configured:
                structlog.configure(
                    processors=self.chain,
                    context_class=dict,
                    logger_factory=self.logger_factory,
                    wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
                    cache_logger_on_first_use=True,
                )
                self.configured = True
        if app is None:
            return None
        from newlog.extension import init_app  # the extension builds on this module

        return init_app(app, **kwargs)

    def init_app(self, app: Flask, db: Any = None, model: Any = None, *, sink: Any = None) -> LogQueueWorker:
        """Wire ``app`` (see :func:`newlog.init_app`)."""
        from newlog.extension import init_app

        return init_app(app, db, model, sink=sink)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every worker has written what was queued before the call (see :func:`newlog.flush`)."""
        from newlog.api import flush

        return flush(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Drain and stop every worker (see :func:`newlog.shutdown`)."""
        from newlog.api import shutdown

        return shutdown(timeout)


def build_chain(handler: Any, renderer: Any) -> list[Any]:
    """Return newlog's processor chain around ``handler`` (enqueues) and ``renderer`` (last)."""
    return [
        drop_debug_unless_enabled,
        add_trace_context,
        structlog.contextvars.merge_contextvars,
        add_logger_name,
        add_static_context,
        structlog.processors.add_log_level,
        add_timestamp,
        add_callsite,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        add_request_context,
        add_user_context,
        sanitize,
        handler,
        renderer,
    ]


log_config = LogConfig()
