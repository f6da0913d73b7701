"""The kit on the booking portal (``examples/booking_app``): the newer legacy variant coupled to its app.

Plain-Enum categories, Flask-WTF CSRF on every POST/PUT/DELETE, flask-login, the app built at
import time (``app:app``), a German catalogue. Recording it with its shipped scenario must
finish without a traceback, every request step reaching its view (but the one the scenario
declares a guard for). After the compat step (the legacy file replaced by the stub with the
app's profile module, as ``codemods.apply --only legacy-file`` writes them) every step is
replayed and still reaches its view; in the codemods-migrated copy a mutated call fails
``compare``. The whole playbook with every stage is ``test_playbook.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.characterization.harness import (
    BOOKING_APP,
    LEGACY_FILE,
    Database,
    codemods,
    copy_app,
    fresh_database,
    kit,
    prepare_migrated,
    run_scenario,
    sqlite_database,
)

APP = "app:app"


def record_booking(folder: Path, database: Database) -> tuple[Path, dict[str, Any]]:
    app = copy_app(folder / "booking_app", BOOKING_APP)
    return app, run_scenario(app, "legacy", database, folder / "before.json", app=APP)


def compare_after(app: Path, before: Path, database: Database) -> dict[str, Any]:
    compared = kit(app, "compare", str(before), *database.args, "--format", "json")
    assert compared.returncode in (0, 1), compared.stdout + compared.stderr
    assert "Traceback" not in compared.stderr
    return json.loads(compared.stdout)


def test_the_booking_portal_is_recorded_through_its_guards(tmp_path: Path, db_kind: str) -> None:
    with fresh_database(db_kind, tmp_path) as database:
        _, document = record_booking(tmp_path, database)

    requests = [step for step in document["steps"] if step["kind"] == "request"]
    assert len(requests) > 70
    assert [step["name"] for step in requests if step["answered_by"] != "handler"] == ["request/GET /api/admin/stats"]
    assert {step["status"] for step in requests} >= {200, 201, 400, 401, 403, 404, 405, 409, 422, 500, 502, 503, 504}
    assert [step["name"] for step in document["steps"] if "raised" in step] == ["call/app.services.booking_service:parse_range #2"]
    assert document["guards"]["csrf_off"] == ["Flask-WTF CSRFProtect (app.extensions['csrf']): WTF_CSRF_ENABLED=False"]
    assert document["served_by"] == "app.utils.structlog_config"
    enums = next(step for step in document["steps"] if step["name"] == "program/app_context/error_enums")["result"]
    assert enums["categories"]["BOOKING"] == {"enum": "app.constants.ErrorCategory", "value": "booking", "equals_value": False}
    startup = document["steps"][0]
    assert startup["rows"][0]["message"] == "Raumbuchung 3.2.1 gestartet (Mandant stadtwerke-demo)"
    assert startup["rows"][0]["columns"]["created_at"] == "<timestamp>"
    assert not document["problems"]


def test_the_switch_to_compat_is_compared(tmp_path: Path) -> None:
    app, document = record_booking(tmp_path, sqlite_database(tmp_path / "before.db"))
    switch = codemods(app, "--only", "legacy-file", ".")
    assert switch.returncode == 1, switch.stderr
    assert "profile='app.utils.newlog_profile'" in (app / LEGACY_FILE).read_text()

    report = compare_after(app, tmp_path / "before.json", sqlite_database(tmp_path / "after.db"))

    assert report["summary"]["steps_compared"] == len(document["steps"])
    assert not any(group["field"] == "answered_by" for group in report["not_allowed"]), "a step no longer reaches its view"


def test_a_mutated_call_in_the_migrated_booking_portal_fails_compare(tmp_path: Path) -> None:
    app, _ = record_booking(tmp_path, sqlite_database(tmp_path / "before.db"))
    prepare_migrated(app)
    reference = compare_after(app, tmp_path / "before.json", sqlite_database(tmp_path / "migrated.db"))
    routes = app / "app" / "bookings" / "routes.py"
    source = routes.read_text()
    call = 'log_info("Health-Check", module="api")'
    assert source.count(call) == 1, f"the migrated {routes} no longer holds the call this test mutates: {call}"
    routes.write_text(source.replace(call, 'log_info("Health-Check", module="gesundheit")'))

    mutated = compare_after(app, tmp_path / "before.json", sqlite_database(tmp_path / "mutated.db"))

    seen = {(group["kind"], group["field"], group["example"]["step"]) for group in reference["not_allowed"]}
    added = [group for group in mutated["not_allowed"] if (group["kind"], group["field"], group["example"]["step"]) not in seen]
    assert any(group["example"]["step"] == "request/GET /api/health" for group in added), added
