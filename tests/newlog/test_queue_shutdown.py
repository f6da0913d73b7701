"""Shutdown drains: every accepted event is written, late ones are refused and counted, a hanging sink cannot
stall it past its timeout, and what could not be written is reported once. Time is a ManualClock."""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newlog.queue_worker import LogQueueWorker
from tests.support import (
    ManualClock,
    RecordingSink,
    database_sink,
    event,
    newlog_records,
    running_worker,
    sink_messages,
)

flush_intervals = st.sampled_from([0.001, 0.02, 0.5, 30.0])


@st.composite
def worker_options(draw: st.DrawFn) -> dict[str, object]:
    queue_size = draw(st.integers(1, 60))
    return {
        "queue_size": queue_size,
        "batch_size": draw(st.integers(1, queue_size)),
        "flush_interval": draw(flush_intervals),
        "clock": ManualClock(),
    }


def enqueue_all(worker: LogQueueWorker, count: int) -> list[str]:
    """Enqueue ``count`` events; return the messages of those the worker accepted."""
    return [message for message in (f"event-{index}" for index in range(count)) if worker.enqueue(event(message))]


@settings(max_examples=60, deadline=None)
@given(options=worker_options(), count=st.integers(0, 120))
def test_shutdown_stores_every_accepted_event_exactly_once_without_waiting_for_the_flush_interval(
    options: dict[str, object], count: int
) -> None:
    sink = RecordingSink()
    worker = LogQueueWorker(sink, **options)  # type: ignore[arg-type]
    accepted = enqueue_all(worker, count)

    assert worker.shutdown(timeout=5) is True  # the manual clock never moves: no interval elapses

    assert sink.messages == accepted
    stats = worker.stats()
    assert (stats["written"], stats["queued"], stats["alive"]) == (len(accepted), 0, False)
    assert stats["dropped_overflow"] == count - len(accepted)


@settings(max_examples=30, deadline=None)
@given(options=worker_options(), producers=st.integers(1, 4))
def test_events_racing_shutdown_are_either_stored_or_refused(options: dict[str, object], producers: int) -> None:
    sink = RecordingSink()
    worker = LogQueueWorker(sink, **options)  # type: ignore[arg-type]
    accepted: list[list[str]] = [[] for _ in range(producers)]
    refused = [0] * producers
    running = threading.Barrier(producers + 1)

    def produce(producer: int) -> None:
        for index in range(10_000):
            message = f"p{producer}-{index}"
            if worker.enqueue(event(message)):
                accepted[producer].append(message)
            else:
                refused[producer] += 1
                if worker.closed:
                    return
            if index == 20:
                running.wait(5)

    threads = [threading.Thread(target=produce, args=(producer,)) for producer in range(producers)]
    for thread in threads:
        thread.start()
    running.wait(5)
    assert worker.shutdown(timeout=5) is True
    for thread in threads:
        thread.join(5)

    stored = sink.messages
    assert sorted(stored) == sorted(message for messages in accepted for message in messages)
    for producer in range(producers):
        assert [message for message in stored if message.startswith(f"p{producer}-")] == accepted[producer]
    stats = worker.stats()
    assert stats["dropped_overflow"] + stats["dropped_closed"] == sum(refused)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 80), batch_size=st.integers(1, 20))
def test_shutdown_stores_every_accepted_event_in_a_real_database(database_url: str, count: int, batch_size: int) -> None:
    sink = database_sink(database_url)
    worker = LogQueueWorker(sink, queue_size=100, batch_size=batch_size, flush_interval=30.0)
    accepted = enqueue_all(worker, count)
    assert worker.shutdown(timeout=10) is True
    assert sink_messages(sink) == accepted


def test_shutdown_twice_returns_the_first_answer_and_writes_nothing_more() -> None:
    sink = RecordingSink()
    worker = LogQueueWorker(sink, queue_size=10, batch_size=3, flush_interval=30.0, clock=ManualClock())
    accepted = enqueue_all(worker, 7)
    assert worker.shutdown(timeout=5) is True
    assert worker.shutdown(timeout=5) is True
    assert sink.messages == accepted
    assert [worker.enqueue(event(f"after-{index}")) for index in range(3)] == [False, False, False]
    assert worker.stats()["dropped_closed"] == 3
    assert worker.flush(timeout=1) is True


def shutdown_in_thread(worker: LogQueueWorker, timeout: float) -> tuple[threading.Thread, list[bool]]:
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(worker.shutdown(timeout=timeout)))
    thread.start()
    return thread, results


def test_a_hanging_sink_cannot_hold_shutdown_past_its_timeout_and_what_is_left_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="newlog")
    clock = ManualClock()
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=50, batch_size=4, flush_interval=60.0, clock=clock) as worker:
        enqueue_all(worker, 10)
        thread, results = shutdown_in_thread(worker, 0.5)
        assert sink.entered.wait(5), "the worker never called the sink"
        clock.wait_until_blocked()  # shutdown waits for the drain
        clock.advance(0.5)
        thread.join(5)

        assert results == [False]
        assert worker.stats()["queued"] == 10
        assert worker.shutdown(timeout=5) is False  # asked again: the same answer, no second report
        assert newlog_records(caplog, "shutdown:") == [
            "newlog: shutdown: 10 log event(s) not written when the 0.5s shutdown timeout ran out (last error: none)"
        ]
        sink.release()
        assert worker.flush() is False  # nothing will write them: flush without a timeout returns


def test_shutdown_while_the_sink_keeps_failing_counts_and_reports_the_lost_events(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="newlog")
    clock = ManualClock()
    sink = RecordingSink()
    sink.fail_with(ConnectionError("database unreachable"))
    with running_worker(sink, queue_size=20, batch_size=5, flush_interval=60.0, retry_seconds=1.0, clock=clock) as worker:
        enqueue_all(worker, 5)
        thread, results = shutdown_in_thread(worker, 30.0)
        while thread.is_alive():
            clock.wait_until_blocked(2)  # shutdown waits, the worker sleeps before its next attempt
            clock.advance(0.5)
            thread.join(0.05)

        assert results == [False]
        stats = worker.stats()
        assert (stats["dropped_failed"], stats["written"], stats["queued"]) == (5, 0, 0)
        assert newlog_records(caplog, "shutdown:") == [
            "newlog: shutdown: 5 log event(s) dropped after retrying (last error: ConnectionError: database unreachable)"
        ]
        assert sink.messages == []
