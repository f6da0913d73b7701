"""The whole playbook of MIGRATION.md on both bundled examples, with the commands it documents.

Step 1 records the app with its legacy module; step 2 (``codemods.apply --only legacy-file .``)
writes the app's profile module and the stub that installs it; step 3 runs the codemods on
the package first - deleting the stub must then be refused, naming the entry points outside
it that still import the old path - and then on the whole project; step 5 deletes the stub.
After each stage ``compare`` replays the record: no step may fail to reach its view, no HTTP
answer (status, body) may change except by a documented client-visible delta, and every
other difference must be an allowed delta.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.characterization.harness import (
    BOOKING_APP,
    LEGACY_APP,
    LEGACY_FILE,
    codemods,
    copy_app,
    kit,
    run_scenario,
    sqlite_database,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # one fixture runs the whole playbook of an example


@dataclass(frozen=True)
class Example:
    """A bundled example and what the playbook expects of it."""

    folder: Path
    app: str
    outside: tuple[str, ...]
    """Files outside the package that import the old path (``--delete-legacy`` must name them)."""


EXAMPLES = {
    "booking_app": Example(
        BOOKING_APP, "app:app", ("app.py", "gunicorn.conf.py", "scripts/purge_logs.py", "scripts/seed_demo_data.py")
    ),
    "legacy_app": Example(LEGACY_APP, "app:create_app", ("run_demo.py",)),
}

CLIENT_FIELDS = ("status", "result", "headers")


@dataclass
class Stage:
    """What ``compare`` made of one stage: its JSON report and the replayed document."""

    name: str
    report: dict[str, Any]
    document: dict[str, Any]


def _compare(app: Path, before: Path, name: str) -> Stage:
    database = sqlite_database(before.parent / f"{name}.db")
    saved = before.parent / f"{name}.json"
    result = kit(app, "compare", str(before), *database.args, "--save", str(saved), "--format", "json", "--limit", "0")
    assert result.returncode in (0, 1), f"compare after {name} ({result.returncode}):\n{result.stderr[-5000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    return Stage(name, json.loads(result.stdout), json.loads(saved.read_text()))


@dataclass
class Playbook:
    """The record and the stages of one example's playbook run."""

    example: Example
    app: Path
    before: dict[str, Any]
    stages: list[Stage]


def _run_playbook(name: str, folder: Path) -> Playbook:
    example = EXAMPLES[name]
    app = copy_app(folder / name, example.folder)
    before_path = folder / "before.json"
    before = run_scenario(app, "legacy", sqlite_database(folder / "before.db"), before_path, app=example.app)
    stages = []

    step2 = codemods(app, "--only", "legacy-file", ".")
    assert step2.returncode == 1, step2.stderr
    profile = app / "app" / "utils" / "newlog_profile.py"
    assert "PROFILE = ErrorProfile(" in profile.read_text(encoding="utf-8")
    assert "profile='app.utils.newlog_profile'" in (app / LEGACY_FILE).read_text(encoding="utf-8")
    stages.append(_compare(app, before_path, "compat"))

    package_only = codemods(app, "app")
    assert package_only.returncode == 1, package_only.stderr
    refused = codemods(app, "--delete-legacy", "--only", "legacy-file", ".")  # nothing rewrites the importers
    assert refused.returncode == 2, refused.stderr
    assert (app / LEGACY_FILE).exists()
    for path in example.outside:
        assert f"{path}:" in refused.stderr, f"--delete-legacy does not name {path}:\n{refused.stderr}"
    whole = codemods(app, ".")
    assert whole.returncode == 1, whole.stderr
    assert codemods(app, "--check", ".").returncode == 0
    stages.append(_compare(app, before_path, "codemods"))

    deleted = codemods(app, "--delete-legacy", ".")
    assert deleted.returncode == 1, deleted.stderr
    assert not (app / LEGACY_FILE).exists() and profile.exists()
    stages.append(_compare(app, before_path, "delete-legacy"))
    return Playbook(example, app, before, stages)


@pytest.fixture(scope="module", params=sorted(EXAMPLES))
def playbook(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Playbook:
    """The playbook run once per example (recording and three compares take a while)."""
    return _run_playbook(request.param, tmp_path_factory.mktemp(request.param))


def test_every_request_step_reaches_its_view_at_every_stage(playbook: Playbook) -> None:
    expected = {s["name"]: s["answered_by"] for s in playbook.before["steps"] if s["kind"] == "request"}
    assert sum(by == "handler" for by in expected.values()) > len(expected) / 2  # the rest: guards the scenario declares
    for stage in playbook.stages:
        answered = {s["name"]: s["answered_by"] for s in stage.document["steps"] if s["kind"] == "request"}
        assert answered == expected, stage.name


def test_http_answers_are_unchanged_at_every_stage(playbook: Playbook) -> None:
    """Status and body of every HTTP answer: identical, or changed only by a documented client-visible delta."""
    for stage in playbook.stages:
        changed = [
            group
            for group in stage.report["not_allowed"]
            if group["kind"] == "request"
            and group["field"].startswith(CLIENT_FIELDS)
        ]
        assert changed == [], f"after {stage.name}: {json.dumps(changed, indent=1)[:3000]}"
        errors = [s for s in stage.document["steps"] if s["kind"] == "request" and s.get("status", 0) >= 400]
        assert errors, "the scenario exercises no error answer"


def test_the_program_steps_stop_once_the_stub_is_deleted(playbook: Playbook) -> None:
    compat_stage, codemods_stage, deleted_stage = playbook.stages
    by_kind = lambda stage: stage.report["summary"]["steps_by_kind"]  # noqa: E731
    assert by_kind(compat_stage)["program"] == by_kind(codemods_stage)["program"] > 0
    assert "program" not in by_kind(deleted_stage) or by_kind(deleted_stage)["program"] == 0
    assert by_kind(deleted_stage)["request"] == by_kind(compat_stage)["request"]


def test_the_report_groups_the_differences(playbook: Playbook) -> None:
    for stage in playbook.stages:
        groups = stage.report["not_allowed"] + stage.report["allowed"]
        assert groups, "nothing to group: the comparison compared nothing"
        counts = [group["count"] for group in stage.report["not_allowed"]]
        assert counts == sorted(counts, reverse=True)
        for group in groups:
            assert {"kind", "field", "delta", "count", "example"} <= group.keys()


def test_every_difference_is_an_allowed_delta(playbook: Playbook) -> None:
    left: dict[tuple[str, str], list[str]] = {}
    for stage in playbook.stages:
        for group in stage.report["not_allowed"]:
            left.setdefault((group["kind"], group["field"]), []).append(stage.name)
    assert not left, f"differences no documented delta explains: {left}"
