"""Accounting: flush() tells whether anything it waited for was lost, failures are retried within the budget,
a bad row is isolated, the worker survives anything, and errors are reported once per interval with a count."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from tests.support import ManualClock, RecordingSink, event, newlog_records, running_worker


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger="newlog")
    return caplog


def flush_in_thread(worker: Any, timeout: float | None = None) -> tuple[threading.Thread, list[bool]]:
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(worker.flush(timeout)))
    thread.start()
    return thread, results


def test_flush_is_false_when_an_event_it_waited_for_was_dropped_after_retrying_and_true_again_later() -> None:
    clock = ManualClock()
    sink = RecordingSink()
    with running_worker(sink, batch_size=1, retry_seconds=1.0, clock=clock) as worker:
        sink.fail_with(ConnectionError("down"))
        worker.enqueue(event("lost"))
        thread, results = flush_in_thread(worker)
        for attempt in (1, 2):  # backoff 0.05 s, then 0.1 s; the third attempt would end past the budget
            clock.wait_for_sleeps(attempt)
            clock.advance(0.5)
        thread.join(5)
        assert results == [False]

        sink.fail_with(None)
        worker.enqueue(event("kept"))
        assert worker.flush(5) is True  # the loss was reported by the previous flush
        assert sink.messages == ["kept"]
        assert (worker.stats()["dropped_failed"], worker.stats()["retries"]) == (1, 2)


def test_a_failure_is_retried_with_backoff_until_it_succeeds_within_the_budget(errors: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    sink = RecordingSink()
    sink.fail_with(ConnectionError("database restarting"))
    with running_worker(sink, batch_size=2, retry_seconds=30.0, warn_interval=10.0, clock=clock) as worker:
        worker.enqueue(event("a"))
        worker.enqueue(event("b"))
        thread, results = flush_in_thread(worker)
        for attempt in (1, 2, 3):
            clock.wait_for_sleeps(attempt)
            clock.advance(1.0)
        clock.wait_for_sleeps(4)
        sink.fail_with(None)
        clock.advance(1.0)
        thread.join(5)

        assert results == [True]
        assert sink.messages == ["a", "b"]
        assert worker.stats()["retries"] == 4
    # one line for the repeated error within the interval, not one per attempt
    assert newlog_records(errors, "database restarting") == [
        "newlog: error while writing a batch of 2 row(s): ConnectionError: database restarting"
    ]


def test_a_repeated_error_is_reported_again_after_the_interval_with_how_often_it_happened(
    errors: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    sink = RecordingSink()
    sink.fail_with(ConnectionError("down"))
    with running_worker(sink, batch_size=1, retry_seconds=100.0, warn_interval=10.0, clock=clock) as worker:
        worker.enqueue(event("a"))
        for attempt in range(1, 13):  # each pause is advanced by 1 s: 12 attempts span more than one interval
            clock.wait_for_sleeps(attempt)
            clock.advance(1.0)
        clock.wait_for_sleeps(13)
        sink.fail_with(None)
        clock.advance(1.0)
        assert worker.flush(5) is True
    lines = newlog_records(errors, "ConnectionError: down")
    assert len(lines) == 2
    assert lines[1].endswith("more time(s) in the last 10s)")


class PoisonAware(RecordingSink):
    """Refuses any batch containing a row whose message is "poison" (as a database refuses a bad value)."""

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if any(row["message"] == "poison" for row in rows):
            raise ValueError("value out of range")
        super().__call__(rows)


def test_a_bad_row_is_isolated_and_counted_and_the_rest_of_its_batch_is_written() -> None:
    sink = PoisonAware()
    with running_worker(sink, batch_size=5, clock=ManualClock()) as worker:
        for message in ("one", "two", "poison", "four", "five"):
            worker.enqueue(event(message))
        assert worker.flush(5) is False
        assert sink.messages == ["one", "two", "four", "five"]
        stats = worker.stats()
        assert (stats["written"], stats["dropped_failed"], stats["retries"]) == (4, 1, 0)
        worker.enqueue(event("after"))
        assert worker.flush(5) is True


class Killer(RecordingSink):
    """Raises a BaseException on its first call (as a thread killed from outside), then works."""

    def __init__(self) -> None:
        super().__init__()
        self.killed = False

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not self.killed:
            self.killed = True
            raise WorkerKilled
        super().__call__(rows)


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the worker can handle it."""


def test_a_dead_worker_thread_counts_its_batch_as_failed_and_the_next_event_restarts_it(
    errors: pytest.LogCaptureFixture,
) -> None:
    sink = Killer()
    with running_worker(sink, batch_size=1, clock=ManualClock()) as worker:
        worker.enqueue(event("in flight when the thread died"))
        assert worker.flush(5) is False
        stats = worker.stats()
        assert (stats["alive"], stats["dropped_failed"], stats["queued"]) == (False, 1, 0)

        worker.enqueue(event("after the restart"))
        assert worker.flush(5) is True
        assert worker.stats()["alive"] is True
        assert sink.messages == ["after the restart"]
    assert newlog_records(errors, "thread stopped") == ["newlog: the log worker thread stopped: WorkerKilled"]


def test_an_unbuildable_event_becomes_a_visible_row() -> None:
    def row_builder(entry: Any) -> Mapping[str, Any]:
        if entry["event"] == "broken":
            raise RuntimeError("cannot build")
        from newlog.rows import build_row

        return build_row(entry)

    sink = RecordingSink()
    with running_worker(sink, batch_size=2, row_builder=row_builder, clock=ManualClock()) as worker:
        worker.enqueue(event("broken"))
        worker.enqueue(event("fine"))
        assert worker.flush(5) is True
    assert sink.messages == ["newlog: unbuildable log event", "fine"]
    assert sink.rows[0]["context"]["error"] == "RuntimeError: cannot build"
