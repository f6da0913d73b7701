"""Events become rows by the legacy ``_build_log_entry`` / ``_build_context`` rules, and hostile content is stored safely."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newlog
from newlog.rows import build_row
from tests.conftest import MakeApp
from tests.newlog.test_sanitize import values
from tests.support import read_rows, stored_rows

UTC = dt.timezone.utc


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


# -- build_row: the legacy rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-05-01T12:30:00Z", dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024-05-01T12:30:00.250000Z", dt.datetime(2024, 5, 1, 12, 30, 0, 250000, tzinfo=UTC)),
        ("2024-05-01T12:30:00", dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024-05-01T14:30:00+02:00", dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        (dt.datetime(2024, 5, 1, 12, 30), dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ],
    ids=["Z", "Z with microseconds", "naive means UTC", "offset", "naive datetime"],
)
def test_timestamps_become_aware_utc(stamp: Any, expected: dt.datetime) -> None:
    stored = build_row({"event": "x", "timestamp": stamp})["timestamp"]
    assert stored == expected
    assert stored.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("stamp", ["yesterday", "", "2024-13-45T99:00:00", 1714566600, None])
def test_an_unparsable_or_missing_timestamp_means_now(stamp: Any) -> None:
    before = now()
    stored = build_row({"event": "x", "timestamp": stamp})["timestamp"]
    assert before <= stored <= now()


@pytest.mark.parametrize(
    ("level", "expected"),
    [(None, "INFO"), ("", "INFO"), ("info", "INFO"), ("warning", "WARNING"), ("warn", "WARNING"),
     ("Error", "ERROR"), ("critical", "CRITICAL"), ("debug", "DEBUG"), ("verbose", "INFO"), ("exception", "INFO")],
)
def test_level_is_upper_case_and_info_when_missing_or_unknown(level: Any, expected: str) -> None:
    event = {"event": "x"} if level is None else {"event": "x", "level": level}
    assert build_row(event)["level"] == expected


@pytest.mark.parametrize(
    ("event", "module"),
    [
        ({"module": "orders", "logger": "app.services.payments"}, "orders"),
        ({"logger": "app.services.payments"}, "payments"),
        ({"logger": "api"}, "api"),
        ({"logger_name": "app.sync"}, "sync"),
        ({"module": "", "logger": "app.auth"}, "auth"),
        ({}, "unknown"),
        ({"module": "m" * 300}, "m" * 100),
    ],
)
def test_module_comes_from_module_else_the_last_part_of_logger_else_unknown(event: dict[str, Any], module: str) -> None:
    assert build_row({"event": "x", **event})["module"].startswith(module)
    assert len(build_row({"event": "x", **event})["module"]) <= 100 + len("...[truncated 200 chars]")


def test_message_comes_from_event_else_message() -> None:
    assert build_row({"event": "from event", "message": "from message"})["message"] == "from event"
    assert build_row({"message": "from message"})["message"] == "from message"
    assert build_row({"level": "info"})["message"] == ""
    assert build_row({"event": 42})["message"] == "42"


def test_traceback_comes_from_exception() -> None:
    assert build_row({"event": "x", "exception": "Traceback ...\nValueError: boom"})["traceback"].endswith("boom")
    assert build_row({"event": "x", "exception": ValueError("boom")})["traceback"] == "boom"
    assert build_row({"event": "x"})["traceback"] is None


def test_context_is_every_other_key_that_is_not_none() -> None:
    row = build_row({
        "event": "e", "level": "info", "module": "m", "timestamp": "2024-01-01T00:00:00Z", "exception": "tb",
        "logger": "l", "logger_name": "ln", "order_id": 7, "note": None, "message": "also context", "flag": False,
    })
    assert row["context"] == {"order_id": 7, "message": "also context", "flag": False}


class Status(enum.Enum):
    PAID = "paid"


class Order:
    def to_dict(self) -> dict[str, Any]:
        return {"id": 7, "placed": dt.datetime(2024, 5, 1, 12, 0)}


def test_context_values_become_json() -> None:
    context = build_row({
        "event": "e",
        "when": dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "day": dt.date(2024, 5, 1),
        "order": Order(),
        "status": Status.PAID,
        "amount": Decimal("9.99"),
        "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "raw": b"abc",
        "tags": {"b"},
        "pair": (1, 2),
    })["context"]
    assert context == {
        "when": "2024-05-01T12:00:00+00:00",
        "day": "2024-05-01",
        "order": {"id": 7, "placed": "2024-05-01T12:00:00"},
        "status": "paid",
        "amount": "9.99",
        "ref": "12345678-1234-5678-1234-567812345678",
        "raw": "abc",
        "tags": ["b"],
        "pair": [1, 2],
    }
    json.dumps(context, allow_nan=False)


@pytest.mark.parametrize("event", ["just a string", 42, None, ["a", "list"]])
def test_a_non_dict_event_is_an_info_row_with_the_text_as_message(event: Any) -> None:
    row = build_row(event)
    assert (row["level"], row["module"], row["message"], row["traceback"], row["context"]) == (
        "INFO", "unknown", str(event), None, {}
    )


# -- through the real pipeline ---------------------------------------------------------------------


def test_logged_events_are_stored_by_the_same_rules(make_app: MakeApp) -> None:
    app = make_app()
    before = now()
    newlog.log_info("order placed", module="orders", order_id=7, note=None, when=dt.datetime(2024, 5, 1, 12, 0))
    newlog.get_logger("app.services.payments").warning("slow", ms=950)
    try:
        raise ValueError("card declined")
    except ValueError as error:
        newlog.log_error("payment failed", exception=error)
    newlog.log_warning("retrying", exception=TimeoutError("upstream"))

    rows = stored_rows(app)
    assert [(row["level"], row["module"], row["message"]) for row in rows] == [
        ("INFO", "orders", "order placed"),
        ("WARNING", "payments", "slow"),
        ("ERROR", "app", "payment failed"),
        ("WARNING", "app", "retrying"),
    ]
    assert all(before - dt.timedelta(seconds=1) <= row["timestamp"] <= now() for row in rows)
    placed, slow, failed, retrying = (row["context"] for row in rows)
    assert placed["order_id"] == 7 and placed["when"] == "2024-05-01T12:00:00" and "note" not in placed
    assert all(isinstance(row["timestamp"], dt.datetime) and row["timestamp"].tzinfo is not None for row in rows)
    assert slow["ms"] == 950 and "logger" not in slow
    assert "Traceback" in rows[2]["traceback"] and "ValueError: card declined" in rows[2]["traceback"]
    assert failed["error"] == "card declined"
    assert rows[3]["traceback"] == "upstream" and rows[0]["traceback"] is None
    assert not {"level", "module", "event", "timestamp", "exception", "logger"} & set(placed)


def test_the_row_is_a_snapshot_of_the_event_when_it_was_logged(make_app: MakeApp) -> None:
    app = make_app(LOG_FLUSH_INTERVAL=30.0)
    items = ["a"]
    order = {"status": "new", "lines": [{"sku": "x", "qty": 1}]}
    newlog.log_info("snapshot", items=items, order=order)

    items.append("b")
    order["status"] = "paid"
    order["lines"][0]["qty"] = 99
    order["extra"] = True

    (row,) = stored_rows(app)
    assert row["context"]["items"] == ["a"]
    assert row["context"]["order"] == {"status": "new", "lines": [{"sku": "x", "qty": 1}]}


# -- hostile content -------------------------------------------------------------------------------


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


class BrokenToDict:
    def to_dict(self) -> dict[str, Any]:
        raise RuntimeError("broken to_dict")

    def __str__(self) -> str:
        return "BrokenToDict()"


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"bottom": True}
    for _ in range(depth):
        value = {"down": value}
    return value


def test_hostile_content_is_stored_safely_with_the_rest_of_its_batch(
    make_app: MakeApp, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_FLUSH_INTERVAL=30.0, LOG_BATCH_SIZE=50, LOG_RENDERER="json")
    cycle: list[Any] = []
    cycle.append(cycle)

    newlog.log_info("first good event")
    newlog.log_info("unprintable value", thing=Unprintable())
    newlog.log_info(Unprintable())  # type: ignore[arg-type]
    newlog.log_info("broken to_dict", thing=BrokenToDict())
    newlog.log_info("x" * 1_000_000)
    newlog.log_info("bytes", raw=b"\xff\xfe\x00abc", text_with_surrogate="bad \udcff name")
    newlog.log_info("nul \x00 in message", value="a\x00b", module="mod\x00ule")
    newlog.log_info("deep", tree=nested(2000), cycle=cycle)
    newlog.log_info("not a number", nan=float("nan"), inf=float("inf"), values=[float("-inf")])
    newlog.log_info("last good event", huge=10**5000, big=2**80)

    rows = stored_rows(app)
    assert app.extensions["newlog"].worker.stats()["batches"] == 1  # all ten went in one batch
    messages = [row["message"] for row in rows]
    assert len(rows) == 10
    assert (messages[0], messages[-1]) == ("first good event", "last good event")

    by_message = {row["message"]: row for row in rows}
    assert by_message["unprintable value"]["context"]["thing"].startswith("<unprintable Unprintable")
    assert messages[2].startswith("<unprintable Unprintable")
    assert by_message["broken to_dict"]["context"]["thing"] == "BrokenToDict()"

    long_message = messages[4]
    assert long_message.startswith("x" * 1000) and long_message.endswith("chars]")
    assert "truncated" in long_message and len(long_message) < 100_000

    raw = by_message["bytes"]["context"]
    assert raw["raw"] == "\\xff\\xfe\\x00abc"
    assert "\x00" not in raw["raw"] and raw["text_with_surrogate"].startswith("bad ")

    nul = by_message["nul \\x00 in message"]
    assert nul["context"]["value"] == "a\\x00b" and nul["module"] == "mod\\x00ule"

    deep = json.dumps(by_message["deep"]["context"])
    assert "nested deeper than 16" in deep and "<cycle: list contains itself>" in deep and len(deep) < 10_000

    assert (rows[-1]["context"]["huge"], rows[-1]["context"]["big"]) == ("<int too large to print: 16610 bits>", str(2**80))
    numbers = by_message["not a number"]["context"]
    assert (numbers["nan"], numbers["inf"], numbers["values"]) == ("nan", "inf", ["-inf"])

    for line in capsys.readouterr().out.splitlines():
        json.loads(line)  # every printed line is valid JSON too


def test_hostile_content_never_raises_with_the_console_renderer_either(
    make_app: MakeApp, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_RENDERER="console")
    cycle: list[Any] = []
    cycle.append(cycle)

    newlog.log_info("bad \udcff name", raw=b"\xff", thing=Unprintable(), nul="a\x00b", tree=nested(3000), cycle=cycle)
    newlog.log_info(Unprintable())  # type: ignore[arg-type]
    newlog.log_info("after", nan=float("nan"), huge=10**5000)

    rows = stored_rows(app)
    assert len(rows) == 3 and rows[-1]["message"] == "after"
    assert "after" in capsys.readouterr().out


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(event=st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_any_event_becomes_a_row_that_is_valid_strict_json(event: dict[str, Any]) -> None:
    row = build_row(event)
    json.dumps(row["context"], allow_nan=False).encode("utf-8")
    for column in ("level", "module", "message"):
        assert "\x00" not in row[column]
        row[column].encode("utf-8")
    assert row["timestamp"].tzinfo is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values, key=st.text(st.characters(codec=None), min_size=1, max_size=8))
def test_no_value_raises_into_the_app_or_stops_the_writer(make_app: MakeApp, sqlite_url: str, value: Any, key: str) -> None:
    """On a real SQLite file: any value is stored (or its row alone is counted as failed); later events are written."""
    app = make_app(database=sqlite_url, LOG_BATCH_SIZE=10)
    worker = app.extensions["newlog"].worker
    newlog.log_info("hostile", value=value, **{f"k_{key}": value})
    newlog.log_error("canary after")

    newlog.flush(10)
    stats = worker.stats()
    messages = [row["message"] for row in read_rows(app)]
    assert stats["alive"] and stats["queued"] == 0
    assert messages[-1] == "canary after"
    assert stats["written"] + stats["dropped_failed"] == 2 and len(messages) == stats["written"]
    newlog.shutdown(5)
