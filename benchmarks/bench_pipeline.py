"""Benchmark the logging pipeline, side by side in one run.

(a) Request-thread cost of one ``log_info`` call (p50 / p99 in µs), at a steady rate
    (so newlog's worker is persisting a stream in the background while we measure):
      - legacy:   the legacy design, re-created here (synchronous ORM add + commit per event),
      - newlog:   events enqueued, the worker writing them into a SQLite file,
      - callsite: newlog with ``LOG_CALLSITE`` on (the frame walk of structlog's CallsiteParameterAdder),
      - sync:     newlog with the rollback switch ``LOG_SYNC_WRITES`` on (one transaction per event,
                  in the calling thread, on newlog's own connection),
      - floor:    the same structlog chain without any database processor.
(b) Persisted rows/s into the same SQLite file table, from the same prepared rows:
      - newlog's sink (SQLAlchemy Core insert executemany, one transaction per batch),
      - an ORM writer (``session.add_all`` of model objects, batches of 100, one commit each),
      - raw ``sqlite3.executemany`` (the physical floor).

(c) The burst regime (``--burst``), per database (a SQLite file; PostgreSQL with ``--postgres URL``
    or ``$NEWLOG_TEST_POSTGRES_URL``), into a log table carrying the indexes real apps put on it
    (timestamp+level+module, level+timestamp, timestamp+module, the primary key): one thread logs
    back to back (foreground), one logs a steady 2,000 events/s (background) and N request
    threads log 3 events per simulated request (a Flask request context each) with 5 ms of
    I/O between requests. Every variant
    prints its JSON lines to /dev/null. Each thread/spool round starts with a backlog of rows to
    store (``--backlog-seconds`` of the database's target rate), so its writer persists at full
    speed for the whole burst: p50 / p99 / p99.9 of the foreground and of the request threads'
    calls against the floor under the same load (where nothing is persisted), and the rows/s
    stored while the foreground logs (a lower bound, said so, if the backlog ran dry), for:
      - floor:  the chain without the database processor,
      - thread: the in-process worker thread as configured by default (``LOG_BATCH_SIZE`` 100;
                the queue sized so that the backlog and the burst fit),
      - thread-2000: the same with ``LOG_BATCH_SIZE=2000``, batches sized for its rows/s: what a
                team raising the batch size for throughput gets (the worker then holds the GIL
                for longer stretches, which the logging threads' tail pays),
      - spool:  ``LOG_SPOOL_DIR`` (each event copied into a memory-mapped spool segment; a writer
                process stores the rows).
    Rounds are interleaved, so machine noise hits every variant alike. Also printed (Linux): the
    share of the foreground's time it was runnable but waiting for a CPU, and the machine's idle
    share, while it logs: when the writer and the database share the app's cores, that wait is
    what moves the foreground's p99.
(d) Serializing one row for the spool: orjson against the stdlib json module.

Run: ``python benchmarks/bench_pipeline.py [--events N] [--rate R] [--burst N --threads N]``.
Targets on a 2-core machine: newlog p50 <= 1.3x floor, p99 <= 2x floor; sink >= 0.8x raw,
>= 3.5x ORM; burst regime: p50 <= 1.3x and p99 <= 2x the floor while storing >= 20k rows/s
on SQLite and >= 40k rows/s on PostgreSQL during the burst. ``--only burst`` runs (c) and (d) alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import enum
import io
import json
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, Column, DateTime, Enum, Index, Integer, MetaData, String, Table, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import newlog
from newlog.rows import build_row, encode_row
from newlog.sinks import DatabaseSink
from newlog.spool import SpoolQueue, WriterConfig
from newlog.spool_app import default_batch_rows
from newlog.spool_writer import SpoolWriter

BATCH = 100


class LogLevel(enum.Enum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


def make_app(path: Path, **config: Any) -> tuple[Flask, SQLAlchemy, type]:
    app = Flask("bench")
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", **config)

    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(app, model_class=Base)

    class UnifiedLog(db.Model):  # type: ignore[name-defined]
        __tablename__ = "unified_logs"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        timestamp: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
        level: Mapped[LogLevel] = mapped_column(Enum(LogLevel))
        module: Mapped[str] = mapped_column(String(100))
        message: Mapped[str] = mapped_column(Text)
        traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
        context: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    with app.app_context():
        db.create_all()
    return app, db, UnifiedLog


# -- (a) request-thread cost ------------------------------------------------------------------


def paced_calls(call: Callable[[int], None], events: int, rate: float) -> list[float]:
    """Call ``call(i)`` ``events`` times at ``rate`` per second; return each call's duration in µs.

    Between calls the thread sleeps (releasing the GIL), as a request thread waits on I/O.
    """
    period = 1.0 / rate
    durations = []
    next_at = time.perf_counter()
    for i in range(events):
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        start = time.perf_counter_ns()
        call(i)
        durations.append((time.perf_counter_ns() - start) / 1000)
        next_at += period
    return durations


def emit(i: int) -> None:
    newlog.log_info("order placed", module="orders", order_id=i, amount=12.5, items=["a", "b"])


def legacy_processor(db: SQLAlchemy, model: type) -> Callable[..., Any]:
    """The legacy SQLAlchemyLogHandler.__call__: build the entry, add and commit in this thread."""

    def handler(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        entry = build_row(dict(event_dict))
        entry["level"] = LogLevel[entry["level"]]
        with current_app.app_context():
            db.session.add(model(**entry))
            db.session.commit()
        return event_dict

    return handler


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = io.StringIO()
    try:
        yield
    finally:
        sys.stdout = saved


def percentiles(durations: list[float]) -> tuple[float, float]:
    ordered = sorted(durations)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def bench_request_thread(tmp: Path, events: int, rate: float) -> dict[str, tuple[float, float]]:
    # A queue that holds a whole round: this measures the request thread's cost, not the overflow policy.
    queue = {"LOG_FLUSH_INTERVAL": 0.5, "LOG_QUEUE_SIZE": max(events, 1000)}
    app, db, model = make_app(tmp / "request.db", **queue)
    worker = newlog.init_app(app, db=db, model=model)
    callsite_app, callsite_db, callsite_model = make_app(tmp / "callsite.db", LOG_CALLSITE=True, **queue)
    callsite_worker = newlog.init_app(callsite_app, db=callsite_db, model=callsite_model)
    sync_app, sync_db, sync_model = make_app(tmp / "sync.db", LOG_SYNC_WRITES=True)
    newlog.init_app(sync_app, db=sync_db, model=sync_model)
    # The live list structlog's cached loggers use: a variant replaces its items (structlog.configure
    # would install a new list that loggers cached on first use never see).
    live = newlog.log_config.processors
    chain = list(live)
    floor_chain = [p for p in chain if p is not newlog.log_config.handler]
    legacy_chain = [legacy_processor(db, model) if p is newlog.log_config.handler else p for p in chain]
    # name -> (processor chain, app whose settings apply, whether it writes in the request thread)
    setups = {
        "floor": (floor_chain, app, False),
        "newlog": (chain, app, False),
        "callsite": (chain, callsite_app, False),
        "legacy": (legacy_chain, app, True),
        "sync": (chain, sync_app, True),
    }
    results: dict[str, list[float]] = {name: [] for name in setups}
    rounds = 3
    with quiet_stdout():
        for _ in range(rounds):  # interleaved rounds: machine noise hits every variant alike
            for name, (processors, target, writes_in_thread) in setups.items():
                live[:] = processors
                n = events if not writes_in_thread else max(events // 10, 200)
                with target.app_context():
                    results[name] += paced_calls(emit, n, rate)
                for each in (worker, callsite_worker):
                    each.flush(30)
        live[:] = chain
    stats = [each.stats() for each in (worker, callsite_worker)]
    sync_stats = sync_app.extensions["newlog"].sync_writer.stats()
    newlog.shutdown(30)
    assert all(s["dropped_overflow"] == 0 and s["dropped_failed"] == 0 for s in stats), stats
    assert sync_stats["handed_to_worker"] == 0 and sync_stats["written"] > 0, sync_stats
    return {name: percentiles(values) for name, values in results.items()}


# -- (b) persisted throughput -----------------------------------------------------------------


def sample_events(count: int) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.timezone.utc)
    return [
        {
            "event": f"order {i} placed",
            "level": "info",
            "module": "orders",
            "timestamp": now.isoformat(),
            "order_id": i,
            "amount": 12.5,
            "request_id": "4f1c2a",
            "url": "http://localhost/orders",
        }
        for i in range(count)
    ]


def sample_rows(count: int) -> list[dict[str, Any]]:
    return [build_row(event) for event in sample_events(count)]


def timed(write: Callable[[list[dict[str, Any]]], None], rows: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for offset in range(0, len(rows), BATCH):
        write(rows[offset : offset + BATCH])
    return len(rows) / (time.perf_counter() - start)


def bench_throughput(tmp: Path, count: int, rounds: int) -> dict[str, float]:
    app, db, model = make_app(tmp / "throughput.db")
    rows = sample_rows(count)
    with app.app_context():
        sink = DatabaseSink(db.engine, model.__table__)

        def orm_writer(batch: list[dict[str, Any]]) -> None:
            db.session.add_all([model(**{**row, "level": LogLevel[row["level"]]}) for row in batch])
            db.session.commit()

        raw = sqlite3.connect(tmp / "throughput.db", isolation_level=None)

        def raw_writer(batch: list[dict[str, Any]]) -> None:
            raw.execute("BEGIN")
            raw.executemany(
                "INSERT INTO unified_logs (timestamp, level, module, message, traceback, context) VALUES (?,?,?,?,?,?)",
                [
                    (
                        row["timestamp"].strftime("%Y-%m-%d %H:%M:%S.%f"),
                        row["level"],
                        row["module"],
                        row["message"],
                        row["traceback"],
                        json.dumps(row["context"]),
                    )
                    for row in batch
                ],
            )
            raw.execute("COMMIT")

        writers = {"newlog sink": sink, "ORM add_all": orm_writer, "raw executemany": raw_writer}
        results: dict[str, list[float]] = {name: [] for name in writers}
        chunk = 2000
        for round_ in range(rounds):  # interleaved: fsync noise hits every writer alike
            part = rows[(round_ * chunk) % len(rows) :][:chunk]
            for name, writer in writers.items():
                results[name].append(timed(writer, part))
        raw.close()
    return {name: statistics.median(values) for name, values in results.items()}


# -- (c) the burst regime ----------------------------------------------------------------------

BACKGROUND_RATE = 2000
REQUEST_EVENTS = 3
REQUEST_IO = 0.005


def indexed_log_table(name: str, meta: MetaData) -> Table:
    """A log table with the indexes real apps put on it (and the primary key)."""
    return Table(
        name,
        meta,
        Column("id", Integer, primary_key=True),
        Column("timestamp", DateTime(timezone=True), nullable=False),
        Column("level", String(20), nullable=False),
        Column("module", String(100), nullable=False),
        Column("message", Text, nullable=False),
        Column("traceback", Text),
        Column("context", JSON),
        Index(f"ix_{name}_timestamp_level_module", "timestamp", "level", "module"),
        Index(f"ix_{name}_level_timestamp", "level", "timestamp"),
        Index(f"ix_{name}_timestamp_module", "timestamp", "module"),
    )


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def cpu_seconds(pid: int | None) -> float:
    """Return the user + system CPU seconds of process ``pid`` so far (0 without one)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(") ", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def run_queue_wait() -> float | None:
    """Seconds the calling thread has spent runnable but waiting for a CPU (Linux schedstat; None elsewhere)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def idle_ticks() -> tuple[int, int] | None:
    """(idle, total) CPU ticks of the whole machine so far (Linux /proc/stat; None elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(field) for field in stat.readline().split()[1:]]
        return ticks[3] + ticks[4], sum(ticks)
    except (OSError, IndexError, ValueError):
        return None


# Each delivery variant of the burst regime: its app's config (the floor uses the thread app without its processor).
BURST_MODES: dict[str, dict[str, Any]] = {
    "thread": {"LOG_QUEUE_SIZE": 1_000_000},  # the backlog and the burst must fit; batches as by default
    "thread-2000": {"LOG_QUEUE_SIZE": 1_000_000, "LOG_BATCH_SIZE": 2000},
    "spool": {},  # LOG_SPOOL_DIR: set per database
}
BURST_VARIANTS = ("floor", *BURST_MODES)


class Burst:
    """One database: the floor, the worker thread (two batch sizes) and the spool, each in its own app and table."""

    def __init__(self, url: str, tmp: Path, label: str) -> None:
        self.url = url
        self.label = label
        self.tables: dict[str, Table] = {}
        self.apps: dict[str, Flask] = {}
        suffix = uuid.uuid4().hex[:6]
        for mode, config in BURST_MODES.items():
            app = Flask(f"burst_{mode}")
            app.config.update(SQLALCHEMY_DATABASE_URI=url, APP_NAME="burst", LOG_FLUSH_INTERVAL=0.25, **config)
            if mode == "spool":
                app.config.update(LOG_SPOOL_DIR=str(tmp / f"spool-{label}"))
            db = SQLAlchemy(app)
            table = indexed_log_table(f"burst_{mode.replace('-', '_')}_{suffix}", MetaData())
            with app.app_context():
                table.create(db.engine)
            newlog.init_app(app, db=db, model=table)
            self.apps[mode], self.tables[mode] = app, table
        for mode in BURST_MODES:  # warm up: the writer process connects, the tables exist
            with self.apps[mode].app_context():
                for i in range(200):
                    emit(i)
        if not newlog.flush(120):
            raise SystemExit(f"burst ({label}): the warm-up events were not all stored: {newlog.health()}")
        # The live list structlog's cached loggers use: a variant replaces its items.
        self.live = newlog.log_config.processors
        chain = list(self.live)
        self.chains = {"floor": [p for p in chain if p is not newlog.log_config.handler]}
        self.chains.update({mode: chain for mode in BURST_MODES})

    def round(self, variant: str, events: int, threads: int, backlog: int) -> dict[str, Any]:
        app = self.apps["thread" if variant == "floor" else variant]
        self.live[:] = self.chains[variant]
        worker = app.extensions["newlog"].worker
        if variant != "floor":
            # The writer has rows to store for the whole burst: the latencies are measured while it
            # persists at its full rate, and that rate is what the burst window shows. The spool's
            # writer process is held while the backlog is made (the worker thread cannot be: it
            # stores part of it meanwhile, and the backlog is sized for that).
            writer = worker.stats().get("writer_pid")
            if writer:
                os.kill(writer, signal.SIGSTOP)
            try:
                for event in sample_events(backlog):
                    worker.enqueue(event)
            finally:
                if writer:
                    os.kill(writer, signal.SIGCONT)
        before = worker.stats()
        writer_pid = before.get("writer_pid")
        stop = threading.Event()
        ready = threading.Barrier(threads + 2)
        counts = [0] * (threads + 1)
        requests: list[list[float]] = [[] for _ in range(threads)]

        def background() -> None:
            with app.app_context():
                ready.wait()
                period, next_at = 1.0 / BACKGROUND_RATE, time.perf_counter()
                while not stop.is_set():
                    pause = next_at - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    emit(counts[threads])
                    counts[threads] += 1
                    next_at += period

        def request_thread(index: int) -> None:
            durations = requests[index]
            ready.wait()
            while not stop.is_set():
                with app.test_request_context("/orders/42", headers={"User-Agent": "bench"}):
                    for _ in range(REQUEST_EVENTS):
                        start = time.perf_counter_ns()
                        emit(index)
                        durations.append((time.perf_counter_ns() - start) / 1000)
                counts[index] += REQUEST_EVENTS
                time.sleep(REQUEST_IO)

        helpers = [threading.Thread(target=background)] + [
            threading.Thread(target=request_thread, args=(index,)) for index in range(threads)
        ]
        for helper in helpers:
            helper.start()
        foreground: list[float] = []
        with app.app_context():
            ready.wait()
            started = time.perf_counter()
            at_start = worker.stats()
            writer_cpu = cpu_seconds(writer_pid)
            waited, idle = run_queue_wait(), idle_ticks()
            for i in range(events):
                start = time.perf_counter_ns()
                emit(i)
                foreground.append((time.perf_counter_ns() - start) / 1000)
            waited_end, idle_end = run_queue_wait(), idle_ticks()
            at_end = worker.stats()
            window = time.perf_counter() - started
            writer_cpu = cpu_seconds(writer_pid) - writer_cpu
            stop.set()
            for helper in helpers:
                helper.join()
            burst_seconds = time.perf_counter() - started
            produced = events + sum(counts)
            stored_ok = worker.flush(300) if variant != "floor" else True
        after = worker.stats()
        return {
            "foreground": foreground,
            "requests": [value for durations in requests for value in durations],
            "produced_per_s": produced / burst_seconds,
            # Rows stored while the foreground thread was logging (counted per batch the writer reports).
            "persisted_per_s": (at_end["written"] - at_start["written"]) / window if variant != "floor" else None,
            # Rows are stored in the order they were accepted: the writer was busy with the backlog
            # for the whole window unless it had stored every row accepted before it.
            "ran_dry": variant != "floor" and at_end["written"] >= at_start["enqueued"],
            "lost": (after["dropped_overflow"] + after["dropped_failed"]) - (before["dropped_overflow"] + before["dropped_failed"]),
            "stored_ok": stored_ok,
            "writer_cpu": writer_cpu / window if writer_pid else None,
            # Why the foreground's p99 moves: its time runnable but waiting for a CPU, and the machine's idle share.
            "run_queue": (waited_end - waited) / window if waited is not None and waited_end is not None else None,
            "idle": (idle_end[0] - idle[0]) / max(1, idle_end[1] - idle[1]) if idle and idle_end else None,
        }

    def close(self) -> None:
        self.live[:] = self.chains["thread"]
        newlog.shutdown(60)
        for mode, app in self.apps.items():
            with app.app_context():
                db = app.extensions["sqlalchemy"]
                self.tables[mode].drop(db.engine)
                db.engine.dispose()


def bench_burst(url: str, tmp: Path, label: str, events: int, threads: int, rounds: int, backlog: int) -> dict[str, dict[str, Any]]:
    burst = Burst(url, tmp, label)
    results: dict[str, dict[str, Any]] = {
        name: {"foreground": [], "requests": [], "rates": [], "persisted": [], "lost": 0, "ok": True, "cpu": [], "dry": 0, "waits": [], "idle": []}
        for name in BURST_VARIANTS
    }
    try:
        for _ in range(rounds):
            for variant in BURST_VARIANTS:
                outcome = burst.round(variant, events, threads, backlog)
                results[variant]["dry"] += bool(outcome["ran_dry"])
                result = results[variant]
                result["foreground"] += outcome["foreground"]
                result["requests"] += outcome["requests"]
                result["rates"].append(outcome["produced_per_s"])
                if outcome["persisted_per_s"] is not None:
                    result["persisted"].append(outcome["persisted_per_s"])
                if outcome["writer_cpu"] is not None:
                    result["cpu"].append(outcome["writer_cpu"])
                if outcome["run_queue"] is not None and outcome["idle"] is not None:
                    result["waits"].append(outcome["run_queue"])
                    result["idle"].append(outcome["idle"])
                result["lost"] += outcome["lost"]
                result["ok"] = result["ok"] and outcome["stored_ok"]
    finally:
        burst.close()
    return results


def report_burst(
    label: str, results: dict[str, dict[str, Any]], events: int, threads: int, rounds: int, target_rows: int, backlog: int
) -> None:
    print(
        f"(c) burst regime, {label}: {events} back-to-back calls + {BACKGROUND_RATE}/s background + {threads} request "
        f"threads ({REQUEST_EVENTS} events per request, {REQUEST_IO * 1000:.0f} ms I/O between), {rounds} interleaved rounds (µs); "
        f"every delivery variant starts each round with {backlog} rows to store"
    )
    floor: dict[str, tuple[float, float, float]] = {}
    for variant, result in results.items():
        line = f"    {variant:11s}"
        for part in ("foreground", "requests"):
            ordered = sorted(result[part])
            p50, p99, p999 = (percentile(ordered, q) for q in (0.5, 0.99, 0.999))
            if variant == "floor":
                floor[part] = (p50, p99, p999)
            base = floor[part]
            line += (
                f" | {part[:4]} p50 {p50:7.1f} p99 {p99:7.1f} p99.9 {p999:8.1f}"
                f" ({p50 / base[0]:4.2f}x {p99 / base[1]:4.2f}x {p999 / base[2]:4.2f}x)"
            )
        line += f" | produced {statistics.median(result['rates']):7.0f}/s"
        if result["persisted"]:
            line += f" stored during the burst {statistics.median(result['persisted']):7.0f}/s"
            if result["dry"]:
                line += f" (backlog ran dry in {result['dry']} round(s): a lower bound)"
            line += f" lost {result['lost']}" + ("" if result["ok"] else " (flush False)")
        if result["cpu"]:
            line += f" writer CPU {statistics.median(result['cpu']) * 100:3.0f}% of a core"
        if result["waits"]:
            line += (
                f" | foreground waited for a CPU {statistics.median(result['waits']) * 100:3.0f}% of the time, "
                f"machine idle {statistics.median(result['idle']) * 100:3.0f}%"
            )
        print(line)
    for variant in BURST_MODES:
        result = results[variant]
        fg = sorted(result["foreground"])
        rq = sorted(result["requests"])
        p50 = percentile(fg, 0.5) / floor["foreground"][0]
        p99 = percentile(fg, 0.99) / floor["foreground"][1]
        r50 = percentile(rq, 0.5) / floor["requests"][0]
        r99 = percentile(rq, 0.99) / floor["requests"][1]
        persisted = statistics.median(result["persisted"])
        met = (
            p50 <= 1.3 and p99 <= 2 and r50 <= 1.3 and r99 <= 2 and persisted >= target_rows and result["lost"] == 0 and result["ok"]
        )
        print(
            f"    {variant}: foreground p50 {p50:.2f}x p99 {p99:.2f}x, requests p50 {r50:.2f}x p99 {r99:.2f}x (targets <= 1.3x, <= 2x); "
            f"stored {persisted:.0f} rows/s during the burst (target >= {target_rows}); lost {result['lost']} -> {'MET' if met else 'NOT MET'}"
        )


def bench_store_capacity(url: str, tmp: Path, count: int = 50_000) -> dict[str, float]:
    """Rows/s one writer stores with a core to itself, into the indexed table, from rows already made.

    thread sink: ``DatabaseSink`` (the worker thread's writer) in batches of 1,000;
    spool writer: a ``SpoolWriter`` delivering a spool of ``count`` rows in its default batches
    (20,000 rows on PostgreSQL, 5,000 elsewhere).
    """
    engine = create_engine(url)
    rows = sample_rows(count)
    results: dict[str, float] = {}
    try:
        table = indexed_log_table(f"capacity_thread_{uuid.uuid4().hex[:6]}", MetaData())
        table.create(engine)
        sink = DatabaseSink(engine, table)
        start = time.perf_counter()
        for offset in range(0, count, 1000):
            sink(rows[offset : offset + 1000])
        results["thread sink (DatabaseSink)"] = count / (time.perf_counter() - start)
        table.drop(engine)

        table = indexed_log_table(f"capacity_spool_{uuid.uuid4().hex[:6]}", MetaData())
        table.create(engine)
        directory = tmp / f"capacity-{uuid.uuid4().hex[:6]}"
        config = WriterConfig(
            dir=str(directory), key="capacity", url=url, table=table.name, batch_rows=default_batch_rows(engine.dialect.name)
        )
        queue = SpoolQueue(directory, config, start_writer=False)
        for event in sample_events(count):
            queue.enqueue(event)
        reports = io.BytesIO()
        writer = SpoolWriter({**config, "owner": queue.owner, "parent_pid": os.getpid()}, control=None, reports=reports)
        writer.connect()
        start = time.perf_counter()
        while writer.deliver_once():
            pass
        elapsed = time.perf_counter() - start
        assert writer.counters["rows_written"] == count, writer.counters
        results["spool writer (SpoolWriter)"] = count / elapsed
        for report in reports.getvalue().decode().splitlines():  # what the queue's supervisor would have read
            queue._handle_report(report)
        assert queue.shutdown(0.1)
        table.drop(engine)
    finally:
        engine.dispose()
    return results


# -- (d) serializing a row ----------------------------------------------------------------------


def bench_serialize(count: int = 20000) -> dict[str, float]:
    rows = sample_rows(200)

    def with_json(row: dict[str, Any]) -> bytes:
        return json.dumps({**row, "timestamp": row["timestamp"].isoformat()}, default=str).encode() + b"\n"

    results: dict[str, list[float]] = {"orjson (encode_row)": [], "stdlib json": []}
    for _ in range(5):
        for name, encode in (("orjson (encode_row)", encode_row), ("stdlib json", with_json)):
            start = time.perf_counter()
            for i in range(count):
                encode(rows[i % len(rows)])
            results[name].append((time.perf_counter() - start) / count * 1e6)
    return {name: min(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000, help="log calls per variant and round")
    parser.add_argument("--rate", type=float, default=2000, help="log calls per second while measuring")
    parser.add_argument("--rows", type=int, default=20000, help="distinct prepared rows for the throughput runs")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved throughput rounds of 2,000 rows per writer")
    parser.add_argument("--burst", type=int, default=20000, help="back-to-back foreground calls per burst round")
    parser.add_argument("--threads", type=int, default=2, help="request threads in the burst regime")
    parser.add_argument("--burst-rounds", type=int, default=3, help="interleaved burst rounds per variant")
    parser.add_argument(
        "--backlog-seconds", type=float, default=12.0,
        help="rows queued before each thread/spool burst round, in seconds of the database's rows/s target",
    )
    parser.add_argument("--postgres", default=os.environ.get("NEWLOG_TEST_POSTGRES_URL"), help="PostgreSQL URL for (c)")
    parser.add_argument("--only", choices=["all", "burst"], default="all", help="'burst': run (c) and (d) only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        databases = [("SQLite file", f"sqlite:///{tmp / 'burst.db'}", 20_000)]
        if args.postgres:
            databases.append(("PostgreSQL", args.postgres, 40_000))
        else:
            print("(c) PostgreSQL skipped: pass --postgres URL or set NEWLOG_TEST_POSTGRES_URL")
        saved_stdout = sys.stdout
        sys.stdout = open(os.devnull, "w")  # every variant prints its lines to /dev/null (a real write)
        try:
            bursts = [
                (
                    label,
                    bench_burst(
                        url, tmp, label.split()[0].lower(), args.burst, args.threads, args.burst_rounds,
                        int(target * args.backlog_seconds),
                    ),
                    target,
                )
                for label, url, target in databases
            ]
        finally:
            sys.stdout.close()
            sys.stdout = saved_stdout
        for label, results, target in bursts:
            report_burst(label, results, args.burst, args.threads, args.burst_rounds, target, int(target * args.backlog_seconds))
        print("(c) storing capacity: rows/s one writer stores from rows already made (a core to itself, indexed table)")
        for label, url, target in databases:
            for name, value in bench_store_capacity(url, tmp).items():
                print(f"    {label:12s} {name:28s} {value:8.0f} rows/s (target >= {target})")
        print("(d) serializing one row for the spool (µs per row, best of 5)")
        for name, value in bench_serialize().items():
            print(f"    {name:22s} {value:6.2f}")
        if args.only == "burst":
            return
        latency = bench_request_thread(tmp, args.events, args.rate)
        throughput = bench_throughput(tmp, args.rows, args.rounds)
    floor_p50, floor_p99 = latency["floor"]
    print(f"(a) request-thread cost of log_info at {args.rate:.0f}/s (µs)")
    for name, (p50, p99) in latency.items():
        print(f"    {name:8s} p50 {p50:8.1f}  p99 {p99:8.1f}   ratio to floor: p50 {p50 / floor_p50:6.2f}x  p99 {p99 / floor_p99:6.2f}x")
    print("(b) persisted rows/s into a SQLite file table (batches of 100)")
    for name, value in throughput.items():
        print(f"    {name:16s} {value:10.0f} rows/s")
    sink, orm, raw = throughput["newlog sink"], throughput["ORM add_all"], throughput["raw executemany"]
    print(f"    newlog sink / raw executemany = {sink / raw:.2f}x (target >= 0.8)")
    print(f"    newlog sink / ORM add_all     = {sink / orm:.2f}x (target >= 3.5)")
    newlog_p50, newlog_p99 = latency["newlog"]
    print(f"    newlog / floor: p50 {newlog_p50 / floor_p50:.2f}x (target <= 1.3), p99 {newlog_p99 / floor_p99:.2f}x (target <= 2)")
    callsite_p50, callsite_p99 = latency["callsite"]
    print(
        f"    LOG_CALLSITE cost: callsite / newlog p50 {callsite_p50 / newlog_p50:.2f}x, p99 {callsite_p99 / newlog_p99:.2f}x "
        f"(+{callsite_p50 - newlog_p50:.1f} µs per event at p50)"
    )
    sync_p50, sync_p99 = latency["sync"]
    legacy_p50, legacy_p99 = latency["legacy"]
    print(f"    LOG_SYNC_WRITES (rollback switch) / legacy: p50 {sync_p50 / legacy_p50:.2f}x, p99 {sync_p99 / legacy_p99:.2f}x")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
