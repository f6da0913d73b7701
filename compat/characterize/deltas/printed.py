"""Printed-output deltas: what reaches stdout/stderr, and how often."""

from __future__ import annotations

from compat.characterize.compare import StepPair
from compat.characterize.deltas import delta
from compat.characterize.deltas._pairs import remove_printed

LEGACY_WRITE_ERROR_LINES = (
    "Error in SQLAlchemyLogHandler: {e}",
    "Failed to save log entry to database: {e}",
    "Error building log entry: {e}",
)


@delta(
    "printed-every-event",
    "one renderer: newlog prints every event as one JSON line on stdout; the legacy chain rendered each "
    "event twice (a console line, then JSON-quoted) and, with no stdlib handler configured, only WARNING "
    "and above reached stderr. Extra printed INFO events must be rows of the same step",
)
def printed_every_event(pair: StepPair) -> int:
    stored = {("info", row.get("message")) for row in pair.target["rows"] if row.get("level") == "INFO"}
    legacy_printed = {tuple(item) for item in pair.legacy.get("printed", [])}
    before = len(pair.target.get("printed", []))
    pair.target["printed"] = [
        item for item in pair.target.get("printed", []) if not (tuple(item) in stored and tuple(item) not in legacy_printed)
    ]
    return before - len(pair.target["printed"])


@delta(
    "debug-switch-works",
    "set_debug_logging_enabled(enabled=True) / ENABLE_DEBUG_LOG really turns DEBUG on: the events are "
    "printed (not stored, LOG_DB_LEVEL is INFO); the legacy module dropped DEBUG twice even with the "
    "switch on",
)
def debug_switch_works(pair: StepPair) -> int:
    if not pair.meta.get("debug"):
        return 0
    if any(item[0] == "debug" for item in pair.legacy.get("printed", [])):
        return 0
    before = len(pair.target.get("printed", []))
    pair.target["printed"] = [item for item in pair.target.get("printed", []) if item[0] != "debug"]
    return before - len(pair.target["printed"])


@delta(
    "legacy-write-error-lines",
    "the legacy handler printed 'Error in SQLAlchemyLogHandler: {e}' (literally: an f-string bug) for "
    "every event it failed to store; newlog does not fail there",
)
def legacy_write_error_lines(pair: StepPair) -> int:
    target_printed = pair.target.get("printed", [])
    return sum(remove_printed(pair.legacy, ["raw", line]) for line in LEGACY_WRITE_ERROR_LINES if ["raw", line] not in target_printed)


@delta(
    "stdlib-exception-traceback",
    "legacy logger.exception() ended in stdlib Logger.exception(), which printed the handled traceback a "
    "second time as plain lines after the rendered event; newlog prints the event (with its traceback) "
    "once",
)
def stdlib_exception_traceback(pair: StepPair) -> int:
    stored = {
        (row.get("traceback") or "").splitlines()[-1]
        for row in pair.legacy["rows"]
        if row.get("level") in ("ERROR", "CRITICAL") and row.get("traceback")
    }
    count = 0
    for item in list(pair.legacy.get("printed", [])):
        if item[0] == "traceback" and item[1] in stored and list(item) not in pair.target.get("printed", []):
            count += remove_printed(pair.legacy, list(item))
    return count

