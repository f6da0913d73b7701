"""The comparison sees the migrated code: one rewritten call changed in a codemods-migrated copy fails ``compare``.

The kit's scenario requests the app's own routes, so a call site the codemods rewrote is
exercised after the switch. Each mutation changes one such call (its level, its ``module=``,
or drops one of its keys) and must add a difference no allowed delta explains, at the step
that runs it; the exit code of ``compare`` is then 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compat.characterize.compare import compare
from tests.characterization.harness import Records, copy_app, kit, prepare_migrated, replay, sqlite_database

ROUTES = Path("app") / "api" / "routes.py"

MUTATIONS = {
    "level": (ROUTES, 'log_info("Health check", module="api")', 'log_warning("Health check", module="api")', {"request/GET /api/health"}, "rows"),
    "module": (ROUTES, 'log_info("Health check", module="api")', 'log_info("Health check", module="health")', {"request/GET /api/health"}, "rows"),
    "dropped-key": (
        ROUTES,
        'log_function(message, module="api", source="log_at_level")',
        'log_function(message, module="api")',
        {f"request/GET /api/log/{level}" for level in ("info", "warning", "error", "critical")},
        "rows.context.source",
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_one_changed_call_in_the_migrated_code_fails_compare(records: Records, tmp_path: Path, mutation: str) -> None:
    path, old, new, steps, field = MUTATIONS[mutation]
    legacy, migrated = records.get("legacy", "sqlite"), records.get("migrated", "sqlite")
    app = copy_app(tmp_path / "legacy_app")
    prepare_migrated(app)
    source = (app / path).read_text()
    assert source.count(old) == 1, f"the migrated {path} no longer holds the call this test mutates: {old}"
    (app / path).write_text(source.replace(old, new))

    (tmp_path / "before.json").write_text(json.dumps(legacy))
    mutated = replay(app, mutation, tmp_path / "before.json", sqlite_database(tmp_path / "mutated.db"), tmp_path / "mutated.json")
    compared = kit(tmp_path, "compare", "before.json", "mutated.json", "--format", "json")

    baseline = {(d.step, d.path) for d in compare(legacy, migrated).differences}
    added = [d for d in compare(legacy, mutated).differences if (d.step, d.path) not in baseline]
    assert added, f"compare does not see the mutation {mutation}: {old} -> {new}"
    assert {d.step for d in added} == steps
    assert any(d.field.startswith(field) for d in added), [str(d) for d in added]
    assert compared.returncode == 1
    assert any(group["example"]["step"] in steps for group in json.loads(compared.stdout)["not_allowed"])
