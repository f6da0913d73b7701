"""A full LogQueueWorker keeps the earliest events, rejects the rest, counts them and warns about it sparingly.

Rows the worker has taken but not yet written (the sink is blocked) still count against
the queue size, so with a stuck database at most ``queue_size`` events are held.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newlog
from tests.newlog.queue_support import (
    RecordingSink,
    database_app,
    database_locked,
    database_sink,
    event,
    running_worker,
    stored_messages,
)

WARNING = re.compile(r"log queue full \(LOG_QUEUE_SIZE=(\d+)\): dropped (\d+) newest event")


def overflow_warnings(caplog: pytest.LogCaptureFixture) -> list[tuple[float, int]]:
    """Return (time, dropped count) of every queue-full warning captured on the "newlog" logger."""
    found = []
    for record in caplog.records:
        match = WARNING.search(record.getMessage())
        if record.name == "newlog" and match:
            assert record.levelno == logging.WARNING
            found.append((record.created, int(match.group(2))))
    return found


@pytest.fixture
def warnings_captured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING, logger="newlog")
    yield caplog


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    queue_size=st.integers(1, 30),
    extra=st.integers(0, 40),
    flush_interval=st.sampled_from([0.001, 0.05, 30.0]),
)
def test_blocked_sink_keeps_exactly_the_earliest_events_that_fit(
    warnings_captured: pytest.LogCaptureFixture, data: st.DataObject, queue_size: int, extra: int, flush_interval: float
) -> None:
    warnings_captured.clear()
    batch_size = data.draw(st.integers(1, queue_size))
    messages = [f"event-{index}" for index in range(queue_size + extra)]
    sink = RecordingSink()
    sink.hold()
    with running_worker(
        sink, queue_size=queue_size, batch_size=batch_size, flush_interval=flush_interval,
        warn_interval=60.0,
    ) as worker:
        results = [worker.enqueue(event(message)) for message in messages]

        assert results == [True] * queue_size + [False] * extra
        stats = worker.stats()
        assert (stats["enqueued"], stats["dropped_overflow"], stats["queued"]) == (queue_size, extra, queue_size)
        assert [count for _, count in overflow_warnings(warnings_captured)] == ([1] if extra else [])

        sink.release()
        assert worker.flush(timeout=5) is (extra == 0)  # False: events logged since the last flush were dropped
        assert sink.messages == messages[:queue_size]


def test_room_freed_by_written_rows_is_used_again() -> None:
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=3, batch_size=1, flush_interval=0.01) as worker:
        assert [worker.enqueue(event(f"first-{index}")) for index in range(4)] == [True, True, True, False]
        sink.release()
        assert worker.flush(timeout=5) is False  # first-3 was dropped
        assert [worker.enqueue(event(f"second-{index}")) for index in range(3)] == [True, True, True]
        assert worker.flush(timeout=5) is True
        assert sink.messages == ["first-0", "first-1", "first-2", "second-0", "second-1", "second-2"]
        assert worker.stats()["dropped_overflow"] == 1


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bursts=st.lists(st.integers(1, 6), min_size=1, max_size=3))
def test_overflow_warning_comes_once_per_interval_with_the_count_since_the_last_one(
    warnings_captured: pytest.LogCaptureFixture, bursts: list[int]
) -> None:
    """Each burst of rejects lies within one warning interval; a new interval starts between bursts."""
    warnings_captured.clear()
    interval = 0.15
    sink = RecordingSink()
    sink.hold()
    with running_worker(
        sink, queue_size=2, batch_size=1, flush_interval=0.01, warn_interval=interval
    ) as worker:
        assert worker.enqueue(event("kept-0")) and worker.enqueue(event("kept-1"))
        for burst in bursts:
            assert not any([worker.enqueue(event("rejected")) for _ in range(burst)])
            time.sleep(interval * 1.2)

        warnings = overflow_warnings(warnings_captured)
        assert len(warnings) == len(bursts)
        # The first reject of a burst warns with what piled up since the previous warning (itself included).
        assert [count for _, count in warnings] == [1, *bursts[:-1]]
        assert all(later - earlier >= interval for (earlier, _), (later, _) in zip(warnings, warnings[1:]))
        assert worker.stats()["dropped_overflow"] == sum(bursts)


def test_overflow_warning_never_comes_back_into_the_queue(
    warnings_captured: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """An app forwarding stdlib "newlog" records into newlog must not feed the full queue with them."""
    sink = RecordingSink()
    app = Flask("forwarding_app")
    app.config.update(LOG_QUEUE_SIZE=2, LOG_BATCH_SIZE=1, LOG_RENDERER="json")
    worker = newlog.init_app(app, sink=sink)
    forwarded: list[str] = []

    class ForwardToNewlog(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            forwarded.append(record.getMessage())
            newlog.log_warning(record.getMessage(), module="stdlib")

    forwarder = ForwardToNewlog()
    logging.getLogger("newlog").addHandler(forwarder)
    sink.hold()
    try:
        for index in range(5):
            newlog.log_info(f"event-{index}")
    finally:
        logging.getLogger("newlog").removeHandler(forwarder)
        sink.release()

    assert worker.flush(timeout=5) is False  # three events were dropped
    assert len(forwarded) == 1 and "log queue full" in forwarded[0]
    assert sink.messages == ["event-0", "event-1"]
    stats = worker.stats()
    assert (stats["enqueued"], stats["dropped_overflow"]) == (2, 3)
    assert "log queue full" in capsys.readouterr().out  # the forwarded warning is still printed


def test_full_queue_never_raises_to_the_code_that_logs() -> None:
    sink = RecordingSink()
    app = Flask("full_queue_app")
    app.config.update(LOG_QUEUE_SIZE=1, LOG_BATCH_SIZE=1, LOG_RENDERER="json")
    worker = newlog.init_app(app, sink=sink)
    sink.hold()
    try:
        for index in range(50):
            newlog.log_info(f"event-{index}", payload={"index": index})
            newlog.get_api_logger().error("api failure", index=index)
    finally:
        sink.release()
    assert worker.flush(timeout=5) is False
    assert sink.messages == ["event-0"]
    assert worker.stats()["dropped_overflow"] == 99


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), queue_size=st.integers(1, 12), extra=st.integers(0, 15))
def test_stalled_database_keeps_exactly_the_earliest_events_that_fit(
    database_url: str, data: st.DataObject, queue_size: int, extra: int
) -> None:
    batch_size = data.draw(st.integers(1, queue_size))
    messages = [f"event-{index}" for index in range(queue_size + extra)]
    with database_app(database_url) as app:
        with running_worker(
            database_sink(app), queue_size=queue_size, batch_size=batch_size, flush_interval=0.001, retry_seconds=10.0,
            warn_interval=60.0,
        ) as worker:
            with database_locked(app):
                results = [worker.enqueue(event(message)) for message in messages]
                assert worker.flush(timeout=0.05) is False  # the database really is stalled
            assert results == [True] * queue_size + [False] * extra
            assert worker.stats()["dropped_overflow"] == extra
            assert worker.flush(timeout=8) is True
        assert stored_messages(app) == messages[:queue_size]
