"""Two apps in one process keep their own settings: what is stored, redacted, printed and carried as static context.

An event uses the app of the current app context; outside any app context, the app
initialised last. What stays process-wide (the debug switch function, static context set
outside an app context) is documented in ``newlog.state``.
"""

from __future__ import annotations

import json

import pytest

import newlog
from tests.conftest import MakeApp
from tests.support import read_rows, stored_rows


@pytest.fixture
def two_apps(make_app: MakeApp) -> tuple[object, object]:
    billing = make_app(LOG_DB_LEVEL="INFO", LOG_REDACT_KEYS="ssn", APP_NAME="billing", LOG_RENDERER="json")
    reports = make_app(LOG_DB_LEVEL="ERROR", LOG_REDACT_KEYS="iban", APP_NAME="reports", LOG_RENDERER="console")
    return billing, reports


def test_each_app_keeps_its_own_persistence_level_words_and_name(two_apps: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    billing, reports = two_apps
    capsys.readouterr()
    for app in (billing, reports):
        with app.app_context():
            newlog.log_info("info event", ssn="123-45", iban="DE89")
            newlog.log_error("error event", ssn="123-45", iban="DE89")

    billing_rows, reports_rows = stored_rows(billing), stored_rows(reports)
    assert [row["message"] for row in billing_rows] == ["info event", "error event"]
    assert [row["message"] for row in reports_rows] == ["error event"]
    assert {(row["context"]["ssn"], row["context"]["iban"], row["context"]["app_name"]) for row in billing_rows} == {
        ("[REDACTED]", "DE89", "billing")
    }
    assert {(row["context"]["ssn"], row["context"]["iban"], row["context"]["app_name"]) for row in reports_rows} == {
        ("123-45", "[REDACTED]", "reports")
    }
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["app_name"] for line in lines[:2]] == ["billing", "billing"]  # billing prints JSON
    assert all(not line.startswith("{") and "reports" in line for line in lines[2:])  # reports prints for humans


def test_outside_any_app_context_the_app_initialised_last_is_used(two_apps: tuple) -> None:
    billing, reports = two_apps
    newlog.log_error("from a background thread")
    assert [row["message"] for row in stored_rows(reports)] == ["from a background thread"]
    assert read_rows(billing) == []


def test_static_context_set_inside_an_app_context_stays_with_that_app(two_apps: tuple) -> None:
    billing, reports = two_apps
    with billing.app_context():
        newlog.set_static_context(region="eu-west")
    newlog.set_static_context(deployment="blue")  # outside: every app
    for app in (billing, reports):
        with app.app_context():
            newlog.log_error("tagged")
    (billed,) = stored_rows(billing)
    (reported,) = stored_rows(reports)
    assert (billed["context"]["region"], billed["context"]["deployment"]) == ("eu-west", "blue")
    assert "region" not in reported["context"] and reported["context"]["deployment"] == "blue"


def test_a_process_wide_value_set_before_init_app_overrides_the_apps_identity(make_app: MakeApp) -> None:
    """Like the legacy ``_global_context`` written at import time: its app_name wins over the app's."""
    newlog.set_static_context(app_name="Billing Service (display name)")
    app = make_app(APP_NAME="billing")
    newlog.log_info("named")
    assert stored_rows(app)[0]["context"]["app_name"] == "Billing Service (display name)"


def test_debug_is_per_app_and_the_switch_flips_every_app(make_app: MakeApp) -> None:
    verbose = make_app(ENABLE_DEBUG_LOG=True, LOG_DB_LEVEL="DEBUG")
    quiet = make_app(LOG_DB_LEVEL="DEBUG")
    for app in (verbose, quiet):
        with app.app_context():
            newlog.get_logger("x").debug("debug event")
    assert [row["message"] for row in stored_rows(verbose)] == ["debug event"]
    assert read_rows(quiet) == []

    newlog.set_debug_logging_enabled(enabled=True)
    with quiet.app_context():
        assert newlog.should_log_debug() is True
        newlog.get_logger("x").debug("now on")
    assert [row["message"] for row in stored_rows(quiet)] == ["now on"]
