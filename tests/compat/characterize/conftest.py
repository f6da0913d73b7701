"""Fixtures of the kit's tests: small apps written to importable temporary modules, run in this process."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.compat.characterize.guarded_app import GUARDED_APP


@pytest.fixture
def write_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Write ``source`` as a module of a fresh name importable from the current directory; return its name.

    The current directory is ``tmp_path``; DATABASE_URL and the apps' own settings are restored afterwards.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("DATABASE_URL", "GUARDED_APP_DATABASE", "GUARDED_APP_STRICT_CSRF"):
        monkeypatch.delenv(name, raising=False)

    def write(source: str) -> str:
        name = f"kit_app_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(source)
        return name

    return write


@pytest.fixture
def guarded_app(write_app: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ``--app`` spec of a fresh guarded app on a SQLite file of its own."""
    monkeypatch.setenv("GUARDED_APP_DATABASE", f"sqlite:///{tmp_path / 'guarded.db'}")
    return f"{write_app(GUARDED_APP)}:create_app"
