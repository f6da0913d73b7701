"""newlog settings: app.config, else the environment, else defaults; a wrong value is an error, a likely typo one warning."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

import newlog
from newlog import ConfigError, Settings, state
from newlog.settings import KNOWN_KEYS, ConfigWarning
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
        ("LOG_CONSOLE_LEVEL", "loud", "is not a log level; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL or OFF"),
        ("LOG_FILE_LEVEL", "OFF", "is not a log level"),
        ("LOG_STDLIB", "sometimes", "is not a boolean"),
        ("LOG_CREATE_TABLE", "maybe", "must be auto, true or false"),
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
        ("LOG_RENDRER", "LOG_RENDERER"),
        ("LOG_ERORR_FILE", "LOG_ERROR_FILE"),
    ],
)
def test_a_misspelt_key_is_one_warning_naming_the_key_its_value_and_the_setting_it_resembles(typo: str, meant: str) -> None:
    with pytest.warns(ConfigWarning) as warned:
        settings = Settings.load({typo: "50"}, {})

    [warning] = warned
    message = str(warning.message)
    assert f"{typo}='50'" in message and "app.config" in message
    assert f"did you mean {meant!r}" in message
    assert settings == Settings()


def test_several_misspelt_keys_are_listed_in_one_warning() -> None:
    with pytest.warns(ConfigWarning) as warned:
        Settings.load({"LOG_BACH_SIZE": 5, "LOG_QUEUE_SIZES": 50, "LOG_BACKUP_COUNT": 3}, {})

    [warning] = warned
    message = str(warning.message)
    assert "LOG_BACH_SIZE=5" in message and "LOG_QUEUE_SIZES=50" in message
    assert "LOG_BACKUP_COUNT" not in message


APP_OWN_KEYS = {
    "LOG_BACKUP_COUNT": 5,
    "LOG_MAX_BYTES": 2 * 1024 * 1024,
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "%(message)s",
    "LOG_DIR": "/var/log/app",
    "LOG_FILES": "/var/log/a,/var/log/b",
    "LOG_ROTATION": "daily",
    "LOG_RETENTION_DAYS": 30,
    "LOG_SENTRY_DSN": "https://sentry.example/1",
    "LOG_TO_STDOUT": True,
}
"""Logging settings real applications keep beside the legacy module: none is newlog's."""


def test_the_applications_own_log_settings_never_raise_nor_warn(recwarn: pytest.WarningsRecorder) -> None:
    settings = Settings.load(APP_OWN_KEYS, dict.fromkeys(APP_OWN_KEYS, "??"))

    assert settings == Settings()
    assert not [warning for warning in recwarn if issubclass(warning.category, ConfigWarning)]


class OwnKeysOnly(Mapping[str, str]):
    """An environment that fails the test when anything but a lookup of one of newlog's keys is made."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.looked_up: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.looked_up.append(key)
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.looked_up.append(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("newlog scanned the whole environment")

    def __len__(self) -> int:
        raise AssertionError("newlog scanned the whole environment")

    def __contains__(self, key: object) -> bool:
        self.looked_up.append(str(key))
        return key in self.values


def test_the_environment_is_read_for_newlogs_own_keys_only() -> None:
    environ = OwnKeysOnly({"LOG_BATCH_SIZE": "7", "LOG_BACH_SIZE": "50", "LOG_BACKUP_COUNT": "x"})

    settings = Settings.load({}, environ)

    assert settings.LOG_BATCH_SIZE == 7
    assert set(environ.looked_up) <= KNOWN_KEYS
    assert "LOG_BATCH_SIZE" in environ.looked_up


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


def test_init_app_starts_with_the_apps_own_log_settings_and_a_typo(sqlite_url: str) -> None:
    app = Flask("own_settings_app")
    app.config.update(SQLALCHEMY_DATABASE_URI=sqlite_url, LOG_BACH_SIZE=50, **APP_OWN_KEYS)
    SQLAlchemy(app)

    with pytest.warns(ConfigWarning, match=r"LOG_BACH_SIZE=50: did you mean 'LOG_BATCH_SIZE'"):
        worker = newlog.init_app(app)

    assert worker.stats()["alive"] is True
    assert worker.batch_size == Settings().LOG_BATCH_SIZE


def test_a_misspelt_key_in_the_environment_is_not_looked_for(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, recwarn: pytest.WarningsRecorder) -> None:
    monkeypatch.setenv("LOG_BACH_SIZE", "50")
    app = Flask("env_typo_app")
    app.config.update(SQLALCHEMY_DATABASE_URI=sqlite_url)
    SQLAlchemy(app)

    assert newlog.init_app(app).stats()["alive"] is True
    assert not [warning for warning in recwarn if issubclass(warning.category, ConfigWarning)]


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
