"""The codemods on a copy of ``examples/legacy_app``: the whole app is migrated and stays valid Python."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from codemods.apply import main

REPO = Path(__file__).resolve().parents[2]
LEGACY_APP = REPO / "examples" / "legacy_app"
LEGACY = "app.utils.structlog_config"

pytestmark = pytest.mark.skipif(not LEGACY_APP.is_dir(), reason="examples/legacy_app is not there yet")


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _legacy_imports(path: Path, root: Path) -> list[str]:
    """Every import of the legacy module in ``path`` (relative imports resolved), as source text."""
    name, is_package = _module_name(path, root)
    package = name if is_package else name.rpartition(".")[0]
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name == LEGACY for alias in node.names):
                found.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            parent = LEGACY.rpartition(".")[0]
            if base == LEGACY or (base == parent and any(a.name == "structlog_config" for a in node.names)):
                found.append(ast.unparse(node))
    return found


@pytest.fixture
def migrated_app(tmp_path: Path) -> tuple[Path, int]:
    root = tmp_path / "legacy_app"
    shutil.copytree(LEGACY_APP, root, ignore=shutil.ignore_patterns("instance", "__pycache__", "*.db"))
    code = main([str(root)])
    return root, code


def test_the_app_is_migrated(migrated_app: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    root, code = migrated_app
    assert code == 1
    stub = root / "app" / "utils" / "structlog_config.py"
    for path in sorted(root.rglob("*.py")):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if path != stub:
            assert _legacy_imports(path, root) == [], path
    assert "compat.install(__name__, profile='app.utils.newlog_profile')" in stub.read_text(encoding="utf-8")
    assert "PROFILE = ErrorProfile(" in (root / "app" / "utils" / "newlog_profile.py").read_text(encoding="utf-8")

    assert main([str(root), "--check"]) == 0


def test_the_uses_are_rewritten_too(migrated_app: tuple[Path, int]) -> None:
    root, _ = migrated_app
    legacy_names = {"configure_structlog", "StructlogConfig", "structlog_config", "LogContext", "with_log_context"}
    legacy_names |= {"_global_context", "slc"}
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
        assert not names & legacy_names, (path, names & legacy_names)
        assert 'mock.patch("app.utils.structlog_config.' not in source
    billing = (root / "app" / "services" / "billing.py").read_text(encoding="utf-8")
    assert 'set_static_context(service="billing")' in billing
