"""Characterization: the example app, driven by the kit and its shipped scenario, behaves the same through every target.

The kit (``python -m compat.characterize record``, with ``examples/legacy_app/characterize.toml``)
runs in a subprocess against a copy of ``examples/legacy_app`` per target: (a) the legacy
module, (b) the old path served by compat - the file replaced by ``compat.STUB``, or deleted
and ``compat.install()`` called from the app package - and (c) the copy migrated by
``python -m codemods.apply``. Each target's record must equal the legacy record of the same
test session up to THE allowed deltas of ``compat.characterize.deltas``; every other
difference fails, listed.

Keys a legacy row carried and the target's row lacks are never an allowed delta. Those the
switch still loses today are listed in :data:`VANISHED`, the method values it stores as
their repr in :data:`METHOD_VALUES`, and the views that no longer run in :data:`BROKEN_VIEWS`,
with why: while any of them shows, the test is an expected failure
naming them, and every OTHER difference still fails it. Each target replays the legacy
record as ``compare`` does after a switch.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compat.characterize.compare import ABSENT, compare
from compat.characterize.program import ERROR_CLASSES, PLACES
from tests.characterization.harness import Records

VANISHED: dict[str, str] = {
    "rows.context.host": "newlog stores no `host` (the server's hostname the legacy module added to request events); issue 9 item 3",
    "rows.context.region": "a `_global_context['region'] = ...` write in create_app() reaches no later event: compat binds it in the "
    "start-up thread's ContextVars instead of static context; issue 9 item 4",
    "rows.context.service": "bind_context(service=...) at import time (app.services.billing) reaches no later event: compat binds "
    "it in the importing thread's ContextVars instead of static context; issue 9 item 4",
    "rows.context.username": "the legacy user-context processor wrote `username` (current_user.username) into every "
    "authenticated event; newlog writes `current_username` only; issue 9 item 3",
    "rows.context.user_id": "after logout_user() the legacy events kept the user_id bound at the start of the request; "
    "newlog's are without one; issue 9 item 3",
    "rows.context.extra": "error_monitor's error row carried extra={'function': <name>}; newlog's error_monitor passes no extra",
    "rows.context.positional_args": "logger.info('... %s', arg): the legacy stdlib BoundLogger stored positional_args; newlog "
    "formats the message and stores no positional_args; issue 9 item 3 (the legacy logger's interface)",
}
"""Row keys the switch loses today (field -> why), each a known blocker of issue 9."""

METHOD_VALUES: dict[str, str] = {
    "rows.context.is_admin": "the legacy module stored the value of current_user.is_admin() (a method on the app's User); "
    "newlog stores the bound method's repr; issue 9 item 3",
}
"""User attributes that are methods (field -> why): the target stores ``<bound method ...>`` where the legacy stored the value."""

BROKEN_VIEWS: dict[str, str] = {
    "has no attribute 'isEnabledFor'": "the app's decorators (app/decorators.py) call isEnabledFor(10) on the module's loggers, "
    "which compat and newlog hand out without the stdlib logger interface: the view answers 500 before it runs; issue 9 item 3",
}
"""Errors that keep a view from running after the switch (text of who answered -> why): every difference of such a step is blocked."""


def blocker(difference: Any, target: dict[str, Any]) -> str | None:
    """Return why ``difference`` is a known blocker of the switch, or None when it is not one."""
    if difference.field in VANISHED and difference.target == ABSENT:
        return f"{difference.field}: {VANISHED[difference.field]}"
    if difference.field in METHOD_VALUES and str(difference.target).startswith("<bound method "):
        return f"{difference.field}: {METHOD_VALUES[difference.field]}"
    step = next((step for step in target["steps"] if step["name"] == difference.step), None)
    answer = ((step or {}).get("detail") or {}).get("answer", "")
    for text, why in BROKEN_VIEWS.items():
        if text in answer:
            return f"views answering 500 ({text}): {why}"
    return None


@pytest.mark.parametrize("target", ["compat_stub", "compat_install", "migrated"])
def test_target_behaves_like_legacy(records: Records, db_kind: str, target: str) -> None:
    after = records.get(target, db_kind)
    report = compare(records.get("legacy", db_kind), after)

    unexplained = [difference for difference in report.differences if blocker(difference, after) is None]
    assert not unexplained, report.format(limit=0)
    assert report.applied, "no allowed delta applied: the targets cannot be that identical"
    blocking = sorted({blocker(difference, after) or "" for difference in report.differences})
    if blocking:
        pytest.xfail("blocked: " + "; ".join(blocking))


def _steps(document: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [step for step in document["steps"] if step["name"].startswith(prefix)]


def test_scenario_drives_the_whole_contract(records: Records) -> None:
    legacy = records.get("legacy", "sqlite")
    rows = [row for step in legacy["steps"] for row in step["rows"]]
    requests = _steps(legacy, "request/")

    assert {step["place"] for step in legacy["steps"] if step["kind"] == "program"} == set(PLACES)
    assert {step["kind"] for step in legacy["steps"]} == {"startup", "program", "request", "login", "call"}
    assert {row["level"] for row in rows} == {"INFO", "WARNING", "ERROR", "CRITICAL"}
    assert any(row["traceback"] and row["traceback"].startswith("Traceback") for row in rows)
    assert {f"program/app_context/enhanced_error_handler/{kind}" for kind in ERROR_CLASSES} <= {step["name"] for step in legacy["steps"]}
    assert any(step["meta"].get("debug") for step in legacy["steps"]), "debug logging never switched on"
    assert [s["result"]["calls"] for s in _steps(legacy, "program/request/error_handler/low_severity")] == [2]
    assert any(step.get("headers", {}).get("X-View-Calls") == "2" for step in legacy["steps"])
    assert {step["status"] for step in requests} >= {200, 201, 400, 401, 402, 403, 404, 500, 504}
    assert [step["name"] for step in requests if step["answered_by"] != "handler"] == [
        "request/GET /api/orders/1",
        "request/GET /me",
        "request/GET /api/reports/daily #2",
        "request/GET /no/such/page",
    ], "only the steps the scenario marks with guard = ... may be answered by a guard"
    assert any(row["context"].get("tenant") == "acme" for row in rows), "the request binding context is not exercised"
    assert any(item[0] == "warning" for step in legacy["steps"] for item in step["printed"])
    assert not any(step["rows"] for step in legacy["steps"] if step["place"] == "outside")
    assert legacy["steps"][0]["name"] == "startup" and legacy["steps"][0]["rows"], "start-up rows are not recorded"
    assert not legacy["problems"] and not any("raised" in step for step in legacy["steps"])


def test_an_unlisted_difference_fails(records: Records) -> None:
    legacy = records.get("legacy", "sqlite")
    target = copy.deepcopy(legacy)
    health = _steps(target, "request/GET /api/health")[0]
    health["rows"][0]["context"]["region"] = "elsewhere"
    health["rows"][1]["message"] = "Request finished"
    health["printed"].append(["warning", "Something new"])
    _steps(target, "request/GET /api/errors/timeout")[0]["status"] = 500
    del _steps(target, "program/app_context/log_levels")[0]["rows"][0]["context"]["order_id"]

    report = compare(legacy, target)

    paths = {(d.step, d.path) for d in report.differences}
    assert paths == {
        ("request/GET /api/health", "rows[0].context.region"),
        ("request/GET /api/health", "rows[1].message"),
        ("request/GET /api/health", "printed"),
        ("request/GET /api/errors/timeout", "status"),
        ("program/app_context/log_levels", "rows[0].context.order_id"),
    }


@pytest.mark.parametrize("target", ["legacy", "compat_stub"])
def test_a_document_equals_itself_without_any_delta(records: Records, target: str) -> None:
    document = records.get(target, "sqlite")

    report = compare(document, copy.deepcopy(document))

    assert report.ok, report.format()
    assert not report.applied, f"deltas must only act where the two sides differ: {dict(report.applied)}"
