"""Where the rewritten imports land: isort/ruff sections and order, wrapping, comments tied to the old import."""

from __future__ import annotations

from pathlib import Path

from codemods.apply import main
from tests.codemods._helpers import check_transformed


def test_newlog_goes_to_the_third_party_section() -> None:
    check_transformed(
        "import os\n"
        "\n"
        "from flask import Flask\n"
        "\n"
        "from app.extensions import db\n"
        "from app.utils.structlog_config import log_info\n"
        "\n"
        "log_info(os.sep, db=db, app=Flask)\n",
        "import os\n"
        "\n"
        "from flask import Flask\n"
        "from newlog import log_info\n"
        "\n"
        "from app.extensions import db\n"
        "\n"
        "log_info(os.sep, db=db, app=Flask)\n",
    )


def test_a_third_party_section_is_made_when_there_is_none() -> None:
    check_transformed(
        '"""Views."""\n'
        "import os\n"
        "\n"
        "from app.utils.structlog_config import log_info\n"
        "from app.extensions import db\n"
        "\n"
        "log_info(os.sep, db=db)\n",
        '"""Views."""\n'
        "import os\n"
        "\n"
        "from newlog import log_info\n"
        "\n"
        "from app.extensions import db\n"
        "\n"
        "log_info(os.sep, db=db)\n",
    )


def test_a_removed_import_leaves_the_sections_apart() -> None:
    check_transformed(
        "import os\n"
        "\n"
        "from app.utils.structlog_config import _global_context\n"
        "from app.extensions import db\n"
        "\n"
        "def view():\n"
        "    _global_context['a'] = os.sep\n",
        "import os\n"
        "\n"
        "from structlog.contextvars import bind_contextvars\n"
        "\n"
        "from app.extensions import db\n"
        "\n"
        "def view():\n"
        "    bind_contextvars(a=os.sep)\n",
    )


def test_new_names_join_an_import_of_the_same_module_in_order() -> None:
    check_transformed(
        "from flask import g\n"
        "from newlog import get_logger, log_info\n"
        "\n"
        "from app.utils.structlog_config import LogContext, log_error\n"
        "\n"
        "with LogContext(a=g.a):\n"
        "    log_error('x')\n",
        "from flask import g\n"
        "from newlog import get_logger, log_context, log_error, log_info\n"
        "\n"
        "with log_context(a=g.a):\n"
        "    log_error('x')\n",
    )


def test_a_long_import_is_wrapped_like_ruff_does() -> None:
    check_transformed(
        "from app.utils.structlog_config import (\n"
        "    enhanced_error_handler, get_api_logger, log_critical, log_error, log_warning, should_log_debug,\n"
        ")\n",
        "from newlog import (\n"
        "    enhanced_error_handler, get_api_logger, log_critical, log_error, log_warning, should_log_debug,\n"
        ")\n",
    )
    check_transformed(
        "from app.utils.structlog_config import enhanced_error_handler, get_api_logger, log_critical\n"
        "from app.utils.structlog_config import log_warning as warn, should_log_debug\n",
        "from newlog import (\n"
        "    enhanced_error_handler,\n"
        "    get_api_logger,\n"
        "    log_critical,\n"
        "    should_log_debug,\n"
        ")\n"
        "from newlog import log_warning as warn\n",
    )


def test_comments_about_the_legacy_module_go_pragmas_stay() -> None:
    check_transformed(
        "import sys\n"
        "\n"
        "sys.path.insert(0, '.')\n"
        "\n"
        "# the legacy logging module\n"
        "from app.utils.structlog_config import log_info  # noqa: E402  (after the path tweak)\n"
        "from app.utils.structlog_config import (  # legacy structlog_config helpers\n"
        "    log_error,\n"
        ")\n",
        "import sys\n"
        "\n"
        "sys.path.insert(0, '.')\n"
        "\n"
        "from newlog import log_error, log_info  # noqa: E402  (after the path tweak)\n",
    )


def test_a_star_import_made_explicit_loses_its_star_noqa() -> None:
    check_transformed(
        "from app.utils.structlog_config import *  # noqa: F403\n\nlog_info('x')\n",
        "from newlog import log_info\n\nlog_info('x')\n",
    )


def test_imports_inside_a_function_are_placed_too() -> None:
    check_transformed(
        "def report():\n"
        "    from app.models import UnifiedLog\n"
        "    from app.utils.structlog_config import log_info\n"
        "\n"
        "    log_info('x', n=UnifiedLog.count())\n",
        "def report():\n"
        "    from newlog import log_info\n"
        "\n"
        "    from app.models import UnifiedLog\n"
        "\n"
        "    log_info('x', n=UnifiedLog.count())\n",
    )


def test_the_projects_line_length_decides_the_wrapping(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 120\n", encoding="utf-8")
    module = tmp_path / "app" / "views.py"
    module.parent.mkdir()
    (module.parent / "__init__.py").write_text("", encoding="utf-8")
    long_line = (
        "from app.utils.structlog_config import enhanced_error_handler, get_api_logger, log_critical, log_error\n"
    )
    module.write_text(long_line, encoding="utf-8")
    assert main([str(tmp_path), "--jobs", "1", "--quiet"]) == 1
    assert module.read_text(encoding="utf-8") == (
        "from newlog import enhanced_error_handler, get_api_logger, log_critical, log_error\n"
    )


def test_names_join_an_import_with_comments_at_its_end_keeping_the_comments() -> None:
    check_transformed(
        "from app.utils.structlog_config import (  # legacy logging module\n"
        "    # configuration\n"
        "    configure_structlog,\n"
        "    # state written at import\n"
        "    _global_context,\n"
        ")\n"
        "\n"
        "_global_context['region'] = 'eu'\n"
        "configure_structlog(None)\n",
        "from newlog import (\n"
        "    # configuration\n"
        "    init_app,\n"
        "    set_static_context,\n"
        ")\n"
        "\n"
        "set_static_context(region='eu')\n"
        "init_app(None)\n",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )
