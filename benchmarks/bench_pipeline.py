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

Run: ``python benchmarks/bench_pipeline.py [--events N] [--rate R]``. Targets on a 2-core
machine: newlog p50 <= 1.3x floor, p99 <= 2x floor; sink >= 0.8x raw, >= 3.5x ORM.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import enum
import io
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, Enum, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import newlog
from newlog.rows import build_row
from newlog.sinks import DatabaseSink

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


def sample_rows(count: int) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.timezone.utc)
    return [
        build_row(
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
        )
        for i in range(count)
    ]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000, help="log calls per variant and round")
    parser.add_argument("--rate", type=float, default=2000, help="log calls per second while measuring")
    parser.add_argument("--rows", type=int, default=20000, help="distinct prepared rows for the throughput runs")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved throughput rounds of 2,000 rows per writer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
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
