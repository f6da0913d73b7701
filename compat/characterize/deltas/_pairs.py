"""What the deltas read in a step pair: row contexts, error payloads, error rows, the legacy view-call count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compat.characterize.compare import StepPair

Context = dict[str, Any]


def ctx(row: dict[str, Any]) -> Context:
    """Return the row's context dict (an empty dict when it has none)."""
    context = row.get("context")
    return context if isinstance(context, dict) else {}


def context_pairs(pair: StepPair) -> Iterator[tuple[Context, Context]]:
    """Yield the (legacy, target) contexts of the paired rows."""
    for legacy_row, target_row in pair.row_pairs():
        yield ctx(legacy_row), ctx(target_row)


def result_contexts(pair: StepPair) -> Iterator[tuple[Context, Context]]:
    """Yield the (legacy, target) get_context() results of a step, at its ``context_results`` paths."""
    for path in pair.meta.get("context_results", []):
        legacy_value, target_value = at(pair.legacy.get("result"), path), at(pair.target.get("result"), path)
        if isinstance(legacy_value, dict) and isinstance(target_value, dict):
            yield legacy_value, target_value


def row_key(row: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Return (level, module, message) of a row."""
    return row.get("level"), row.get("module"), row.get("message")


def at(data: Any, path: str) -> Any:
    """Return the value at the dotted ``path`` of nested dicts (None when absent)."""
    for part in [p for p in path.split(".") if p]:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def payloads(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (path, payload) for every legacy-shaped error payload inside a result."""
    if isinstance(value, dict):
        if value.get("error") is True and "error_id" in value and "category" in value:
            yield path, value
        for key, item in value.items():
            yield from payloads(item, f"{path}.{key}")


def payload_pairs(pair: StepPair) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield the (legacy, target) error payloads found at the same place of both results."""
    targets = dict(payloads(pair.target.get("result")))
    for path, legacy_payload in payloads(pair.legacy.get("result")):
        if path in targets:
            yield legacy_payload, targets[path]


def error_rows(pair: StepPair) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Return the paired rows both logged by the error handler (module ``error_handler``)."""
    return [(a, b) for a, b in pair.row_pairs() if a.get("module") == "error_handler" and b.get("module") == "error_handler"]


def calls(step: dict[str, Any]) -> int | None:
    """Return how often the step's view ran (program result ``calls`` or the X-View-Calls header)."""
    result = step.get("result")
    if isinstance(result, dict) and isinstance(result.get("calls"), int):
        return result["calls"]
    header = (step.get("headers") or {}).get("X-View-Calls")
    return int(header) if isinstance(header, str) and header.isdigit() else None


def set_calls(step: dict[str, Any], count: int) -> None:
    """Set the step's view-call count wherever :func:`calls` read it."""
    if isinstance(step.get("result"), dict) and "calls" in step["result"]:
        step["result"]["calls"] = count
    if "X-View-Calls" in (step.get("headers") or {}):
        step["headers"]["X-View-Calls"] = str(count)


def remove_printed(step: dict[str, Any], entry: list[str]) -> int:
    """Remove ``entry`` from the step's printed events; return how many were removed."""
    before = len(step.get("printed", []))
    step["printed"] = [item for item in step.get("printed", []) if list(item) != entry]
    return before - len(step["printed"])


def step_named(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Return the step of ``doc`` called ``name``."""
    return next((step for step in doc["steps"] if step["name"] == name), None)


def twin(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Return the step running the same program action inside an app context."""
    return step_named(doc, name.replace("program/outside/", "program/app_context/", 1))
