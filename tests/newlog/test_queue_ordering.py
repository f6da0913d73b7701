"""LogQueueWorker keeps order: one producer's rows come out in enqueue order, nothing is lost or duplicated."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import RecordingSink, database_sink, event, running_worker, sink_messages

flush_intervals = st.sampled_from([0.001, 0.01, 0.05, 30.0])


@st.composite
def sizes(draw: st.DrawFn, events: int) -> dict[str, int]:
    """A batch size and a queue size that holds every event (no overflow in the ordering tests)."""
    batch_size = draw(st.integers(1, 16))
    queue_size = draw(st.integers(max(batch_size, events, 1), max(batch_size, events, 1) + 20))
    return {"batch_size": batch_size, "queue_size": queue_size}


def assert_each_producer_in_order(stored: list[str], produced: dict[int, list[str]]) -> None:
    assert sorted(stored) == sorted(message for messages in produced.values() for message in messages)
    for producer, messages in produced.items():
        assert [message for message in stored if message.startswith(f"p{producer}-")] == messages


def produce_concurrently(enqueue: object, producers: int, per_producer: int) -> dict[int, list[str]]:
    start = threading.Barrier(producers)
    produced: dict[int, list[str]] = {producer: [] for producer in range(producers)}

    def run(producer: int) -> None:
        start.wait()
        for index in range(per_producer):
            message = f"p{producer}-{index}"
            assert enqueue(event(message))  # type: ignore[operator]
            produced[producer].append(message)

    threads = [threading.Thread(target=run, args=(producer,)) for producer in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return produced


@settings(max_examples=60, deadline=None)
@given(data=st.data(), count=st.integers(0, 150), flush_interval=flush_intervals)
def test_one_producer_rows_are_stored_in_enqueue_order(data: st.DataObject, count: int, flush_interval: float) -> None:
    sink = RecordingSink()
    messages = [f"event-{index}" for index in range(count)]
    with running_worker(sink, flush_interval=flush_interval, **data.draw(sizes(count))) as worker:
        for message in messages:
            assert worker.enqueue(event(message)) is True
        assert worker.flush(timeout=5) is True
        assert sink.messages == messages
        assert worker.stats()["written"] == count


@settings(max_examples=30, deadline=None)
@given(
    data=st.data(),
    producers=st.integers(2, 5),
    per_producer=st.integers(1, 60),
    flush_interval=flush_intervals,
)
def test_several_producers_each_keep_their_own_order(
    data: st.DataObject, producers: int, per_producer: int, flush_interval: float
) -> None:
    sink = RecordingSink()
    options = data.draw(sizes(producers * per_producer))
    with running_worker(sink, flush_interval=flush_interval, **options) as worker:
        produced = produce_concurrently(worker.enqueue, producers, per_producer)
        assert worker.flush(timeout=5) is True
        assert_each_producer_in_order(sink.messages, produced)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), producers=st.integers(1, 4), per_producer=st.integers(1, 40))
def test_each_producers_rows_reach_a_real_database_in_enqueue_order(
    database_url: str, data: st.DataObject, producers: int, per_producer: int
) -> None:
    """End to end on SQLite and PostgreSQL: batches of every size land in order, none lost or doubled."""
    sink = database_sink(database_url)
    with running_worker(sink, flush_interval=0.01, **data.draw(sizes(producers * per_producer))) as worker:
        produced = produce_concurrently(worker.enqueue, producers, per_producer)
        assert worker.flush(timeout=10) is True
    assert_each_producer_in_order(sink_messages(sink), produced)
