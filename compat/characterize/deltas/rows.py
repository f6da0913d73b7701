"""Row-set deltas: rows one side wrote and the other did not, or wrote later."""

from __future__ import annotations

from collections import Counter
from typing import Any

from compat.characterize.compare import StepPair
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

