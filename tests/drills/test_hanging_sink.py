"""A sink that hangs: ``shutdown(timeout)`` returns on time, returns False and says how many events were left."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from flask import Flask

import newlog


class HangingSink:
    """A sink that blocks on its first batch until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.rows: list[Mapping[str, Any]] = []

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.entered.set()
        self.release.wait(30)
        self.rows.extend(rows)


def test_shutdown_returns_on_time_and_reports_the_events_left(caplog: pytest.LogCaptureFixture) -> None:
    sink = HangingSink()
    app = Flask("hanging")
    app.config.update(LOG_BATCH_SIZE=4, LOG_FLUSH_INTERVAL=0.05)
    worker = newlog.init_app(app, sink=sink)
    try:
        with app.app_context():
            for number in range(10):
                newlog.log_info("event", number=number)
        assert sink.entered.wait(5), "the worker never called the sink"

        finished = newlog.shutdown(timeout=0.5)

        assert finished is False
        assert not sink.release.is_set()  # it returned while the sink still hangs
        messages = [r.getMessage() for r in caplog.records if r.name == "newlog"]
        assert any("10 log event(s) not written when the 0.5s shutdown timeout ran out" in message for message in messages), messages
        stats = worker.stats()
        assert (stats["closed"], stats["queued"], stats["written"]) == (True, 10, 0)
        with app.app_context():
            newlog.log_info("after shutdown")
        assert worker.stats()["dropped_closed"] == 1
    finally:
        sink.release.set()
