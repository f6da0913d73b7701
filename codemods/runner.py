"""Run ``examine`` over many files in worker processes, hand each outcome to the parent in order.

- Worker processes always do the parsing (``--jobs 1`` is one worker): a file that takes libcst
  seconds to parse never keeps the parent from answering Ctrl-C or SIGTERM. Workers write
  nothing (``codemods.rewrite``), so stopping them at any moment is safe.
- The parent imports libcst and the rules just before it forks the workers, which share them
  (one import, not one per worker), unless a live display is to be drawn first. The pool is started (``fork``: all workers at the first
  submit) before the progress display
  starts its refresh thread, and only the parent draws: a child forked while another thread
  holds the display's or a stream's lock would deadlock on it.
- Workers die with the parent: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` where Linux has it, else a
  watchdog thread in the worker that exits once the parent pid changes.
- Ctrl-C / SIGTERM: the parent stops the workers, finishes the write in progress (a write is
  never cut in half: the signal waits for it), and returns ``interrupted=True``.
- Outcomes are handed over in the order the files were found, as soon as every earlier file
  is done, so the output streams and is the same whatever ``--jobs`` is.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import contextlib
import ctypes
import dataclasses
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from codemods.model import Job, Options, Outcome

T = TypeVar("T")

_CHUNK = 8
"""Files per task: small, so outcomes stream; large enough that task overhead stays invisible."""
_POLL = 0.1
"""Seconds between two looks at the pool: the parent reacts to signals at least this often."""
_PR_SET_PDEATHSIG = 1


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached the parent."""


@dataclass
class RunResult:
    """How a run ended: how many files were handed over, whether a signal stopped it, what broke it."""

    done: int
    interrupted: bool
    failure: str | None = None
    """Why the run could not go on (a worker process died), or None."""


class Signals:
    """SIGINT/SIGTERM raise ``Interrupted`` in the main thread, except inside ``critical()``, which they wait for."""

    def __init__(self) -> None:
        self.depth = 0
        self.fired = False
        self.pending: int | None = None
        self.previous: dict[int, object] = {}

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.depth or self.fired:  # a second signal while stopping changes nothing
            self.pending = None if self.fired else signum
            return
        self.fired = True
        raise Interrupted(signum)

    @contextmanager
    def critical(self) -> Iterator[None]:
        """A section no signal cuts short (a file write and its bookkeeping)."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending is not None:
            signum, self.pending = self.pending, None
            self.fired = True
            raise Interrupted(signum)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: exit when the parent dies (even by SIGKILL); leave Ctrl-C to the parent; load the rules."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="codemods-watchdog").start()
    import codemods.rewrite  # noqa: F401, PLC0415  (already there when forked; a spawned worker loads it now)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _examine_all(jobs: Sequence[Job]) -> list[Outcome]:
    # imported here: the parent loads libcst only to fork the workers (see ``_pool``)
    from codemods.rewrite import examine  # noqa: PLC0415

    return [examine(job) for job in jobs]


def _pool(workers: int, *, preload: bool) -> concurrent.futures.ProcessPoolExecutor:
    """A started pool (every worker forked now, before any display thread exists)."""
    methods = multiprocessing.get_all_start_methods()
    if preload and "fork" in methods:
        # The parent loads libcst and the rules once and every forked worker shares them: imported
        # in each worker instead, two workers on two busy cores competed with each other and with
        # the start-up analysis, and the first line came about 0.4 s later (bench_codemods.py).
        import codemods.rewrite  # noqa: F401, PLC0415
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
    )
    pool.submit(os.getpid)  # with fork, the first submit forks every worker, here and now
    return pool


def _stop_all_the_way(pool: concurrent.futures.ProcessPoolExecutor, signals: Signals) -> bool:
    """``_stop`` the pool, finishing even if Ctrl-C or SIGTERM comes meanwhile; return whether one came.

    A signal that cut the teardown short (say, right after a worker died) would leave the
    executor's manager thread running at exit, and the traceback ``_stop`` avoids.
    """
    try:
        with signals.critical():
            _stop(pool)
    except Interrupted:
        return True
    return False


def _stop(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Stop the workers now (they hold no file open for writing, so nothing is lost) and wait
    until the executor has finished tearing itself down."""
    # ``_processes`` is the executor's own table of worker processes; the public API can only
    # wait for running tasks, and a libcst parse of a huge file can take many seconds.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.kill()
    # With its workers gone the executor's manager thread fails the pending futures, joins the
    # dead workers and closes its wake-up pipe; wait for it. Returning earlier leaves that
    # thread running while the interpreter exits, and concurrent.futures' own exit hook
    # (``_python_exit``, run by ``threading._shutdown``) writes to the pipe as it is being
    # closed: "OSError: [Errno 9] Bad file descriptor" or "handle is closed", printed as a
    # traceback after our error message (``_ThreadWakeup.wakeup`` checks ``_closed`` without a
    # lock, CPython 3.11 to 3.13). Once the thread is joined the pipe is closed and the hook
    # does nothing. This does not wait for any task: the workers are already dead.
    pool.shutdown(wait=True, cancel_futures=True)


def background(compute: Callable[[], T]) -> concurrent.futures.Future[T]:
    """Run ``compute`` in a daemon thread of this process (start it after the pool: see the module docstring).

    A daemon thread, not a ``ThreadPoolExecutor``: an interrupted run must not wait at exit for an
    analysis whose result nobody needs any more.
    """
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(compute())
        except BaseException as error:  # noqa: BLE001  (handed to the parent's loop, which raises it)
            future.set_exception(error)

    threading.Thread(target=target, daemon=True, name="codemods-analysis").start()
    return future


def _sizes(count: int) -> Iterator[int]:
    """Task sizes: 1, 2, 4, then ``_CHUNK``: the first outcomes come back after one file, not a whole chunk."""
    size = 1
    while count > 0:
        yield min(size, count)
        count -= size
        size = min(size * 2, _CHUNK)


def run(
    jobs: Sequence[Job],
    workers: int,
    handle: Callable[[Outcome], None],
    *,
    options: Callable[[], Options] | None = None,
    preload: bool = True,
    on_started: Callable[[], None] = lambda: None,
    on_progress: Callable[[int], None] = lambda n: None,
    signals: Signals | None = None,
) -> RunResult:
    """Examine ``jobs`` in ``workers`` processes; call ``handle`` on each outcome, in order, in this process.

    ``options``: computes the options the jobs really need (the start-up analysis, which reads
    the whole tree) while the workers already examine files; it runs in a thread of this process
    once the pool is up. Until it returns, jobs go out with their own options, and a worker hands
    back a ``deferred`` outcome for a file that needs the full ones: that file is examined again
    with them (outcomes are still handed in order). ``preload``: load libcst in this process
    before forking the workers (the first outcome comes sooner); False when what ``on_started``
    draws should come first (a live display: the workers load libcst while it is drawn).
    ``on_started`` runs once the pool is up (start a display there), ``on_progress(n)`` each time
    ``n`` more files are examined. A signal stops the run: ``interrupted`` is then True and
    ``done`` tells how many outcomes were handled.
    ``signals``: the handlers the caller installed (by default, ``run`` installs its own).
    """
    with contextlib.nullcontext(signals) if signals is not None else Signals() as signals:
        pool: concurrent.futures.ProcessPoolExecutor | None = None
        feed: _Feed | None = None
        result = RunResult(0, interrupted=False)
        try:
            try:
                with signals.critical():  # a signal now waits until the pool exists, so it is stopped
                    pool = _pool(max(1, min(workers, len(jobs))), preload=preload)
                on_started()
                later = background(options) if options is not None else None
                feed = _Feed(pool, jobs, workers, later)
                feed.hand_over(handle, on_progress, signals)
                pool.shutdown(wait=True)
                pool = None
                result = RunResult(feed.done, interrupted=False)
            except Interrupted:
                result = RunResult(feed.done if feed else 0, interrupted=True)
            except concurrent.futures.process.BrokenProcessPool as error:
                reason = f"a worker process died ({error}); killed from outside, or out of memory?"
                result = RunResult(feed.done if feed else 0, interrupted=False, failure=reason)
        finally:
            if pool is not None and _stop_all_the_way(pool, signals):
                result = dataclasses.replace(result, interrupted=True)
        return result


class _Feed:
    """Sends the jobs to the pool in growing tasks and hands their outcomes over in order."""

    def __init__(
        self,
        pool: concurrent.futures.ProcessPoolExecutor,
        jobs: Sequence[Job],
        workers: int,
        later: concurrent.futures.Future[Options] | None,
    ) -> None:
        self.pool = pool
        self.jobs = jobs
        self.later = later
        self.done = 0
        """Outcomes handed over so far."""
        self.limit = workers * 2
        """Tasks in flight: one queued behind each running one, no more, so a deferred file sent again is not far
        back in the queue."""
        self.inflight: dict[concurrent.futures.Future[list[Outcome]], list[int]] = {}
        self.waiting: list[int] = []
        """Files whose outcome came back deferred, to examine again once ``later`` is known."""

    def hand_over(
        self, handle: Callable[[Outcome], None], on_progress: Callable[[int], None], signals: Signals
    ) -> None:
        """Run every job; call ``handle`` on each outcome in the order of ``jobs`` (see ``run``)."""
        outcomes: dict[int, Outcome] = {}
        tasks = iter(_sizes(len(self.jobs)))
        submitted = 0
        while self.done < len(self.jobs):
            if self.waiting and self._known():
                self._submit(self.waiting)
                self.waiting = []
            while len(self.inflight) < self.limit and (size := next(tasks, 0)):
                self._submit(list(range(submitted, submitted + size)))
                submitted += size
            watched: list[concurrent.futures.Future[Any]] = list(self.inflight)
            if self.later is not None and self.waiting:
                watched.append(self.later)
            finished, _ = concurrent.futures.wait(
                watched, timeout=_POLL, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in finished:
                if future is self.later:
                    continue
                indexes = self.inflight.pop(future)
                examined = 0
                for index, outcome in zip(indexes, future.result()):
                    if outcome.deferred:
                        self.waiting.append(index)
                    else:
                        outcomes[index] = outcome
                        examined += 1
                if examined:
                    on_progress(examined)
            while self.done in outcomes:
                with signals.critical():
                    handle(outcomes.pop(self.done))
                    self.done += 1

    def _known(self) -> bool:
        return self.later is not None and self.later.done()

    def _submit(self, indexes: list[int]) -> None:
        chosen = [self.jobs[i] for i in indexes]
        if self._known():
            assert self.later is not None
            full = self.later.result()  # raises what the analysis raised
            chosen = [dataclasses.replace(job, options=full) for job in chosen]
        self.inflight[self.pool.submit(_examine_all, chosen)] = indexes
