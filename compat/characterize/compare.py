"""Compare a legacy characterization document with a target's: allowed deltas first, then any difference fails.

Steps are paired by name. For each pair the deltas of :data:`compat.characterize.deltas.DELTAS`
reconcile exactly the differences they allow (each counts how often it applied); what is
left is reported. ``meta`` is never compared on its own: it is what the deltas consult.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

COMPARED_FIELDS = ("status", "headers", "result", "rows", "printed", "warnings")


@dataclass(frozen=True)
class Difference:
    """One observable difference no allowed delta explains."""

    step: str
    path: str
    legacy: Any
    target: Any

    def __str__(self) -> str:
        return f"{self.step}: {self.path}\n    legacy: {_short(self.legacy)}\n    target: {_short(self.target)}"


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class Report:
    """The outcome: unexplained differences, and how often each allowed delta applied."""

    differences: list[Difference] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """True when every difference is an allowed delta."""
        return not self.differences

    def format(self, limit: int = 50) -> str:
        """Return the report as text: differences first (at most ``limit``), then the deltas applied."""
        lines = []
        if self.differences:
            lines.append(f"{len(self.differences)} difference(s) not covered by an allowed delta:")
            lines.extend(f"  {difference}" for difference in self.differences[:limit])
            if len(self.differences) > limit:
                lines.append(f"  ... and {len(self.differences) - limit} more")
        else:
            lines.append("no differences beyond the allowed deltas")
        if self.applied:
            lines.append("allowed deltas applied: " + ", ".join(f"{name} x{count}" for name, count in sorted(self.applied.items())))
        return "\n".join(lines)


@dataclass
class StepPair:
    """What a delta sees: the two steps (mutable copies) and both whole documents (read-only)."""

    legacy: dict[str, Any]
    target: dict[str, Any]
    legacy_doc: dict[str, Any]
    target_doc: dict[str, Any]
    index: int

    @property
    def meta(self) -> dict[str, Any]:
        """The legacy step's meta (what the legacy module's state was)."""
        return self.legacy.get("meta", {})

    def row_pairs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Return legacy/target rows paired by position in the longest matching (level, module) runs."""
        return align(self.legacy.get("rows", []), self.target.get("rows", []))


def align(legacy_rows: Sequence[dict[str, Any]], target_rows: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pair rows whose (level, module) sequences match (difflib), in order."""
    keys = [(row.get("level"), row.get("module")) for row in legacy_rows]
    other = [(row.get("level"), row.get("module")) for row in target_rows]
    matcher = difflib.SequenceMatcher(None, keys, other, autojunk=False)
    pairs = []
    for block in matcher.get_matching_blocks():
        pairs.extend((legacy_rows[block.a + k], target_rows[block.b + k]) for k in range(block.size))
    return pairs


def compare(legacy_doc: dict[str, Any], target_doc: dict[str, Any], deltas: Sequence[Any] | None = None) -> Report:
    """Return the :class:`Report` of ``target_doc`` against ``legacy_doc`` under ``deltas`` (default: all)."""
    if deltas is None:
        from compat.characterize.deltas import DELTAS

        deltas = DELTAS
    report = Report()
    for key in ("actions", "schema"):
        if legacy_doc.get(key) != target_doc.get(key):
            report.differences.append(Difference("<document>", key, legacy_doc.get(key), target_doc.get(key)))
    legacy_steps = {step["name"]: step for step in legacy_doc["steps"]}
    target_steps = {step["name"]: step for step in target_doc["steps"]}
    for name in [step["name"] for step in target_doc["steps"] if step["name"] not in legacy_steps]:
        report.differences.append(Difference(name, "<step>", None, "only in the target"))
    for index, legacy_step in enumerate(legacy_doc["steps"]):
        name = legacy_step["name"]
        if name not in target_steps:
            report.differences.append(Difference(name, "<step>", "only in the legacy run", None))
            continue
        pair = StepPair(copy.deepcopy(legacy_step), copy.deepcopy(target_steps[name]), legacy_doc, target_doc, index)
        for delta in deltas:
            count = delta.apply(pair)
            if count:
                report.applied[delta.name] += count
        report.differences.extend(diff_steps(name, pair.legacy, pair.target))
    return report


def diff_steps(name: str, legacy: dict[str, Any], target: dict[str, Any]) -> list[Difference]:
    """Return the differences of the compared fields of two steps."""
    found: list[Difference] = []
    for key in COMPARED_FIELDS:
        left, right = legacy.get(key), target.get(key)
        if key == "rows" and left is not None and right is not None and len(left) != len(right):
            found.append(Difference(name, "rows (level, module, message)", _row_keys(left), _row_keys(right)))
            continue
        if key in ("printed", "warnings"):
            left, right = sorted(map(tuple_or_str, left or [])), sorted(map(tuple_or_str, right or []))
        found.extend(_diff(name, key, left, right))
    return found


def tuple_or_str(value: Any) -> Any:
    """Return lists as tuples (hashable, sortable); other values unchanged."""
    return tuple(value) if isinstance(value, list) else value


def _row_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [f"{row.get('level')} {row.get('module')}: {row.get('message')}" for row in rows]


def _diff(step: str, path: str, left: Any, right: Any) -> list[Difference]:
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            if key not in left:
                found.append(Difference(step, f"{path}.{key}", "<absent>", right[key]))
            elif key not in right:
                found.append(Difference(step, f"{path}.{key}", left[key], "<absent>"))
            else:
                found.extend(_diff(step, f"{path}.{key}", left[key], right[key]))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right) and path.startswith("rows"):
        found = []
        for index, (a, b) in enumerate(zip(left, right)):
            found.extend(_diff(step, f"{path}[{index}]", a, b))
        return found
    if left != right:
        return [Difference(step, path, left, right)]
    return []
