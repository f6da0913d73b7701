"""Shippable output: JSON lines on stdout and in a rotating file; the console renderer for terminals."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

import newlog
from newlog import state
from tests.support import read_rows


def strict_json(line: str) -> dict[str, Any]:
    """Parse one line as JSON that Loki / Elasticsearch accept (no NaN / Infinity)."""

    def reject(constant: str) -> Any:
        raise ValueError(f"not valid JSON: {constant}")

    value = json.loads(line, parse_constant=reject)
    assert isinstance(value, dict)
    return value


def stdout_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [strict_json(line) for line in capsys.readouterr().out.splitlines()]


def file_lines(path: Path) -> list[dict[str, Any]]:
    return [strict_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_json_line_has_time_level_logger_event_request_id_and_context(make_app, capsys) -> None:
    app = make_app(LOG_RENDERER="json", APP_VERSION="1.4.2", ENVIRONMENT="staging")

    @app.get("/orders/<int:order_id>")
    def order(order_id: int) -> str:
        newlog.get_api_logger().info("order shown", order_id=order_id, tags=["vip", "eu"])
        return "ok"

    before = dt.datetime.now(dt.timezone.utc)
    app.test_client().get("/orders/7", headers={"X-Request-ID": "req-7"})
    (line,) = stdout_lines(capsys)

    stamp = dt.datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
    assert line["timestamp"].endswith("Z") and stamp.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=1) <= stamp <= dt.datetime.now(dt.timezone.utc)
    assert (line["level"], line["logger"], line["event"]) == ("info", "api", "order shown")
    assert line["request_id"] == "req-7"
    assert (line["order_id"], line["tags"]) == (7, ["vip", "eu"])
    assert (line["app_name"], line["app_version"], line["environment"]) == (app.name, "1.4.2", "staging")
    assert (line["method"], line["url"]) == ("GET", "http://localhost/orders/7")


def test_every_event_is_exactly_one_valid_json_line(make_app, capsys) -> None:
    make_app(LOG_RENDERER="json")

    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    newlog.log_info("two\nlines\r\nand a \u2028 separator", note="tab\there")
    newlog.log_warning("odd numbers", ratio=float("nan"), limit=float("inf"))
    newlog.log_info("hostile", thing=Unprintable(), raw=b"\xff\x00")
    try:
        raise ValueError("bad input")
    except ValueError as exc:
        newlog.log_error("with traceback", exception=exc)

    lines = stdout_lines(capsys)
    assert [line["event"] for line in lines] == [
        "two\nlines\r\nand a \u2028 separator",
        "odd numbers",
        "hostile",
        "with traceback",
    ]
    assert (lines[1]["ratio"], lines[1]["limit"]) == ("nan", "inf")
    assert lines[2]["thing"].startswith("<unprintable")
    assert "ValueError: bad input" in lines[3]["exception"]


def test_auto_writes_json_lines_when_stdout_is_not_a_terminal(make_app, capsys) -> None:
    make_app()

    newlog.log_info("piped")

    assert stdout_lines(capsys)[0]["event"] == "piped"


def test_the_console_renderer_stays_for_terminals_while_the_file_gets_json(make_app, capsys, tmp_path) -> None:
    log_file = tmp_path / "app.log"
    make_app(LOG_RENDERER="console", LOG_FILE=str(log_file))

    newlog.log_info("shown to a human", order_id=3)

    out = capsys.readouterr().out
    assert "shown to a human" in out and "order_id" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.splitlines()[0])
    (line,) = file_lines(log_file)
    assert (line["event"], line["order_id"], line["level"]) == ("shown to a human", 3, "info")


def test_the_file_gets_the_same_json_lines_as_stdout(make_app, capsys, tmp_path) -> None:
    log_file = tmp_path / "app.log"
    app = make_app(LOG_RENDERER="json", LOG_FILE=str(log_file))

    newlog.log_info("one", n=1)
    newlog.get_logger("debugish").info("two", n=2, persist=False)

    assert file_lines(log_file) == stdout_lines(capsys)
    assert [line["event"] for line in file_lines(log_file)] == ["one", "two"]
    assert newlog.flush(5)
    assert [row["message"] for row in read_rows(app)] == ["one"]


def test_the_file_rotates_at_the_size_and_keeps_the_backup_count(make_app, tmp_path) -> None:
    log_file = tmp_path / "app.log"
    make_app(LOG_FILE=str(log_file), LOG_FILE_MAX_BYTES=2000, LOG_FILE_BACKUP_COUNT=2)

    for index in range(200):
        newlog.log_info("tick", index=index, padding="p" * 50)

    assert sorted(path.name for path in tmp_path.glob("app.log*")) == ["app.log", "app.log.1", "app.log.2"]
    chunks = [file_lines(tmp_path / name) for name in ("app.log.2", "app.log.1", "app.log")]
    indexes = [line["index"] for chunk in chunks for line in chunk]
    assert indexes == list(range(indexes[0], 200))
    assert all(0 < (tmp_path / name).stat().st_size <= 2000 for name in ("app.log.1", "app.log.2"))


def test_log_file_settings_come_from_the_environment(make_app, tmp_path, monkeypatch) -> None:
    log_file = tmp_path / "env.log"
    monkeypatch.setenv("LOG_FILE", str(log_file))
    monkeypatch.setenv("LOG_FILE_MAX_BYTES", "5000")
    monkeypatch.setenv("LOG_FILE_BACKUP_COUNT", "1")
    make_app()

    newlog.log_info("from env")

    assert file_lines(log_file)[0]["event"] == "from env"
    handler = state.current().outputs.file_handler
    assert (handler.maxBytes, handler.backupCount) == (5000, 1)


def test_an_unwritable_log_file_is_a_config_error_naming_the_setting(make_app, tmp_path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "app.log"

    with pytest.raises(newlog.ConfigError, match=r"LOG_FILE='.*app\.log' cannot be opened.*create its directory"):
        make_app(LOG_FILE=str(missing))


@pytest.mark.parametrize("setting", ["LOG_FILE_MAX_BYTES", "LOG_FILE_BACKUP_COUNT"])
def test_rotation_settings_must_be_positive(make_app, tmp_path, setting: str) -> None:
    with pytest.raises(newlog.ConfigError, match=f"{setting}=0 .* must be > 0"):
        make_app(LOG_FILE=str(tmp_path / "app.log"), **{setting: 0})


def test_a_broken_stdout_never_breaks_the_caller_and_the_event_is_still_stored(make_app, monkeypatch) -> None:
    app = make_app(LOG_RENDERER="json")
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stdout", closed)
    errors_before = state.current().outputs.errors

    newlog.log_info("stdout is gone")
    newlog.log_info("still going")

    assert state.current().outputs.errors == errors_before + 2
    assert newlog.flush(5)
    assert [row["message"] for row in read_rows(app)] == ["stdout is gone", "still going"]


def test_lines_from_many_threads_never_interleave(make_app, capsys, tmp_path) -> None:
    log_file = tmp_path / "app.log"
    make_app(LOG_RENDERER="json", LOG_FILE=str(log_file), LOG_QUEUE_SIZE=5000, LOG_DB_LEVEL="ERROR")

    def work(worker: int) -> None:
        for index in range(200):
            newlog.log_info("parallel", worker=worker, index=index, blob="b" * 300)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for lines in (stdout_lines(capsys), file_lines(log_file)):
        assert len(lines) == 1600
        assert {(line["worker"], line["index"]) for line in lines} == {(w, i) for w in range(8) for i in range(200)}
