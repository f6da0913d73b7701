"""Rule ``legacy-file``: the legacy module's couplings go to a profile module, the module becomes a compat stub."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codemods.apply import main
from codemods.legacy_reader import read_legacy_module, render_profile_module
from compat import stub as compat_stub
from tests.codemods._helpers import READABLE_LEGACY, check_noop, findings, run

LEGACY_PATH = "app/utils/structlog_config.py"

TOY_SOURCE = '''"""Structured logging configuration."""
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
"""Not a complete legacy module: the reader cannot tell its error answers or identity fields."""

STUB = '''"""Compatibility stub for the legacy logging module ``app.utils.structlog_config``.

Migrated by ``python -m codemods.apply``: the legacy API is served by ``compat.structlog_config``
on top of ``newlog`` until nothing imports this path any more; the app's couplings (error answers,
identity fields) are in ``app.utils.newlog_profile``. New code imports from ``newlog``.
"""

import compat

compat.install(__name__, profile='app.utils.newlog_profile')  # legacy path served by compat on newlog; delete after the switch
'''


def test_legacy_module_becomes_the_stub_and_its_profile_module() -> None:
    result = run(READABLE_LEGACY, path=LEGACY_PATH)
    assert result.source == STUB
    assert result.new_file is not None and result.new_file.path == "newlog_profile.py"
    expected = render_profile_module(read_legacy_module(LEGACY_PATH, "app.utils.structlog_config", source=READABLE_LEGACY))
    assert result.new_file.text == expected
    defined = {t.id for node in ast.parse(result.new_file.text).body if isinstance(node, ast.Assign) for t in node.targets}
    assert {"PROFILE", "IDENTITY", "REQUEST_ONLY", "DISPLAY_NAME"} <= defined  # type: ignore[attr-defined]
    assert findings(result) == []
    assert run(STUB, path=LEGACY_PATH).source is None, "a second run leaves the stub alone"


def test_the_stub_is_compats_own_on_two_lines() -> None:
    assert compat_stub("app.utils.newlog_profile").replace("; ", "\n\n", 1) in STUB


def test_a_module_the_reader_cannot_read_completely_is_kept_and_reported() -> None:
    result = run(TOY_SOURCE, path=LEGACY_PATH)
    assert result.source is None and not result.delete and result.new_file is None
    assert result.error is not None and "not replaced" in result.error and "compat.stub(" in result.error
    messages = findings(result)
    assert "1: could not determine the error handling: no function enhanced_error_handler" in messages
    assert all(f.rule == "legacy-file" for f in result.findings)


def test_an_older_star_import_stub_is_left_alone() -> None:
    check_noop("from compat.structlog_config import *  # noqa: F401,F403\n", path=LEGACY_PATH)


def test_a_hand_written_stub_with_a_profile_is_left_alone() -> None:
    check_noop(compat_stub("app.utils.my_profile"), path=LEGACY_PATH)


def test_stub_and_profile_keep_crlf_line_endings() -> None:
    result = run(READABLE_LEGACY.replace("\n", "\r\n"), path=LEGACY_PATH)
    assert result.source == STUB.replace("\n", "\r\n")
    assert result.new_file is not None and "\r\n" in result.new_file.text and "\n" not in result.new_file.text.replace("\r\n", "")


def test_delete_legacy_leaves_the_profile_module() -> None:
    result = run(READABLE_LEGACY, path=LEGACY_PATH, delete_legacy=True)
    assert result.delete and result.new_file is not None and result.new_file.path == "newlog_profile.py"
    assert run(STUB, path=LEGACY_PATH, delete_legacy=True).new_file is None, "a stub's profile module is there already"
    kept = run(TOY_SOURCE, path=LEGACY_PATH, delete_legacy=True)
    assert not kept.delete and kept.error is not None, "an unreadable legacy module is not deleted either"


def test_other_paths_are_not_the_legacy_module() -> None:
    check_noop("x = 1  # structlog_config\n", path="app/structlog_config.py")
    check_noop("x = 1  # structlog_config\n", path="legacy/app/utils/structlog_config.py")


def test_another_module_path() -> None:
    result = run(READABLE_LEGACY, path="myapp/logconf.py", module="myapp.logconf")
    assert result.source is not None
    assert "``myapp.logconf``" in result.source
    assert result.source.endswith(compat_stub("myapp.newlog_profile").replace("; ", "\n\n", 1))


def test_other_rules_apply_when_it_is_excluded() -> None:
    result = run(TOY_SOURCE, path=LEGACY_PATH, skip=["legacy-file"])
    assert result.source is not None
    assert "class DatabaseLogHandler" in result.source
    assert "_process_logs" not in result.source
    assert "bind_contextvars(**kwargs)" in result.source


# -- whole runs: the profile module is written beside the legacy module, and used --------------------


def _project(root: Path, legacy_source: str = READABLE_LEGACY) -> Path:
    """A project whose package ``app`` has the legacy module and a factory calling ``configure_structlog(app)``."""
    (root / "app" / "utils").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text(
        "from flask import Flask\n\nfrom app.utils.structlog_config import configure_structlog\n\n\n"
        "def create_app():\n    app = Flask(__name__)\n    configure_structlog(app)\n    return app\n",
        encoding="utf-8",
    )
    (root / "app" / "utils" / "__init__.py").write_text("", encoding="utf-8")
    legacy = root / "app" / "utils" / "structlog_config.py"
    legacy.write_text(legacy_source, encoding="utf-8")
    return legacy


def test_a_run_writes_the_profile_module_the_stub_and_the_init_app_call_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = _project(tmp_path)
    created = legacy.parent / "newlog_profile.py"

    assert main([str(tmp_path), "--diff", "--jobs", "1"]) == 1
    out, err = capsys.readouterr()
    assert f"--- /dev/null\n+++ {created}\n" in out
    assert f"would create {created}" in err
    assert not created.exists() and legacy.read_text(encoding="utf-8") == READABLE_LEGACY

    assert main([str(tmp_path), "--jobs", "1"]) == 1
    assert f"created {created}" in capsys.readouterr().err
    ast.parse(created.read_text(encoding="utf-8"))
    assert legacy.read_text(encoding="utf-8") == STUB
    factory = (tmp_path / "app" / "__init__.py").read_text(encoding="utf-8")
    assert "from app.utils import newlog_profile\n" in factory
    assert (
        "    init_app(\n        app,\n        errors=newlog_profile.PROFILE,\n        identity=newlog_profile.IDENTITY,\n"
        "        request_only=newlog_profile.REQUEST_ONLY,\n    )\n"
    ) in factory
    assert main([str(tmp_path), "--jobs", "1"]) == 0, "a second run changes nothing"

    assert main([str(tmp_path), "--delete-legacy", "--jobs", "1"]) == 1
    assert not legacy.exists() and created.exists(), "the profile module stays: the app imports it"


def test_the_profile_module_never_overwrites_a_file_that_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = _project(tmp_path)
    mine = legacy.parent / "newlog_profile.py"
    mine.write_text("HAND_WRITTEN = True\n", encoding="utf-8")
    assert main([str(tmp_path), "--jobs", "1"]) == 2
    assert "newlog_profile.py: already exists with other content: not overwritten" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "HAND_WRITTEN = True\n"
    assert legacy.read_text(encoding="utf-8") == READABLE_LEGACY, "the legacy module is kept when its profile cannot be written"


def test_an_unreadable_legacy_module_stops_the_run_and_init_app_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = _project(tmp_path, TOY_SOURCE)
    assert main([str(tmp_path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{legacy}:1: could not determine the error handling: no function enhanced_error_handler [legacy-file]" in err
    assert f"{legacy}: not replaced: its couplings to the app could not be read completely" in err
    assert f"{tmp_path / 'app' / '__init__.py'}:8: init_app(...) gets none of the app's couplings" in err
    assert legacy.read_text(encoding="utf-8") == TOY_SOURCE
    assert not (legacy.parent / "newlog_profile.py").exists()


def test_a_hand_written_profile_named_by_the_stub_is_used(tmp_path: Path) -> None:
    legacy = _project(tmp_path)
    legacy.write_text(compat_stub("app.profiles.mine"), encoding="utf-8")
    assert main([str(tmp_path), "--jobs", "1"]) == 1
    factory = (tmp_path / "app" / "__init__.py").read_text(encoding="utf-8")
    assert "from app.profiles import mine\n" in factory and "errors=mine.PROFILE" in factory
    assert legacy.read_text(encoding="utf-8") == compat_stub("app.profiles.mine")


def test_deleting_the_legacy_module_at_once_writes_its_profile_module_first(tmp_path: Path) -> None:
    legacy = _project(tmp_path)
    assert main([str(tmp_path), "--delete-legacy", "--jobs", "1"]) == 1
    assert not legacy.exists()
    assert "PROFILE = ErrorProfile(" in (legacy.parent / "newlog_profile.py").read_text(encoding="utf-8")
    assert "errors=newlog_profile.PROFILE" in (tmp_path / "app" / "__init__.py").read_text(encoding="utf-8")
