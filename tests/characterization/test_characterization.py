"""Characterization: the example app, driven by one scenario, behaves the same through every target.

The scenario (``scenario.py``) runs in a subprocess against a copy of ``examples/legacy_app``
per target: (a) the legacy module, (b) the old path served by compat - the file replaced by
``compat.STUB``, or deleted and ``compat.install()`` called from the app package - and
(c) the copy migrated by ``python -m codemods.apply``. Each target's document must equal
the legacy document of the same test session up to THE allowed deltas of
``compat.characterize.deltas``; every other difference fails, listed.
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
    report = compare(records.get("legacy", db_kind), records.get(target, db_kind))

    assert report.ok, report.format()
    assert report.applied, "no allowed delta applied: the targets cannot be that identical"


def _steps(document: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [step for step in document["steps"] if step["name"].split(" ", 1)[1].startswith(prefix)]


def test_scenario_drives_the_whole_contract(records: Records) -> None:
    legacy = records.get("legacy", "sqlite")
    rows = [row for step in legacy["steps"] for row in step["rows"]]

    assert {step["place"] for step in legacy["steps"]} >= set(PLACES)
    assert {row["level"] for row in rows} == {"INFO", "WARNING", "ERROR", "CRITICAL"}
    assert any(row["traceback"] and row["traceback"].startswith("Traceback") for row in rows)
    assert {f"program/app_context/enhanced_error_handler/{kind}" for kind in ERROR_CLASSES} <= {
        step["name"].split(" ", 1)[1] for step in legacy["steps"]
    }
    assert any(step["meta"].get("debug") for step in legacy["steps"]), "debug logging never switched on"
    assert [s["result"]["calls"] for s in _steps(legacy, "program/request/error_handler/low_severity")] == [2]
    assert any(step.get("headers", {}).get("X-View-Calls") == "2" for step in legacy["steps"])
    assert {step.get("status") for step in _steps(legacy, "route/")} >= {200, 201, 400, 401, 402, 403, 404, 500, 504}
    assert any(row["context"].get("tenant") == "acme" for row in rows), "the global-context leak is not exercised"
    assert any(item[0] == "warning" for step in legacy["steps"] for item in step["printed"])
    assert not any(step["rows"] for step in legacy["steps"] if step["place"] == "outside")


def test_an_unlisted_difference_fails(records: Records) -> None:
    legacy = records.get("legacy", "sqlite")
    target = copy.deepcopy(records.get("compat_stub", "sqlite"))
    health = _steps(target, "route/GET /api/health")[0]
    health["rows"][0]["context"]["region"] = "elsewhere"
    health["rows"][1]["message"] = "Request finished"
    health["printed"].append(["warning", "Something new"])
    _steps(target, "route/GET /api/errors/timeout")[0]["status"] = 500
    del _steps(target, "program/app_context/log_levels")[0]["rows"][0]["context"]["order_id"]

    report = compare(legacy, target)

    paths = {(d.step.split(" ", 1)[1], d.path) for d in report.differences}
    assert paths == {
        ("route/GET /api/health null", "rows[0].context.region"),
        ("route/GET /api/health null", "rows[1].message"),
        ("route/GET /api/health null", "printed"),
        ("route/GET /api/errors/timeout null", "status"),
        ("program/app_context/log_levels", "rows[0].context.order_id"),
        # the outside step equals its app-context twin no more, so its extra rows are not explained either
        ("program/outside/log_levels", "rows (level, module, message)"),
    }


@pytest.mark.parametrize("target", ["legacy", "compat_stub"])
def test_a_document_equals_itself_without_any_delta(records: Records, target: str) -> None:
    document = records.get(target, "sqlite")

    report = compare(document, copy.deepcopy(document))

    assert report.ok, report.format()
    assert not report.applied, f"deltas must only act where the two sides differ: {dict(report.applied)}"
