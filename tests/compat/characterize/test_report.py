"""The report: differences grouped by (kind of step, field, delta or "not allowed"), largest first, summary last."""

from __future__ import annotations

import json
from collections import Counter

from compat.characterize.compare import ABSENT, Difference, Report
from compat.characterize.report import format_text, group, to_json


def report() -> Report:
    host = [Difference(f"request/GET /p{i}", "request", f"rows[{i}].context.host", "<host>", ABSENT) for i in range(3)]
    status = [Difference("request/GET /orders", "request", "status", 200, 500)]
    program_host = [Difference("program/request/log_levels", "program", "rows[0].context.host", "<host>", ABSENT)]
    reconciled = [
        Difference("program/request/a", "program", "result.payload.error_id", "<uuid>", "<hex32>", "error-id-hex"),
        Difference("program/request/b", "program", "result.payload.error_id", "<uuid>", "<hex32>", "error-id-hex"),
        Difference("request/GET /x", "request", "printed", [], [["info", "x"]], "printed-every-event"),
    ]
    return Report(
        differences=status + host + program_host,
        reconciled=reconciled,
        applied=Counter({"error-id-hex": 2, "printed-every-event": 1}),
        steps=Counter({"request": 5, "program": 3}),
    )


def test_groups_are_by_kind_field_and_delta_largest_first_with_their_first_example() -> None:
    groups = group(report().differences)

    assert [(g.kind, g.field, g.delta, g.count) for g in groups] == [
        ("request", "rows.context.host", "not allowed", 3),
        ("program", "rows.context.host", "not allowed", 1),
        ("request", "status", "not allowed", 1),
    ]
    assert groups[0].example.step == "request/GET /p0"


def test_text_shows_the_groups_then_the_client_visible_deltas_and_ends_with_the_summary() -> None:
    text = format_text(report(), limit=2)
    lines = text.splitlines()

    assert lines[0] == "not allowed: 5 difference(s) in 3 group(s), largest first"
    assert lines[1] == "     3x  request  rows.context.host"
    assert lines[2] == "         e.g. request/GET /p0: rows[0].context.host"
    assert lines[3:5] == ['              before: "<host>"', "              after:  <absent>"]
    assert "  ... 1 more group(s) (--limit 0 shows all)" in lines
    assert any(line.startswith("  2x error-id-hex: error_id is uuid4().hex") for line in lines)
    assert "printed-every-event" not in text, "without --deltas only client-visible deltas are listed"
    assert lines[-1] == (
        "summary: 8 steps compared (3 program, 5 request); 5 difference(s) not allowed in 3 group(s); "
        "3 difference(s) reconciled by 2 allowed delta(s) (1 client-visible)"
    )


def test_deltas_lists_only_the_deltas_that_applied_with_counts_and_fields() -> None:
    text = format_text(report(), show_deltas=True)

    section = text[text.index("allowed deltas applied") :]
    assert section.splitlines()[0] == "allowed deltas applied (2), most used first:"
    assert "  error-id-hex: applied 2x - error_id is uuid4().hex" in section
    assert "         2x  program  result.payload.error_id   e.g. program/request/a: result.payload.error_id" in section
    assert "  printed-every-event: applied 1x - one renderer" in section
    assert "asynchronous-write" not in section


def test_json_holds_every_group_the_deltas_and_the_summary() -> None:
    document = json.loads(json.dumps(to_json(report())))

    assert document["summary"]["not_allowed"] == 5 and document["summary"]["ok"] is False
    assert document["summary"]["client_visible_deltas"] == ["error-id-hex"]
    assert [(g["field"], g["count"]) for g in document["not_allowed"]] == [("rows.context.host", 3), ("rows.context.host", 1), ("status", 1)]
    assert document["not_allowed"][0]["example"] == {"step": "request/GET /p0", "path": "rows[0].context.host", "before": "<host>", "after": "<absent>"}
    assert [(g["delta"], g["count"]) for g in document["allowed"]] == [("error-id-hex", 2), ("printed-every-event", 1)]
    assert [(d["name"], d["count"], d["client_visible"]) for d in document["deltas_applied"]] == [
        ("error-id-hex", 2, True),
        ("printed-every-event", 1, False),
    ]
    assert to_json(report(), limit=1)["not_allowed_groups_not_shown"] == 2


def test_a_clean_report_says_so() -> None:
    text = format_text(Report(steps=Counter({"program": 2})))

    assert text.splitlines()[0] == "no differences beyond the allowed deltas"
    assert text.splitlines()[-1].startswith("summary: 2 steps compared (2 program); OK: only allowed deltas;")
