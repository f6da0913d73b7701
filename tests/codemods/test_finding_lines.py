"""A finding names the line of the file as the user has it, whatever the rules changed above it first.

Every case runs both ways (statements parsed as read, and the whole file at once: ``run``), and
the line named must hold what the finding talks about in the ORIGINAL source.
"""

from __future__ import annotations

import pytest

from tests.codemods._helpers import run

CASES = {
    "nested import after a module-level import the rules rewrote": (
        "from __future__ import annotations\n"
        "\n"
        "from app.utils.structlog_config import log_info, log_error\n"
        "\n"
        "\n"
        "\n"
        "def view(app, value, render):\n"
        "    from app.utils.structlog_config import UnifiedLog, log_info, should_log_debug, with_log_context\n"
        "    with with_log_context(request='r1'):\n"
        "        pass\n"
        "    return None\n"
    ),
    "nested import below a debug guard that lost its line": (
        "from app.utils.structlog_config import log_debug, should_log_debug\n"
        "\n"
        "\n"
        "def view():\n"
        "    if should_log_debug():\n"
        "        log_debug('x', a=1)\n"
        "    from app.utils.structlog_config import UnifiedLog\n"
        "    return UnifiedLog\n"
    ),
    "nested import below a multi-line _global_context write": (
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "\n"
        "def view():\n"
        "    _global_context.update(\n"
        "        a=1,\n"
        "    )\n"
        "    from app.utils.structlog_config import UnifiedLog\n"
        "    return UnifiedLog\n"
    ),
    "import in a class body": (
        "import os\n"
        "from app.utils.structlog_config import log_info\n"
        "\n"
        "\n"
        "class View:\n"
        "    from app.utils.structlog_config import UnifiedLog, with_log_context\n"
        "\n"
        "    def get(self):\n"
        "        with with_log_context(a=1):\n"
        "            log_info('x')\n"
    ),
    "import in a method below a rewritten with block": (
        "from app.utils.structlog_config import log_info, with_log_context\n"
        "\n"
        "\n"
        "class View:\n"
        "    x = 1\n"
        "\n"
        "    def get(self):\n"
        "        with with_log_context(a=1):\n"
        "            log_info('x')\n"
        "        from app.utils.structlog_config import UnifiedLog\n"
        "        return UnifiedLog\n"
    ),
    "top-level import below a parenthesised import that became one line": (
        "from app.utils.structlog_config import (  # legacy\n"
        "    log_info,\n"
        "    log_error,\n"
        ")\n"
        "\n"
        "\n"
        "\n"
        "from app.utils.structlog_config import UnifiedLog\n"
        "\n"
        "log_info('a', n=UnifiedLog)\n"
    ),
}


@pytest.mark.parametrize("source", CASES.values(), ids=CASES.keys())
def test_the_finding_names_the_line_of_the_import_as_read(source: str) -> None:
    result = run(source, path="app/utils/mod.py")
    assert [f.message for f in result.findings] == [
        "'UnifiedLog' is not part of the legacy API newlog replaces; left importing it from app.utils.structlog_config"
    ]
    line = result.findings[0].line
    assert "import" in source.splitlines()[line - 1] and "UnifiedLog" in source.splitlines()[line - 1]


def test_a_use_left_on_a_module_alias_is_reported_at_its_line_as_read() -> None:
    source = (
        "import app.utils.structlog_config as slc\n"
        "\n"
        "\n"
        "def view():\n"
        "    if slc.should_log_debug():\n"
        "        slc.log_debug('x', a=1)\n"
        "    return slc.UnifiedLog\n"
    )
    result = run(source, path="app/utils/mod.py")
    assert [(f.line, f.message) for f in result.findings] == [
        (
            7,
            (
                "'UnifiedLog' of app.utils.structlog_config has no newlog equivalent; "
                "left importing app.utils.structlog_config"
            ),
        )
    ]
    assert source.splitlines()[6] == "    return slc.UnifiedLog"
