"""Rule ``imports``: every form of import of the legacy module, and the uses of what it binds."""

from __future__ import annotations

from tests.codemods._helpers import check_noop, check_transformed, run


def test_one_name() -> None:
    check_transformed(
        "from app.utils.structlog_config import log_info\n\nlog_info('hi')\n",
        "from newlog import log_info\n\nlog_info('hi')\n",
    )


def test_many_names_on_one_line() -> None:
    check_transformed(
        "from app.utils.structlog_config import log_error, log_info, get_api_logger\n",
        "from newlog import get_api_logger, log_error, log_info\n",  # in isort's order
    )


def test_parenthesised_import_keeps_its_comments() -> None:
    check_transformed(
        "from app.utils.structlog_config import (  # logging\n"
        "    # loggers\n"
        "    get_system_logger,\n"
        "    log_info,  # the helper\n"
        ")\n",
        "from newlog import (  # logging\n    # loggers\n    get_system_logger,\n    log_info,  # the helper\n)\n",
    )


def test_aliased_names_keep_their_alias() -> None:
    check_transformed(
        "from app.utils.structlog_config import log_warning as warn, configure_structlog as setup\n"
        "warn('x')\n"
        "setup(app)\n",
        "from newlog import log_warning as warn, init_app as setup\nwarn('x')\nsetup(app)\n",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_renamed_name_is_renamed_at_its_uses() -> None:
    check_transformed(
        "from app.utils.structlog_config import configure_structlog, log_info\n"
        "\n"
        "def create_app(app):\n"
        "    db.init_app(app)\n"
        "    configure_structlog(app)\n"
        "    log_info('started')\n",
        "from newlog import init_app, log_info\n"
        "\n"
        "def create_app(app):\n"
        "    db.init_app(app)\n"
        "    init_app(app)\n"
        "    log_info('started')\n",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_renamed_name_keeps_the_old_local_name_when_the_new_one_is_taken() -> None:
    check_transformed(
        "from app.utils.structlog_config import configure_structlog\n"
        "\n"
        "def init_app(app):\n"
        "    configure_structlog(app)\n",
        "from newlog import init_app as configure_structlog\n\ndef init_app(app):\n    configure_structlog(app)\n",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_the_instance_named_like_the_module_becomes_log_config() -> None:
    check_transformed(
        "from app.utils.structlog_config import get_task_logger, structlog_config\n"
        "\n"
        "def command(app):\n"
        "    structlog_config.configure(app)  # a CLI may not have run configure_structlog\n"
        "    structlog_config.shutdown()\n",
        "from newlog import get_task_logger, log_config\n"
        "\n"
        "def command(app):\n"
        "    log_config.configure(app)  # a CLI may not have run configure_structlog\n"
        "    log_config.shutdown()\n",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_a_local_variable_that_shares_the_name_is_not_rewritten() -> None:
    check_transformed(
        "from app.utils.structlog_config import structlog_config\n"
        "\n"
        "structlog_config.configure()\n"
        "\n"
        "def reconfigure(structlog_config):\n"
        "    structlog_config.configure()\n",
        "from newlog import log_config\n"
        "\n"
        "log_config.configure()\n"
        "\n"
        "def reconfigure(structlog_config):\n"
        "    structlog_config.configure()\n",
    )


def test_module_alias_becomes_import_newlog() -> None:
    check_transformed(
        "import app.utils.structlog_config as slc\n"
        "\n"
        "@slc.error_monitor\n"
        "def view(app):\n"
        "    slc.configure_structlog(app)\n"
        "    slc.log_warning('x', category=slc.ErrorCategory.UNKNOWN)\n",
        "import newlog\n"
        "\n"
        "@newlog.error_monitor\n"
        "def view(app):\n"
        "    newlog.init_app(app)\n"
        "    newlog.log_warning('x', category=newlog.ErrorCategory.UNKNOWN)\n",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_plain_import_and_fully_qualified_uses() -> None:
    check_transformed(
        "import app.utils.structlog_config\n"
        "\n"
        "db_logger = app.utils.structlog_config.get_db_logger()\n"
        "config = app.utils.structlog_config.structlog_config\n",
        "import newlog\n\ndb_logger = newlog.get_db_logger()\nconfig = newlog.log_config\n",
    )


def test_plain_import_leaves_a_local_app_alone() -> None:
    check_transformed(
        "import app.utils.structlog_config\n"
        "\n"
        "app.utils.structlog_config.log_info('x')\n"
        "\n"
        "def create(app):\n"
        "    app.utils.structlog_config.log_info('y')\n",
        "import newlog\n\nnewlog.log_info('x')\n\ndef create(app):\n    app.utils.structlog_config.log_info('y')\n",
    )


def test_plain_import_keeps_the_package_when_other_parts_of_it_are_used() -> None:
    check_transformed(
        "import app.utils.structlog_config\n\napp.utils.structlog_config.log_info(app.utils.VERSION)\n",
        "import newlog\n\nimport app.utils\n\nnewlog.log_info(app.utils.VERSION)\n",
    )


def test_module_from_its_package() -> None:
    check_transformed(
        "from app.utils import structlog_config, helpers\n"
        "\n"
        "def view():\n"
        "    structlog_config.log_error('boom', module='api')\n"
        "    return helpers.ok()\n",
        "import newlog\n"
        "\n"
        "from app.utils import helpers\n"
        "\n"
        "def view():\n"
        "    newlog.log_error('boom', module='api')\n"
        "    return helpers.ok()\n",
    )


def test_relative_imports_are_resolved_against_the_package() -> None:
    check_transformed(
        "from .structlog_config import log_info\n",
        "from newlog import log_info\n",
        path="app/utils/helpers.py",
    )
    check_transformed(
        "from ..utils.structlog_config import bind_request_context, get_auth_logger\n"
        "from ..utils.structlog_config import log_warning as warn\n",
        "from newlog import bind_request_context, get_auth_logger\nfrom newlog import log_warning as warn\n",
        path="app/auth/routes.py",
    )
    check_transformed(
        "from ..utils import structlog_config\n\nstructlog_config.log_info('x')\n",
        "import newlog\n\nnewlog.log_info('x')\n",
        path="app/services/billing.py",
    )


def test_relative_import_of_another_module_is_left_alone() -> None:
    check_noop("from .structlog_config import log_info\n", path="app/api/routes.py")
    check_noop("from ...structlog_config import log_info\n", path="app/utils/sub/mod.py")


def test_imports_in_functions_and_methods() -> None:
    check_transformed(
        "def logout():\n"
        "    from app.utils.structlog_config import log_info  # function-level import\n"
        "    log_info('bye')\n"
        "\n"
        "class Reports:\n"
        "    def run(self):\n"
        "        from app.utils.structlog_config import configure_structlog\n"
        "        configure_structlog(self.app)\n",
        "def logout():\n"
        "    from newlog import log_info  # function-level import\n"
        "    log_info('bye')\n"
        "\n"
        "class Reports:\n"
        "    def run(self):\n"
        "        from newlog import init_app\n"
        "        init_app(self.app)\n",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_try_except_import_error_fallback() -> None:
    check_transformed(
        "try:\n"
        "    from app.utils.structlog_config import log_info, configure_structlog\n"
        "except ImportError:  # outside the app\n"
        "    def log_info(message, **kwargs):\n"
        "        print(message)\n"
        "    def configure_structlog(app):\n"
        "        pass\n"
        "\n"
        "configure_structlog(app)\n",
        "try:\n"
        "    from newlog import init_app as configure_structlog\n"
        "    from newlog import log_info\n"
        "except ImportError:  # outside the app\n"
        "    def log_info(message, **kwargs):\n"
        "        print(message)\n"
        "    def configure_structlog(app):\n"
        "        pass\n"
        "\n"
        "configure_structlog(app)\n",
    )


def test_type_checking_import_and_annotations() -> None:
    check_transformed(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "\n"
        "if TYPE_CHECKING:\n"
        "    from app.utils.structlog_config import StructlogConfig\n"
        "\n"
        "def build(config: StructlogConfig | None = None) -> None: ...\n",
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "\n"
        "if TYPE_CHECKING:\n"
        "    from newlog import LogConfig\n"
        "\n"
        "def build(config: LogConfig | None = None) -> None: ...\n",
    )


def test_string_annotation_keeps_the_old_name() -> None:
    check_transformed(
        "if TYPE_CHECKING:\n"
        "    from app.utils.structlog_config import StructlogConfig\n"
        "\n"
        "def build(config: 'StructlogConfig') -> None: ...\n",
        "if TYPE_CHECKING:\n"
        "    from newlog import LogConfig as StructlogConfig\n"
        "\n"
        "def build(config: 'StructlogConfig') -> None: ...\n",
    )


def test_package_reexport_listed_in_all_keeps_the_public_name() -> None:
    check_transformed(
        "from .structlog_config import configure_structlog, log_info\n"
        "\n"
        '__all__ = ["configure_structlog", "log_info"]\n',
        "from newlog import init_app as configure_structlog\n"
        "from newlog import log_info\n"
        "\n"
        '__all__ = ["configure_structlog", "log_info"]\n',
        path="app/utils/__init__.py",
    )


def test_package_init_without_all_keeps_names_it_does_not_use_itself() -> None:
    check_transformed(
        "from app.utils.structlog_config import configure_structlog, get_context, with_log_context\n"
        "\n"
        "def create_app(app):\n"
        "    configure_structlog(app)\n",
        "from newlog import get_context, init_app\n"
        "from newlog import log_context as with_log_context\n"
        "\n"
        "def create_app(app):\n"
        "    init_app(app)\n",
        path="app/__init__.py",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_star_import_becomes_the_names_used() -> None:
    findings = check_transformed(
        "from app.utils.structlog_config import *  # noqa: F403\n"
        "\n"
        "sync_logger = get_sync_logger()\n"
        "\n"
        "def run(app):\n"
        "    configure_structlog(app)\n"
        "    log_info('done')\n",
        "from newlog import get_sync_logger, init_app, log_info\n"  # no star import left to silence
        "\n"
        "from app.utils import newlog_profile\n"
        "\n"
        "sync_logger = get_sync_logger()\n"
        "\n"
        "def run(app):\n"
        "    init_app(\n"
        "        app,\n"
        "        errors=newlog_profile.PROFILE,\n"
        "        identity=newlog_profile.IDENTITY,\n"
        "        request_only=newlog_profile.REQUEST_ONLY,\n"
        "    )\n"
        "    log_info('done')\n",
    )
    assert findings == []


def test_star_import_in_a_package_init_cannot_tell() -> None:
    result = check_transformed(
        "from .structlog_config import *\n",
        "from newlog import *\n",
        path="app/utils/__init__.py",
    )
    assert len(result) == 1
    assert result[0].startswith("1: star import replaced by 'from newlog import *'")
    assert "configure_structlog -> init_app" in result[0]


def test_star_import_with_dynamic_namespace_access_cannot_tell() -> None:
    findings = check_transformed(
        "from app.utils.structlog_config import *\n\nhelper = globals()['log_info']\n",
        "from newlog import *\n\nhelper = globals()['log_info']\n",
    )
    assert len(findings) == 1


def test_dotted_path_strings_follow_the_mapping() -> None:
    check_transformed(
        "with mock.patch('app.utils.structlog_config.log_info') as fake:\n"
        "    pass\n"
        'patcher = mock.patch("app.utils.structlog_config.configure_structlog")\n',
        "with mock.patch('newlog.log_info') as fake:\n    pass\npatcher = mock.patch(\"newlog.init_app\")\n",
    )


def test_other_strings_naming_the_legacy_module_are_reported() -> None:
    findings = check_noop("mock.patch('app.utils.structlog_config.current_app')\n")
    assert findings == ["1: string 'app.utils.structlog_config.current_app' has no newlog equivalent; left as is"]


def test_converted_names_join_an_existing_newlog_import() -> None:
    check_transformed(
        "from newlog import log_context\n"
        "from app.utils.structlog_config import log_info, get_context\n"
        "\n"
        "log_info('x')\n",
        "from newlog import get_context, log_context, log_info\n\nlog_info('x')\n",
    )


def test_name_without_newlog_equivalent_is_reported_and_kept() -> None:
    findings = check_transformed(
        "from app.utils.structlog_config import UnifiedLog, log_info\n",
        "from newlog import log_info\n\nfrom app.utils.structlog_config import UnifiedLog\n",
    )
    assert findings == [
        "1: 'UnifiedLog' is not part of the legacy API newlog replaces; "
        "left importing it from app.utils.structlog_config"
    ]


def test_global_context_without_its_rule_is_reported_and_kept() -> None:
    findings = check_noop(
        "from app.utils.structlog_config import _global_context\n\n_global_context['a'] = 1\n",
        only=["imports"],
    )
    assert findings == [
        "1: '_global_context' has no newlog equivalent (the global-context rule rewrites its uses); "
        "left importing it from app.utils.structlog_config"
    ]


def test_module_used_as_a_value_is_reported_and_kept() -> None:
    findings = check_transformed(
        "import app.utils.structlog_config as slc\n\nslc.log_info('x')\nregister(slc)\n",
        "import newlog\n\nimport app.utils.structlog_config as slc\n\nnewlog.log_info('x')\nregister(slc)\n",
    )
    assert findings == [
        "4: 'slc' (the module app.utils.structlog_config) is used other than as 'module.name'; left importing it"
    ]


def test_module_reexported_by_a_package_is_reported_and_kept() -> None:
    findings = check_noop(
        "from . import structlog_config\n\n__all__ = ['structlog_config']\n", path="app/utils/__init__.py"
    )
    assert findings == [
        "1: 'structlog_config' (the module app.utils.structlog_config) is re-exported in __all__; left as is"
    ]


def test_semicolon_separated_statements() -> None:
    check_transformed(
        "import os; from app.utils.structlog_config import log_info\n",
        "import os; from newlog import log_info\n",
    )


def test_module_alias_among_other_imports() -> None:
    check_transformed(
        "import os, app.utils.structlog_config as slc\n\nslc.log_info(os.sep)\n",
        "import os\n\nimport newlog\n\nnewlog.log_info(os.sep)\n",
    )


def test_another_legacy_module_path() -> None:
    check_transformed(
        "from myapp.logconf import configure_structlog\n"
        "from app.utils.structlog_config import log_info\n\n"
        "configure_structlog(app)\n",
        "from newlog import init_app\n\nfrom app.utils.structlog_config import log_info\n\ninit_app(app)\n",
        module="myapp.logconf",
        profile_module=None,  # the profile keywords are pinned in test_profile_args
    )


def test_unrelated_files_are_left_alone() -> None:
    check_noop('"""Mentions app.utils.structlog_config in prose only."""\nimport structlog\n')
    check_noop("from app.utils import log_info\n\nlog_info('re-exported names stay as they are')\n")
    check_noop("structlog_config = {}\nstructlog_config['a'] = 1\n")


def test_an_import_statement_rewritten_for_two_rules_counts_once() -> None:
    result = run(
        "from app.utils.structlog_config import LogContext, log_info\n\nwith LogContext(job=1):\n    log_info('x')\n"
    )
    assert result.source == "from newlog import log_context, log_info\n\nwith log_context(job=1):\n    log_info('x')\n"
    assert {rule: n for rule, n in result.counts.items() if n} == {"global-context": 2}  # the use, the statement


def test_a_module_import_with_no_use_is_left_to_the_imports_rule() -> None:
    source = "import app.utils.structlog_config as slc\n"
    assert run(source, only=["global-context", "debug-guard"]).source is None
    assert run(source).source == "import newlog\n"
