"""Exception deltas: which tracebacks a row stores."""

from __future__ import annotations

from compat.characterize.compare import StepPair
from compat.characterize.deltas import delta
from compat.characterize.deltas._pairs import ctx
from compat.characterize.normalize import normalize_traceback

@delta(
    "traceback-of-exception-argument",
    "log_error/log_critical(exception=e) store e's traceback even outside an except block; legacy passed "
    "exc_info=True, which only sees the exception being handled (no traceback)",
)
def traceback_of_exception_argument(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in pair.row_pairs():
        error = ctx(target_row).get("error")
        traceback = target_row.get("traceback")
        if legacy_row.get("traceback") is None and isinstance(error, str) and traceback and ctx(legacy_row).get("error") == error:
            if traceback.endswith(normalize_traceback(error) or "\0"):
                legacy_row["traceback"] = traceback
                count += 1
    return count


@delta(
    "traceback-of-handled-exception",
    "log_error/log_critical without exception= inside an except block store the handled exception's "
    "traceback; legacy stored none",
)
def traceback_of_handled_exception(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in pair.row_pairs():
        traceback = target_row.get("traceback") or ""
        if (
            legacy_row.get("traceback") is None
            and legacy_row.get("level") in ("ERROR", "CRITICAL")
            and "error" not in ctx(legacy_row)
            and "error" not in ctx(target_row)
            and traceback.startswith("Traceback (most recent call last):")
        ):
            legacy_row["traceback"] = traceback
            count += 1
    return count

