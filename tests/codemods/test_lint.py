"""The migrated example apps are no worse for ruff: imports sorted (I001), at the top (E402), all used (F401).

Every app under ``examples/`` that carries a legacy module (a ``structlog_config.py`` in a
package) is copied, linted with ruff, migrated, and linted again: the count after the migration
is at most the count before. A new example app is picked up without touching this file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.apply import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RULES = "I001,E402,F401"


def _legacy_module(app: Path) -> str | None:
    """The dotted path of the app's legacy module, from the packages above it."""
    for path in sorted(app.rglob("structlog_config.py")):
        parts = [path.stem]
        folder = path.parent
        while (folder / "__init__.py").is_file() and folder != app:
            parts.insert(0, folder.name)
            folder = folder.parent
        if len(parts) > 1 and folder == app:
            return ".".join(parts)
    return None


APPS = sorted(
    (app.name, module)
    for app in (EXAMPLES.iterdir() if EXAMPLES.is_dir() else ())
    if app.is_dir() and (module := _legacy_module(app)) is not None
)


def ruff(root: Path) -> list[str]:
    """``path:line: code`` of each I001/E402/F401 ruff reports (its default settings, ``root`` as the project)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", RULES, "--output-format", "json", "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return sorted(
        f"{Path(d['filename']).relative_to(root)}:{d['location']['row']}: {d['code']}"
        for d in json.loads(result.stdout)
    )


def test_there_are_example_apps_to_lint() -> None:
    assert [name for name, _ in APPS], f"no app with a legacy module under {EXAMPLES}"


@pytest.mark.parametrize(("name", "module"), APPS)
def test_the_migration_adds_no_import_lint(tmp_path: Path, name: str, module: str) -> None:
    root = tmp_path / name
    shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns("instance", "__pycache__", "*.db"))
    before = ruff(root)
    assert main([str(root), "--module", module, "--quiet"]) == 1
    after = ruff(root)
    assert len(after) <= len(before), "new findings:\n" + "\n".join(sorted(set(after) - set(before)))
