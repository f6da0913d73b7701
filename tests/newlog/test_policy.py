"""What is stored: LOG_DB_LEVEL (setting or environment variable) and the per-event persist flag."""

from __future__ import annotations

import json
from typing import Any

import pytest

import newlog
from tests.support import stored_rows as stored


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Return the JSON lines written to stdout so far."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]




def stored_messages(app: Any) -> list[str]:
    return [row["message"] for row in stored(app)]


def test_events_below_the_default_level_are_printed_but_not_stored(make_app, capsys) -> None:
    app = make_app(LOG_RENDERER="json", ENABLE_DEBUG_LOG=True)
    logger = newlog.get_logger("orders")

    logger.debug("cache miss", key="order:1")
    logger.info("order placed", order_id=1)
    logger.warning("slow payment", ms=950)

    assert [line["event"] for line in printed(capsys)] == ["cache miss", "order placed", "slow payment"]
    assert stored_messages(app) == ["order placed", "slow payment"]


def test_log_db_level_from_app_config(make_app, capsys) -> None:
    app = make_app(LOG_RENDERER="json", LOG_DB_LEVEL="warning")

    newlog.log_info("user viewed page")
    newlog.log_warning("quota at 90%")
    newlog.log_error("payment failed")

    assert [line["event"] for line in printed(capsys)] == ["user viewed page", "quota at 90%", "payment failed"]
    assert stored_messages(app) == ["quota at 90%", "payment failed"]


def test_log_db_level_from_the_environment(make_app, monkeypatch) -> None:
    monkeypatch.setenv("LOG_DB_LEVEL", "ERROR")
    app = make_app()

    newlog.log_warning("retrying")
    newlog.log_critical("disk full")

    assert stored_messages(app) == ["disk full"]


def test_app_config_wins_over_the_environment(make_app, monkeypatch) -> None:
    monkeypatch.setenv("LOG_DB_LEVEL", "ERROR")
    app = make_app(LOG_DB_LEVEL="INFO")

    newlog.log_info("kept")

    assert stored_messages(app) == ["kept"]


def test_a_wrong_level_names_the_setting(make_app) -> None:
    with pytest.raises(newlog.ConfigError, match=r"LOG_DB_LEVEL='LOUD' \(from app.config\) is not a log level"):
        make_app(LOG_DB_LEVEL="LOUD")


def test_persist_true_stores_an_event_below_the_level(make_app, capsys) -> None:
    app = make_app(LOG_RENDERER="json", LOG_DB_LEVEL="ERROR", ENABLE_DEBUG_LOG=True)
    logger = newlog.get_logger("billing")

    logger.info("invoice sent", invoice=7, persist=True)
    logger.debug("pricing table", rows=3, persist=True)
    logger.info("heartbeat")

    rows = stored(app)
    assert [(row["message"], row["level"]) for row in rows] == [("invoice sent", "INFO"), ("pricing table", "DEBUG")]
    assert rows[0]["context"]["invoice"] == 7
    assert all("persist" not in row["context"] for row in rows)
    assert all("persist" not in line for line in printed(capsys))


def test_persist_false_keeps_any_event_out_of_the_database(make_app, capsys) -> None:
    app = make_app(LOG_RENDERER="json")
    logger = newlog.get_logger("auth")

    logger.critical("login storm", attempts=500, persist=False)
    logger.error("stored")

    assert stored_messages(app) == ["stored"]
    lines = printed(capsys)
    assert [line["event"] for line in lines] == ["login storm", "stored"]
    assert "persist" not in lines[0]


def test_the_legacy_helpers_pass_the_flag_through(make_app) -> None:
    app = make_app(LOG_DB_LEVEL="ERROR")

    newlog.log_info("audit trail entry", persist=True)
    newlog.log_error("noisy retry", persist=False)

    assert stored_messages(app) == ["audit trail entry"]


def test_persist_bound_to_the_context_applies_to_every_event_in_the_block(make_app) -> None:
    app = make_app()

    with newlog.log_context(persist=False):
        newlog.log_info("health check")
        newlog.log_warning("health check slow")
        newlog.log_error("explicit flag wins", persist=True)
    newlog.log_info("after the block")

    rows = stored(app)
    assert [row["message"] for row in rows] == ["explicit flag wins", "after the block"]
    assert all("persist" not in row["context"] for row in rows)
