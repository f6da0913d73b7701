"""Where events go besides the database: console, newlog's files, the errors file, and the app's stdlib handlers.

Each destination has its own level (``LOG_CONSOLE_LEVEL``, ``LOG_FILE_LEVEL``; the errors
file takes ERROR and CRITICAL only; the database keeps ``LOG_DB_LEVEL``). Events reach the
application's own stdlib handlers (a ``RotatingFileHandler`` on the root logger, as the
legacy apps have) once each, and a file the app already writes never gets a second handler.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import newlog
from newlog import state
from tests.support import stored_rows

APP_FORMAT = "%(asctime)s %(levelname)-8s [%(name)s] %(message)s"


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


APP_LINE = re.compile(r"^\S+ \S+ (\w+)\s+\[([^\]]*)\] (.*)$")


def app_lines(path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """The app's own log file: ``(levelname, logger name, the JSON event)`` per line."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = APP_LINE.match(line)
        assert match, f"not a line of the app's format: {line!r}"
        found.append((match[1], match[2], json.loads(match[3])))
    return found


def writers_of(path: Path) -> list[logging.Handler]:
    """Every stdlib handler of the process writing ``path`` (the app's and newlog's)."""
    loggers = [logging.root, *[each for each in logging.Logger.manager.loggerDict.values() if isinstance(each, logging.Logger)]]
    handlers = [handler for logger in loggers for handler in logger.handlers]
    own = [file.handler for app_state in state.registered() for file in app_state.outputs.files if file.handler]
    return [handler for handler in {id(h): h for h in handlers + own}.values() if getattr(handler, "baseFilename", None) == str(path)]


@pytest.fixture
def app_logging(tmp_path: Path) -> Iterator[Callable[..., logging.Handler]]:
    """``attach(path, level="INFO")``: what the example apps do at start-up, a RotatingFileHandler on the root logger."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    attached: list[logging.Handler] = []

    def attach(path: Path, level: str = "INFO") -> logging.Handler:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
        handler.setFormatter(logging.Formatter(APP_FORMAT))
        root.setLevel(level)
        root.addHandler(handler)
        attached.append(handler)
        return handler

    yield attach
    for handler in attached:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved_level)
    root.handlers[:] = saved_handlers


def log_every_level() -> None:
    newlog.get_api_logger().info("info event")
    newlog.get_api_logger().warning("warning event")
    newlog.log_error("error event", module="orders")
    newlog.get_system_logger().critical("critical event")


def test_the_errors_file_receives_only_error_and_critical(make_app, tmp_path: Path) -> None:
    errors = tmp_path / "errors.log"
    app = make_app(LOG_ERROR_FILE=str(errors))

    log_every_level()

    lines = json_lines(errors)
    assert [(line["level"], line["event"]) for line in lines] == [("error", "error event"), ("critical", "critical event")]
    assert lines[0]["module"] == "orders"
    assert len(stored_rows(app)) == 4


def test_the_errors_file_rotates_with_the_file_settings(make_app, tmp_path: Path) -> None:
    errors = tmp_path / "errors.log"
    make_app(LOG_ERROR_FILE=str(errors), LOG_FILE_MAX_BYTES=2000, LOG_FILE_BACKUP_COUNT=1)

    for index in range(60):
        newlog.get_api_logger().error("failed", index=index, padding="p" * 50)

    assert sorted(path.name for path in tmp_path.glob("errors.log*")) == ["errors.log", "errors.log.1"]


def test_each_destination_has_its_own_level(make_app, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_file = tmp_path / "app.log"
    app = make_app(
        LOG_RENDERER="json", LOG_FILE=str(log_file), LOG_FILE_LEVEL="WARNING", LOG_CONSOLE_LEVEL="ERROR", LOG_DB_LEVEL="INFO"
    )

    log_every_level()

    printed = [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines()]
    assert printed == ["error event", "critical event"]
    assert [line["event"] for line in json_lines(log_file)] == ["warning event", "error event", "critical event"]
    assert [row["message"] for row in stored_rows(app)] == ["info event", "warning event", "error event", "critical event"]


def test_the_console_can_be_turned_off(make_app, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(LOG_CONSOLE_LEVEL="off")

    log_every_level()

    assert capsys.readouterr().out == ""
    assert len(stored_rows(app)) == 4


def test_the_errors_file_must_not_be_the_log_file(make_app, tmp_path: Path) -> None:
    with pytest.raises(newlog.ConfigError, match=r"LOG_ERROR_FILE='.*app\.log' is the same file as LOG_FILE"):
        make_app(LOG_FILE=str(tmp_path / "app.log"), LOG_ERROR_FILE=str(tmp_path / "." / "app.log"))


def test_an_unwritable_errors_file_names_its_setting(make_app, tmp_path: Path) -> None:
    (tmp_path / "errors.log").mkdir()

    with pytest.raises(newlog.ConfigError, match=r"LOG_ERROR_FILE='.*errors\.log' cannot be opened.*unset LOG_ERROR_FILE"):
        make_app(LOG_ERROR_FILE=str(tmp_path / "errors.log"))


# -- the application's own stdlib handlers ---------------------------------------------------------


def test_events_reach_the_apps_root_handler_once_each_with_its_format_and_level(make_app, app_logging, tmp_path: Path) -> None:
    app_file = tmp_path / "own.log"
    app_logging(app_file, level="INFO")
    app = make_app()

    log_every_level()
    newlog.get_logger("app.services.sync").info("named logger event", job=3)
    newlog.get_api_logger().debug("debug is off")

    lines = app_lines(app_file)
    assert [(levelname, name, event["event"]) for levelname, name, event in lines] == [
        ("INFO", "api", "info event"),
        ("WARNING", "api", "warning event"),
        ("ERROR", "app", "error event"),
        ("CRITICAL", "system", "critical event"),
        ("INFO", "app.services.sync", "named logger event"),
    ]
    assert lines[-1][2]["job"] == 3
    assert len(stored_rows(app)) == 5


def test_the_apps_stdlib_level_filters_what_its_handlers_get_not_what_is_stored(make_app, app_logging, tmp_path: Path) -> None:
    app_file = tmp_path / "own.log"
    app_logging(app_file, level="WARNING")
    app = make_app()

    log_every_level()

    assert [event["event"] for _, _, event in app_lines(app_file)] == ["warning event", "error event", "critical event"]
    assert len(stored_rows(app)) == 4


def test_the_apps_log_file_keeps_its_one_handler(make_app, app_logging, tmp_path: Path) -> None:
    shared = tmp_path / "app.log"
    app_logging(shared)
    make_app(LOG_FILE=str(shared))  # the app's LOG_FILE key is newlog's setting name too

    log_every_level()

    assert len(writers_of(shared)) == 1
    assert state.current().outputs.file_handler is None
    assert [event["event"] for _, _, event in app_lines(shared)] == [
        "info event", "warning event", "error event", "critical event"
    ]


def test_the_apps_file_in_a_directory_its_logging_set_up_creates_after_init_app(make_app, app_logging, tmp_path: Path) -> None:
    shared = tmp_path / "logs" / "app.log"
    make_app(LOG_FILE=str(shared))  # configure_structlog(app) before the app's configure_logging(app)
    shared.parent.mkdir()
    app_logging(shared)

    log_every_level()

    assert len(writers_of(shared)) == 1 and state.current().outputs.file_handler is None
    assert [event["event"] for _, _, event in app_lines(shared)] == ["info event", "warning event", "error event", "critical event"]


def test_a_handler_the_app_attaches_after_init_app_takes_the_file_over(make_app, app_logging, tmp_path: Path, capfd) -> None:
    shared = tmp_path / "app.log"
    make_app(LOG_FILE=str(shared))
    newlog.log_info("before the app's handler")
    assert len(writers_of(shared)) == 1 and state.current().outputs.file_handler is not None

    app_logging(shared)
    newlog.log_info("after the app's handler")

    assert len(writers_of(shared)) == 1
    assert state.current().outputs.file_handler is None
    lines = shared.read_text(encoding="utf-8").splitlines()
    assert [json.loads(lines[0])["event"]] == ["before the app's handler"]  # newlog's own JSON line
    assert len([line for line in lines if "after the app's handler" in line]) == 1
    assert "newlog closed its own handler of that file" in capfd.readouterr().err


def test_without_any_handler_nothing_reaches_stdlibs_last_resort(make_app, monkeypatch, capfd) -> None:
    monkeypatch.setattr(logging.root, "handlers", [])  # pytest's own capture handlers included
    make_app(LOG_RENDERER="json")

    newlog.get_api_logger().warning("printed once")

    out, err = capfd.readouterr()
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["printed once"]
    assert err == ""


def test_log_stdlib_off_keeps_events_away_from_stdlib(make_app, app_logging, tmp_path: Path) -> None:
    app_file = tmp_path / "own.log"
    app_logging(app_file)
    make_app(LOG_STDLIB=False)

    log_every_level()

    assert app_file.read_text(encoding="utf-8") == ""


def test_log_stdlib_off_with_the_apps_file_as_log_file_warns(make_app, app_logging, tmp_path: Path, caplog) -> None:
    shared = tmp_path / "app.log"
    app_logging(shared)

    make_app(LOG_FILE=str(shared), LOG_STDLIB="false")

    [warning] = [record.getMessage() for record in caplog.records if record.name == "newlog"]
    assert re.search(r"LOG_FILE=.*written by the application's own logging handler.*LOG_STDLIB is off", warning)
    assert len(writers_of(shared)) == 1


def test_a_failing_app_handler_never_breaks_the_caller(make_app, app_logging, tmp_path: Path) -> None:
    handler = app_logging(tmp_path / "own.log")

    class Refuse(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            raise RuntimeError("filter bug")

    handler.addFilter(Refuse())
    app = make_app()

    newlog.log_info("still stored")

    assert [row["message"] for row in stored_rows(app)] == ["still stored"]
    assert state.current().outputs.errors >= 1


# -- a legacy profile whose chain printed nothing itself ---------------------------------------------


def quiet_profile() -> Any:
    """A profile read from a legacy module that configured structlog's stdlib ``LoggerFactory``."""
    from newlog.error_profile import ErrorProfile, Outcome, PayloadShape, Rule, Text

    return ErrorProfile(
        rules=(Rule(outcome=Outcome(500, "system", "high", "INTERNAL_ERROR", Text.literal("Fehler"), False)),),
        payload=PayloadShape(keys=("error", "message")),
        stdout=False,
    )


def test_a_legacy_profile_keeps_stdout_quiet_and_the_apps_file_gets_every_event(
    make_app, app_logging, tmp_path: Path, capfd
) -> None:
    from tests.support import RecordingSink

    app_file = tmp_path / "own.log"
    app_logging(app_file, level="INFO")
    app = make_app(init=False, LOG_RENDERER="json")
    newlog.init_app(app, sink=RecordingSink(), errors=quiet_profile())

    log_every_level()

    out, _ = capfd.readouterr()
    assert out == ""
    assert [event["event"] for _, _, event in app_lines(app_file)] == [
        "info event",
        "warning event",
        "error event",
        "critical event",
    ]
    assert len(stored_rows(app)) == 4


def test_a_legacy_profile_without_any_handler_prints_warnings_on_stderr_as_stdlib_did(make_app, monkeypatch, capfd) -> None:
    from tests.support import RecordingSink

    monkeypatch.setattr(logging.root, "handlers", [])
    app = make_app(init=False, LOG_RENDERER="json")
    newlog.init_app(app, sink=RecordingSink(), errors=quiet_profile())

    newlog.get_api_logger().info("not printed")
    newlog.get_api_logger().warning("on stderr")

    out, err = capfd.readouterr()
    assert out == ""
    assert [json.loads(line)["event"] for line in err.splitlines()] == ["on stderr"]


def test_log_console_level_set_explicitly_prints_under_a_legacy_profile(make_app, monkeypatch, capfd) -> None:
    from tests.support import RecordingSink

    monkeypatch.setattr(logging.root, "handlers", [])
    app = make_app(init=False, LOG_RENDERER="json", LOG_CONSOLE_LEVEL="INFO")
    newlog.init_app(app, sink=RecordingSink(), errors=quiet_profile())

    newlog.get_api_logger().info("printed")

    out, err = capfd.readouterr()
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["printed"]
    assert err == ""
