"""``LogQueueWorker.shutdown`` drains: every accepted event is stored exactly once, later ones are refused and counted."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newlog.queue_worker import LogQueueWorker
from tests.newlog.queue_support import (
    RecordingSink,
    database_app,
    database_sink,
    event,
    running_worker,
    stored_messages,
)

flush_intervals = st.sampled_from([0.001, 0.02, 0.5, 30.0])


@st.composite
def worker_options(draw: st.DrawFn) -> dict[str, object]:
    queue_size = draw(st.integers(1, 60))
    return {
        "queue_size": queue_size,
        "batch_size": draw(st.integers(1, queue_size)),
        "flush_interval": draw(flush_intervals),
    }


def enqueue_all(worker: LogQueueWorker, count: int) -> list[str]:
    """Enqueue ``count`` events; return the messages of those the worker accepted."""
    accepted = []
    for index in range(count):
        message = f"event-{index}"
        if worker.enqueue(event(message)):
            accepted.append(message)
    return accepted


@settings(max_examples=60, deadline=None)
@given(options=worker_options(), count=st.integers(0, 120))
def test_shutdown_stores_every_accepted_event_exactly_once(options: dict[str, object], count: int) -> None:
    sink = RecordingSink()
    worker = LogQueueWorker(sink, **options)  # type: ignore[arg-type]
    accepted = enqueue_all(worker, count)
    started = time.monotonic()

    assert worker.shutdown(timeout=5) is True

    assert time.monotonic() - started < 1.0  # draining does not wait for the flush interval
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
    running = threading.Event()

    def produce(producer: int) -> None:
        for index in range(10_000):
            message = f"p{producer}-{index}"
            if worker.enqueue(event(message)):
                accepted[producer].append(message)
            else:
                refused[producer] += 1
                if worker.stats()["closed"]:
                    return
            if index == 20:
                running.set()

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


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=worker_options(), count=st.integers(0, 80))
def test_shutdown_stores_every_accepted_event_in_the_database(
    database_url: str, options: dict[str, object], count: int
) -> None:
    with database_app(database_url) as app:
        worker = LogQueueWorker(database_sink(app), **options)  # type: ignore[arg-type]
        accepted = enqueue_all(worker, count)
        assert worker.shutdown(timeout=5) is True
        assert stored_messages(app) == accepted


def test_shutdown_twice_returns_true_again_and_writes_nothing_more() -> None:
    sink = RecordingSink()
    worker = LogQueueWorker(sink, queue_size=10, batch_size=3, flush_interval=30.0)
    accepted = enqueue_all(worker, 7)
    assert worker.shutdown(timeout=5) is True
    started = time.monotonic()
    assert worker.shutdown(timeout=5) is True
    assert time.monotonic() - started < 0.5
    assert sink.messages == accepted


def test_enqueue_after_shutdown_is_refused_and_counted(database_url: str) -> None:
    with database_app(database_url) as app:
        worker = LogQueueWorker(database_sink(app), queue_size=10, batch_size=5, flush_interval=0.01)
        assert worker.enqueue(event("before"))
        assert worker.shutdown(timeout=5) is True

        assert [worker.enqueue(event(f"after-{index}")) for index in range(3)] == [False, False, False]
        assert worker.stats()["dropped_closed"] == 3
        assert worker.flush(timeout=1) is True
        assert stored_messages(app) == ["before"]


def test_shutdown_with_a_hanging_sink_returns_false_on_time_and_logs_what_was_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="newlog")
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=50, batch_size=4, flush_interval=0.01) as worker:
        assert len(enqueue_all(worker, 10)) == 10
        started = time.monotonic()

        assert worker.shutdown(timeout=0.5) is False

        assert 0.5 <= time.monotonic() - started < 0.5 + 0.3
        messages = [record.getMessage() for record in caplog.records if record.name == "newlog"]
        assert any(re.search(r"shutdown: 10 log event\(s\) not written when the 0\.5s shutdown timeout ran out", m) for m in messages)
        assert worker.stats()["queued"] == 10


def test_shutdown_with_a_hanging_sink_times_out_even_with_a_long_flush_interval() -> None:
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=50, batch_size=50, flush_interval=60.0) as worker:
        enqueue_all(worker, 3)
        started = time.monotonic()
        assert worker.shutdown(timeout=0.3) is False
        assert time.monotonic() - started < 0.3 + 0.3


def test_shutdown_again_after_a_timeout_returns_false_at_once() -> None:
    """The worker stopped at the first deadline; a second shutdown has nothing to wait for."""
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=50, batch_size=4, flush_interval=0.01) as worker:
        enqueue_all(worker, 10)
        assert worker.shutdown(timeout=0.3) is False
        sink.release()
        started = time.monotonic()

        assert worker.shutdown(timeout=5) is False

        assert time.monotonic() - started < 0.5
        while worker.stats()["alive"] and time.monotonic() - started < 3:
            time.sleep(0.01)
        landed = sink.messages  # the batch that was in flight when the sink hung; then the worker stopped
        assert 1 <= len(landed) <= 4 and landed == [f"event-{index}" for index in range(len(landed))]
        assert worker.stats()["queued"] == 10 - len(landed)


def test_shutdown_while_the_sink_keeps_failing_returns_false_and_logs_the_lost_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="newlog")
    sink = RecordingSink()
    sink.failing = True
    with running_worker(
        sink, queue_size=20, batch_size=3, flush_interval=30.0, retry_seconds=0.1
    ) as worker:
        enqueue_all(worker, 5)

        assert worker.shutdown(timeout=3) is False

        assert worker.stats()["dropped_failed"] == 5
        messages = [record.getMessage() for record in caplog.records if record.name == "newlog"]
        assert any("shutdown: 5 log event(s) dropped after retrying" in message for message in messages)
        assert worker.shutdown(timeout=3) is False  # asked again, the answer stays the same
        assert sink.messages == []


def test_flush_after_a_timed_out_shutdown_returns_false_instead_of_waiting_forever() -> None:
    """The worker stopped at the shutdown deadline with events left; nothing will ever write them."""
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=10, batch_size=2, flush_interval=0.01) as worker:
        enqueue_all(worker, 6)
        assert worker.shutdown(timeout=0.2) is False
        sink.release()
        results: list[bool] = []
        flusher = threading.Thread(target=lambda: results.append(worker.flush()), daemon=True)  # no timeout

        flusher.start()
        flusher.join(3)

        assert results == [False]
        assert worker.stats()["queued"] > 0
