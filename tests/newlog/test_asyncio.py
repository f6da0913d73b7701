"""asyncio: logging from coroutines keeps each task's context and never stalls the event loop."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
import time
from collections.abc import Awaitable, Sequence
from typing import Any

import pytest
import structlog

import newlog
from tests.support import RecordingSink
from tests.support import stored_rows as stored

TASKS = 100
EVENTS_PER_TASK = 10
TICK = 0.002
TICKS_DURING_A_STALL = 25


class LoopMeter:
    """A ticker task on the event loop: counts its ticks and how late each one woke up."""

    def __init__(self) -> None:
        self.ticks = 0
        self.lags: list[float] = []

    async def measure(self, work: Awaitable[Any]) -> None:
        """Run ``work`` with the ticker running beside it.

        The default executor's threads are started first, as they are in a server that has
        been up for a while (starting them competes with the loop for the GIL once).
        """
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, time.sleep, 0.01) for _ in range(32)))
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await asyncio.sleep(TICK)
                self.lags.append(time.perf_counter() - started - TICK)
                self.ticks += 1

        meter = asyncio.create_task(ticker())
        await asyncio.sleep(TICK * 2)
        try:
            await work
        finally:
            done.set()
            await meter

    @property
    def max_lag(self) -> float:
        return max(self.lags)


class StallingStdout(io.StringIO):
    """A stdout whose reader stalls (a full log pipe): every ``every``-th write hangs until the
    event loop has ticked ``TICKS_DURING_A_STALL`` more times, or ``give_up`` seconds. A write
    made on the loop's own thread would therefore hang until ``give_up`` with no tick in between."""

    def __init__(self, meter: LoopMeter, every: int, give_up: float = 5.0) -> None:
        super().__init__()
        self.meter = meter
        self.every = every
        self.give_up = give_up
        self.writes = 0
        self.ticks_during_stalls: list[int] = []

    def write(self, text: str) -> int:
        self.writes += 1
        if self.writes % self.every == 0:
            start = self.meter.ticks
            deadline = time.monotonic() + self.give_up
            while self.meter.ticks < start + TICKS_DURING_A_STALL and time.monotonic() < deadline:
                time.sleep(0.001)
            self.ticks_during_stalls.append(self.meter.ticks - start)
        return super().write(text)


class SlowSink(RecordingSink):
    """A recording sink that takes ``delay`` seconds per batch (a slow database)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def __call__(self, rows: Sequence[Any]) -> None:
        time.sleep(self.delay)
        super().__call__(rows)


def test_the_meter_sees_a_blocked_loop() -> None:
    meter = LoopMeter()
    stdout = StallingStdout(meter, every=1, give_up=0.2)

    async def blocker() -> None:
        await asyncio.sleep(TICK * 3)
        time.sleep(0.3)
        stdout.write("written on the loop thread\n")

    asyncio.run(meter.measure(blocker()))

    assert meter.max_lag > 0.25
    assert stdout.ticks_during_stalls == [0]


def test_concurrent_tasks_each_log_with_their_own_context_without_blocking_the_loop(make_app, monkeypatch) -> None:
    """1,000 events from 100 tasks while stdout stalls four times and every batch takes 50 ms to store."""
    app = make_app(init=False, LOG_RENDERER="json", LOG_QUEUE_SIZE=5000)
    newlog.init_app(app, sink=SlowSink(0.05))
    meter = LoopMeter()
    stdout = StallingStdout(meter, every=TASKS * EVENTS_PER_TASK // 4)
    monkeypatch.setattr(sys, "stdout", stdout)
    logger = newlog.get_task_logger()

    async def task(number: int) -> None:
        structlog.contextvars.bind_contextvars(task=number)
        with newlog.log_context(tenant=f"tenant-{number}"):
            for index in range(EVENTS_PER_TASK):
                await asyncio.sleep(0)
                method = logger.awarning if index % 2 else logger.ainfo
                await method(f"task-{number}-event-{index}", index=index)

    async def all_tasks() -> None:
        await asyncio.gather(*(task(number) for number in range(TASKS)))

    asyncio.run(meter.measure(all_tasks()))

    total = TASKS * EVENTS_PER_TASK
    assert len(stdout.ticks_during_stalls) == 4
    assert min(stdout.ticks_during_stalls) >= TICKS_DURING_A_STALL, "the loop stopped while stdout was stalled"
    rows = stored(app)
    assert len(rows) == total
    seen = set()
    for row in rows:
        number, index = map(int, re.fullmatch(r"task-(\d+)-event-(\d+)", row["message"]).groups())
        assert (row["context"]["task"], row["context"]["tenant"], row["context"]["index"]) == (
            number,
            f"tenant-{number}",
            index,
        )
        assert row["level"] == ("WARNING" if index % 2 else "INFO")
        seen.add((number, index))
    assert len(seen) == total
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(lines) == total
    assert all(line["event"].startswith(f"task-{line['task']}-") for line in lines)


def test_sync_log_calls_in_coroutines_never_wait_for_the_database(make_app, capsys) -> None:
    """Every task finishes while the database hangs (the sink is held until after asyncio.run returned)."""
    app = make_app(init=False, LOG_RENDERER="json", LOG_QUEUE_SIZE=5000)
    sink = RecordingSink()
    sink.hold()
    newlog.init_app(app, sink=sink)
    meter = LoopMeter()

    async def task(number: int) -> None:
        structlog.contextvars.bind_contextvars(task=number)
        for index in range(EVENTS_PER_TASK):
            newlog.log_info(f"task-{number}-event-{index}")
            await asyncio.sleep(0)

    async def all_tasks() -> None:
        await asyncio.gather(*(task(number) for number in range(TASKS)))

    asyncio.run(meter.measure(all_tasks()))

    assert sink.entered.wait(10), "the worker never reached the database"
    sink.release()
    capsys.readouterr()
    rows = stored(app)
    assert len(rows) == TASKS * EVENTS_PER_TASK
    assert all(row["message"].startswith(f"task-{row['context']['task']}-") for row in rows)


def test_task_bindings_stay_in_their_task(make_app) -> None:
    app = make_app()
    logger = newlog.get_logger("jobs")

    @newlog.log_context(step="fetch")
    async def fetch(number: int) -> None:
        structlog.contextvars.bind_contextvars(item=number)
        await asyncio.sleep(0.001 * (number % 3))
        await logger.ainfo("fetched")

    async def main() -> dict[str, Any]:
        newlog.bind_context(batch="b-1")
        await asyncio.gather(*(fetch(number) for number in range(20)))
        await logger.ainfo("batch done")
        return newlog.get_context()

    assert asyncio.run(main()) == {"batch": "b-1"}

    rows = stored(app)
    fetched = [row["context"] for row in rows if row["message"] == "fetched"]
    assert sorted(context["item"] for context in fetched) == list(range(20))
    assert all((context["batch"], context["step"]) == ("b-1", "fetch") for context in fetched)
    (done,) = [row["context"] for row in rows if row["message"] == "batch done"]
    assert "item" not in done and "step" not in done


def test_audited_coroutines_run_concurrently_and_each_records_its_own_call(make_app) -> None:
    app = make_app()
    in_flight = {"now": 0, "most": 0}

    @newlog.audit_log("invoice.send")
    async def send_invoice(invoice_id: int, api_token: str) -> int:
        structlog.contextvars.bind_contextvars(worker=f"w{invoice_id % 4}")
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        await asyncio.sleep(0.01)
        in_flight["now"] -= 1
        return invoice_id

    async def main() -> list[int]:
        return await asyncio.gather(*(send_invoice(number, api_token=f"tok-{number}") for number in range(50)))

    assert asyncio.run(main()) == list(range(50))
    assert in_flight["most"] == 50

    rows = stored(app)
    assert sorted(row["context"]["arguments"]["invoice_id"] for row in rows) == list(range(50))
    for row in rows:
        context = row["context"]
        assert context["arguments"]["api_token"] == "[REDACTED]"
        assert context["worker"] == f"w{context['arguments']['invoice_id'] % 4}"
        assert context["status"] == "success" and context["duration_ms"] >= 9


@pytest.mark.parametrize("method", ["adebug", "ainfo", "awarning", "aerror", "acritical", "aexception"])
def test_every_async_method_reaches_the_database(make_app, method: str) -> None:
    app = make_app(ENABLE_DEBUG_LOG=True, LOG_DB_LEVEL="DEBUG")
    logger = newlog.get_logger("svc")

    async def main() -> None:
        try:
            raise ValueError("upstream said no")
        except ValueError:
            await getattr(logger, method)("via " + method)

    asyncio.run(main())

    (row,) = stored(app)
    assert row["message"] == "via " + method
    if method == "aexception":
        assert "ValueError: upstream said no" in row["traceback"]
