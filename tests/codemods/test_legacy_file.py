"""Rule ``legacy-file``: the legacy module itself becomes a compat stub, or is deleted."""

from __future__ import annotations

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
    check_noop(
        "from compat.structlog_config import *  # noqa: F401,F403\n", path="app/utils/structlog_config.py"
    )


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
