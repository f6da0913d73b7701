"""LogQueueWorker under any interleaving of enqueue, flush, sink failure, sink recovery and shutdown.

After every step the counters add up (accepted == written + dropped_failed + queued) and
match what the sink really stored; after ``flush()`` / ``shutdown()`` return True every
event accepted before the call is stored.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from newlog.queue_worker import LogQueueWorker
from tests.support import RecordingSink, event

QUEUE_SIZE = 12
BATCH_SIZE = 4
RESERVE = 3
LEVELS = {"info": 20, "warning": 30, "error": 40}


class QueueWorkerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sink = RecordingSink()
        self.worker = LogQueueWorker(
            self.sink,
            queue_size=QUEUE_SIZE,
            batch_size=BATCH_SIZE,
            flush_interval=0.01,
            retry_seconds=0.1,
            warn_interval=60.0,
            reserve=RESERVE,
        )
        self.accepted: list[str] = []
        self.refused = 0
        self.closed = False

    @rule(count=st.integers(1, 8), level=st.sampled_from(sorted(LEVELS)))
    def enqueue(self, count: int, level: str) -> None:
        # Only this thread adds to the pending count and the worker only takes from it, so a count read
        # before the enqueue is at least the one the enqueue saw, and one read after it at most that plus one.
        limit = QUEUE_SIZE if LEVELS[level] >= 30 else QUEUE_SIZE - RESERVE
        for _ in range(count):
            message = f"event-{len(self.accepted) + self.refused}"
            before = self.worker.stats()["queued"]
            if self.worker.enqueue(event(message, level), LEVELS[level]):
                assert not self.closed
                assert self.worker.stats()["queued"] <= limit
                self.accepted.append(message)
            else:
                assert self.closed or before >= limit
                self.refused += 1

    @rule()
    def sink_starts_failing(self) -> None:
        self.sink.fail_with(ConnectionError("database unreachable (test sink)"))

    @rule()
    def sink_recovers(self) -> None:
        self.sink.fail_with(None)

    @rule()
    def flush(self) -> None:
        self.check_drained(self.worker.flush, timeout=3)

    @rule()
    def shutdown(self) -> None:
        self.check_drained(self.worker.shutdown, timeout=3)
        self.closed = True

    def check_drained(self, drain: Callable[..., bool], **options: float) -> None:
        """``drain()`` returning True means every event still pending when it was called is stored.

        Events are processed in order, so the ``processed`` first accepted events are done
        (written or dropped) before the call. Only the batch in flight when we read the
        counters can be dropped between that read and the call itself.
        """
        before = self.worker.stats()
        processed = before["written"] + before["dropped_failed"]
        pending = self.accepted[processed:]
        if not drain(**options):
            return
        after = self.worker.stats()
        stored = set(self.sink.messages)
        assert after["queued"] == 0
        assert after["written"] == len(stored)
        assert set(pending[BATCH_SIZE:]) <= stored
        if after["dropped_failed"] == before["dropped_failed"]:
            assert set(pending) <= stored

    @precondition(lambda self: self.closed)
    @rule()
    def enqueue_after_shutdown_is_refused(self) -> None:
        closed_before = self.worker.stats()["dropped_closed"]
        assert self.worker.enqueue(event("too late")) is False
        self.refused += 1
        assert self.worker.stats()["dropped_closed"] == closed_before + 1

    @invariant()
    def counters_match_what_was_stored(self) -> None:
        before = self.worker.stats()
        stored = self.sink.messages
        after = self.worker.stats()
        assert before["enqueued"] == len(self.accepted)
        assert before["written"] + before["dropped_failed"] + before["queued"] == len(self.accepted)
        assert before["queued"] >= 0
        assert before["dropped_overflow"] + before["dropped_closed"] == self.refused
        assert before["dropped_overflow"] == (
            before["dropped_overflow_below_warning"] + before["dropped_overflow_warning_or_above"]
        )
        # A batch is stored by the sink just before the worker counts it.
        assert before["written"] <= len(stored) <= after["written"] + BATCH_SIZE
        assert len(set(stored)) == len(stored)
        positions = {message: index for index, message in enumerate(self.accepted)}
        assert [positions[message] for message in stored] == sorted(positions[message] for message in stored)

    def teardown(self) -> None:
        self.sink.fail_with(None)
        self.worker.shutdown(timeout=3)


QueueWorkerMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestQueueWorkerStateMachine = QueueWorkerMachine.TestCase
