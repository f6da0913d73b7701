"""A full LogQueueWorker keeps the earliest events, rejects the rest, counts every drop and reports them all.

Rows the worker has taken but not yet written (the sink is blocked) still count against
the queue size, so with a stuck database at most ``queue_size`` events are held. The last
``reserve`` slots take only WARNING and above. Overflow reports are rate-limited, and
their counts add up to ``dropped_overflow`` (the tail is reported when the overflow ends
and at shutdown). The clock is a :class:`~tests.support.ManualClock`: no test sleeps.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import newlog
from tests.conftest import MakeApp
from tests.support import ManualClock, RecordingSink, event, read_rows, running_worker

REPORT = re.compile(r"log queue full \(LOG_QUEUE_SIZE=(\d+)\): dropped (\d+) newest event")
SHUTDOWN_TAIL = re.compile(r"shutdown: .*?(\d+) newest event\(s\) dropped because the queue was full")


def reported_drops(caplog: pytest.LogCaptureFixture) -> list[int]:
    """Return the dropped counts of every overflow report (the regular ones, then the one at shutdown)."""
    found = []
    for record in caplog.records:
        message = record.getMessage()
        if record.name == "newlog" and (match := REPORT.search(message) or SHUTDOWN_TAIL.search(message)):
            found.append(int(match.group(match.lastindex or 1)))
    return found


@pytest.fixture
def reports(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING, logger="newlog")
    yield caplog


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), queue_size=st.integers(1, 12), extra=st.integers(0, 15))
def test_a_blocked_sink_keeps_exactly_the_earliest_events_that_fit(
    reports: pytest.LogCaptureFixture, data: st.DataObject, queue_size: int, extra: int
) -> None:
    reports.clear()
    batch_size = data.draw(st.integers(1, queue_size))
    messages = [f"event-{index}" for index in range(queue_size + extra)]
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=queue_size, batch_size=batch_size, warn_interval=60.0, clock=ManualClock()) as worker:
        results = [worker.enqueue(event(message)) for message in messages]

        assert results == [True] * queue_size + [False] * extra
        stats = worker.stats()
        assert (stats["enqueued"], stats["dropped_overflow"], stats["queued"]) == (queue_size, extra, queue_size)
        assert reported_drops(reports) == ([1] if extra else [])

        sink.release()
        assert worker.flush(timeout=5) is (extra == 0)  # False: events logged since the last flush were dropped
        assert sink.messages == messages[:queue_size]
        assert worker.flush(timeout=5) is True  # nothing dropped since


def test_room_freed_by_written_rows_is_used_again() -> None:
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=3, batch_size=1, clock=ManualClock()) as worker:
        assert [worker.enqueue(event(f"first-{index}")) for index in range(4)] == [True, True, True, False]
        sink.release()
        assert worker.flush(timeout=5) is False  # first-3 was dropped
        assert [worker.enqueue(event(f"second-{index}")) for index in range(3)] == [True, True, True]
        assert worker.flush(timeout=5) is True
        assert sink.messages == ["first-0", "first-1", "first-2", "second-0", "second-1", "second-2"]
        assert worker.stats()["dropped_overflow"] == 1


# -- the WARNING+ reserve -----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    queue_size=st.integers(2, 40),
    share=st.sampled_from([0.1, 0.25, 0.5, 0.9]),
    flood=st.integers(0, 120),
    levels=st.lists(st.sampled_from(["debug", "info", "warning", "error", "critical"]), max_size=60),
)
def test_under_any_info_flood_warnings_and_errors_are_accepted_while_the_reserve_has_room(
    queue_size: int, share: float, flood: int, levels: list[str]
) -> None:
    reserve = int(queue_size * share)
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=queue_size, batch_size=1, reserve=reserve, clock=ManualClock()) as worker:
        accepted_info = sum(worker.enqueue(event(f"flood-{index}"), logging.INFO) for index in range(flood))
        assert accepted_info == min(flood, queue_size - reserve)
        for index, level in enumerate(levels):
            number = logging.getLevelName(level.upper())
            pending = worker.stats()["queued"]
            accepted = worker.enqueue(event(f"{level}-{index}", level), number)
            room = queue_size if number >= logging.WARNING else queue_size - reserve
            assert accepted is (pending < room), (level, pending, room)
        stats = worker.stats()
        assert stats["dropped_overflow"] == stats["dropped_overflow_below_warning"] + stats["dropped_overflow_warning_or_above"]
        assert stats["dropped_overflow"] == flood - accepted_info + len(levels) - (stats["enqueued"] - accepted_info)


def test_the_error_that_explains_an_info_burst_is_kept(make_app: MakeApp) -> None:
    """5,000 INFO events into the default queue while the database is stuck, then the ERROR: it is stored."""
    app = make_app()
    sink = app.extensions["newlog"].worker.sink.sink
    sink.hold()
    for index in range(5000):
        newlog.log_info("burst", index=index)
    newlog.log_error("upstream failed: this explains the burst")
    sink.release()

    stats = app.extensions["newlog"].worker.stats()
    assert newlog.flush(10) is False  # the burst overflowed
    messages = [row["message"] for row in read_rows(app)]
    assert messages[-1] == "upstream failed: this explains the burst"
    assert (stats["dropped_overflow_below_warning"], stats["dropped_overflow_warning_or_above"]) == (5000 - 900, 0)


# -- reports add up -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 6), st.sampled_from([0.0, 0.4, 1.0, 2.5])), min_size=1, max_size=8))
def test_overflow_reports_add_up_to_every_drop_and_come_once_per_interval(
    reports: pytest.LogCaptureFixture, steps: list[tuple[int, float]]
) -> None:
    """Bursts of rejects with the clock moved between them; then the overflow ends, then shutdown."""
    reports.clear()
    clock = ManualClock()
    sink = RecordingSink()
    sink.hold()
    worker_options = {"queue_size": 2, "batch_size": 1, "warn_interval": 1.0, "clock": clock}
    with running_worker(sink, **worker_options) as worker:
        assert worker.enqueue(event("kept-0")) and worker.enqueue(event("kept-1"))
        times: list[float] = []
        for burst, pause in steps:
            for _ in range(burst):
                before = len(reported_drops(reports))
                assert worker.enqueue(event("rejected")) is False
                if len(reported_drops(reports)) > before:
                    times.append(clock.now())
            clock.advance(pause)
        assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[1:]))
        sink.release()
        clock.advance(1.0)  # the tail is due: the worker reports it once the overflow ended
        assert worker.flush(timeout=5) is (sum(burst for burst, _ in steps) == 0)
        worker.shutdown(timeout=5)
        assert sum(reported_drops(reports)) == worker.stats()["dropped_overflow"] == sum(burst for burst, _ in steps)


def test_the_tail_of_an_overflow_is_reported_at_shutdown(reports: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    sink = RecordingSink()
    sink.hold()
    worker_options = {"queue_size": 1, "batch_size": 1, "warn_interval": 60.0, "clock": clock}
    with running_worker(sink, **worker_options) as worker:
        worker.enqueue(event("kept"))
        assert [worker.enqueue(event("rejected")) for _ in range(5)] == [False] * 5
        sink.release()
        assert worker.shutdown(timeout=5) is True  # what was accepted is written
    assert reported_drops(reports) == [1, 4]


def test_overflow_reports_never_come_back_into_the_queue(
    make_app: MakeApp, reports: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """An app forwarding stdlib "newlog" records into newlog must not feed the full queue with them."""
    app = make_app(LOG_QUEUE_SIZE=2, LOG_BATCH_SIZE=1, LOG_QUEUE_RESERVE=0, LOG_RENDERER="json")
    worker = app.extensions["newlog"].worker
    sink = worker.sink.sink
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


def test_a_full_queue_never_raises_to_the_code_that_logs(make_app: MakeApp) -> None:
    app = make_app(LOG_QUEUE_SIZE=1, LOG_BATCH_SIZE=1)
    worker = app.extensions["newlog"].worker
    worker.sink.sink.hold()
    try:
        for index in range(50):
            newlog.log_info(f"event-{index}", payload={"index": index})
            newlog.get_api_logger().error("api failure", index=index)
    finally:
        worker.sink.sink.release()
    assert worker.flush(timeout=5) is False
    assert worker.sink.sink.messages == ["event-0"]
    assert worker.stats()["dropped_overflow"] == 99
