"""Rule ``legacy-file``: the legacy module itself becomes a compat stub, or is deleted."""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
from pathlib import Path

import pytest

from codemods.apply import main
from codemods.engine import FileInfo, FileRewrite, NewFile, Options
from codemods.fixers import FIXERS
from compat import STUB as COMPAT_STUB
from tests.codemods._helpers import check_noop, check_transformed, run

LEGACY_SOURCE = '''"""Structured logging configuration."""
import threading
from queue import Queue

_global_context = {}


class SQLAlchemyLogHandler:
    def __init__(self):
        self.log_queue = Queue()
        self._thread = threading.Thread(target=self._process_logs, daemon=True)

    def _process_logs(self):
        pass


def bind_context(**kwargs):
    _global_context.update(kwargs)
'''

STUB = '''"""Compatibility stub for the legacy logging module ``app.utils.structlog_config``.

Migrated by ``python -m codemods.apply``: the legacy API is served by ``compat.structlog_config``
on top of ``newlog`` until nothing imports this path any more. New code imports from ``newlog``.
"""

import compat

compat.install(__name__)  # legacy path served by compat on newlog; delete after the switch
'''


def test_legacy_module_becomes_the_stub() -> None:
    check_transformed(LEGACY_SOURCE, STUB, path="app/utils/structlog_config.py")


def test_the_stub_is_compats_own_on_two_lines() -> None:
    assert COMPAT_STUB.replace("; ", "\n\n", 1) in STUB


def test_an_older_star_import_stub_is_left_alone() -> None:
    check_noop("from compat.structlog_config import *  # noqa: F401,F403\n", path="app/utils/structlog_config.py")


def test_stub_keeps_crlf_line_endings() -> None:
    check_transformed(
        LEGACY_SOURCE.replace("\n", "\r\n"), STUB.replace("\n", "\r\n"), path="app/utils/structlog_config.py"
    )


def test_delete_legacy() -> None:
    result = run(LEGACY_SOURCE, path="app/utils/structlog_config.py", delete_legacy=True)
    assert result.delete


def test_other_paths_are_not_the_legacy_module() -> None:
    check_noop("x = 1  # structlog_config\n", path="app/structlog_config.py")
    check_noop("x = 1  # structlog_config\n", path="legacy/app/utils/structlog_config.py")


def test_another_module_path() -> None:
    result = run("x = 1\n", path="myapp/logconf.py", module="myapp.logconf")
    assert result.source is not None
    assert "``myapp.logconf``" in result.source
    assert result.source.endswith(COMPAT_STUB.replace("; ", "\n\n", 1))


def test_other_rules_apply_when_it_is_excluded() -> None:
    result = run(LEGACY_SOURCE, path="app/utils/structlog_config.py", skip=["legacy-file"])
    assert result.source is not None
    assert "class DatabaseLogHandler" in result.source
    assert "_process_logs" not in result.source
    assert "bind_contextvars(**kwargs)" in result.source


# -- the seam for reading the legacy module and writing one more file ------------------------------


def _with_settings_file(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """A legacy-file rule that, like the coming configuration step, reads the legacy source and adds a
    file; returns the legacy module written under ``root``."""
    real = FIXERS["legacy-file"]

    def replace_file(source: str, info: FileInfo, options: Options) -> FileRewrite | None:
        rewrite = real.replace_file(source, info, options)  # type: ignore[misc]
        if rewrite is None:
            return None
        names = sorted(re.findall(r"^def (\w+)", source, re.MULTILINE))
        return FileRewrite(rewrite.text, NewFile("newlog_settings.py", f"LEGACY_FUNCTIONS = {names!r}\n"))

    monkeypatch.setitem(FIXERS, "legacy-file", dataclasses.replace(real, replace_file=replace_file))
    legacy = root / "app" / "utils" / "structlog_config.py"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(LEGACY_SOURCE, encoding="utf-8")
    return legacy


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="workers see the patch by fork")
def test_a_whole_file_rule_can_read_the_legacy_source_and_write_one_more_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = _with_settings_file(monkeypatch, tmp_path)
    created = legacy.parent / "newlog_settings.py"

    assert main([str(tmp_path), "--diff", "--jobs", "1"]) == 1
    out, err = capsys.readouterr()
    assert f"--- /dev/null\n+++ {created}\n@@ -0,0 +1 @@\n+LEGACY_FUNCTIONS = ['bind_context']\n" in out
    assert f"would create {created}" in err
    assert not created.exists() and legacy.read_text(encoding="utf-8") == LEGACY_SOURCE

    assert main([str(tmp_path), "--jobs", "1"]) == 1
    assert f"created {created}" in capsys.readouterr().err
    assert created.read_text(encoding="utf-8") == "LEGACY_FUNCTIONS = ['bind_context']\n"
    assert legacy.read_text(encoding="utf-8") == STUB
    assert main([str(tmp_path), "--jobs", "1"]) == 0


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="workers see the patch by fork")
def test_the_extra_file_never_overwrites_one_that_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = _with_settings_file(monkeypatch, tmp_path)
    mine = legacy.parent / "newlog_settings.py"
    mine.write_text("HAND_WRITTEN = True\n", encoding="utf-8")
    assert main([str(tmp_path), "--jobs", "1"]) == 2
    assert "newlog_settings.py: already exists with other content: not overwritten" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "HAND_WRITTEN = True\n"
    assert legacy.read_text(encoding="utf-8") == LEGACY_SOURCE, "the legacy module is kept when its file cannot be"
