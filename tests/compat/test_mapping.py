"""The name mapping is complete: every public legacy name is mapped, served by compat and exists in newlog."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

import newlog
from compat.mapping import NAMES, NEW_MODULE, PRIVATE_STATE

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {
    "older": ROOT / "examples" / "legacy_app" / "app" / "utils" / "structlog_config.py",
    "newer": ROOT / "examples" / "legacy_variants" / "newer_structlog_config.py",
}
API_IMPORTED_FROM = "app.constants"
"""The newer variant re-exports the application's error enums: they are part of its API."""


def module_level_names(path: Path) -> set[str]:
    """Return the names a module file defines at module level (defs, classes, assignments, API re-imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and node.module == API_IMPORTED_FROM:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def public_names(path: Path) -> set[str]:
    """Return the public (not underscored) module-level names of a legacy variant file."""
    return {name for name in module_level_names(path) if not name.startswith("_")}


@pytest.fixture(scope="module")
def served():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import compat.structlog_config as module
    return module


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_public_legacy_name_has_a_mapping_entry(variant: str) -> None:
    unmapped = public_names(VARIANTS[variant]) - set(NAMES)

    assert not unmapped, f"{variant} variant names without a compat.mapping entry: {sorted(unmapped)}"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_mapping_variants_match_the_files(variant: str) -> None:
    defined = public_names(VARIANTS[variant])
    expected = {name for name, rename in NAMES.items() if rename.variant in ("both", variant)}

    assert expected <= defined, f"mapped as in the {variant} variant but not defined there: {sorted(expected - defined)}"


def test_legacy_module_state_is_listed_as_private_state() -> None:
    private = {name for path in VARIANTS.values() for name in module_level_names(path) if name.startswith("_")}

    assert PRIVATE_STATE <= private


@pytest.mark.parametrize("legacy_name", sorted(NAMES))
def test_every_mapped_name_exists_in_newlog(legacy_name: str) -> None:
    new = NAMES[legacy_name].new

    assert new in getattr(newlog, "__all__", ()), f"{legacy_name} -> {NEW_MODULE}.{new}, which newlog does not export"


@pytest.mark.parametrize("legacy_name", sorted(NAMES))
def test_compat_serves_every_mapped_name(served, legacy_name: str) -> None:
    value = getattr(served, legacy_name)
    newlog_value = getattr(newlog, NAMES[legacy_name].new)

    # either newlog's own object, or a compat adapter built on it (legacy call signature)
    assert value is newlog_value or getattr(value, "__module__", "") == "compat.structlog_config"
    assert legacy_name in served.__all__


def test_compat_adapters_are_only_where_the_legacy_signature_or_scope_differs(served) -> None:
    adapted = sorted(name for name in NAMES if getattr(served, name) is not getattr(newlog, NAMES[name].new))

    # the context helpers work on _global_context: process-wide at start-up, per request inside one
    assert adapted == ["SQLAlchemyLogHandler", "bind_context", "clear_context", "configure_structlog", "get_context", "get_logger"]


@pytest.mark.parametrize("name", sorted(PRIVATE_STATE))
def test_compat_serves_the_legacy_module_state(served, name: str) -> None:
    assert hasattr(served, name)
    assert name in served.__all__  # a star-importing stub serves it too
