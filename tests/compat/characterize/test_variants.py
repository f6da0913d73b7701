"""The kit never crashes, whatever legacy copy it finds, and keeps exercising the app once the old path is gone.

An *older copy as seen in a real code base*: its ``enhanced_error_handler`` takes no ``extra=``
and its ``error_handler`` retries a LOW/MEDIUM error outside any ``try`` (the second
exception escapes). Recording it must finish (exit 0) with those exceptions as the steps'
outcomes. After the codemods and the removal of the stub, ``compare`` still replays the
scenario through the app's own routes.
"""

from __future__ import annotations

import json
from pathlib import Path

import compat
from tests.characterization.harness import LEGACY_FILE, SCENARIO, copy_app, kit, prepare_migrated


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer contains the code this test edits: {old!r}"
    path.write_text(text.replace(old, new))


def make_older_copy(app: Path) -> None:
    legacy = app / LEGACY_FILE
    edit(
        legacy,
        "def enhanced_error_handler(error: Exception, context: ErrorContext = None, *, extra: Dict[str, Any] = None) -> Dict[str, Any]:",
        "def enhanced_error_handler(error: Exception, context: ErrorContext = None) -> Dict[str, Any]:",
    )
    edit(legacy, "    if context is None:\n        context = ErrorContext(error)\n\n    info = ", "    extra = None\n    if context is None:\n        context = ErrorContext(error)\n\n    info = ")
    edit(legacy, 'enhanced_error_handler(e, extra={"function": func.__name__})', "enhanced_error_handler(e)")
    edit(legacy, "                try:\n                    return func(*args, **kwargs)\n                except Exception:\n                    pass\n", "                return func(*args, **kwargs)\n")
    edit(app / "app" / "__init__.py", ', extra={"constraint": "unique"})', ")")
    edit(app / "app" / "__init__.py", ', extra={"handler": "unexpected"})', ")")


def test_an_older_copy_without_extra_and_with_an_escaping_retry_is_recorded_without_a_crash(tmp_path: Path) -> None:
    app = copy_app(tmp_path / "legacy_app")
    make_older_copy(app)

    recorded = kit(app, "record", "--app", "app:create_app", "--database", f"sqlite:///{tmp_path / 'before.db'}", "--scenario", SCENARIO, "before.json")
    (app / LEGACY_FILE).write_text(compat.STUB)
    compared = kit(app, "compare", "before.json", "--database", f"sqlite:///{tmp_path / 'after.db'}", "--format", "json")

    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "Traceback" not in recorded.stderr
    document = json.loads((app / "before.json").read_text())
    assert document["variant"]["enhanced_error_handler"] == {"extra": False}
    steps = {step["name"]: step for step in document["steps"]}
    assert steps["program/app_context/error_handler/low_severity"]["raised"] == {"type": "builtins.ValueError", "message": "invalid coupon code"}
    assert "raised" not in steps["program/app_context/enhanced_error_handler/in_except_block"]
    assert "extra" not in steps["program/app_context/enhanced_error_handler/in_except_block"]["result"]["payload"]
    assert "program/app_context/error_handler/low_severity: builtins.ValueError: invalid coupon code" in recorded.stdout
    assert compared.returncode in (0, 1), compared.stderr
    assert "Traceback" not in compared.stderr
    assert json.loads(compared.stdout)["summary"]["steps_compared"] == len(document["steps"])


def test_after_the_old_path_is_gone_the_scenario_is_still_compared(tmp_path: Path) -> None:
    app = copy_app(tmp_path / "legacy_app")
    assert kit(app, "record", "--app", "app:create_app", "--database", f"sqlite:///{tmp_path / 'before.db'}", "--scenario", SCENARIO, "before.json").returncode == 0
    prepare_migrated(app)
    (app / LEGACY_FILE).unlink()

    compared = kit(app, "compare", "before.json", "--database", f"sqlite:///{tmp_path / 'after.db'}", "--format", "json")

    report = json.loads(compared.stdout)
    assert compared.returncode in (0, 1), compared.stderr
    assert report["after"]["served_by"] is None
    assert "program" not in report["summary"]["steps_by_kind"]
    assert report["summary"]["steps_by_kind"]["request"] > 40
    assert report["notes"][0] == (
        "program steps not compared: the old path app.utils.structlog_config does not import any more "
        "(ModuleNotFoundError: No module named 'app.utils.structlog_config')"
    )
