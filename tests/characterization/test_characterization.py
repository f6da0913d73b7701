"""Characterization: the example app, driven by the kit and its shipped scenario, behaves the same through every target.

The kit (``python -m compat.characterize record``, with ``examples/legacy_app/characterize.toml``)
runs in a subprocess against a copy of ``examples/legacy_app`` per target: (a) the legacy
module, (b) the old path served by compat - the file replaced by ``compat.STUB``, or deleted
and ``compat.install()`` called from the app package - and (c) the copy migrated by
``python -m codemods.apply``. Each target's record must equal the legacy record of the same
test session up to THE allowed deltas of ``compat.characterize.deltas``; every other
difference fails, listed.

Keys a legacy row carried and the target's row lacks are never an allowed delta. Each target replays the legacy
record as ``compare`` does after a switch.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compat.characterize.compare import compare
from compat.characterize.program import ERROR_CLASSES, PLACES
from tests.characterization.harness import Records


@pytest.mark.parametrize("target", ["compat_stub", "compat_install", "migrated"])
def test_target_behaves_like_legacy(records: Records, db_kind: str, target: str) -> None:
    after = records.get(target, db_kind)
    report = compare(records.get("legacy", db_kind), after)

    assert not report.differences, report.format(limit=0)
    assert report.applied, "no allowed delta applied: the targets cannot be that identical"


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
