"""``configure_structlog(app)`` / ``structlog_config.configure(app)`` carry the app's profile into ``init_app``."""

from __future__ import annotations

from tests.codemods._helpers import check_transformed, findings, run

KEYWORDS = (
    "        app,\n"
    "        errors=newlog_profile.PROFILE,\n"
    "        identity=newlog_profile.IDENTITY,\n"
    "        request_only=newlog_profile.REQUEST_ONLY,\n"
    "    )\n"
)


def test_a_renamed_configure_structlog_call() -> None:
    check_transformed(
        "from app.utils.structlog_config import configure_structlog\n\n\ndef create_app(app):\n"
        "    configure_structlog(app)\n",
        "from newlog import init_app\n\nfrom app.utils import newlog_profile\n\n\ndef create_app(app):\n"
        "    init_app(\n" + KEYWORDS,
    )


def test_an_aliased_import_keeps_its_alias() -> None:
    check_transformed(
        "from app.utils.structlog_config import configure_structlog as setup_logging\n\n\ndef create_app(app):\n"
        "    setup_logging(app)\n",
        "from newlog import init_app as setup_logging\n\nfrom app.utils import newlog_profile\n\n\n"
        "def create_app(app):\n    setup_logging(\n" + KEYWORDS,
    )


def test_module_style_and_the_instance_method() -> None:
    check_transformed(
        "import app.utils.structlog_config as slc\n\n\ndef create_app(app):\n    slc.configure_structlog(app)\n"
        "    slc.structlog_config.configure(app)\n    slc.structlog_config.configure()\n",
        "import newlog\n\nfrom app.utils import newlog_profile\n\n\ndef create_app(app):\n    newlog.init_app(\n"
        + KEYWORDS
        + "    newlog.log_config.configure(\n"
        + KEYWORDS
        + "    newlog.log_config.configure()\n",
    )


def test_the_instance_imported_by_name_inside_a_function() -> None:
    check_transformed(
        "def create_app(app):\n    from app.utils.structlog_config import structlog_config\n\n"
        "    structlog_config.configure(app)  # a CLI process\n",
        "from app.utils import newlog_profile\ndef create_app(app):\n    from newlog import log_config\n\n"
        "    log_config.configure(\n" + KEYWORDS.replace("    )\n", "    )  # a CLI process\n"),
    )


def test_a_call_over_several_lines_keeps_its_layout() -> None:
    check_transformed(
        "from app.utils.structlog_config import configure_structlog\n\nconfigure_structlog(\n    app,  # the app\n)\n",
        "from newlog import init_app\n\nfrom app.utils import newlog_profile\n\ninit_app(\n    app,  # the app\n"
        "    errors=newlog_profile.PROFILE,\n    identity=newlog_profile.IDENTITY,\n"
        "    request_only=newlog_profile.REQUEST_ONLY,\n)\n",
    )


def test_a_call_that_already_passes_a_profile_is_left_as_it_is() -> None:
    result = run(
        "from app.utils.structlog_config import configure_structlog\n\nconfigure_structlog(app, errors=MINE)\n"
    )
    assert result.source == "from newlog import init_app\n\ninit_app(app, errors=MINE)\n"


def test_without_a_profile_module_the_call_is_reported() -> None:
    result = run(
        "from app.utils.structlog_config import configure_structlog\n\nconfigure_structlog(app)\n",
        profile_module=None,
    )
    assert result.source == "from newlog import init_app\n\ninit_app(app)\n"
    [message] = findings(result)
    assert message.startswith("3: init_app(...) gets none of the app's couplings (errors=, identity=, request_only=)")
