"""Callsite fields (``LOG_CALLSITE``): ``function``, ``line``, ``thread`` and ``process`` of the logging call.

structlog's :class:`~structlog.processors.CallsiteParameterAdder` finds the frame; frames of
newlog and of compat's legacy-shaped helpers are skipped, so ``log_info(...)`` (newlog's or
the legacy one served by compat) points at the app code that called it. A callsite inside
Flask itself (newlog's request hooks logging an unhandled error or the request event, a
view wrapped by ``error_handler``) is no app code: such an event gets no callsite fields.
Keys the event already has (``log_info("...", process="import")``) are kept; ``function`` and
``line`` are added as a pair or not at all.
"""

from __future__ import annotations

import os
from typing import Any

import flask
from structlog.processors import CallsiteParameter, CallsiteParameterAdder

from newlog import state

FIELDS = {
    CallsiteParameter.FUNC_NAME: "function",
    CallsiteParameter.LINENO: "line",
    CallsiteParameter.THREAD: "thread",
    CallsiteParameter.PROCESS: "process",
}
"""structlog's callsite parameter -> the key newlog stores and prints."""

PLACE = frozenset({"function", "line"})
"""Added together or not at all: an event that names a function or line of its own (``audit_log``
names the audited function) keeps it and gets no second, unrelated half."""

IGNORED_MODULES = ["newlog.", "compat.structlog_config"]
"""Modules that log on the caller's behalf (name prefixes, as ``additional_ignores`` reads them)."""

_FLASK_DIR = os.path.dirname(flask.__file__) + os.sep
_adder = CallsiteParameterAdder([*FIELDS, CallsiteParameter.PATHNAME], additional_ignores=IGNORED_MODULES)


def add_callsite(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """With ``LOG_CALLSITE`` on for the current app, add the callsite fields of the logging call."""
    if not state.current().settings.LOG_CALLSITE:
        return event_dict
    found = _adder(logger, method_name, {})
    if str(found[CallsiteParameter.PATHNAME.value]).startswith(_FLASK_DIR):
        return event_dict
    place = PLACE if PLACE.isdisjoint(event_dict) else ()
    for parameter, key in FIELDS.items():
        if key in place or key not in PLACE:
            event_dict.setdefault(key, found[parameter.value])
    return event_dict
