"""Rule ``debug-guard``: guards keep working from newlog; only provably redundant ones are dropped."""

from __future__ import annotations

from typing import Any

import pytest

import newlog
import newlog.api
from tests.codemods._helpers import check_transformed


def test_guard_with_literal_arguments_is_dropped() -> None:
    check_transformed(
        "from app.utils.structlog_config import log_debug, should_log_debug\n"
        "\n"
        "def warm():\n"
        "    # noisy\n"
        "    if should_log_debug():\n"
        "        log_debug('Cache warmed', module='cache', attempt=1, final=True)\n",
        "from newlog import log_debug\n"
        "\n"
        "def warm():\n"
        "    # noisy\n"
        "    log_debug('Cache warmed', module='cache', attempt=1, final=True)\n",
    )


def test_guard_with_computed_arguments_is_kept() -> None:
    check_transformed(
        "from app.utils.structlog_config import log_debug, should_log_debug\n"
        "\n"
        "def lookup(order_id):\n"
        "    if should_log_debug():\n"
        "        log_debug(f'Looking up {order_id}', module='orders', order_id=order_id)\n"
        "    return should_log_debug()\n",
        "from newlog import log_debug, should_log_debug\n"
        "\n"
        "def lookup(order_id):\n"
        "    if should_log_debug():\n"
        "        log_debug(f'Looking up {order_id}', module='orders', order_id=order_id)\n"
        "    return should_log_debug()\n",
    )


def test_guard_with_else_comment_or_more_statements_is_kept() -> None:
    check_transformed(
        "from app.utils.structlog_config import log_debug, log_info, should_log_debug\n"
        "\n"
        "if should_log_debug():\n"
        "    log_debug('a')\n"
        "else:\n"
        "    log_info('b')\n"
        "if should_log_debug():  # keep\n"
        "    log_debug('c')\n"
        "if should_log_debug():\n"
        "    log_debug('d')\n"
        "    log_debug('e')\n",
        "from newlog import log_debug, log_info, should_log_debug\n"
        "\n"
        "if should_log_debug():\n"
        "    log_debug('a')\n"
        "else:\n"
        "    log_info('b')\n"
        "if should_log_debug():  # keep\n"
        "    log_debug('c')\n"
        "if should_log_debug():\n"
        "    log_debug('d')\n"
        "    log_debug('e')\n",
    )


def test_a_local_function_of_the_same_name_is_not_the_guard() -> None:
    check_transformed(
        "from app.utils.structlog_config import log_debug\n"
        "\n"
        "def should_log_debug():\n"
        "    return True\n"
        "\n"
        "if should_log_debug():\n"
        "    log_debug('x')\n",
        "from newlog import log_debug\n"
        "\n"
        "def should_log_debug():\n"
        "    return True\n"
        "\n"
        "if should_log_debug():\n"
        "    log_debug('x')\n",
    )


def test_module_attribute_guard() -> None:
    check_transformed(
        "import app.utils.structlog_config as slc\n"
        "\n"
        "if slc.should_log_debug():\n"
        "    slc.log_debug('ready')\n"
        "slc.set_debug_logging_enabled(enabled=True)\n",
        "import newlog\n\nnewlog.log_debug('ready')\nnewlog.set_debug_logging_enabled(enabled=True)\n",
    )


def test_only_this_rule_moves_only_the_debug_names() -> None:
    check_transformed(
        "from app.utils.structlog_config import is_debug_logging_enabled, log_info\n",
        "from newlog import is_debug_logging_enabled\n\nfrom app.utils.structlog_config import log_info\n",
        only=["debug-guard"],
    )


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def debug(self, message: str, **kwargs: Any) -> None:
        self.calls.append((message, kwargs))


def test_premise_newlog_log_debug_does_nothing_unless_the_guard_is_true(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping ``if should_log_debug():`` is only equivalent because newlog.log_debug checks it itself."""
    recorder = _Recorder()
    monkeypatch.setattr(newlog.api, "get_logger", lambda name: recorder)

    newlog.set_debug_logging_enabled(enabled=False)
    assert newlog.should_log_debug() is False
    newlog.log_debug("off", module="m")
    assert recorder.calls == []

    newlog.set_debug_logging_enabled(enabled=True)
    assert newlog.should_log_debug() is True
    newlog.log_debug("on", module="m")
    assert recorder.calls == [("on", {"module": "m"})]
