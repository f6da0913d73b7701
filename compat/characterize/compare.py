"""Compare a legacy characterization document with a target's: allowed deltas first, then any difference fails.

Steps are paired by name. For each pair the deltas of :data:`compat.characterize.deltas.DELTAS`
reconcile exactly the differences they allow, in order; each reconciled difference is kept
with the delta's name, what is left is "not allowed". ``meta`` is never compared on its own:
it is what the deltas consult.

One rule no delta can bend: a context key that a legacy row carried with a value and that
the paired target row lacks is a difference (``missing after``), whatever the deltas did.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

COMPARED_FIELDS = ("raised", "answered_by", "status", "headers", "result", "rows", "printed", "warnings")
"""The fields of a step that are compared (``meta`` and ``detail`` fields are not)."""

ABSENT = "<absent>"
NOT_ALLOWED = "not allowed"


@dataclass(frozen=True)
class Difference:
    """One observable difference: ``delta`` names the allowed delta that reconciled it (None: not allowed)."""

    step: str
    kind: str
    path: str
    legacy: Any
    target: Any
    delta: str | None = None

    @property
    def field(self) -> str:
        """The path without list indexes (``rows[3].context.host`` -> ``rows.context.host``): the grouping key."""
        return _strip_indexes(self.path)

    def __str__(self) -> str:
        return f"{self.step}: {self.path}\n    before: {short(self.legacy)}\n    after:  {short(self.target)}"


def _strip_indexes(path: str) -> str:
    out, depth = [], 0
    for char in path:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def short(value: Any, limit: int = 200) -> str:
    """Return ``value`` as one line of JSON, cut at ``limit`` characters."""
    text = value if isinstance(value, str) and value == ABSENT else json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


@dataclass
class Report:
    """The outcome of a comparison: not-allowed differences, reconciled ones, and delta counts."""

    differences: list[Difference] = field(default_factory=list)
    reconciled: list[Difference] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    steps: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every difference is an allowed delta."""
        return not self.differences

    def format(self, limit: int = 20) -> str:
        """Return the report as text (see :mod:`compat.characterize.report`)."""
        from compat.characterize.report import format_text

        return format_text(self, limit=limit)


@dataclass
class StepPair:
    """What a delta sees: the two steps (mutable copies) and both whole documents (read-only)."""

    legacy: dict[str, Any]
    target: dict[str, Any]
    legacy_doc: dict[str, Any]
    target_doc: dict[str, Any]
    index: int
    moved: set[tuple[int, str]] = field(default_factory=set)
    """``(id(legacy row), context key)`` a delta showed to be carried elsewhere in the target row (see :meth:`move`)."""

    def move(self, legacy_row: dict[str, Any], key: str) -> None:
        """Record that ``key`` of ``legacy_row``'s context is carried elsewhere in its target row (not lost).

        Only for a delta that checked it (the arguments are formatted into the message): any
        other key a legacy row had and its target row lacks stays a difference.
        """
        self.moved.add((id(legacy_row), key))

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


def step_kind(step: dict[str, Any]) -> str:
    """Return the kind of a step: program, request, cli, call, login, startup."""
    return str(step.get("kind") or ("program" if str(step.get("name", "")).startswith("program/") else step.get("place", "?")))


def compare(legacy_doc: dict[str, Any], target_doc: dict[str, Any], deltas: Sequence[Any] | None = None) -> Report:
    """Return the :class:`Report` of ``target_doc`` against ``legacy_doc`` under ``deltas`` (default: all)."""
    if deltas is None:
        from compat.characterize.deltas import DELTAS

        deltas = DELTAS
    report = Report()
    for key in ("schema",):
        if legacy_doc.get(key) != target_doc.get(key):
            report.differences.append(Difference("<document>", "document", key, legacy_doc.get(key), target_doc.get(key)))
    legacy_steps = {step["name"]: step for step in legacy_doc["steps"]}
    target_steps = {step["name"]: step for step in target_doc["steps"]}
    skipped_kinds = set(target_doc.get("not_run") or {})
    for step in target_doc["steps"]:
        if step["name"] not in legacy_steps:
            report.differences.append(Difference(step["name"], step_kind(step), "<step>", "<not run>", "run only after"))
    for index, legacy_step in enumerate(legacy_doc["steps"]):
        name, kind = legacy_step["name"], step_kind(legacy_step)
        if name not in target_steps:
            if kind in skipped_kinds:
                report.steps[f"{kind} (not run after)"] += 1
                continue
            report.differences.append(Difference(name, kind, "<step>", "run only before", "<not run>"))
            continue
        report.steps[kind] += 1
        pair = StepPair(copy.deepcopy(legacy_step), copy.deepcopy(target_steps[name]), legacy_doc, target_doc, index)
        originals = {id(row): copy.deepcopy(row.get("context")) for row in pair.legacy.get("rows", [])}
        for item in deltas:
            before = diff_steps(name, kind, pair.legacy, pair.target)
            count = item.apply(pair)
            if not count:
                continue
            report.applied[item.name] += count
            after = {_identity(d) for d in diff_steps(name, kind, pair.legacy, pair.target)}
            report.reconciled.extend(
                Difference(d.step, d.kind, d.path, d.legacy, d.target, item.name) for d in before if _identity(d) not in after
            )
        report.differences.extend(diff_steps(name, kind, pair.legacy, pair.target))
        report.differences.extend(_missing_after(name, kind, pair, originals))
    for kind, reason in (target_doc.get("not_run") or {}).items():
        report.notes.append(f"{kind} steps not compared: {reason}")
    return report


def _identity(difference: Difference) -> tuple[str, str, str]:
    return difference.path, short(difference.legacy, 10_000), short(difference.target, 10_000)


def _missing_after(name: str, kind: str, pair: StepPair, originals: dict[int, Any]) -> Iterator[Difference]:
    """Yield a difference for every valued legacy row key the paired target row lacks and no diff reports."""
    legacy_rows = pair.legacy.get("rows", [])
    for legacy_row, target_row in pair.row_pairs():
        original = originals.get(id(legacy_row))
        if not isinstance(original, dict):
            continue
        index = next(i for i, row in enumerate(legacy_rows) if row is legacy_row)
        current = legacy_row.get("context") if isinstance(legacy_row.get("context"), dict) else {}
        target_context = target_row.get("context") if isinstance(target_row.get("context"), dict) else {}
        for path, value in _valued_paths(original):
            if (id(legacy_row), path[0]) in pair.moved:
                continue
            if _lookup(target_context, path) is _MISSING and _lookup(current, path) is _MISSING:
                yield Difference(name, kind, f"rows[{index}].context.{'.'.join(path)}", value, ABSENT)


_MISSING = object()


def _valued_paths(context: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in context.items():
        if value is None:
            continue
        if isinstance(value, dict) and value:
            yield from _valued_paths(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def diff_steps(name: str, kind: str, legacy: dict[str, Any], target: dict[str, Any]) -> list[Difference]:
    """Return the differences of the compared fields of two steps."""
    found: list[Difference] = []
    for key in COMPARED_FIELDS:
        left, right = legacy.get(key), target.get(key)
        if key == "rows" and left is not None and right is not None and len(left) != len(right):
            found.append(Difference(name, kind, "rows (level, module, message)", _row_keys(left), _row_keys(right)))
            continue
        if key in ("printed", "warnings"):
            left, right = sorted(map(tuple_or_str, left or [])), sorted(map(tuple_or_str, right or []))
        found.extend(_diff(name, kind, key, left, right))
    return found


def tuple_or_str(value: Any) -> Any:
    """Return lists as tuples (hashable, sortable); other values unchanged."""
    return tuple(value) if isinstance(value, list) else value


def _row_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [f"{row.get('level')} {row.get('module')}: {row.get('message')}" for row in rows]


def _diff(step: str, kind: str, path: str, left: Any, right: Any) -> list[Difference]:
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            if key not in left:
                found.append(Difference(step, kind, f"{path}.{key}", ABSENT, right[key]))
            elif key not in right:
                found.append(Difference(step, kind, f"{path}.{key}", left[key], ABSENT))
            else:
                found.extend(_diff(step, kind, f"{path}.{key}", left[key], right[key]))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right) and path.startswith("rows"):
        found = []
        for index, (a, b) in enumerate(zip(left, right)):
            found.extend(_diff(step, kind, f"{path}[{index}]", a, b))
        return found
    if left != right:
        return [Difference(step, kind, path, left, right)]
    return []
