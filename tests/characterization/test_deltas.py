"""Each allowed delta reconciles exactly its difference: an accepted case, and a near miss it must not accept.

The cases are small synthetic documents; the suite's real documents are in
``test_characterization.py``. A delta without a case here fails ``test_every_delta_has_cases``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from compat.characterize.compare import compare
from compat.characterize.deltas import DELTAS, Delta, by_name
from compat.characterize.deltas.errors import LEGACY_SUGGESTIONS

NETWORK_SUGGESTIONS = ["Check your connection and try again.", "The remote service may be slow or down; retry in a moment."]
TRACEBACK = "Traceback (most recent call last):\nValueError: bad value"


def step(
    name: str = "program/app_context/act",
    place: str = "app_context",
    rows: list[dict[str, Any]] | None = None,
    printed: list[list[str]] | None = None,
    meta: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "place": place,
        "rows": rows or [],
        "printed": printed or [],
        "warnings": fields.pop("warnings", []),
        "meta": {"global_context": {}, "debug": False, **(meta or {})},
        **fields,
    }


def row(message: str = "Event", level: str = "INFO", module: str = "characterize", traceback: str | None = None, **context: Any) -> dict[str, Any]:
    return {"level": level, "module": module, "message": message, "traceback": traceback, "context": context}


def payload(**fields: Any) -> dict[str, Any]:
    return {"error": True, "error_id": "<hex32>", "category": "validation", "severity": "low", **fields}


def str_enum(value: str) -> dict[str, Any]:
    return {"enum": "newlog.error_adapter.ErrorCategory", "value": value, "equals_value": True}


def error_row(message: str, **context: Any) -> dict[str, Any]:
    return row(message, level="ERROR", module="error_handler", **context)


@dataclass
class Case:
    """Legacy and target steps (the last one is the step under test; earlier ones are context)."""

    legacy: list[dict[str, Any]]
    target: list[dict[str, Any]]
    note: str = field(default="")


def one(legacy: dict[str, Any], target: dict[str, Any]) -> Case:
    return Case([legacy], [target])


ENUM_EVENT = "Characterize enum in an event"
OUTSIDE = row("System", "WARNING", "system", app_version="unbekannt")
IN_APP = row("System", "WARNING", "system", app_version="3.2.1")
IN_REQUEST = row("System", "WARNING", "system", app_version="3.2.1", request_id="<present>")
OWN = row("Admin access", "INFO", "auth", method="GET", url="http://localhost/admin/logs?limit=3")


def viewer(listed: list[dict[str, Any]]) -> dict[str, Any]:
    """A request step of the app's log viewer: its answer lists stored rows."""
    return step("request/GET /admin/logs?limit=3", "request", kind="request", result=listed)


def enums(*, plain: bool) -> dict[str, Any]:
    def member(value: str) -> dict[str, Any]:
        return {"enum": "app.constants.E", "value": value, "equals_value": not plain}

    return {"categories": {"DATABASE": member("database")}, "severities": {"HIGH": member("high")}}


PLAIN_ENUMS, STR_ENUMS = enums(plain=True), enums(plain=False)


CASES: dict[str, tuple[Case, Case]] = {
    "asynchronous-write": (
        one(step(rows=[row()], result={"rows_visible_right_after_logging": 1}), step(rows=[row()], result={"rows_visible_right_after_logging": 0})),
        one(step(rows=[row()], result={"rows_visible_right_after_logging": 1}), step(rows=[], result={"rows_visible_right_after_logging": 0})),
    ),
    "error-handler-runs-once": (
        one(
            step(rows=[row("Call", attempt=1), row("ValueError: bad", "WARNING", "error_handler"), row("Call", attempt=2)], result={"calls": 2}),
            step(rows=[row("Call", attempt=1), row("ValueError: bad", "WARNING", "error_handler")], result={"calls": 1}),
        ),
        one(
            step(rows=[row("Call"), row("ValueError: bad", "WARNING", "error_handler"), row("Something else")], result={"calls": 2}),
            step(rows=[row("Call"), row("ValueError: bad", "WARNING", "error_handler")], result={"calls": 1}),
        ),
    ),
    "error-monitor-logs-once": (
        one(
            step(
                rows=[error_row("RuntimeError: x", extra={"function": "task"}), row("Error in monitored function task", "ERROR", "error_monitor")],
                printed=[["error", "Error in monitored function task"], ["error", "RuntimeError: x"]],
            ),
            step(rows=[error_row("RuntimeError: x", extra={"function": "task"})], printed=[["error", "RuntimeError: x"]]),
        ),
        one(
            step(rows=[error_row("RuntimeError: x", extra={"function": "task"}), row("Error in monitored function task", "ERROR", "error_monitor")]),
            step(rows=[error_row("RuntimeError: x")]),
        ),
    ),
    "printed-every-event": (
        one(step(rows=[row("Stored")]), step(rows=[row("Stored")], printed=[["info", "Stored"]])),
        one(step(rows=[row("Stored")]), step(rows=[row("Stored")], printed=[["info", "Never stored"]])),
    ),
    "debug-switch-works": (
        one(step(meta={"debug": True}), step(meta={"debug": True}, printed=[["debug", "Details"]])),
        one(step(), step(printed=[["debug", "Details"]])),
    ),
    "legacy-write-error-lines": (
        one(step(printed=[["raw", "Error in SQLAlchemyLogHandler: {e}"]]), step()),
        one(step(printed=[["raw", "Error in SQLAlchemyLogHandler: disk full"]]), step()),
    ),
    "stdlib-exception-traceback": (
        one(step(rows=[row("Failed", "ERROR", traceback=TRACEBACK)], printed=[["traceback", "ValueError: bad value"]]), step(rows=[row("Failed", "ERROR", traceback=TRACEBACK)])),
        one(step(rows=[row("Failed", "ERROR", traceback=TRACEBACK)], printed=[["traceback", "KeyError: 'other'"]]), step(rows=[row("Failed", "ERROR", traceback=TRACEBACK)])),
    ),
    "log-viewer-lists-what-is-stored": (
        Case(
            [step("program/outside/act", "outside"), viewer([OWN, IN_APP, IN_REQUEST])],
            [step("program/outside/act", "outside", rows=[OUTSIDE]), viewer([OUTSIDE, IN_APP, IN_REQUEST])],
        ),
        Case(  # the new row pushed out a row the legacy listed, but the one left is not the legacy's first
            [step("program/outside/act", "outside"), viewer([IN_APP, IN_REQUEST])],
            [step("program/outside/act", "outside", rows=[OUTSIDE]), viewer([OUTSIDE, IN_REQUEST])],
        ),
    ),
    "plain-enum-value-stored": (
        one(
            step("program/request/error_enums", "request", rows=[row("POST -> 200", module="http")], result=PLAIN_ENUMS),
            step(
                "program/request/error_enums",
                "request",
                rows=[row(ENUM_EVENT, category="database", severity="high"), row("POST -> 200", module="http")],
                result=PLAIN_ENUMS,
            ),
        ),
        one(  # str Enums: the legacy handler could write them, so a missing row there is a real loss
            step("program/request/error_enums", "request", rows=[row("POST -> 200", module="http")], result=STR_ENUMS),
            step(
                "program/request/error_enums",
                "request",
                rows=[row(ENUM_EVENT, category="database", severity="high"), row("POST -> 200", module="http")],
                result=STR_ENUMS,
            ),
        ),
    ),
    "stored-outside-app-context": (
        Case(
            [step("program/app_context/act", printed=[["warning", "W"]]), step("program/outside/act", "outside", printed=[["warning", "W"]])],
            [
                step("program/app_context/act", rows=[row("W", "WARNING")], printed=[["warning", "W"]]),
                step("program/outside/act", "outside", rows=[row("W", "WARNING")], printed=[["warning", "W"]]),
            ],
            note="the app-context twin differs too (no row in legacy): only the outside step is checked",
        ),
        Case(
            [step("program/app_context/act"), step("program/outside/act", "outside")],
            [step("program/app_context/act", rows=[row("W")]), step("program/outside/act", "outside", rows=[row("W"), row("Extra")])],
        ),
    ),
    "log-table-report": (
        Case(
            [step("request/a", rows=[row("A"), row("B")]), step("request/report", meta={"log_table_report": ["total"]}, result={"total": 2})],
            [step("request/a", rows=[row("A"), row("B"), row("C")]), step("request/report", meta={"log_table_report": ["total"]}, result={"total": 3})],
        ),
        Case(
            [step("request/a", rows=[row("A"), row("B")]), step("request/report", meta={"log_table_report": ["total"]}, result={"total": 2})],
            [step("request/a", rows=[row("A"), row("B"), row("C")]), step("request/report", meta={"log_table_report": ["total"]}, result={"total": 4})],
        ),
    ),
    "contextvar-scope": (
        one(
            step(meta={"global_context": {"region": "local"}, "context_results": ["context"]}, result={"context": {"region": "local", "a": 1}}),
            step(result={"context": {"a": 1}}),
        ),
        one(
            step(meta={"global_context": {"region": "local"}}, rows=[row(region="local")], result={"context": {"region": "local"}}),
            step(rows=[row()], result={"context": {}}),
        ),
    ),
    "request-ids-in-log-context": (
        one(
            step(place="request", meta={"context_results": ["context"]}, result={"context": {"tenant": "a"}}),
            step(place="request", result={"context": {"tenant": "a", "request_id": "<present>", "user_id": 1}}),
        ),
        one(
            step(meta={"context_results": ["context"]}, result={"context": {"tenant": "a"}}),
            step(result={"context": {"tenant": "a", "request_id": "<present>"}}),
        ),
    ),
    "call-keyword-wins": (
        one(step(meta={"bound": {"origin": "ctx"}, "passed": {"origin": "call"}}, rows=[row(origin="ctx")]), step(rows=[row(origin="call")])),
        one(step(meta={"bound": {"origin": "ctx"}, "passed": {"origin": "call"}}, rows=[row(origin="ctx")]), step(rows=[row(origin="other")])),
    ),
    "request-fields-from-request": (
        one(step(meta={"request": {"url": "http://localhost/x"}}, rows=[row(url=None)]), step(rows=[row(url="http://localhost/x")])),
        one(step(meta={"request": {"url": "http://localhost/x"}}, rows=[row(url=None)]), step(rows=[row(url="http://localhost/y")])),
    ),
    "null-values-omitted": (
        one(step(rows=[row(user_id=None, url=None)]), step(rows=[row()])),
        one(step(rows=[row(order_id=None)]), step(rows=[row()])),
    ),
    "request-id-filled": (
        one(step(place="request", rows=[row(request_id=None)]), step(place="request", rows=[row(request_id="<present>")])),
        one(step(rows=[row(request_id=None)]), step(rows=[row(request_id="<present>")])),
    ),
    "user-id-source": (
        one(step(place="request", meta={"request_context": {"user_id": 7}}, rows=[row(user_id=1, current_user_id=1)]), step(rows=[row(user_id=7, current_user_id=1)])),
        one(step(place="request", meta={"request_context": {"user_id": 7}}, rows=[row(user_id=1, current_user_id=1)]), step(rows=[row(user_id=8, current_user_id=1)])),
    ),
    "request-context-outside-request": (
        one(step(meta={"request_context": {"user_id": 7}}, rows=[row()]), step(rows=[row(request_id="<present>")])),
        one(step(rows=[row()]), step(rows=[row(request_id="<present>")])),
    ),
    "username-from-user-context": (
        one(step(rows=[row(username="alice", current_username="alice")]), step(rows=[row(username="bob", current_username="alice")])),
        one(step(rows=[row(username="alice", current_username="alice")]), step(rows=[row(current_username="alice")])),
    ),
    "startup-context-is-static": (
        Case(
            [step("startup", meta={"global_context": {"service": "billing"}}), step(rows=[row()])],
            [step("startup"), step(rows=[row(service="billing")])],
        ),
        Case(
            [step("startup", meta={"global_context": {"service": "billing"}}), step(rows=[row()])],
            [step("startup"), step(rows=[row(service="payments")])],
        ),
    ),
    "static-context-everywhere": (
        Case(
            [step("request/a", "request", rows=[row(environment="production")]), step(rows=[row()])],
            [step("request/a", "request", rows=[row(environment="production")]), step(rows=[row(environment="production")])],
        ),
        Case(
            [step("request/a", "request", rows=[row(environment="production")]), step(rows=[row()])],
            [step("request/a", "request", rows=[row(environment="production")]), step(rows=[row(environment="staging")])],
        ),
    ),
    "positional-args-formatted": (
        one(step(rows=[row("Processed %s items", positional_args=[3])]), step(rows=[row("Processed 3 items")])),
        one(step(rows=[row("Processed %s items", positional_args=[3])]), step(rows=[row("Processed 4 items")])),
    ),
    "traceback-of-exception-argument": (
        one(step(rows=[row("Failed", "ERROR", error="'x'")]), step(rows=[row("Failed", "ERROR", "characterize", "KeyError: 'x'", error="'x'")])),
        one(step(rows=[row("Failed", "ERROR", error="'x'")]), step(rows=[row("Failed", "ERROR", "characterize", "KeyError: 'y'", error="'x'")])),
    ),
    "traceback-of-handled-exception": (
        one(step(rows=[row("Failed", "ERROR")]), step(rows=[row("Failed", "ERROR", traceback=TRACEBACK)])),
        one(step(rows=[row("Failed", "INFO")]), step(rows=[row("Failed", "INFO", traceback=TRACEBACK)])),
    ),
    "error-row-message": (
        one(
            step(rows=[error_row("RuntimeError: The service is temporarily unavailable", error_type="RuntimeError", error="upstream timeout")], printed=[["error", "RuntimeError: The service is temporarily unavailable"]]),
            step(rows=[error_row("RuntimeError: upstream timeout", error_type="RuntimeError", error="upstream timeout")], printed=[["error", "RuntimeError: upstream timeout"]]),
        ),
        one(
            step(rows=[error_row("RuntimeError: The service is temporarily unavailable", error_type="RuntimeError", error="upstream timeout")]),
            step(rows=[error_row("RuntimeError: something else", error_type="RuntimeError", error="upstream timeout")]),
        ),
    ),
    "message-code-added": (
        one(step(result={"payload": payload()}), step(result={"payload": payload(message_code="errors.validation")})),
        one(step(result={"data": {"error": False}}), step(result={"data": {"error": False, "message_code": "x"}})),
    ),
    "http-recoverable": (
        one(step(result={"p": payload(recoverable=True, message_code="http_403")}), step(result={"p": payload(recoverable=False, message_code="http_403")})),
        one(step(result={"p": payload(recoverable=True, message_code="http_404")}), step(result={"p": payload(recoverable=False, message_code="http_404")})),
    ),
    "payload-context-meta": (
        one(step(result={"p": payload(context={"user_id": 1})}), step(result={"p": payload(context={"user_id": 1, "meta": {"ip_address": "127.0.0.1", "user_agent": "x"}})})),
        one(step(result={"p": payload(context={"user_id": 1})}), step(result={"p": payload(context={"user_id": 1, "meta": {"ip_address": "127.0.0.1", "status_code": 400}})})),
    ),
    "error-id-hex": (
        one(step(rows=[row(error_id="<uuid>")]), step(rows=[row(error_id="<hex32>")])),
        one(step(rows=[row(error_id="<uuid>")]), step(rows=[row(error_id="<id>")])),
    ),
    "builtin-network-errors": (
        one(
            step(rows=[error_row("x", error_type="ConnectionRefusedError", category="unknown", status_code=500)]),
            step(rows=[error_row("x", error_type="ConnectionRefusedError", category="network", status_code=504)]),
        ),
        one(
            step(rows=[error_row("x", error_type="RuntimeError", category="unknown", status_code=500)]),
            step(rows=[error_row("x", error_type="RuntimeError", category="network", status_code=504)]),
        ),
    ),
    "category-unknown-is-system": (
        one(step(result={"p": payload(category="unknown")}), step(result={"p": payload(category="system")})),
        one(step(result={"p": payload(category="unknown")}), step(result={"p": payload(category="network")})),
    ),
    "error-catalogue": (
        one(
            step(result={"p": payload(category="network", message="The service is temporarily unavailable", suggestions=LEGACY_SUGGESTIONS["network"])}),
            step(result={"p": payload(category="network", message="A network operation timed out or failed.", suggestions=NETWORK_SUGGESTIONS)}),
        ),
        one(
            step(result={"p": payload(category="network", message="The service is temporarily unavailable", suggestions=LEGACY_SUGGESTIONS["network"])}),
            step(result={"p": payload(category="network", message="Try later", suggestions=["Something else"])}),
        ),
    ),
    "error-context-extra-none": (
        one(step(result={"error_context": {"extra": {}, "url": None}}), step(result={"error_context": {"extra": None, "url": None}})),
        one(step(result={"error_context": {"extra": {}, "url": "http://x"}}), step(result={"error_context": {"extra": None, "url": "http://x"}})),
    ),
    "with-log-context-keeps-name": (
        one(step(result={"function_name": "wrapper"}), step(result={"function_name": "nightly_job"})),
        one(step(result={"function_name": "inner"}), step(result={"function_name": "nightly_job"})),
    ),
    "str-enum-constants": (
        one(
            step(result={"categories": {"DATABASE": "database"}, "enum_classes": {"ErrorCategory": False}}),
            step(
                result={
                    "categories": {"DATABASE": str_enum("database"), "BUSINESS": str_enum("business")},
                    "enum_classes": {"ErrorCategory": True},
                }
            ),
        ),
        one(
            step(result={"categories": {"DATABASE": "database"}}),
            step(result={"categories": {"DATABASE": {"enum": "app.constants.ErrorCategory", "value": "database", "equals_value": False}}}),
        ),
    ),
    "deprecation-warnings": (
        one(step(), step(warnings=["DeprecationWarning: app.utils.structlog_config is served by compat: import from newlog instead"])),
        one(step(), step(warnings=["UserWarning: something about newlog"])),
    ),
}


def document(steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": 2, "actions": [], "schema": {}, "steps": steps}


def compare_case(name: str, case: Case):
    report = compare(document(case.legacy), document(case.target), deltas=[by_name()[name]])
    under_test = case.legacy[-1]["name"]
    return report, [d for d in report.differences if d.step == under_test]


@pytest.mark.parametrize("name", sorted(CASES))
def test_delta_accepts_its_difference(name: str) -> None:
    report, differences = compare_case(name, CASES[name][0])

    assert not differences, report.format()
    assert report.applied[name] > 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_delta_rejects_a_near_miss(name: str) -> None:
    _, differences = compare_case(name, CASES[name][1])

    assert differences, f"{name} accepted a difference it does not describe"


def test_every_delta_has_cases() -> None:
    names = [delta.name for delta in DELTAS]

    assert len(names) == len(set(names)), "delta names must be unique"
    assert set(names) == set(CASES)
    assert all(len(delta.reason) > 40 for delta in DELTAS), "every delta says why"


def test_no_delta_can_hide_a_key_that_vanished() -> None:
    def forgiving(pair):  # a delta that "explains" a vanished key away by deleting it on the legacy side
        count = 0
        for legacy_row, _ in pair.row_pairs():
            count += legacy_row["context"].pop("region", None) is not None
        return count

    legacy = document([step(rows=[row(region="local", order_id=42)])])
    target = document([step(rows=[row(order_id=42)])])

    report = compare(legacy, target, deltas=[Delta("forgiving", "deletes keys", forgiving)])

    assert [(d.path, d.legacy, d.target, d.delta) for d in report.differences] == [("rows[0].context.region", "local", "<absent>", None)]
    assert report.applied["forgiving"] == 1


def test_formatted_positional_args_are_not_a_vanished_key_but_other_keys_still_are() -> None:
    legacy = document([step(rows=[row("Processed %s items", positional_args=[3], region="local")])])
    formatted = document([step(rows=[row("Processed 3 items", region="local")])])
    lost = document([step(rows=[row("Processed 3 items")])])

    assert compare(legacy, formatted, deltas=[by_name()["positional-args-formatted"]]).differences == []
    assert [d.path for d in compare(legacy, lost, deltas=[by_name()["positional-args-formatted"]]).differences] == [
        "rows[0].context.region"
    ]


def test_the_log_viewer_does_not_list_rows_of_steps_the_replay_did_not_run() -> None:
    program = step("program/app_context/act", rows=[IN_APP])
    legacy = document([program, viewer([IN_APP, IN_REQUEST])])
    replayed = {**document([viewer([IN_REQUEST])]), "not_run": {"program": "the stub is deleted"}}
    wrong = {**document([viewer([OUTSIDE])]), "not_run": {"program": "the stub is deleted"}}
    only = [by_name()["log-viewer-lists-what-is-stored"]]

    assert [d for d in compare(legacy, replayed, deltas=only).differences if d.path == "result"] == []
    assert [d.path for d in compare(legacy, wrong, deltas=only).differences if d.path == "result"] == ["result"]


def test_a_vanished_key_is_reported_once_without_deltas() -> None:
    legacy = document([step(rows=[row(region="local", nested={"a": 1, "b": 2})])])
    target = document([step(rows=[row(nested={"a": 1})])])

    report = compare(legacy, target, deltas=[])

    assert sorted(d.path for d in report.differences) == ["rows[0].context.nested.b", "rows[0].context.region"]
