"""Targets, databases and the kit's runs, for the characterization suite.

Every run gets a fresh copy of ``examples/legacy_app`` (prepared for its target) and a
fresh database: a SQLite file, or a PostgreSQL database of its own created on the server
of ``NEWLOG_TEST_POSTGRES_URL`` and dropped afterwards. The kit runs in a subprocess, as a
team runs it (``python -m compat.characterize record ...`` in the app's folder): every
copy's package is called ``app``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import compat
from tests.conftest import require_postgres

ROOT = Path(__file__).resolve().parents[2]
LEGACY_APP = ROOT / "examples" / "legacy_app"
BOOKING_APP = ROOT / "examples" / "booking_app"
SCENARIO = "characterize.toml"
"""The scenario file shipped with the example app."""
LEGACY_FILE = Path("app") / "utils" / "structlog_config.py"
INSTALL_LINES = "\nimport compat\n\ncompat.install()  # the legacy file is gone: compat serves app.utils.structlog_config\n"
_ENV_PREFIXES = ("LOG_", "FLASK_", "NEWLOG_")
_ENV_NAMES = {"ENABLE_DEBUG_LOG", "DATABASE_URL", "APP_VERSION", "REGION", "SECRET_KEY", "PYTHONWARNINGS"}


def copy_app(destination: Path, example: Path = LEGACY_APP) -> Path:
    """Copy an example app (default: legacy_app) to ``destination`` (without its instance folder, logs and caches)."""
    shutil.copytree(example, destination, ignore=shutil.ignore_patterns("instance", "logs", "__pycache__", "*.db"))
    return destination


def prepare_legacy(copy: Path) -> None:
    """Target (a): the legacy module as it is."""


def prepare_compat_stub(copy: Path) -> None:
    """Target (b), first way: the legacy file replaced by the one-line compat stub."""
    (copy / LEGACY_FILE).write_text(compat.STUB)


def prepare_compat_install(copy: Path) -> None:
    """Target (b), second way: the legacy file deleted, ``compat.install()`` at the top of the app package."""
    (copy / LEGACY_FILE).unlink()
    init = copy / "app" / "__init__.py"
    source = init.read_text()
    marker = "from __future__ import annotations\n"
    init.write_text(source.replace(marker, marker + INSTALL_LINES, 1))


def codemods_available() -> bool:
    """True when ``codemods.apply`` can be imported."""
    try:
        return importlib.util.find_spec("codemods.apply") is not None
    except ImportError:
        return False


def prepare_migrated(copy: Path) -> None:
    """Target (c): the copy rewritten by ``python -m codemods.apply`` (it leaves a stub at the legacy file)."""
    if not codemods_available():
        pytest.skip("codemods not available yet")
    result = subprocess.run(
        [sys.executable, "-m", "codemods.apply", str(copy)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode in (0, 1), f"codemods.apply failed ({result.returncode}):\n{result.stderr}"


@dataclass(frozen=True)
class Target:
    """What serves the old import path in a run."""

    name: str
    prepare: Callable[[Path], None]


TARGETS = {
    target.name: target
    for target in (
        Target("legacy", prepare_legacy),
        Target("compat_stub", prepare_compat_stub),
        Target("compat_install", prepare_compat_install),
        Target("migrated", prepare_migrated),
    )
}


@dataclass(frozen=True)
class Database:
    """An empty database for one run: ``args`` point the kit at it (``--database``, and ``--config`` for a schema)."""

    url: str
    args: tuple[str, ...]


def sqlite_database(path: Path) -> Database:
    """The SQLite file ``path`` as a :class:`Database` for the kit."""
    return Database(f"sqlite:///{path}", ("--database", f"sqlite:///{path}"))


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[Database]:
    """Yield an empty database of ``kind`` ("sqlite" or "postgresql"), dropped afterwards.

    For PostgreSQL it is a schema of its own inside the database of ``NEWLOG_TEST_POSTGRES_URL``:
    nothing outside that database is touched. The schema is set as the connections'
    ``search_path`` through the app's ``SQLALCHEMY_ENGINE_OPTIONS`` (newlog's writer engine
    keeps those; it drops an ``options`` query of the URL).
    """
    if kind == "sqlite":
        yield sqlite_database(folder / "characterize.db")
        return
    server = sa.engine.make_url(require_postgres())
    name = f"characterize_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        try:
            url = server.render_as_string(hide_password=False)
            options = json.dumps({"connect_args": {"options": f"-csearch_path={name}"}})
            yield Database(
                server.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False),
                ("--database", url, "--config", f"SQLALCHEMY_ENGINE_OPTIONS:={options}"),
            )
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        admin.dispose()


def clean_env(**extra: str) -> dict[str, str]:
    """Return the environment for a run: no logging settings inherited from the caller, the repo importable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_ENV_PREFIXES) and key not in _ENV_NAMES
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def kit(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m compat.characterize *args`` in ``folder``; return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "compat.characterize", *args],
        cwd=folder,
        env=clean_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=300,
    )


def codemods(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m codemods.apply --quiet --jobs 1 *args`` in ``folder`` (the project root); return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "codemods.apply", "--quiet", "--jobs", "1", *args],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_scenario(copy: Path, target: str, database: Database, out: Path, app: str = "app:create_app") -> dict[str, Any]:
    """Record the example's scenario in ``copy`` (step 1); return the document (fail with the kit's output if it fails)."""
    result = kit(copy, "record", "--app", app, *database.args, "--scenario", SCENARIO, str(out))
    assert result.returncode == 0, f"record failed for {target} ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return json.loads(out.read_text())


def replay(copy: Path, target: str, before: Path, database: Database, out: Path) -> dict[str, Any]:
    """Replay the record ``before`` in ``copy`` as ``compare`` does after a switch (steps 2 and 4); return the new document.

    The comparison's own verdict is left to the caller; only a problem of the kit (exit 2) fails here.
    """
    result = kit(copy, "compare", str(before), *database.args, "--save", str(out), "--format", "json")
    assert result.returncode in (0, 1), f"compare failed for {target} ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return json.loads(out.read_text())


def record(target: str, kind: str, folder: Path, legacy: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy the app, prepare it for ``target`` and run it on a fresh ``kind`` database; return the document.

    The legacy target is recorded; the others replay the ``legacy`` record, as a team does after the switch.
    """
    folder.mkdir(parents=True, exist_ok=True)
    copy = copy_app(folder / "legacy_app")
    TARGETS[target].prepare(copy)
    with fresh_database(kind, folder) as database:
        if legacy is None:
            return run_scenario(copy, target, database, folder / f"{target}.json")
        before = folder / "before.json"
        before.write_text(json.dumps(legacy))
        return replay(copy, target, before, database, folder / f"{target}.json")


class Records:
    """Documents recorded in this test session, one per (target, database kind), recorded on first use."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._documents: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, target: str, kind: str) -> dict[str, Any]:
        """Return the document of ``target`` on ``kind``, recording (legacy) or replaying (the others) it if needed."""
        key = (target, kind)
        if key not in self._documents:
            legacy = None if target == "legacy" else self.get("legacy", kind)
            self._documents[key] = record(target, kind, self.base / f"{target}-{kind}", legacy)
        return self._documents[key]
