"""Hostile event content: every value is stored in a safe form (or visibly truncated), nothing raises
to the caller, and nothing else in the same batch is lost. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import newlog
from tests.conftest import MakeApp
from tests.drills.harness import log_rows


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class ExplodingMapping(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("cannot iterate")

    def __len__(self) -> int:
        return 1


class Opaque:
    """Not JSON-serialisable, with a plain repr."""


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(depth):
        value = {"child": value}
    return value


def cyclic() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


def flatten(value: Any) -> str:
    return repr(value)


MEGABYTE = "x" * (1024 * 1024)

# name -> (how to log it, check of the stored row)
CASES: dict[str, tuple[Callable[[], None], Callable[[dict[str, Any]], bool]]] = {
    "not JSON-serialisable": (
        lambda: newlog.log_info("opaque", value=Opaque(), when=dt.datetime(2024, 5, 6, 7, 8, 9), tags={"b"},
                                amount=decimal.Decimal("1.10"), ident=uuid.UUID(int=1)),
        lambda row: "Opaque object" in row["context"]["value"] and row["context"]["when"] == "2024-05-06T07:08:09"
        and row["context"]["tags"] == ["b"] and row["context"]["amount"] == "1.10",
    ),
    "repr raises": (
        lambda: newlog.log_info("unprintable", value=Unprintable()),
        lambda row: row["context"]["value"].startswith("<unprintable Unprintable"),
    ),
    "exception whose str raises": (
        lambda: newlog.log_error("failed", exception=UnprintableError()),
        lambda row: row["level"] == "ERROR" and "UnprintableError" in (row["traceback"] or ""),
    ),
    "1 MB message": (
        lambda: newlog.log_info(MEGABYTE),
        lambda row: len(row["message"]) < 70_000 and row["message"].endswith("chars]") and "truncated" in row["message"],
    ),
    "1 MB context value": (
        lambda: newlog.log_info("big value", blob=MEGABYTE),
        lambda row: len(row["context"]["blob"]) < 70_000 and "truncated" in row["context"]["blob"],
    ),
    "non-UTF-8 bytes": (
        lambda: newlog.log_info("bytes", raw=b"\xff\xfeok\x00end"),
        lambda row: row["context"]["raw"] == "\\xff\\xfeok\\x00end",
    ),
    "lone surrogate and NUL in text": (
        lambda: newlog.log_info("bad\udcfftext\x00here", path="/tmp/\udcff\x00"),
        lambda row: row["message"] == "bad\\udcfftext\\x00here" and row["context"]["path"] == "/tmp/\\udcff\\x00",
    ),
    "NaN and infinity": (
        lambda: newlog.log_info("floats", ratio=float("nan"), limit=float("inf")),
        lambda row: row["context"]["ratio"] == "nan" and row["context"]["limit"] == "inf",
    ),
    "deeply nested": (
        lambda: newlog.log_info("deep", tree=nested(500)),
        lambda row: "nested deeper than" in flatten(row["context"]["tree"]),
    ),
    "cyclic": (
        lambda: newlog.log_info("cycle", items=cyclic()),
        lambda row: row["context"]["items"] == [1, "<cycle: list contains itself>"],
    ),
    "100k items": (
        lambda: newlog.log_info("wide", items=list(range(100_000))),
        lambda row: len(row["context"]["items"]) == 1001 and row["context"]["items"][-1] == "[99000 more items]",
    ),
    "mapping whose iteration raises": (
        lambda: newlog.log_info("mapping", data=ExplodingMapping()),
        lambda row: "unreadable mapping" in flatten(row["context"]["data"]),
    ),
    "odd keys": (
        lambda: newlog.log_info("keys", data={1: "int", ("a", "b"): "tuple", None: "none"}),
        lambda row: set(row["context"]["data"]) == {"1", "('a', 'b')", "None"},
    ),
    "NUL and surrogate in keys": (
        lambda: newlog.log_info("nul keys", **{"top\x00key": 1}, data={"in\x00ner\udcff": 2}),
        lambda row: row["context"].get("top\\x00key") == 1 and row["context"]["data"] == {"in\\x00ner\\udcff": 2},
    ),
    "message that is not text": (
        lambda: newlog.get_logger("app").info({"not": "a string"}),
        lambda row: "not" in row["message"],
    ),
}


def test_hostile_events_are_stored_safely_and_lose_nothing_else(make_app: MakeApp, database_url: str) -> None:
    app = make_app(database=database_url, LOG_BATCH_SIZE=500, LOG_QUEUE_SIZE=1000, LOG_FLUSH_INTERVAL=30.0)
    with app.app_context():
        for name, (log, _) in CASES.items():
            newlog.log_info("before", case=name)
            log()  # must not raise
            newlog.log_info("after", case=name)

    assert app.extensions["newlog"].worker.flush(timeout=30)
    stats = app.extensions["newlog"].worker.stats()
    rows = log_rows(app.config["SQLALCHEMY_DATABASE_URI"], app.config["LOG_TABLE"])
    assert (stats["batches"], stats["dropped_failed"], stats["dropped_overflow"]) == (1, 0, 0)
    assert len(rows) == 3 * len(CASES)
    for index, (name, (_, check)) in enumerate(CASES.items()):
        before, hostile, after = rows[3 * index : 3 * index + 3]
        assert (before["message"], before["context"]["case"]) == ("before", name)
        assert (after["message"], after["context"]["case"]) == ("after", name)
        assert check(hostile), f"{name}: stored as {flatten(hostile)[:500]}"
