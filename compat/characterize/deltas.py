"""THE list of allowed deltas: every intended difference between the legacy module and newlog.

Each :class:`Delta` has a name, the reason a reader needs, and a precise predicate: it
reconciles one kind of difference only where its condition holds (a named key with a
known value, a known message shape, a step the legacy module ran twice, ...), and returns
how often it did. Nothing here ignores a whole field: what no delta explains fails the
comparison. The characterization suite (``tests/characterization``) and the kit
(``python -m compat.characterize``) both compare through this list.

Order matters: row-set deltas first (rows the legacy module wrote and newlog does not, or
the reverse), then printed output, then per-row and per-payload field deltas.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from compat.characterize.compare import StepPair
from compat.characterize.normalize import normalize_traceback

Context = dict[str, Any]


@dataclass(frozen=True)
class Delta:
    """One allowed difference: ``apply(pair)`` reconciles it where its predicate holds, returns the count."""

    name: str
    reason: str
    apply: Callable[[StepPair], int]


# -- helpers -----------------------------------------------------------------------------------


def _ctx(row: dict[str, Any]) -> Context:
    context = row.get("context")
    return context if isinstance(context, dict) else {}


def _context_pairs(pair: StepPair) -> Iterator[tuple[Context, Context]]:
    for legacy_row, target_row in pair.row_pairs():
        yield _ctx(legacy_row), _ctx(target_row)


def _key(row: dict[str, Any]) -> tuple[Any, Any, Any]:
    return row.get("level"), row.get("module"), row.get("message")


def _at(data: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _payloads(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (path, payload) for every legacy-shaped error payload inside a result."""
    if isinstance(value, dict):
        if value.get("error") is True and "error_id" in value and "category" in value:
            yield path, value
        for key, item in value.items():
            yield from _payloads(item, f"{path}.{key}")


def _payload_pairs(pair: StepPair) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    targets = dict(_payloads(pair.target.get("result")))
    for path, legacy_payload in _payloads(pair.legacy.get("result")):
        if path in targets:
            yield legacy_payload, targets[path]


def _error_rows(pair: StepPair) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(a, b) for a, b in pair.row_pairs() if a.get("module") == "error_handler" and b.get("module") == "error_handler"]


def _calls(step: dict[str, Any]) -> int | None:
    result = step.get("result")
    if isinstance(result, dict) and isinstance(result.get("calls"), int):
        return result["calls"]
    header = (step.get("headers") or {}).get("X-View-Calls")
    return int(header) if header is not None else None


def _set_calls(step: dict[str, Any], calls: int) -> None:
    if isinstance(step.get("result"), dict) and "calls" in step["result"]:
        step["result"]["calls"] = calls
    if "X-View-Calls" in (step.get("headers") or {}):
        step["headers"]["X-View-Calls"] = str(calls)


def _remove_printed(step: dict[str, Any], entry: list[str]) -> int:
    before = len(step.get("printed", []))
    step["printed"] = [item for item in step.get("printed", []) if list(item) != entry]
    return before - len(step["printed"])


# -- row-set deltas ----------------------------------------------------------------------------


def _error_handler_runs_once(pair: StepPair) -> int:
    legacy = pair.legacy
    if not (_calls(legacy) == 2 and _calls(pair.target) == 1):
        return 0
    rows = legacy["rows"]
    for index, row in enumerate(rows):
        if row.get("module") == "error_handler" and row.get("level") == "WARNING":  # LOW/MEDIUM: the retried ones
            before = [_key(r) for r in rows[:index]]
            after = [_key(r) for r in rows[index + 1 :]]
            replay = max((k for k in range(len(before) + 1) if before[len(before) - k :] == after[:k]), default=0)
            if replay == 0:
                return 0
            del rows[index + 1 : index + 1 + replay]
            _set_calls(legacy, 1)
            return 1
    return 0


MONITOR_PREFIX = "Error in monitored function "


def _error_monitor_logs_once(pair: StepPair) -> int:
    rows, count = pair.legacy["rows"], 0
    for row in [r for r in rows if r.get("module") == "error_monitor" and str(r.get("message")).startswith(MONITOR_PREFIX)]:
        if any(_key(r) == _key(row) for r in pair.target["rows"]):
            continue
        name = row["message"][len(MONITOR_PREFIX) :]
        index = rows.index(row)
        for earlier in reversed(rows[:index]):
            if earlier.get("module") == "error_handler" and _ctx(earlier).get("extra") == {"function": name}:
                del _ctx(earlier)["extra"]
                break
        rows.remove(row)
        entry = [str(row["level"]).lower(), row["message"]]
        if entry not in pair.target.get("printed", []):
            _remove_printed(pair.legacy, entry)
        count += 1
    return count


LEGACY_WRITE_ERROR_LINES = (
    "Error in SQLAlchemyLogHandler: {e}",
    "Failed to save log entry to database: {e}",
    "Error building log entry: {e}",
)


def _legacy_write_error_lines(pair: StepPair) -> int:
    target_printed = pair.target.get("printed", [])
    return sum(_remove_printed(pair.legacy, ["raw", line]) for line in LEGACY_WRITE_ERROR_LINES if ["raw", line] not in target_printed)


def _stdlib_exception_traceback(pair: StepPair) -> int:
    stored = {
        (row.get("traceback") or "").splitlines()[-1]
        for row in pair.legacy["rows"]
        if row.get("level") in ("ERROR", "CRITICAL") and row.get("traceback")
    }
    count = 0
    for item in list(pair.legacy.get("printed", [])):
        if item[0] == "traceback" and item[1] in stored and list(item) not in pair.target.get("printed", []):
            count += _remove_printed(pair.legacy, list(item))
    return count


def _stored_outside_app_context(pair: StepPair) -> int:
    legacy, target = pair.legacy, pair.target
    if legacy.get("place") != "outside" or legacy["rows"] or not target["rows"]:
        return 0
    legacy_twin, target_twin = _twin(pair.legacy_doc, legacy["name"]), _twin(pair.target_doc, target["name"])
    legacy_step, target_step = _step(pair.legacy_doc, legacy["name"]), _step(pair.target_doc, target["name"])
    if legacy_twin is None or target_twin is None or target_twin["rows"] != target["rows"]:
        return 0
    write_errors = {("raw", line) for line in LEGACY_WRITE_ERROR_LINES}
    legacy_printed = [item for item in legacy_step["printed"] if tuple(item) not in write_errors]
    if legacy_printed != legacy_twin["printed"] or target_step["printed"] != target_twin["printed"]:
        return 0
    count = len(target["rows"])
    target["rows"] = []
    legacy["printed"] = list(target["printed"])
    return count


def _step(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in doc["steps"] if step["name"] == name)


def _twin(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Return the step running the same program action inside an app context."""
    twin_name = name.split(" ", 1)[1].replace("program/outside/", "program/app_context/", 1)
    twins = [step for step in doc["steps"] if step["name"].split(" ", 1)[1] == twin_name]
    return twins[0] if len(twins) == 1 else None


def _log_table_report(pair: StepPair) -> int:
    keys = pair.meta.get("log_table_report")
    if not keys:
        return 0
    legacy_counts = _table_counts(pair.legacy_doc, pair.legacy["name"])
    target_counts = _table_counts(pair.target_doc, pair.target["name"])
    legacy_result, target_result = pair.legacy.get("result") or {}, pair.target.get("result") or {}
    if any(legacy_result.get(key) != legacy_counts.get(key) or target_result.get(key) != target_counts.get(key) for key in keys):
        return 0
    if all(legacy_result.get(key) == target_result.get(key) for key in keys):
        return 0
    for key in keys:
        target_result[key] = legacy_result[key]
    for legacy_row, target_row in pair.row_pairs():
        if _ctx(legacy_row).get("rows") == legacy_counts["total"] and _ctx(target_row).get("rows") == target_counts["total"]:
            _ctx(target_row)["rows"] = legacy_counts["total"]
    return 1


def _table_counts(doc: dict[str, Any], step_name: str) -> dict[str, Any]:
    rows = []
    for step in doc["steps"]:
        if step["name"] == step_name:
            break
        rows.extend(step["rows"])
    return {
        "total": len(rows),
        "by_level": dict(Counter(row["level"] for row in rows)),
        "by_module": dict(Counter(row["module"] for row in rows)),
    }


def _asynchronous_write(pair: StepPair) -> int:
    legacy_result, target_result = pair.legacy.get("result"), pair.target.get("result")
    key = "rows_visible_right_after_logging"
    if not (isinstance(legacy_result, dict) and isinstance(target_result, dict)):
        return 0
    if legacy_result.get(key) == 1 and target_result.get(key) == 0 and len(pair.target["rows"]) >= 1:
        target_result[key] = 1
        return 1
    return 0


# -- printed output ----------------------------------------------------------------------------


def _printed_every_event(pair: StepPair) -> int:
    stored = {("info", row.get("message")) for row in pair.target["rows"] if row.get("level") == "INFO"}
    legacy_printed = {tuple(item) for item in pair.legacy.get("printed", [])}
    before = len(pair.target.get("printed", []))
    pair.target["printed"] = [
        item for item in pair.target.get("printed", []) if not (tuple(item) in stored and tuple(item) not in legacy_printed)
    ]
    return before - len(pair.target["printed"])


def _debug_switch_works(pair: StepPair) -> int:
    if not pair.meta.get("debug"):
        return 0
    if any(item[0] == "debug" for item in pair.legacy.get("printed", [])):
        return 0
    before = len(pair.target.get("printed", []))
    pair.target["printed"] = [item for item in pair.target.get("printed", []) if item[0] != "debug"]
    return before - len(pair.target["printed"])


# -- context -----------------------------------------------------------------------------------


def _contexts_and_context_results(pair: StepPair) -> list[tuple[Context, Context]]:
    """Return the (legacy, target) contexts of the step's rows and of its results that are log contexts."""
    pairs: list[tuple[Context, Context]] = list(_context_pairs(pair))
    for path in pair.meta.get("context_results", []):
        legacy_value, target_value = _at(pair.legacy.get("result"), path), _at(pair.target.get("result"), path)
        if isinstance(legacy_value, dict) and isinstance(target_value, dict):
            pairs.append((legacy_value, target_value))
    return pairs


def _contextvar_scope(pair: StepPair) -> int:
    global_context = pair.meta.get("global_context") or {}
    count = 0
    for legacy_ctx, target_ctx in _contexts_and_context_results(pair):
        for key, value in list(legacy_ctx.items()):
            if key in global_context and global_context[key] == value and key not in target_ctx:
                del legacy_ctx[key]
                count += 1
    return count


REQUEST_IDS = ("request_id", "user_id")


def _request_ids_in_log_context(pair: StepPair) -> int:
    if pair.legacy.get("place") != "request":
        return 0
    count = 0
    for path in pair.meta.get("context_results", []):
        legacy_value, target_value = _at(pair.legacy.get("result"), path), _at(pair.target.get("result"), path)
        if isinstance(legacy_value, dict) and isinstance(target_value, dict):
            for key in REQUEST_IDS:
                if key in target_value and key not in legacy_value:
                    del target_value[key]
                    count += 1
    return count


def _call_keyword_wins(pair: StepPair) -> int:
    bound, passed = pair.meta.get("bound") or {}, pair.meta.get("passed") or {}
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        for key, value in passed.items():
            if key in bound and legacy_ctx.get(key) == bound[key] and target_ctx.get(key) == value:
                legacy_ctx[key] = value
                count += 1
    return count


NULLABLE_REQUEST_KEYS = ("request_id", "user_id", "url", "method", "ip_address", "user_agent", "current_user_role")


def _null_values_omitted(pair: StepPair) -> int:
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        for key in NULLABLE_REQUEST_KEYS:
            if key in legacy_ctx and legacy_ctx[key] is None and key not in target_ctx:
                del legacy_ctx[key]
                count += 1
    return count


REQUEST_FIELDS = ("url", "method", "ip_address", "user_agent")


def _request_fields_from_request(pair: StepPair) -> int:
    seen = pair.meta.get("request")
    if not seen:
        return 0
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        for key in REQUEST_FIELDS:
            if legacy_ctx.get(key, "<absent>") is None and seen.get(key) is not None and target_ctx.get(key) == seen[key]:
                legacy_ctx[key] = target_ctx[key]
                count += 1
    return count


def _request_id_filled(pair: StepPair) -> int:
    if pair.legacy.get("place") != "request":
        return 0
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        if legacy_ctx.get("request_id") is None and target_ctx.get("request_id") == "<present>":
            legacy_ctx["request_id"] = "<present>"
            count += 1
    return count


def _user_id_source(pair: StepPair) -> int:
    bound = (pair.meta.get("request_context") or {}).get("user_id")
    in_request = pair.legacy.get("place") in ("request", "test_request_context")
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        legacy_id = legacy_ctx.get("user_id")
        if bound is not None and target_ctx.get("user_id") == bound and legacy_id != bound:
            legacy_ctx["user_id"] = bound
            count += 1
        elif in_request and legacy_id is not None and "user_id" not in target_ctx:
            authenticated_as = legacy_ctx.get("current_user_id")
            if authenticated_as is None or authenticated_as == legacy_id:
                del legacy_ctx["user_id"]
                count += 1
    return count


def _request_context_outside_request(pair: StepPair) -> int:
    if not pair.meta.get("request_context") or pair.legacy.get("place") not in ("app_context", "outside"):
        return 0
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        if target_ctx.get("request_id") == "<present>" and "request_id" not in legacy_ctx:
            del target_ctx["request_id"]
            count += 1
    return count


def _username_from_user_context(pair: StepPair) -> int:
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        username = legacy_ctx.get("username")
        if username is None or username != legacy_ctx.get("current_username") or target_ctx.get("username") == username:
            continue
        if "username" in target_ctx:
            legacy_ctx["username"] = target_ctx["username"]
        else:
            del legacy_ctx["username"]
        count += 1
    return count


def _no_host(pair: StepPair) -> int:
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        if legacy_ctx.get("host") == "<host>" and "host" not in target_ctx:
            del legacy_ctx["host"]
            count += 1
    return count


def _startup_context_is_static(pair: StepPair) -> int:
    steps = pair.legacy_doc["steps"]
    startup = (steps[0].get("meta") or {}).get("global_context") or {} if steps else {}
    count = 0
    for legacy_ctx, target_ctx in _contexts_and_context_results(pair):
        for key, value in startup.items():
            if key not in legacy_ctx and target_ctx.get(key) == value:
                del target_ctx[key]
                count += 1
    return count


def _static_context_everywhere(pair: StepPair) -> int:
    environments = {
        _ctx(row).get("environment") for step in pair.legacy_doc["steps"] for row in step["rows"] if _ctx(row).get("environment")
    }
    count = 0
    for legacy_ctx, target_ctx in _context_pairs(pair):
        if "environment" not in legacy_ctx and target_ctx.get("environment") in environments:
            del target_ctx["environment"]
            count += 1
    return count


def _positional_args_formatted(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in pair.row_pairs():
        legacy_ctx, target_ctx = _ctx(legacy_row), _ctx(target_row)
        args = legacy_ctx.get("positional_args")
        if not isinstance(args, list) or "positional_args" in target_ctx:
            continue
        try:
            formatted = str(legacy_row["message"]) % tuple(args)
        except (TypeError, ValueError):
            continue
        if formatted == target_row.get("message"):
            level = str(legacy_row.get("level")).lower()
            if _remove_printed(pair.legacy, [level, str(legacy_row["message"])]):
                pair.legacy["printed"] = sorted(pair.legacy["printed"] + [[level, formatted]])
            legacy_row["message"] = formatted
            del legacy_ctx["positional_args"]
            count += 1
    return count


# -- exceptions and tracebacks -----------------------------------------------------------------


def _traceback_of_exception_argument(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in pair.row_pairs():
        error = _ctx(target_row).get("error")
        traceback = target_row.get("traceback")
        if legacy_row.get("traceback") is None and isinstance(error, str) and traceback and _ctx(legacy_row).get("error") == error:
            if traceback.endswith(normalize_traceback(error) or "\0"):
                legacy_row["traceback"] = traceback
                count += 1
    return count


def _traceback_of_handled_exception(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in pair.row_pairs():
        traceback = target_row.get("traceback") or ""
        if (
            legacy_row.get("traceback") is None
            and legacy_row.get("level") in ("ERROR", "CRITICAL")
            and "error" not in _ctx(legacy_row)
            and "error" not in _ctx(target_row)
            and traceback.startswith("Traceback (most recent call last):")
        ):
            legacy_row["traceback"] = traceback
            count += 1
    return count


# -- error payloads and error rows -------------------------------------------------------------


def _error_row_message(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in _error_rows(pair):
        error_type = _ctx(target_row).get("error_type")
        legacy_message, target_message = str(legacy_row.get("message")), str(target_row.get("message"))
        prefix = f"{error_type}: "
        if error_type is None or legacy_message == target_message:
            continue
        if not (legacy_message.startswith(prefix) and target_message.startswith(prefix)):
            continue
        text = target_message[len(prefix) :]
        error_text = _ctx(target_row).get("error")
        if text != error_text and normalize_traceback(text) != target_row.get("traceback"):
            continue
        level = str(legacy_row.get("level")).lower()
        if _remove_printed(pair.legacy, [level, legacy_message]):
            pair.legacy["printed"] = sorted(pair.legacy["printed"] + [[level, target_message]])
        legacy_row["message"] = target_message
        count += 1
    return count


def _message_code_added(pair: StepPair) -> int:
    count = 0
    contexts = [(_ctx(a), _ctx(b)) for a, b in _error_rows(pair)]
    for legacy_item, target_item in contexts + list(_payload_pairs(pair)):
        if "message_code" in target_item and "message_code" not in legacy_item:
            del target_item["message_code"]
            count += 1
    return count


def _payload_context_meta(pair: StepPair) -> int:
    count = 0
    for legacy_payload, target_payload in _payload_pairs(pair):
        legacy_context, target_context = legacy_payload.get("context") or {}, target_payload.get("context") or {}
        meta = target_context.get("meta")
        if "meta" not in legacy_context and isinstance(meta, dict) and set(meta) == {"ip_address", "user_agent"}:
            del target_context["meta"]
            count += 1
    return count


def _error_id_hex(pair: StepPair) -> int:
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
    for legacy_ctx, target_ctx in _context_pairs(pair):
        walk(legacy_ctx, target_ctx)
    return count


def _category_unknown_is_system(pair: StepPair) -> int:
    count = 0
    contexts = [(_ctx(a), _ctx(b)) for a, b in _error_rows(pair)]
    for legacy_item, target_item in contexts + list(_payload_pairs(pair)):
        if legacy_item.get("category") == "unknown" and target_item.get("category") == "system":
            legacy_item["category"] = "system"
            count += 1
    return count


BUILTIN_NETWORK_ERRORS = frozenset(
    cls.__name__ for cls in (TimeoutError, ConnectionError, *ConnectionError.__subclasses__())
)


def _builtin_network_errors(pair: StepPair) -> int:
    count = 0
    rows = _error_rows(pair)
    for legacy_row, target_row in rows:
        legacy_ctx, target_ctx = _ctx(legacy_row), _ctx(target_row)
        if target_ctx.get("error_type") in BUILTIN_NETWORK_ERRORS and legacy_ctx.get("category") in ("unknown", "system"):
            if (target_ctx.get("category"), target_ctx.get("status_code")) == ("network", 504) and legacy_ctx.get("status_code") == 500:
                legacy_ctx["category"], legacy_ctx["status_code"] = "network", 504
                count += 1
    result = pair.target.get("result")
    error_type = result.get("error_type") if isinstance(result, dict) else None
    if error_type is None and count and len(rows) == 1:
        error_type = _ctx(rows[0][1]).get("error_type")
    if error_type in BUILTIN_NETWORK_ERRORS:
        for legacy_payload, target_payload in _payload_pairs(pair):
            if legacy_payload.get("category") in ("unknown", "system") and target_payload.get("category") == "network":
                legacy_payload["category"] = "network"
                if legacy_payload.get("recoverable") is False and target_payload.get("recoverable") is True:
                    legacy_payload["recoverable"] = True
                count += 1
    return count


def _newlog_catalogue() -> tuple[set[str], dict[str, list[str]]]:
    from newlog import error_adapter
    from sqlalchemy.exc import IntegrityError

    messages = {error_adapter.ErrorMetadata(500, category, "high").message for category in error_adapter.ErrorCategory}
    messages.add(error_adapter.classify(IntegrityError("", {}, Exception())).message)
    suggestions = {category.value: list(items) for category, items in getattr(error_adapter, "_SUGGESTIONS", {}).items()}
    return {m for m in messages if m}, suggestions


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


def _error_catalogue(pair: StepPair) -> int:
    payloads = list(_payload_pairs(pair))
    if not payloads:
        return 0
    messages, suggestions = _newlog_catalogue()
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


_HTTP_CODE = re.compile(r"^http_(\d{3})$")


def _http_recoverable(pair: StepPair) -> int:
    count = 0
    for legacy_payload, target_payload in _payload_pairs(pair):
        match = _HTTP_CODE.match(str(target_payload.get("message_code")))
        if not match:
            continue
        code = int(match.group(1))
        newlog_rule = code in (502, 503, 504) if code >= 500 else code != 403
        if legacy_payload.get("recoverable") == (code < 500) and target_payload.get("recoverable") == newlog_rule != (code < 500):
            legacy_payload["recoverable"] = newlog_rule
            count += 1
    return count


def _error_context_extra_none(pair: StepPair) -> int:
    legacy_context = _at(pair.legacy.get("result"), "error_context")
    target_context = _at(pair.target.get("result"), "error_context")
    if isinstance(legacy_context, dict) and isinstance(target_context, dict):
        if legacy_context.get("extra") == {} and target_context.get("extra") is None and target_context.get("url") is None:
            legacy_context["extra"] = None
            return 1
    return 0


def _with_log_context_keeps_name(pair: StepPair) -> int:
    legacy_result, target_result = pair.legacy.get("result"), pair.target.get("result")
    if isinstance(legacy_result, dict) and isinstance(target_result, dict):
        name = target_result.get("function_name")
        if legacy_result.get("function_name") == "wrapper" and isinstance(name, str) and name.isidentifier() and name != "wrapper":
            legacy_result["function_name"] = name
            return 1
    return 0


def _deprecation_warnings(pair: StepPair) -> int:
    legacy_warnings = set(pair.legacy.get("warnings", []))
    before = len(pair.target.get("warnings", []))
    pair.target["warnings"] = [
        text
        for text in pair.target.get("warnings", [])
        if text in legacy_warnings or not (text.startswith("DeprecationWarning: ") and "newlog" in text)
    ]
    return before - len(pair.target["warnings"])


DELTAS: tuple[Delta, ...] = (
    # rows written by one side only, or later
    Delta(
        "asynchronous-write",
        "a log row is written by newlog's background worker: code that reads the log table right after logging "
        "does not see the row yet (newlog.flush() waits for it; the step's rows show it was written); legacy "
        "committed it in the calling thread before the logging call returned",
        _asynchronous_write,
    ),
    Delta(
        "error-handler-runs-once",
        "error_handler calls the decorated function once; after a LOW/MEDIUM error the older legacy variant called it "
        "a second time, so its rows (and side effects) appeared twice and X-View-Calls said 2",
        _error_handler_runs_once,
    ),
    Delta(
        "error-monitor-logs-once",
        "error_monitor logs the error once, through enhanced_error_handler; the legacy one also logged an ERROR row "
        "'Error in monitored function <name>' (module error_monitor) and passed extra={'function': <name>}",
        _error_monitor_logs_once,
    ),
    Delta(
        "printed-every-event",
        "one renderer: newlog prints every event as one JSON line on stdout; the legacy chain rendered each event twice "
        "(a console line, then JSON-quoted) and, with no stdlib handler configured, only WARNING and above reached "
        "stderr. Extra printed INFO events must be rows of the same step",
        _printed_every_event,
    ),
    Delta(
        "debug-switch-works",
        "set_debug_logging_enabled(enabled=True) / ENABLE_DEBUG_LOG really turns DEBUG on: the events are printed "
        "(not stored, LOG_DB_LEVEL is INFO); the legacy module dropped DEBUG twice even with the switch on",
        _debug_switch_works,
    ),
    Delta(
        "legacy-write-error-lines",
        "the legacy handler printed 'Error in SQLAlchemyLogHandler: {e}' (literally: an f-string bug) for every "
        "event it failed to store; newlog does not fail there",
        _legacy_write_error_lines,
    ),
    Delta(
        "stored-outside-app-context",
        "an event logged outside any app context is stored through the last initialised app's worker; the legacy "
        "handler needed current_app, failed and lost it. Checked: on each side the step's rows and printed events "
        "equal those of the same action inside an app context (compared with the other deltas on its own)",
        _stored_outside_app_context,
    ),
    Delta(
        "stdlib-exception-traceback",
        "legacy logger.exception() ended in stdlib Logger.exception(), which printed the handled traceback a second "
        "time as plain lines after the rendered event; newlog prints the event (with its traceback) once",
        _stdlib_exception_traceback,
    ),
    Delta(
        "log-table-report",
        "a route that counts unified_logs rows reports each run's own row count (the other deltas change how many "
        "rows exist); checked: each count equals the rows its own run had written before the step",
        _log_table_report,
    ),
    # context
    Delta(
        "contextvar-scope",
        "bound context lives in ContextVars: a request starts with an empty context and values bound at start-up, in "
        "another request or thread are not seen; the legacy _global_context was one process-wide dict, so such keys "
        "(with the value the dict held when the step began) appeared in every row and get_context()",
        _contextvar_scope,
    ),
    Delta(
        "request-ids-in-log-context",
        "newlog binds request_id and user_id into the log context of every request, so get_context() inside a request "
        "shows them; legacy kept them only in request_id_var / user_id_var",
        _request_ids_in_log_context,
    ),
    Delta(
        "call-keyword-wins",
        "an event's own keyword argument wins over a bound context value of the same key; the legacy global context "
        "was applied last and overwrote the call's keyword",
        _call_keyword_wins,
    ),
    Delta(
        "request-fields-from-request",
        "inside a request newlog reads url, method, ip_address and user_agent from the request itself; legacy read "
        "them from flask.g, which only the app's own before_request hook fills (null in a bare test request context)",
        _request_fields_from_request,
    ),
    Delta(
        "null-values-omitted",
        "newlog stores no context key whose value is None; the legacy handler wrote request_id, user_id, url, method, "
        "ip_address, user_agent and current_user_role as JSON null when unknown (context->>'key' is NULL either way)",
        _null_values_omitted,
    ),
    Delta(
        "request-id-filled",
        "newlog gives every request a request_id (X-Request-ID or a new one); legacy had one only where the app's "
        "own hook called bind_request_context",
        _request_id_filled,
    ),
    Delta(
        "user-id-source",
        "user_id is the id bound by bind_request_context(), kept current when a view logs a user in or out; the "
        "legacy user-context processor overwrote it with current_user.id, and after logout_user() it kept the id "
        "bound at the start of the request",
        _user_id_source,
    ),
    Delta(
        "request-context-outside-request",
        "bind_request_context() also binds request_id into the log context, so events outside a request carry it; "
        "legacy added request_id only inside a request",
        _request_context_outside_request,
    ),
    Delta(
        "username-from-user-context",
        "the legacy user-context processor wrote `username` = current_user.username into every authenticated event, "
        "overwriting a username the call passed; newlog keeps the call's username and writes the user's as "
        "`current_username` only",
        _username_from_user_context,
    ),
    Delta(
        "no-host",
        "newlog does not add `host` (the server's hostname) to request events; legacy did",
        _no_host,
    ),
    Delta(
        "startup-context-is-static",
        "a value the application bound at start-up (import time or the factory: the legacy global context as the "
        "first step found it) may be static context, carried by every event and shown by get_context() whatever "
        "clear_context() does in a request; legacy lost it at the first clear_context()",
        _startup_context_is_static,
    ),
    Delta(
        "static-context-everywhere",
        "app_name, app_version and environment are static context set by init_app and carried by every event; legacy "
        "added environment only inside a request",
        _static_context_everywhere,
    ),
    Delta(
        "positional-args-formatted",
        "logger.info('... %s', arg) formats the message, stored and printed (as the newer legacy variant's "
        "PositionalArgumentsFormatter did); the older variant's chain had none and stored the template and the "
        "arguments under positional_args",
        _positional_args_formatted,
    ),
    # exceptions
    Delta(
        "traceback-of-exception-argument",
        "log_error/log_critical(exception=e) store e's traceback even outside an except block; legacy passed "
        "exc_info=True, which only sees the exception being handled (no traceback)",
        _traceback_of_exception_argument,
    ),
    Delta(
        "traceback-of-handled-exception",
        "log_error/log_critical without exception= inside an except block store the handled exception's traceback; "
        "legacy stored none",
        _traceback_of_handled_exception,
    ),
    # error payloads and error rows
    Delta(
        "error-row-message",
        "enhanced_error_handler logs '<Type>: <the error's own text>'; legacy logged '<Type>: <the generic "
        "message of its classification>' (printed events follow the row)",
        _error_row_message,
    ),
    Delta(
        "http-recoverable",
        "HTTP errors: 403 is not recoverable, 502/503/504 are; legacy said recoverable for every code below 500",
        _http_recoverable,
    ),
    Delta(
        "message-code-added",
        "error payloads and error rows carry message_code (the newer legacy variant's field)",
        _message_code_added,
    ),
    Delta(
        "payload-context-meta",
        "inside a request the payload's context has meta = {ip_address, user_agent} (the newer variant's context.meta)",
        _payload_context_meta,
    ),
    Delta(
        "error-id-hex",
        "error_id is uuid4().hex (32 hex digits); legacy used str(uuid4()) (dashed)",
        _error_id_hex,
    ),
    Delta(
        "builtin-network-errors",
        "builtin TimeoutError / ConnectionError (and subclasses) are network errors (504, recoverable) whatever their "
        "text; legacy classified by the words 'timeout'/'connection' only (else unknown, 500)",
        _builtin_network_errors,
    ),
    Delta(
        "category-unknown-is-system",
        "an unclassified error has category 'system' (the newer legacy variant's rule; the older said 'unknown')",
        _category_unknown_is_system,
    ),
    Delta(
        "error-catalogue",
        "payload suggestions, and the message of errors classified by type or by words, come from newlog's catalogue "
        "(legacy had its own texts, and echoed the error text for 'invalid'/'validation' errors)",
        _error_catalogue,
    ),
    Delta(
        "error-context-extra-none",
        "ErrorContext(error).extra is None outside a request; legacy: {}",
        _error_context_extra_none,
    ),
    Delta(
        "with-log-context-keeps-name",
        "with_log_context keeps the decorated function's name (functools.wraps); legacy returned 'wrapper', which "
        "broke Flask endpoint names",
        _with_log_context_keeps_name,
    ),
    Delta(
        "deprecation-warnings",
        "the old import path, and writes to _global_context, emit DeprecationWarnings naming the newlog import",
        _deprecation_warnings,
    ),
)


def by_name() -> dict[str, Delta]:
    """Return the deltas keyed by name."""
    return {delta.name: delta for delta in DELTAS}


__all__ = ["DELTAS", "Delta", "by_name"]
