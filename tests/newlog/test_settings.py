"""newlog settings: app.config, else the environment, else defaults; a wrong value of newlog's own keys is an error,
any other key is the app's own (a likely typo of newlog's keys gets one warning)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

import newlog
from newlog import ConfigError, Settings, state
from newlog import settings as newlog_settings
from newlog.queue_worker import all_workers


def newlog_threads() -> int:
    return sum(thread.name == "newlog-worker" and thread.is_alive() for thread in threading.enumerate())


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("LOG_QUEUE_SIZE", "lots", "is not a whole number"),
        ("LOG_QUEUE_SIZE", 2.5, "is not a whole number"),
        ("LOG_QUEUE_SIZE", 0, "must be > 0"),
        ("LOG_BATCH_SIZE", "-5", "must be > 0"),
        ("LOG_FLUSH_INTERVAL", "soon", "is not a number"),
        ("LOG_FLUSH_INTERVAL", 0, "must be a finite number > 0"),
        ("LOG_FLUSH_INTERVAL", "-0.5", "must be a finite number > 0"),
        ("LOG_FLUSH_INTERVAL", "nan", "must be a finite number > 0"),
        ("LOG_SHUTDOWN_TIMEOUT", "inf", "must be a finite number > 0"),
        ("ENABLE_DEBUG_LOG", "maybe", "is not a boolean"),
        ("ENABLE_DEBUG_LOG", "enabled", "is not a boolean"),
        ("LOG_DB_LEVEL", "verbose", "is not a log level"),
        ("LOG_RENDERER", "xml", "must be one of auto, json, console"),
        ("LOG_TABLE", "  ", "must not be empty"),
    ],
)
@pytest.mark.parametrize("origin", ["app.config", "the environment"])
def test_a_wrong_value_names_the_key_the_value_and_where_it_came_from(
    key: str, value: Any, says: str, origin: str
) -> None:
    if origin == "app.config":
        config, environ = {key: value}, {}
    else:
        config, environ = {}, {key: str(value)}
        value = str(value)
    with pytest.raises(ConfigError) as raised:
        Settings.load(config, environ)
    message = str(raised.value)
    assert f"{key}={value!r}" in message
    assert f"(from {origin})" in message
    assert says in message


def test_a_boolean_is_not_a_size() -> None:
    with pytest.raises(ConfigError, match=r"LOG_BATCH_SIZE=True \(from app.config\) must be a whole number > 0, not a boolean"):
        Settings.load({"LOG_BATCH_SIZE": True}, {})


def test_a_batch_larger_than_the_queue_names_both_keys_and_values() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.load({"LOG_QUEUE_SIZE": 10}, {"LOG_BATCH_SIZE": "50"})
    message = str(raised.value)
    assert "LOG_BATCH_SIZE=50" in message and "LOG_QUEUE_SIZE=10" in message
    assert "lower LOG_BATCH_SIZE or raise LOG_QUEUE_SIZE" in message


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("LOG_BACH_SIZE", "LOG_BATCH_SIZE"),
        ("LOG_QUEUE_SIZES", "LOG_QUEUE_SIZE"),
        ("LOG_FLUSH_INTERVALL", "LOG_FLUSH_INTERVAL"),
        ("ENABLE_DEBUG_LOGS", "ENABLE_DEBUG_LOG"),
    ],
)
def test_a_likely_typo_in_app_config_is_ignored_with_one_warning_naming_the_setting(
    typo: str, meant: str, caplog: pytest.LogCaptureFixture
) -> None:
    newlog_settings._warned.discard(typo)
    assert Settings.load({typo: "50"}, {}) == Settings()
    assert Settings.load({typo: "50"}, {}) == Settings()

    warnings = [record.getMessage() for record in caplog.records if record.name == "newlog"]
    assert warnings == [f"newlog: {typo} in app.config is not a newlog setting and is ignored by newlog; did you mean {meant!r}?"]


def test_the_environment_is_never_scanned_for_keys_that_are_not_newlogs(caplog: pytest.LogCaptureFixture) -> None:
    assert Settings.load({}, {"LOG_BACH_SIZE": "x", "LOG_QUEUE_SIZES": "lots", "LOG_LEVEL": "debug"}) == Settings()
    assert [record for record in caplog.records if record.name == "newlog"] == []


@pytest.mark.parametrize(
    "key",
    ["SECRET_KEY", "LOGIN_DISABLED", "LOG_FORMAT", "LOG_LEVEL", "LOG_BACKUP_COUNT", "LOG_MAX_BYTES", "LOG_DIR",
     "SQLALCHEMY_DATABASE_URI", "log_bach_size", "LOG_SOMETHING_ELSE"],
)
def test_the_apps_own_keys_never_raise_nor_warn(key: str, caplog: pytest.LogCaptureFixture) -> None:
    assert Settings.load({key: "x"}, {key: "x"}) == Settings()
    assert [record for record in caplog.records if record.name == "newlog"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("Yes", True), ("1", True), (" on ", True), ("false", False), ("NO", False), ("0", False), ("off", False)],
)
def test_boolean_spellings(text: str, expected: bool) -> None:
    assert Settings.load({}, {"ENABLE_DEBUG_LOG": text}).ENABLE_DEBUG_LOG is expected


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = Settings.load({}, {})
    assert (settings.LOG_QUEUE_SIZE, settings.LOG_BATCH_SIZE, settings.LOG_FLUSH_INTERVAL) == (1000, 100, 3.0)
    assert (settings.ENABLE_DEBUG_LOG, settings.LOG_TABLE, settings.LOG_DB_LEVEL) == (False, "unified_logs", "INFO")


def test_the_environment_wins_over_the_defaults() -> None:
    settings = Settings.load({}, {"LOG_BATCH_SIZE": " 7 ", "LOG_FLUSH_INTERVAL": "0.25", "LOG_DB_LEVEL": "warn"})
    assert (settings.LOG_BATCH_SIZE, settings.LOG_FLUSH_INTERVAL, settings.LOG_DB_LEVEL) == (7, 0.25, "WARNING")


def test_app_config_wins_over_the_environment() -> None:
    settings = Settings.load(
        {"LOG_BATCH_SIZE": 5, "ENABLE_DEBUG_LOG": False}, {"LOG_BATCH_SIZE": "7", "ENABLE_DEBUG_LOG": "true"}
    )
    assert (settings.LOG_BATCH_SIZE, settings.ENABLE_DEBUG_LOG) == (5, False)


def test_a_valid_app_config_value_hides_a_wrong_one_in_the_environment() -> None:
    assert Settings.load({"LOG_QUEUE_SIZE": 200}, {"LOG_QUEUE_SIZE": "lots"}).LOG_QUEUE_SIZE == 200


def test_a_none_in_app_config_falls_back_to_the_environment() -> None:
    assert Settings.load({"LOG_QUEUE_SIZE": None}, {"LOG_QUEUE_SIZE": "200"}).LOG_QUEUE_SIZE == 200


def test_init_app_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.setenv("LOG_QUEUE_SIZE", "33")
    monkeypatch.setenv("LOG_BATCH_SIZE", "11")
    app = Flask("env_app")
    app.config.update(SQLALCHEMY_DATABASE_URI=sqlite_url, LOG_BATCH_SIZE=3)
    SQLAlchemy(app)
    worker = newlog.init_app(app)
    assert (worker.queue_size, worker.batch_size) == (33, 3)


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({"LOG_QUEUE_SIZE": "lots"}, "LOG_QUEUE_SIZE='lots' (from app.config)"),
        ({"LOG_QUEUE_RESERVE": 0.95}, "LOG_QUEUE_RESERVE=0.95 (from app.config) must be a share between 0 and 0.9"),
        ({"LOG_QUEUE_SIZE": 5, "LOG_BATCH_SIZE": 10}, "LOG_BATCH_SIZE=10"),
    ],
)
def test_init_app_refuses_a_bad_config_before_starting_anything(
    sqlite_url: str, config: dict[str, Any], names: str
) -> None:
    app = Flask("bad_config_app")
    app.config.update(SQLALCHEMY_DATABASE_URI=sqlite_url, **config)
    SQLAlchemy(app)
    workers_before, threads_before = len(all_workers()), newlog_threads()

    with pytest.raises(ConfigError) as raised:
        newlog.init_app(app)

    assert names in str(raised.value)
    assert "newlog" not in app.extensions
    assert (len(all_workers()), newlog_threads()) == (workers_before, threads_before)
    assert state.registered() == []


def test_init_app_starts_with_the_apps_own_log_settings_and_a_typo(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LOG_BACH_SIZE", "50")
    app = Flask("own_keys_app")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=sqlite_url, LOG_BACKUP_COUNT=3, LOG_LEVEL="DEBUG", LOG_MAX_BYTES="1MB", LOG_QUEUE_SIZES=9
    )
    SQLAlchemy(app)
    newlog_settings._warned.discard("LOG_QUEUE_SIZES")
    worker = newlog.init_app(app)
    assert (worker.queue_size, worker.stats()["alive"]) == (1000, True)
    assert [record.getMessage() for record in caplog.records if record.name == "newlog"] == [
        "newlog: LOG_QUEUE_SIZES in app.config is not a newlog setting and is ignored by newlog; did you mean 'LOG_QUEUE_SIZE'?"
    ]


def test_init_app_works_once_the_config_is_fixed(sqlite_url: str) -> None:
    app = Flask("fixed_config_app")
    app.config.update(SQLALCHEMY_DATABASE_URI=sqlite_url, LOG_FLUSH_INTERVAL="soon")
    SQLAlchemy(app)
    with pytest.raises(ConfigError):
        newlog.init_app(app)
    app.config["LOG_FLUSH_INTERVAL"] = "0.5"
    worker = newlog.init_app(app)
    assert worker.flush_interval == 0.5
    assert worker.stats()["alive"] is True


def test_the_warning_reserve_is_a_share_of_the_queue() -> None:
    assert Settings.load({"LOG_QUEUE_SIZE": 200, "LOG_QUEUE_RESERVE": "0.25"}, {}).reserve_slots == 50
    assert Settings.load({}, {}).reserve_slots == 100
    assert Settings.load({"LOG_QUEUE_RESERVE": 0}, {}).reserve_slots == 0
