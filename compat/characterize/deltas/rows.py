"""Row-set deltas: rows one side wrote and the other did not, or wrote later."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from compat.characterize.compare import StepPair, step_kind
from compat.characterize.deltas import delta
from compat.characterize.deltas._pairs import calls, ctx, remove_printed, row_key, set_calls, step_named, twin
from compat.characterize.deltas.printed import LEGACY_WRITE_ERROR_LINES

MONITOR_PREFIX = "Error in monitored function "


def table_counts(doc: dict[str, Any], step_name: str) -> dict[str, Any]:
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


@delta(
    "asynchronous-write",
    "a log row is written by newlog's background worker: code that reads the log table right after "
    "logging does not see the row yet (newlog.flush() waits for it; the step's rows show it was written); "
    "legacy committed it in the calling thread before the logging call returned",
)
def asynchronous_write(pair: StepPair) -> int:
    legacy_result, target_result = pair.legacy.get("result"), pair.target.get("result")
    key = "rows_visible_right_after_logging"
    if not (isinstance(legacy_result, dict) and isinstance(target_result, dict)):
        return 0
    if legacy_result.get(key) == 1 and target_result.get(key) == 0 and len(pair.target["rows"]) >= 1:
        target_result[key] = 1
        return 1
    return 0


@delta(
    "error-handler-runs-once",
    "error_handler calls the decorated function once; after a LOW/MEDIUM error the older legacy variant "
    "called it a second time, so its rows (and side effects) appeared twice and X-View-Calls said 2",
    client_visible=True,
)
def error_handler_runs_once(pair: StepPair) -> int:
    legacy = pair.legacy
    if not (calls(legacy) == 2 and calls(pair.target) == 1):
        return 0
    rows = legacy["rows"]
    for index, row in enumerate(rows):
        if row.get("module") == "error_handler" and row.get("level") == "WARNING":  # LOW/MEDIUM: the retried ones
            before = [row_key(r) for r in rows[:index]]
            after = [row_key(r) for r in rows[index + 1 :]]
            replay = max((k for k in range(len(before) + 1) if before[len(before) - k :] == after[:k]), default=0)
            if replay == 0:
                return 0
            del rows[index + 1 : index + 1 + replay]
            set_calls(legacy, 1)
            return 1
    return 0


@delta(
    "error-monitor-logs-once",
    "error_monitor logs the error once, through enhanced_error_handler; the legacy one also logged a second "
    "ERROR row 'Error in monitored function <name>' (module error_monitor). The error row keeps its keys "
    "(extra={'function': <name>} included)",
)
def error_monitor_logs_once(pair: StepPair) -> int:
    rows, count = pair.legacy["rows"], 0
    for row in [r for r in rows if r.get("module") == "error_monitor" and str(r.get("message")).startswith(MONITOR_PREFIX)]:
        if any(row_key(r) == row_key(row) for r in pair.target["rows"]):
            continue
        rows.remove(row)
        entry = [str(row["level"]).lower(), row["message"]]
        if entry not in pair.target.get("printed", []):
            remove_printed(pair.legacy, entry)
        count += 1
    return count


IDENTITY_KEYS = ("app_name", "app_version", "environment", "host")
"""Identity fields: outside an app context the app's own rules may give them other values (``app_name`` "unknown")."""


def _sans_identity(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` without the identity fields of their context (the values an app context would change)."""
    return [
        {**row, "context": {k: v for k, v in row.get("context", {}).items() if k not in IDENTITY_KEYS}}
        if isinstance(row.get("context"), dict)
        else row
        for row in rows
    ]


@delta(
    "stored-outside-app-context",
    "an event logged outside any app context is stored through the last initialised app's worker; the "
    "legacy handler needed current_app, failed and lost it. Checked: on each side the step's rows and "
    "printed events equal those of the same action inside an app context (but the identity fields, which the "
    "app's own rules fill differently outside one; compared with the other deltas on its own)",
)
def stored_outside_app_context(pair: StepPair) -> int:
    legacy, target = pair.legacy, pair.target
    if legacy.get("place") != "outside" or legacy["rows"] or not target["rows"]:
        return 0
    legacy_twin, target_twin = twin(pair.legacy_doc, legacy["name"]), twin(pair.target_doc, target["name"])
    legacy_step, target_step = step_named(pair.legacy_doc, legacy["name"]), step_named(pair.target_doc, target["name"])
    if legacy_twin is None or target_twin is None or _sans_identity(target_twin["rows"]) != _sans_identity(target["rows"]):
        return 0
    write_errors = {("raw", line) for line in LEGACY_WRITE_ERROR_LINES}
    legacy_printed = [item for item in legacy_step["printed"] if tuple(item) not in write_errors]
    if legacy_printed != legacy_twin["printed"] or target_step["printed"] != target_twin["printed"]:
        return 0
    count = len(target["rows"])
    target["rows"] = []
    legacy["printed"] = list(target["printed"])
    return count


@delta(
    "log-table-report",
    "a route that counts unified_logs rows reports each run's own row count (the other deltas change how "
    "many rows exist); checked: each count equals the rows its own run had written before the step",
)
def log_table_report(pair: StepPair) -> int:
    keys = pair.meta.get("log_table_report")
    if not keys:
        return 0
    legacy_counts = table_counts(pair.legacy_doc, pair.legacy["name"])
    target_counts = table_counts(pair.target_doc, pair.target["name"])
    legacy_result, target_result = pair.legacy.get("result") or {}, pair.target.get("result") or {}
    if any(legacy_result.get(key) != legacy_counts.get(key) or target_result.get(key) != target_counts.get(key) for key in keys):
        return 0
    if all(legacy_result.get(key) == target_result.get(key) for key in keys):
        return 0
    for key in keys:
        target_result[key] = legacy_result[key]
    for legacy_row, target_row in pair.row_pairs():
        if ctx(legacy_row).get("rows") == legacy_counts["total"] and ctx(target_row).get("rows") == target_counts["total"]:
            ctx(target_row)["rows"] = legacy_counts["total"]
    return 1



ENUM_EVENT = "Characterize enum in an event"
"""The legacy-API program's event that carries the app's category and severity members (``error_enums``)."""


@delta(
    "plain-enum-value-stored",
    "an event whose context holds a plain Enum member (not a str or int Enum, so not JSON-serialisable) is "
    "stored with the member's value; the legacy handler could not write it to its JSON column, swallowed the "
    "error and lost the row. Checked: the program's error_enums step, whose recorded members are plain Enums "
    "(equals_value false), and the only extra rows are its event carrying exactly those members' values",
)
def plain_enum_value_stored(pair: StepPair) -> int:
    legacy, target = pair.legacy, pair.target
    result = legacy.get("result")
    if not str(legacy.get("name", "")).endswith("/error_enums") or not isinstance(result, dict):
        return 0
    members = [*(result.get("categories") or {}).values(), *(result.get("severities") or {}).values()]
    plain = {member.get("value") for member in members if isinstance(member, dict) and member.get("equals_value") is False}
    if not plain:
        return 0
    legacy_keys = [row_key(row) for row in legacy["rows"]]
    extra = [row for row in target["rows"] if row_key(row) not in legacy_keys]
    kept = [row for row in target["rows"] if row_key(row) in legacy_keys]
    if len(kept) != len(legacy["rows"]) or not extra:
        return 0
    for row in extra:
        context = ctx(row)
        if row.get("message") != ENUM_EVENT or {context.get("category"), context.get("severity")} - plain:
            return 0
    target["rows"] = kept
    remove = {("info", ENUM_EVENT)}
    target["printed"] = [item for item in target.get("printed", []) if tuple(item) not in remove or list(item) in legacy.get("printed", [])]
    return len(extra)


def _viewer_key(row: Any) -> tuple[Any, ...] | None:
    if not isinstance(row, dict) or not {"level", "module", "message", "context"} <= row.keys():
        return None
    return row["level"], row["module"], row["message"], json.dumps(row["context"], sort_keys=True, default=str)


def _own_request(step_name: str) -> tuple[str, str] | None:
    """``(method, path)`` of a request step's name (``request/GET /path?q #2 as 1``)."""
    if not step_name.startswith("request/"):
        return None
    method, _, rest = step_name[len("request/") :].partition(" ")
    path = rest.split(" ")[0]
    return (method, path) if method and path.startswith("/") else None


@delta(
    "log-viewer-lists-what-is-stored",
    "a route of the app that lists stored log rows (its log viewer) lists what newlog has stored: also the "
    "events logged outside an app context (see stored-outside-app-context; the legacy handler lost them), "
    "and not yet the rows the same request logged just before (see asynchronous-write; LOG_SYNC_WRITES "
    "writes them in the request); a replay that does not run some steps (the program once the stub is "
    "deleted) does not list their rows. Checked: each extra row is one an outside step stored after the "
    "switch and not before, each missing row was logged by this very request (its method and URL) or by a "
    "step the replay did not run, and without them one list is the start of the other (the route's limit "
    "cuts the rest)",
    client_visible=True,
)
def log_viewer_lists_what_is_stored(pair: StepPair) -> int:
    legacy_list, target_list = pair.legacy.get("result"), pair.target.get("result")
    own = _own_request(str(pair.legacy.get("name", "")))
    if own is None or not (isinstance(legacy_list, list) and isinstance(target_list, list)) or legacy_list == target_list:
        return 0
    if not all(_viewer_key(row) is not None for row in [*legacy_list, *target_list]):
        return 0
    stored_outside: Counter[tuple[Any, ...]] = Counter()
    for step in pair.target_doc["steps"]:
        before = step_named(pair.legacy_doc, step["name"])
        if step.get("place") == "outside" and before is not None and not before["rows"]:
            stored_outside.update(key for key in map(_viewer_key, step["rows"]) if key is not None)
    target_left, changed = [], 0
    for row in target_list:
        key = _viewer_key(row)
        if stored_outside[key] > 0:
            stored_outside[key] -= 1
            changed += 1
        else:
            target_left.append(row)
    method, path = own
    listed = {_viewer_key(row) for row in target_list}
    not_run = set(pair.target_doc.get("not_run") or {})
    from_not_run: Counter[tuple[Any, ...]] = Counter(
        key
        for step in pair.legacy_doc["steps"]
        if step_kind(step) in not_run and step_named(pair.target_doc, step["name"]) is None
        for key in map(_viewer_key, step.get("rows", []))
        if key is not None
    )
    legacy_left = []
    for row in legacy_list:
        context = row["context"] if isinstance(row["context"], dict) else {}
        mine = context.get("method") == method and str(context.get("url", "")).endswith(path)
        key = _viewer_key(row)
        if key not in listed and from_not_run[key] > 0:
            from_not_run[key] -= 1
            changed += 1
        elif mine and key not in listed:
            changed += 1
        else:
            legacy_left.append(row)
    shorter = min(len(target_left), len(legacy_left))
    if not changed or target_left[:shorter] != legacy_left[:shorter]:
        return 0
    pair.target["result"] = list(legacy_list)
    return changed
