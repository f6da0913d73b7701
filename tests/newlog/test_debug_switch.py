"""The DEBUG switch: off by default, ENABLE_DEBUG_LOG turns it on, and it can be flipped at run time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import newlog
from tests.support import printed_events, read_rows, stored_rows


def printed_messages(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [event["event"] for event in printed_events(capsys)]


def test_debug_events_are_dropped_by_default(make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(LOG_RENDERER="json", LOG_DB_LEVEL="DEBUG")
    capsys.readouterr()

    newlog.log_debug("helper debug")
    newlog.get_logger("svc").debug("logger debug")
    newlog.log_info("info event")

    assert newlog.should_log_debug() is False
    assert newlog.flush(5) is True
    assert printed_messages(capsys) == ["info event"]
    assert [row["message"] for row in read_rows(app)] == ["info event"]


def test_switching_debug_on_at_run_time_reaches_loggers_created_before(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_RENDERER="json", LOG_DB_LEVEL="DEBUG")
    service_logger = newlog.get_logger("svc")
    service_logger.debug("before the switch")  # the logger is cached on this first use
    capsys.readouterr()

    newlog.set_debug_logging_enabled(enabled=True)
    service_logger.debug("after the switch")
    newlog.log_debug("helper after the switch", module="orders")
    newlog.set_debug_logging_enabled(enabled=False)
    service_logger.debug("switched off again")
    newlog.log_debug("helper switched off again")

    assert newlog.flush(5) is True
    assert printed_messages(capsys) == ["after the switch", "helper after the switch"]
    rows = read_rows(app)
    assert [(row["level"], row["module"], row["message"]) for row in rows] == [
        ("DEBUG", "svc", "after the switch"),
        ("DEBUG", "orders", "helper after the switch"),
    ]


def test_should_log_debug_returns_the_live_switch() -> None:
    assert (newlog.should_log_debug(), newlog.is_debug_logging_enabled()) == (False, False)
    newlog.set_debug_logging_enabled(enabled=True)
    assert (newlog.should_log_debug(), newlog.is_debug_logging_enabled()) == (True, True)
    newlog.set_debug_logging_enabled(enabled=False)
    assert (newlog.should_log_debug(), newlog.is_debug_logging_enabled()) == (False, False)


def test_the_switch_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        newlog.set_debug_logging_enabled(True)  # type: ignore[misc]
    assert newlog.should_log_debug() is False


@pytest.mark.parametrize("value", [True, "true", "1", "yes"])
def test_enable_debug_log_in_app_config_turns_debug_on(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str], value: Any
) -> None:
    app = make_app(LOG_RENDERER="json", ENABLE_DEBUG_LOG=value, LOG_DB_LEVEL="DEBUG")
    capsys.readouterr()

    assert newlog.should_log_debug() is True
    newlog.log_debug("cache miss", key="user:1")

    assert newlog.flush(5) is True
    assert [event["level"] for event in printed_events(capsys)] == ["debug"]
    assert [(row["level"], row["message"], row["context"]["key"]) for row in stored_rows(app)] == [
        ("DEBUG", "cache miss", "user:1")
    ]


def test_enable_debug_log_false_in_app_config_keeps_debug_off(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENABLE_DEBUG_LOG", "true")
    make_app(LOG_RENDERER="json", ENABLE_DEBUG_LOG="false")
    capsys.readouterr()
    newlog.log_debug("hidden")
    assert newlog.should_log_debug() is False
    assert printed_messages(capsys) == []


def test_enable_debug_log_from_the_environment(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENABLE_DEBUG_LOG", "on")
    make_app()
    assert newlog.should_log_debug() is True


def test_debug_events_are_printed_but_not_stored_below_the_database_level(
    make_app: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_RENDERER="json", ENABLE_DEBUG_LOG=True)  # LOG_DB_LEVEL stays INFO
    capsys.readouterr()

    newlog.log_debug("printed only")
    newlog.get_logger("svc").debug("kept anyway", persist=True)
    newlog.log_info("stored")

    assert newlog.flush(5) is True
    assert printed_messages(capsys) == ["printed only", "kept anyway", "stored"]
    assert [row["message"] for row in read_rows(app)] == ["kept anyway", "stored"]
