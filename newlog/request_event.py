"""The request event (``LOG_REQUEST_EVENT``): one ``http_request_completed`` event per request.

Every request the app serves gets one, also a request a ``before_request`` guard answered (a
CSRF 400, a 401/403, a redirect to the login page), one no route matched, and one whose view
raised; a request context pushed by hand (``test_request_context()``) serves no request: none.
Its fields answer "error rate and p95 per endpoint":

- ``method``, ``route`` (the URL rule, ``/orders/<int:order_id>``; absent when no rule
  matched: never the raw path), ``endpoint``;
- ``status`` (the status of the response sent; 500 for an exception no handler answered),
  ``outcome`` (:func:`outcome_of`), ``error_type`` (the class of such an exception);
- ``duration_ms`` from the start of the request (Flask's ``request_started``) to its
  teardown, on the app's clock (``app.extensions["newlog"].clock``); a streamed body is
  still being sent then;
- ``response_size`` in bytes (absent for a streamed body), ``request_id`` and ``user_id``.

It is an INFO event (ERROR for a 5xx status) of the ``http`` module, stored according to
``LOG_DB_LEVEL`` and ``persist`` like any other event.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request, request_finished, request_started

from newlog import state
from newlog.api import get_logger
from newlog.context import request_id_var, user_id_var

REQUEST_EVENT = "http_request_completed"
MODULE = "http"
_ENVIRON_STARTED = "newlog.request_started"
_ENVIRON_RESPONSE = "newlog.response"
_ENVIRON_LOGGED = "newlog.request_event_logged"


def watch_requests(app: Flask) -> None:
    """Note when each request of ``app`` starts and which response it sends (Flask's signals)."""
    request_started.connect(_started, app, weak=False)
    request_finished.connect(_finished, app, weak=False)


def _started(sender: Flask, **extra: Any) -> None:
    request.environ[_ENVIRON_STARTED] = state.current().clock.now()


def _finished(sender: Flask, response: Any = None, **extra: Any) -> None:
    if response is not None:
        request.environ[_ENVIRON_RESPONSE] = (response.status_code, response_size(response))


def log_request_completed(exc: BaseException | None) -> None:
    """Log the current request's ``http_request_completed`` event (from its teardown; once, however often that runs)."""
    environ = request.environ
    if environ.get(_ENVIRON_LOGGED):
        return  # stream_with_context runs the teardown a second time, after the body
    started = environ.get(_ENVIRON_STARTED)
    if started is None and _ENVIRON_RESPONSE not in environ:
        return  # a request context pushed by hand (test_request_context): no request was served
    environ[_ENVIRON_LOGGED] = True
    status, size = environ.get(_ENVIRON_RESPONSE, (500 if exc is not None else None, None))
    rule = request.url_rule
    fields: dict[str, Any] = {
        "method": request.method,
        "route": rule.rule if rule is not None else None,
        "endpoint": request.endpoint,
        "status": status,
        "outcome": outcome_of(status),
        "duration_ms": None if started is None else round((state.current().clock.now() - started) * 1000, 3),
        "response_size": size,
        "request_id": request_id_var.get(),
        "user_id": user_id_var.get(),
    }
    if exc is not None:
        fields["error_type"] = type(exc).__name__
    logger = get_logger(MODULE)
    level = logger.error if status is not None and status >= 500 else logger.info
    level(REQUEST_EVENT, module=MODULE, **fields)


def outcome_of(status: int | None) -> str:
    """Return ``success`` (1xx/2xx), ``redirect`` (3xx), ``client_error`` (4xx), ``server_error`` (5xx, no response)."""
    if status is None or status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    if status >= 300:
        return "redirect"
    return "success"


def response_size(response: Any) -> int | None:
    """Return the body size in bytes: the Content-Length, else the length of a body held in memory, else None."""
    length = response.content_length
    if length is None and response.is_sequence:
        length = response.calculate_content_length()
    return length
