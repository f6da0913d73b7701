"""Forked children: each gets a worker of its own, and what it logged is written when it exits normally - also
when it ends without running atexit, as multiprocessing and ProcessPoolExecutor children do. The parent loses
and duplicates nothing. What the pipeline's own dependencies log never loops back into the queue."""

from __future__ import annotations

import atexit
import concurrent.futures
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import newlog
from tests.conftest import MakeApp
from tests.support import RecordingSink, read_rows, running_worker, stored_rows

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

EVENTS_PER_CHILD = 50


def run_in_child(body: Callable[[], bool], hang_after: int = 20) -> int:
    """Fork; the child runs ``body`` and leaves with ``os._exit`` (no atexit): 0 if it returned True, 1 if False,
    2 if it raised; a child still running after ``hang_after`` s is killed by SIGALRM (-14)."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # a deadlocked child must not hang the suite
            signal.alarm(hang_after)
            code = 0 if body() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def log_in_child(tag: str, count: int = EVENTS_PER_CHILD) -> int:
    """What a child process does: log ``count`` events and return (no flush: its exit must drain)."""
    for index in range(count):
        newlog.log_info(f"{tag} {index}", child_pid=os.getpid())
    return os.getpid()


def test_a_forked_child_writes_its_events_with_a_fresh_worker_of_its_own(make_app: MakeApp, sqlite_url: str) -> None:
    app = make_app(database=sqlite_url, LOG_FLUSH_INTERVAL=30.0)
    worker = app.extensions["newlog"].worker
    newlog.log_info("parent before fork")
    assert newlog.flush(5) is True
    newlog.log_info("parent queued at fork")  # not written yet: the flush interval is long

    def child() -> bool:
        for index in range(3):
            newlog.log_info(f"child event {index}")
        stats = worker.stats()
        return stats["pid"] == os.getpid() and stats["enqueued"] == 3 and newlog.flush(5)

    assert run_in_child(child) == 0

    newlog.log_info("parent after fork")
    messages = [row["message"] for row in stored_rows(app)]
    assert sorted(messages) == sorted([
        "parent before fork", "parent queued at fork", "parent after fork",
        "child event 0", "child event 1", "child event 2",
    ])
    stats = worker.stats()
    assert (stats["pid"], stats["enqueued"], stats["written"]) == (os.getpid(), 3, 3)


@pytest.mark.parametrize("children", ["multiprocessing.Process", "ProcessPoolExecutor", "os.fork + interpreter exit"])
def test_children_that_exit_normally_have_every_event_written_without_calling_flush(
    make_app: MakeApp, sqlite_url: str, children: str
) -> None:
    app = make_app(database=sqlite_url, LOG_FLUSH_INTERVAL=30.0, LOG_BATCH_SIZE=100)
    newlog.log_info("parent")
    context = multiprocessing.get_context("fork")
    if children == "multiprocessing.Process":
        processes = [context.Process(target=log_in_child, args=(f"child-{n}",)) for n in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    elif children == "ProcessPoolExecutor":
        with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            list(pool.map(log_in_child, [f"child-{n}" for n in range(4)]))
    else:
        for n in range(4):
            pid = os.fork()
            if pid == 0:  # what the interpreter does when a forked script ends: atexit, then exit
                log_in_child(f"child-{n}")
                atexit._run_exitfuncs()
                os._exit(0)
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0

    messages = [row["message"] for row in stored_rows(app)]
    assert sorted(messages) == sorted(["parent", *(f"child-{n} {i}" for n in range(4) for i in range(EVENTS_PER_CHILD))])


def test_a_child_forked_while_the_parent_worker_writes_loses_and_duplicates_nothing(
    make_app: MakeApp, sqlite_url: str
) -> None:
    """The parent keeps writing to the same SQLite file while three children write theirs and exit.

    Why a child once failed to flush within 5 s: SQLite serialises writers of one file, and a
    writer waiting in its busy handler polls with growing sleeps while the parent, committing
    every few milliseconds, keeps taking the lock again (writer starvation). A child's insert
    then waited out SQLite's 5 s busy timeout, which was longer than the 2 s retry budget, so it
    got one attempt and its event was dropped. Now each attempt waits at most a third of
    ``LOG_RETRY_SECONDS``; here the default budget (30 s) applies, as in production.
    """
    app = make_app(
        database=sqlite_url, LOG_FLUSH_INTERVAL=0.01, LOG_BATCH_SIZE=5, LOG_QUEUE_SIZE=100_000, LOG_RETRY_SECONDS=30.0
    )
    worker = app.extensions["newlog"].worker
    stop = threading.Event()
    started = threading.Event()
    logged: list[str] = []
    refused: list[str] = []

    def keep_logging() -> None:  # straight into the queue: the printing path has its own fork test below
        index = 0
        while not stop.is_set():
            message = f"parent {index}"
            (logged if worker.enqueue({"event": message, "level": "info"}) else refused).append(message)
            index += 1
            if index == 20:
                started.set()
            stop.wait(0.001)

    producer = threading.Thread(target=keep_logging)
    producer.start()
    try:
        assert started.wait(10)
        codes = [run_in_child(lambda n=n: log_and_flush(f"child {n}"), hang_after=40) for n in range(3)]
    finally:
        stop.set()
        producer.join(10)

    assert codes == [0, 0, 0]
    assert refused == []
    messages = [row["message"] for row in stored_rows(app)]
    assert len(messages) == len(set(messages))
    assert sorted(messages) == sorted(logged + ["child 0", "child 1", "child 2"])


def log_and_flush(message: str) -> bool:
    newlog.log_info(message)
    return newlog.flush(30)


def test_a_sink_that_hangs_does_not_hold_a_fork_back() -> None:
    """Fork waits for a batch being written to finish (SQLite keeps per-process lock state), but not for ever."""
    sink = RecordingSink()
    sink.hold()
    with running_worker(sink, queue_size=10, batch_size=1, flush_interval=0.01) as worker:
        assert worker.enqueue({"event": "stuck"})
        assert sink.entered.wait(5)

        assert run_in_child(lambda: True) == 0  # returns while the sink still hangs

        sink.release()
        assert worker.flush(timeout=5) is True
        assert sink.messages == ["stuck"]


def test_a_child_forked_while_another_thread_prints_can_still_log(make_app: MakeApp) -> None:
    make_app(LOG_RENDERER="json")
    stop = threading.Event()
    printing = threading.Event()

    def keep_printing() -> None:
        while not stop.is_set():
            newlog.log_info("parent line")
            printing.set()

    printer = threading.Thread(target=keep_printing)
    printer.start()
    try:
        assert printing.wait(5)
        codes = [run_in_child(lambda: newlog.log_info("child line") is None, hang_after=5) for _ in range(3)]
    finally:
        stop.set()
        printer.join(5)
    assert codes == [0, 0, 0]


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
    make_app: MakeApp, sqlite_url: str
) -> None:
    app = make_app(database=sqlite_url)
    worker = app.extensions["newlog"].worker
    with forwarding("sqlalchemy.engine", logging.INFO) as threads:
        for index in range(5):
            newlog.log_info(f"event {index}")
            assert newlog.flush(5) is True

    assert "newlog-worker" in threads  # SQLAlchemy did log INSERT/COMMIT from the worker thread
    stats = worker.stats()
    assert (stats["enqueued"], stats["written"], stats["batches"]) == (5, 5, 5)  # a loop would have enqueued more
    assert [row["message"] for row in read_rows(app)] == [f"event {index}" for index in range(5)]


def test_errors_the_worker_reports_about_a_failing_sink_never_come_back_into_the_queue(make_app: MakeApp) -> None:
    """The worker's own error records go to stdlib "newlog"; forwarding them must not loop."""
    app = make_app(LOG_RETRY_SECONDS=30.0)
    worker = app.extensions["newlog"].worker
    sink: Any = worker.sink.sink
    sink.fail_with(ConnectionError("database restarting"))
    with forwarding("newlog", logging.ERROR) as threads:
        newlog.log_info("survives a restart")
        assert sink.entered.wait(5)
        sink.fail_with(None)
        assert newlog.flush(10) is True

    assert threads == ["newlog-worker"]  # one error record; the repeats within the interval are only counted
    assert sink.messages == ["survives a restart"]
    assert worker.stats()["enqueued"] == 1
