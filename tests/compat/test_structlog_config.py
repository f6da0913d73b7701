"""compat.structlog_config: the legacy API on newlog, as an application sees it."""

from __future__ import annotations

import subprocess
import sys
import threading
import warnings
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

import newlog
from tests.characterization.harness import ROOT, clean_env
from tests.conftest import MakeApp
from tests.support import read_rows

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import compat.structlog_config as slc

def rows(app: Flask) -> list[dict[str, Any]]:
    """The app's log rows."""
    return read_rows(app)


def _python(code: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *options, "-c", code], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60
    )


def test_importing_it_warns_and_names_the_new_import() -> None:
    result = _python("import compat.structlog_config", "-W", "always::DeprecationWarning")

    assert result.returncode == 0, result.stderr
    assert "DeprecationWarning: app.utils.structlog_config is deprecated" in result.stderr
    assert "import from newlog instead, e.g. 'from newlog import init_app, get_logger, log_info'" in result.stderr


def test_the_warning_can_be_made_an_error() -> None:
    result = _python("import compat.structlog_config", "-W", "error::DeprecationWarning")

    assert result.returncode == 1
    assert "DeprecationWarning" in result.stderr and "from newlog import" in result.stderr


def test_global_context_write_binds_a_contextvar_and_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"_global_context\['tenant'\].*newlog.bind_context\(tenant=\.\.\.\)"):
        slc._global_context["tenant"] = "acme"

    assert newlog.get_context() == {"tenant": "acme"}
    assert dict(slc._global_context) == {"tenant": "acme"}
    assert slc._global_context.copy() == {"tenant": "acme"}
    assert not isinstance(slc._global_context, dict)  # no process-global storage of its own


def test_global_context_is_not_shared_with_other_threads() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        slc._global_context["tenant"] = "acme"
    seen: list[dict[str, Any]] = []

    thread = threading.Thread(target=lambda: seen.append(dict(slc._global_context)))
    thread.start()
    thread.join()

    assert seen == [{}]


def test_global_context_delete_and_clear() -> None:
    slc.bind_context(a=1, b=2)

    del slc._global_context["a"]
    with pytest.raises(KeyError):
        del slc._global_context["missing"]
    assert newlog.get_context() == {"b": 2}
    slc._global_context.clear()
    assert newlog.get_context() == {}


def test_debug_state_reads_the_live_switch() -> None:
    slc.set_debug_logging_enabled(enabled=True)

    assert slc._debug_logging_enabled is True
    assert slc.should_log_debug() is True


def test_configure_structlog_uses_the_apps_own_log_table_and_app_name(make_app: MakeApp, database_url: str) -> None:
    app = make_app(database=database_url, init=False, APP_NAME="billing-service")
    db: SQLAlchemy = app.extensions["sqlalchemy"]
    name = app.config["LOG_TABLE"]
    sa.Table(
        name,
        db.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(33), nullable=False),
        sa.Column("module", sa.String(100), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("traceback", sa.Text),
        sa.Column("context", sa.JSON),
        sa.Column("origin", sa.String(20)),  # only the app's model has it
    )

    returned = slc.configure_structlog(app)
    with app.app_context():
        db.create_all()
        slc.log_info("Configured", module="setup")
    newlog.flush(10)

    assert returned is newlog.log_config
    with app.app_context():
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns(name)}
    assert "origin" in columns
    [row] = rows(app)
    assert (row["module"], row["message"], row["context"]["app_name"]) == ("setup", "Configured", "billing-service")


def test_sqlalchemy_log_handler_takes_the_legacy_arguments(make_app: MakeApp, database_url: str) -> None:
    app = make_app(database=database_url)
    handler = slc.SQLAlchemyLogHandler(batch_size=10, flush_interval=1.0)

    with app.app_context():
        handler(None, "info", {"event": "Through the legacy handler", "level": "info", "module": "legacy"})
        assert handler.shutdown(10) is True
        handler(None, "info", {"event": "After shutdown", "level": "info", "module": "legacy"})
    newlog.flush(10)

    assert (handler.batch_size, handler.flush_interval) == (10, 1.0)
    assert [(row["module"], row["message"]) for row in rows(app)] == [("legacy", "Through the legacy handler")]


def test_get_logger_without_a_name_is_named_after_the_calling_module(make_app: MakeApp, database_url: str) -> None:
    app = make_app(database=database_url)

    with app.app_context():
        slc.get_logger().info("Unnamed")
        slc.get_logger("orders.api").info("Named")
    newlog.flush(10)

    assert [row["module"] for row in rows(app)] == ["test_structlog_config", "api"]


def test_log_context_and_with_log_context(make_app: MakeApp, database_url: str) -> None:
    app = make_app(database=database_url)

    @slc.with_log_context(job="nightly")
    def nightly_job() -> None:
        slc.log_info("In the job", module="jobs")

    with app.app_context():
        with slc.LogContext(order_id=42):
            slc.log_info("In the block", module="orders")
        nightly_job()
        slc.log_info("After", module="orders")
    newlog.flush(10)

    contexts = [(row["message"], row["context"].get("order_id"), row["context"].get("job")) for row in rows(app)]
    assert contexts == [("In the block", 42, None), ("In the job", None, "nightly"), ("After", None, None)]
    assert nightly_job.__name__ == "nightly_job"
