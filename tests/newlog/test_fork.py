"""Forked children get their own worker; what the pipeline's own dependencies log never loops back into the queue."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask

import newlog
from tests.newlog.pipeline_support import stored_rows, wired_app
from tests.newlog.queue_support import RecordingSink, running_worker

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def run_in_child(body: Callable[[], bool], hang_after: int = 8) -> int:
    """Fork; the child runs ``body`` and exits 0 if it returned True (1 if False, 2 if it raised, -14 if it hung)."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            # A deadlocked child must not hang the suite: SIGALRM's default action kills it whatever it holds.
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(hang_after)
            code = 0 if body() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_writes_its_events_with_a_fresh_worker_of_its_own(make_app: Callable[..., Any]) -> None:
    app = wired_app(make_app, LOG_FLUSH_INTERVAL=30.0)
    worker = app.extensions["newlog"].worker
    newlog.log_info("parent before fork")
    assert newlog.flush(5) is True
    newlog.log_info("parent queued at fork")  # not written yet: the flush interval is long

    def child() -> bool:
        stats = worker.stats()
        fresh = stats["pid"] == os.getpid() and stats["enqueued"] == 0 and stats["alive"]
        for index in range(3):
            newlog.log_info(f"child event {index}", child_pid=os.getpid())
        return fresh and newlog.flush(5) and worker.stats()["written"] == 3

    assert run_in_child(child) == 0

    newlog.log_info("parent after fork")
    assert newlog.flush(5) is True
    messages = [row["message"] for row in stored_rows(app)]
    assert sorted(messages) == sorted([
        "parent before fork", "parent queued at fork", "parent after fork",
        "child event 0", "child event 1", "child event 2",
    ])
    assert [message for message in messages if message.startswith("child")] == [
        "child event 0", "child event 1", "child event 2"
    ]
    stats = worker.stats()
    assert (stats["pid"], stats["enqueued"], stats["written"]) == (os.getpid(), 3, 3)


def test_a_child_forked_while_the_parent_worker_writes_loses_and_duplicates_nothing(
    make_app: Callable[..., Any],
) -> None:
    app = wired_app(make_app, LOG_FLUSH_INTERVAL=0.01, LOG_BATCH_SIZE=5)
    worker = app.extensions["newlog"].worker
    stop = threading.Event()
    logged: list[str] = []

    def keep_logging() -> None:  # straight into the queue: the printing path has its own fork test below
        index = 0
        while not stop.is_set():
            message = f"parent {index}"
            assert worker.enqueue({"event": message, "level": "info"})
            logged.append(message)
            index += 1
            time.sleep(0.001)

    producer = threading.Thread(target=keep_logging)
    producer.start()
    try:
        time.sleep(0.05)
        codes = [run_in_child(lambda n=n: _log_and_flush(f"child {n}")) for n in range(3)]
    finally:
        stop.set()
        producer.join(5)

    assert codes == [0, 0, 0]
    assert newlog.flush(5) is True
    messages = [row["message"] for row in stored_rows(app)]
    assert len(messages) == len(set(messages))
    assert sorted(messages) == sorted(logged + ["child 0", "child 1", "child 2"])


def test_a_hanging_database_delays_a_fork_only_briefly() -> None:
    """Fork waits for a batch being written to finish, but not for a sink that hangs."""
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=10, batch_size=1, flush_interval=0.01) as worker:
        assert worker.enqueue({"event": "stuck"})
        while sink.calls == 0:
            time.sleep(0.005)
        started = time.monotonic()

        assert run_in_child(lambda: True) == 0

        assert time.monotonic() - started < 2.0 + 1.0
        sink.release()
        assert worker.flush(timeout=5) is True
        assert sink.messages == ["stuck"]


def test_a_child_forked_while_another_thread_prints_can_still_log() -> None:
    app = Flask("printing_parent")
    app.config.update(LOG_RENDERER="json", LOG_FLUSH_INTERVAL=0.01)
    newlog.init_app(app, sink=RecordingSink())
    stop = threading.Event()

    def keep_printing() -> None:
        while not stop.is_set():
            newlog.log_info("parent line")

    printer = threading.Thread(target=keep_printing)
    printer.start()
    try:
        time.sleep(0.02)
        codes = [run_in_child(lambda: _log_and_flush("child line"), hang_after=2) for _ in range(3)]
    finally:
        stop.set()
        printer.join(5)
    assert codes == [0, 0, 0]


def _log_and_flush(message: str) -> bool:
    newlog.log_info(message)
    return newlog.flush(5)


@contextmanager
def forwarding(logger_name: str, level: int) -> Iterator[list[str]]:
    """Forward every record of ``logger_name`` into ``newlog.log_info``; yield the names of the threads it came from."""
    threads: list[str] = []

    class ForwardToNewlog(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            threads.append(threading.current_thread().name)
            newlog.log_info(record.getMessage(), module="forwarded")

    logger = logging.getLogger(logger_name)
    handler, previous = ForwardToNewlog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield threads
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def test_what_the_database_driver_logs_while_the_worker_writes_never_comes_back_into_the_queue(
    make_app: Callable[..., Any],
) -> None:
    app, _ = make_app()
    worker = app.extensions["newlog"].worker
    with forwarding("sqlalchemy.engine", logging.INFO) as threads:
        for index in range(5):
            newlog.log_info(f"event {index}")
            assert newlog.flush(5) is True
        time.sleep(0.3)  # many flush intervals: a feedback loop would keep the worker busy
        assert newlog.flush(5) is True

    assert "newlog-worker" in threads  # SQLAlchemy did log INSERT/COMMIT from the worker thread
    stats = worker.stats()
    assert (stats["enqueued"], stats["written"], stats["batches"]) == (5, 5, 5)
    assert [row["message"] for row in stored_rows(app)] == [f"event {index}" for index in range(5)]


def test_errors_the_worker_logs_about_a_failing_sink_never_come_back_into_the_queue(
    make_app: Callable[..., Any],
) -> None:
    """The worker's own "error while writing" records go to stdlib "newlog"; forwarding them must not loop."""
    app, _ = make_app(init=False)
    failures = {"left": 2}

    def flaky_sink(rows: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database restarting")
        flaky_sink.rows.extend(rows)  # type: ignore[attr-defined]

    flaky_sink.rows = []  # type: ignore[attr-defined]
    app.config.update(LOG_RETRY_SECONDS=5.0)
    worker = newlog.init_app(app, sink=flaky_sink)
    with forwarding("newlog", logging.ERROR) as threads:
        newlog.log_info("survives a restart")
        assert newlog.flush(5) is True

    assert threads.count("newlog-worker") == 1  # the same error again within the interval is only counted
    assert [row["message"] for row in flaky_sink.rows] == ["survives a restart"]  # type: ignore[attr-defined]
    assert (worker.stats()["enqueued"], worker.stats()["retries"]) == (1, 2)
