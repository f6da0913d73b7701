"""Error deltas: the payloads enhanced_error_handler returns and the rows it logs."""

from __future__ import annotations

import functools
import re
from typing import Any

from compat.characterize.compare import StepPair
from compat.characterize.deltas import delta
from compat.characterize.deltas._pairs import at, context_pairs, ctx, error_rows, payload_pairs, remove_printed
from compat.characterize.normalize import normalize_traceback

BUILTIN_NETWORK_ERRORS = frozenset(
    cls.__name__ for cls in (TimeoutError, ConnectionError, *ConnectionError.__subclasses__())
)


LEGACY_MESSAGES = frozenset(
    {
        "The data conflicts with existing records",
        "A database error occurred",
        "The service is temporarily unavailable",
        "You do not have permission to perform this action",
        "An unexpected error occurred",
    }
)
"""The generic payload messages of the legacy classification (both variants)."""


LEGACY_SUGGESTIONS: dict[str, list[str]] = {
    "database": ["Check the submitted data for duplicates", "Retry the request later"],
    "validation": ["Check the request parameters", "See the API documentation"],
    "authentication": ["Log in and retry the request"],
    "authorization": ["Ask an administrator for access"],
    "network": ["Retry the request later", "Check the status of the upstream service"],
    "system": ["Contact support with the error id"],
    "unknown": ["Contact support with the error id"],
    "business": ["Check the account limits", "Contact support with the error id"],
    "security": ["Contact the security team with the error id"],
    "external": ["Retry the request later", "Check the status of the partner service"],
}
"""The legacy suggestions by category (older variant: the first seven, unknown ones get the system text)."""


LEGACY_DEFAULT_SUGGESTIONS = ["Contact support with the error id"]


_HTTP_CODE = re.compile(r"^http_(\d{3})$")


@functools.cache
def newlog_error_catalogue() -> tuple[frozenset[str], dict[str, list[str]]]:
    """Return newlog's own error texts and its suggestions by category value (its public catalogue)."""
    from newlog.error_adapter import error_catalogue

    catalogue = error_catalogue(None)
    return catalogue.texts, {category: list(texts) for category, texts in catalogue.suggestions.items()}


@delta(
    "error-row-message",
    "enhanced_error_handler logs '<Type>: <the error's own text>'; legacy logged '<Type>: <the generic "
    "message of its classification>' (printed events follow the row)",
)
def error_row_message(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in error_rows(pair):
        error_type = ctx(target_row).get("error_type")
        legacy_message, target_message = str(legacy_row.get("message")), str(target_row.get("message"))
        prefix = f"{error_type}: "
        if error_type is None or legacy_message == target_message:
            continue
        if not (legacy_message.startswith(prefix) and target_message.startswith(prefix)):
            continue
        text = target_message[len(prefix) :]
        error_text = ctx(target_row).get("error")
        if text != error_text and normalize_traceback(text) != target_row.get("traceback"):
            continue
        level = str(legacy_row.get("level")).lower()
        if remove_printed(pair.legacy, [level, legacy_message]):
            pair.legacy["printed"] = sorted(pair.legacy["printed"] + [[level, target_message]])
        legacy_row["message"] = target_message
        count += 1
    return count


@delta(
    "http-recoverable",
    "HTTP errors: 403 is not recoverable, 502/503/504 are; legacy said recoverable for every code below "
    "500",
    client_visible=True,
)
def http_recoverable(pair: StepPair) -> int:
    count = 0
    for legacy_payload, target_payload in payload_pairs(pair):
        match = _HTTP_CODE.match(str(target_payload.get("message_code")))
        if not match:
            continue
        code = int(match.group(1))
        newlog_rule = code in (502, 503, 504) if code >= 500 else code != 403
        if legacy_payload.get("recoverable") == (code < 500) and target_payload.get("recoverable") == newlog_rule != (code < 500):
            legacy_payload["recoverable"] = newlog_rule
            count += 1
    return count


@delta(
    "message-code-added",
    "error payloads and error rows carry message_code (the newer legacy variant's field)",
    client_visible=True,
)
def message_code_added(pair: StepPair) -> int:
    count = 0
    contexts = [(ctx(a), ctx(b)) for a, b in error_rows(pair)]
    for legacy_item, target_item in contexts + list(payload_pairs(pair)):
        if "message_code" in target_item and "message_code" not in legacy_item:
            del target_item["message_code"]
            count += 1
    return count


@delta(
    "payload-context-meta",
    "inside a request the payload's context has meta = {ip_address, user_agent} (the newer variant's "
    "context.meta)",
    client_visible=True,
)
def payload_context_meta(pair: StepPair) -> int:
    count = 0
    for legacy_payload, target_payload in payload_pairs(pair):
        legacy_context, target_context = legacy_payload.get("context") or {}, target_payload.get("context") or {}
        meta = target_context.get("meta")
        if "meta" not in legacy_context and isinstance(meta, dict) and set(meta) == {"ip_address", "user_agent"}:
            del target_context["meta"]
            count += 1
    return count


@delta(
    "error-id-hex",
    "error_id is uuid4().hex (32 hex digits); legacy used str(uuid4()) (dashed)",
    client_visible=True,
)
def error_id_hex(pair: StepPair) -> int:
    count = 0

    def walk(legacy_value: Any, target_value: Any) -> None:
        nonlocal count
        if isinstance(legacy_value, dict) and isinstance(target_value, dict):
            if legacy_value.get("error_id") == "<uuid>" and target_value.get("error_id") == "<hex32>":
                legacy_value["error_id"] = "<hex32>"
                count += 1
            for key in set(legacy_value) & set(target_value):
                walk(legacy_value[key], target_value[key])

    walk(pair.legacy.get("result"), pair.target.get("result"))
    for legacy_ctx, target_ctx in context_pairs(pair):
        walk(legacy_ctx, target_ctx)
    return count


@delta(
    "builtin-network-errors",
    "builtin TimeoutError / ConnectionError (and subclasses) are network errors (504, recoverable) "
    "whatever their text; legacy classified by the words 'timeout'/'connection' only (else unknown, 500)",
    client_visible=True,
)
def builtin_network_errors(pair: StepPair) -> int:
    count = 0
    rows = error_rows(pair)
    for legacy_row, target_row in rows:
        legacy_ctx, target_ctx = ctx(legacy_row), ctx(target_row)
        if target_ctx.get("error_type") in BUILTIN_NETWORK_ERRORS and legacy_ctx.get("category") in ("unknown", "system"):
            if (target_ctx.get("category"), target_ctx.get("status_code")) == ("network", 504) and legacy_ctx.get("status_code") == 500:
                legacy_ctx["category"], legacy_ctx["status_code"] = "network", 504
                count += 1
    result = pair.target.get("result")
    error_type = result.get("error_type") if isinstance(result, dict) else None
    if error_type is None and count and len(rows) == 1:
        error_type = ctx(rows[0][1]).get("error_type")
    if error_type in BUILTIN_NETWORK_ERRORS:
        for legacy_payload, target_payload in payload_pairs(pair):
            if legacy_payload.get("category") in ("unknown", "system") and target_payload.get("category") == "network":
                legacy_payload["category"] = "network"
                if legacy_payload.get("recoverable") is False and target_payload.get("recoverable") is True:
                    legacy_payload["recoverable"] = True
                count += 1
    return count


@delta(
    "category-unknown-is-system",
    "an unclassified error has category 'system' (the newer legacy variant's rule; the older said "
    "'unknown')",
    client_visible=True,
)
def category_unknown_is_system(pair: StepPair) -> int:
    count = 0
    contexts = [(ctx(a), ctx(b)) for a, b in error_rows(pair)]
    for legacy_item, target_item in contexts + list(payload_pairs(pair)):
        if legacy_item.get("category") == "unknown" and target_item.get("category") == "system":
            legacy_item["category"] = "system"
            count += 1
    return count


@delta(
    "error-catalogue",
    "payload suggestions, and the message of errors classified by type or by words, come from newlog's "
    "catalogue (legacy had its own texts, and echoed the error text for 'invalid'/'validation' errors)",
    client_visible=True,
)
def error_catalogue(pair: StepPair) -> int:
    payloads = list(payload_pairs(pair))
    if not payloads:
        return 0
    messages, suggestions = newlog_error_catalogue()
    count = 0
    for legacy_payload, target_payload in payloads:
        category = target_payload.get("category")
        if legacy_payload.get("category") != category:
            continue
        legacy_suggestions = legacy_payload.get("suggestions")
        legacy_catalogue = [*LEGACY_SUGGESTIONS.values(), LEGACY_DEFAULT_SUGGESTIONS]
        if legacy_suggestions in legacy_catalogue and target_payload.get("suggestions") == suggestions.get(category):
            legacy_payload["suggestions"] = target_payload["suggestions"]
            count += 1
        legacy_message, target_message = legacy_payload.get("message"), target_payload.get("message")
        if legacy_message != target_message and target_message in messages:
            if legacy_message in LEGACY_MESSAGES or category == "validation":
                legacy_payload["message"] = target_message
                count += 1
    return count


@delta(
    "error-context-extra-none",
    "ErrorContext(error).extra is None outside a request; legacy: {}",
)
def error_context_extra_none(pair: StepPair) -> int:
    legacy_context = at(pair.legacy.get("result"), "error_context")
    target_context = at(pair.target.get("result"), "error_context")
    if isinstance(legacy_context, dict) and isinstance(target_context, dict):
        if legacy_context.get("extra") == {} and target_context.get("extra") is None and target_context.get("url") is None:
            legacy_context["extra"] = None
            return 1
    return 0

