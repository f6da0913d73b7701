"""The comparison report: differences grouped by (kind of step, field, delta or "not allowed"), as text or JSON.

A group collects the differences of one kind of step (program, request, cli, call, login,
startup) at one field (``rows.context.host``: the path without list indexes) that one
allowed delta reconciled, or that none did ("not allowed"). Groups are sorted by size and
show one example each; the summary comes last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from compat.characterize.compare import NOT_ALLOWED, Difference, Report, short

DEFAULT_TEXT_LIMIT = 20


@dataclass(frozen=True)
class Group:
    """Differences sharing (kind, field, delta); ``example`` is the first one met."""

    kind: str
    field: str
    delta: str
    count: int
    example: Difference

    def as_json(self) -> dict[str, Any]:
        """Return the group as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "field": self.field,
            "delta": self.delta,
            "count": self.count,
            "example": {
                "step": self.example.step,
                "path": self.example.path,
                "before": self.example.legacy,
                "after": self.example.target,
            },
        }


def group(differences: Iterable[Difference]) -> list[Group]:
    """Return the groups of ``differences``, largest first (ties: by kind, field, delta)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], Difference] = {}
    for difference in differences:
        key = (difference.kind, difference.field, difference.delta or NOT_ALLOWED)
        counts[key] += 1
        examples.setdefault(key, difference)
    return [
        Group(*key, count, examples[key])  # type: ignore[misc]
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _deltas_by_name() -> dict[str, Any]:
    from compat.characterize.deltas import by_name

    return by_name()


def _limited(groups: list[Group], limit: int | None) -> tuple[list[Group], int]:
    if not limit or limit >= len(groups):
        return groups, 0
    return groups[:limit], len(groups) - limit


def summary(report: Report) -> dict[str, Any]:
    """Return the figures of the summary line."""
    deltas = _deltas_by_name()
    visible = sorted(name for name in report.applied if name in deltas and deltas[name].client_visible)
    return {
        "steps_compared": sum(count for kind, count in report.steps.items() if not kind.endswith("(not run after)")),
        "steps_by_kind": dict(sorted(report.steps.items())),
        "not_allowed": len(report.differences),
        "not_allowed_groups": len(group(report.differences)),
        "reconciled": len(report.reconciled),
        "deltas_applied": len(report.applied),
        "client_visible_deltas": visible,
        "ok": report.ok,
    }


def format_text(report: Report, *, limit: int | None = DEFAULT_TEXT_LIMIT, show_deltas: bool = False) -> str:
    """Return the report as text: not-allowed groups, client-visible deltas, (``show_deltas``) every delta applied, summary."""
    lines: list[str] = []
    not_allowed = group(report.differences)
    if not_allowed:
        shown, hidden = _limited(not_allowed, limit)
        lines.append(f"not allowed: {len(report.differences)} difference(s) in {len(not_allowed)} group(s), largest first")
        for item in shown:
            lines.extend(_group_lines(item))
        if hidden:
            lines.append(f"  ... {hidden} more group(s) (--limit 0 shows all)")
    else:
        lines.append("no differences beyond the allowed deltas")
    deltas = _deltas_by_name()
    visible = [name for name, _ in report.applied.most_common() if name in deltas and deltas[name].client_visible]
    if visible:
        lines.append("")
        lines.append("client-visible changes (allowed deltas that change what HTTP clients receive; see MIGRATION.md):")
        lines.extend(f"  {report.applied[name]}x {name}: {deltas[name].reason}" for name in visible)
    if show_deltas:
        lines.append("")
        lines.extend(_delta_lines(report, limit))
    if report.notes:
        lines.append("")
        lines.extend(f"note: {note}" for note in report.notes)
    lines.append("")
    lines.append(_summary_line(report))
    return "\n".join(lines)


def _group_lines(item: Group, indent: str = "  ") -> list[str]:
    example = item.example
    return [
        f"{indent}{item.count:>4}x  {item.kind}  {item.field}" + ("" if item.delta == NOT_ALLOWED else f"  [{item.delta}]"),
        f"{indent}       e.g. {example.step}: {example.path}",
        f"{indent}            before: {short(example.legacy)}",
        f"{indent}            after:  {short(example.target)}",
    ]


def _delta_lines(report: Report, limit: int | None) -> list[str]:
    if not report.applied:
        return ["allowed deltas applied: none"]
    deltas = _deltas_by_name()
    lines = [f"allowed deltas applied ({len(report.applied)}), most used first:"]
    groups = group(report.reconciled)
    for name, count in report.applied.most_common():
        reason = deltas[name].reason if name in deltas else "(not a registered delta)"
        lines.append(f"  {name}: applied {count}x - {reason}")
        own, hidden = _limited([item for item in groups if item.delta == name], limit)
        for item in own:
            lines.append(f"      {item.count:>4}x  {item.kind}  {item.field}   e.g. {item.example.step}: {item.example.path}")
        if hidden:
            lines.append(f"      ... {hidden} more field(s)")
    return lines


def _summary_line(report: Report) -> str:
    figures = summary(report)
    kinds = ", ".join(f"{count} {kind}" for kind, count in figures["steps_by_kind"].items())
    verdict = "OK: only allowed deltas" if report.ok else f"{figures['not_allowed']} difference(s) not allowed in {figures['not_allowed_groups']} group(s)"
    return (
        f"summary: {figures['steps_compared']} steps compared ({kinds}); {verdict}; "
        f"{figures['reconciled']} difference(s) reconciled by {figures['deltas_applied']} allowed delta(s)"
        + (f" ({len(figures['client_visible_deltas'])} client-visible)" if figures["client_visible_deltas"] else "")
    )


def to_json(report: Report, *, limit: int | None = None) -> dict[str, Any]:
    """Return the report as a JSON-ready dict (``limit`` caps each list of groups; None: all)."""
    deltas = _deltas_by_name()
    not_allowed, hidden = _limited(group(report.differences), limit)
    allowed, hidden_allowed = _limited(group(report.reconciled), limit)
    return {
        "summary": summary(report),
        "not_allowed": [item.as_json() for item in not_allowed],
        "not_allowed_groups_not_shown": hidden,
        "allowed": [item.as_json() for item in allowed],
        "allowed_groups_not_shown": hidden_allowed,
        "deltas_applied": [
            {
                "name": name,
                "count": count,
                "reason": deltas[name].reason if name in deltas else None,
                "client_visible": bool(name in deltas and deltas[name].client_visible),
            }
            for name, count in report.applied.most_common()
        ],
        "notes": list(report.notes),
    }
