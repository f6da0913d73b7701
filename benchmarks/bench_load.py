"""Load benchmark: the example app under gunicorn, driven at a fixed request rate, side by side in one run.

For each database (SQLite file, PostgreSQL) three variants of the same app are served by
gunicorn on 127.0.0.1 and driven by ``wrk`` at a fixed rate (default 1000 requests/s for
30 s, after a short warm-up) on ``GET /api/log/info``, which logs three events:

  - ``no-db``:  the newlog-wired app with ``LOG_DB_LEVEL=CRITICAL`` (events rendered, none stored),
  - ``legacy``: ``examples/legacy_app`` as it is (one commit per event in the request thread),
  - ``newlog``: the same app on newlog: a copy of ``examples/legacy_app`` whose
    ``app/utils/structlog_config.py`` is the one-line stub ``from compat.structlog_config import *``
    (``--app demo``: the small app of ``tests/drills/demo_app.py`` instead).

Reported per run: achieved rate, request latency p50 / p99 / max (as wrk measures it), errors
(connect/read/write/timeout and non-2xx), gunicorn workers' CPU per request, events emitted
(3 per load-phase request the server served, counted in gunicorn's ``post_request`` hook) and
events persisted (rows of the load phase, counted after SIGTERM drained the queues), and for
newlog its counters summed over the gunicorn workers. Targets: newlog p99 <= 1.15x no-db, zero
errors, persisted == emitted with nothing dropped, and the target rate reached.

Two smaller measurements size the worker: the default sink's rows/s on PostgreSQL with
``COPY`` vs INSERT executemany (same rows), and a worker's end-to-end throughput
(``enqueue`` -> rows written) on each database.

Run from the repository root (wrk is installed with apt-get if it is missing and we are root)::

    python benchmarks/bench_load.py [--rate 1000] [--duration 30] [--databases sqlite,postgresql]
                                    [--postgres-url URL] [--app compat|demo]

PostgreSQL: ``--postgres-url``, else ``NEWLOG_TEST_POSTGRES_URL``, else a throw-away cluster
from the machine's PostgreSQL binaries; every variant gets a fresh database on it.
``--newlog-setting LOG_QUEUE_SIZE=20000`` (repeatable) sizes the newlog variant; ``--keep``
keeps the servers' stderr logs. A target rate above what the machine can serve with logging
disabled measures saturation, not logging: read the no-db row's rate and p50 first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flask import Flask  # noqa: E402
from flask_sqlalchemy import SQLAlchemy  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from newlog.models import log_table  # noqa: E402
from newlog.queue_worker import LogQueueWorker  # noqa: E402
from newlog.rows import build_row  # noqa: E402
from newlog.sinks import DatabaseSink  # noqa: E402
from tests.drills.harness import PostgresCluster, free_port, get, postgres_bindir  # noqa: E402

EXAMPLE_APP = REPO / "examples" / "legacy_app"
COMPAT_STUB = "from compat.structlog_config import *  # noqa: F401,F403 - the legacy module, served by newlog\n"
MESSAGES = ("Demo info message", "Level demo done", "Request completed")
LOAD_PATH = "/api/log/info?phase=load"
WARMUP_SECONDS = 5
CONNECTIONS = 64

# wrk script: a fixed schedule per thread (rate / threads requests per second); a connection
# waits for the next free slot after each response, so the rate does not follow the latency
# unless every connection is busy. The clock comes from clock_gettime through LuaJIT's FFI.
PACER = r"""
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec; int clock_gettime(int, bench_timespec *); ]]
local ts = ffi.new("bench_timespec")
local function now_ms() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6 end
local interval, next_slot
function init(args)
  interval = tonumber(os.getenv("BENCH_THREADS")) * 1000 / tonumber(os.getenv("BENCH_RATE"))
  next_slot = now_ms()
end
function delay()
  next_slot = next_slot + interval
  local wait = next_slot - now_ms()
  if wait < 0 then return 0 end
  return wait
end
function done(summary, latency, requests)
  io.write(string.format("BENCH {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, \"max_us\": %d, " ..
    "\"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""

# gunicorn config: count the load-phase requests each worker served; when it exits, drain newlog
# (if the app uses it) and dump the count and newlog's counters.
GUNICORN_CONF = """
import json, os, sys

served = {"load": 0}

def post_request(worker, req, environ, resp):
    if "phase=load" in (req.query or ""):
        served["load"] += 1

def worker_exit(server, worker):
    report = {"served_load": served["load"]}
    newlog = sys.modules.get("newlog")
    if newlog is not None and newlog.health()["workers"]:
        newlog.shutdown(30)
        report["newlog"] = newlog.health()
    with open(os.path.join(os.environ["BENCH_STATS_DIR"], "%d.json" % os.getpid()), "w") as out:
        json.dump(report, out)
"""


# -- the load generator -------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Return the path of ``wrk``; install the Debian package when it is missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        sys.exit("bench_load: needs wrk (apt-get install wrk), the load generator driving a fixed request rate")
    return found


def drive(wrk: str, pacer: Path, port: int, path: str, rate: int, seconds: int) -> dict[str, Any]:
    """Run wrk at ``rate`` requests/s for ``seconds`` on ``path``; return its counters and latencies."""
    threads = 1 if rate <= 2000 else 2
    result = subprocess.run(
        [wrk, f"-t{threads}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(pacer),
         f"http://127.0.0.1:{port}{path}"],
        env={**os.environ, "BENCH_RATE": str(rate), "BENCH_THREADS": str(threads)},
        capture_output=True, text=True, timeout=seconds + 60,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout[-2000:]} {result.stderr[-2000:]}")
    return json.loads(lines[0][len("BENCH "):])


# -- the apps -----------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    cwd: Path
    target: str
    env: dict[str, str] = field(default_factory=dict)


def prepare_apps(workdir: Path, app: str) -> dict[str, Variant]:
    """Return the three variants; the example app is copied (the repository's copy is not touched)."""
    ignore = shutil.ignore_patterns("__pycache__", "instance", "*.db")
    legacy_dir = workdir / "legacy_app"
    shutil.copytree(EXAMPLE_APP, legacy_dir, ignore=ignore)
    variants = {"legacy": Variant("legacy", legacy_dir, "wsgi:app")}
    if app == "compat":
        compat_dir = workdir / "newlog_app"
        shutil.copytree(EXAMPLE_APP, compat_dir, ignore=ignore)
        (compat_dir / "app" / "utils" / "structlog_config.py").write_text(COMPAT_STUB)
        newlog_app = Variant("newlog", compat_dir, "wsgi:app")
    else:
        newlog_app = Variant("newlog", REPO, "tests.drills.demo_app:create_app()")
    no_db = Variant("no-db", newlog_app.cwd, newlog_app.target, {"LOG_DB_LEVEL": "CRITICAL"})
    return {"no-db": no_db, "legacy": variants["legacy"], "newlog": newlog_app}


@contextmanager
def served(
    variant: Variant, database_url: str, workdir: Path, args: argparse.Namespace
) -> Iterator[tuple[int, Path, int]]:
    """Serve ``variant`` with gunicorn; yield (port, stats dir, master pid); SIGTERM and wait on exit."""
    stats_dir = Path(tempfile.mkdtemp(prefix=f"stats-{variant.name}-", dir=workdir))
    conf = workdir / "gunicorn_conf.py"
    conf.write_text(GUNICORN_CONF)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(variant.cwd), str(REPO)]),
        "DATABASE_URL": database_url,
        "BENCH_STATS_DIR": str(stats_dir),
        **variant.env,
    }
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(conf), "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads),
        "--keep-alive", "30", "--backlog", "2048", "--graceful-timeout", "60", "--log-level", "warning",
        variant.target,
    ]
    errors = open(workdir / f"{variant.name}.stderr.log", "ab")
    module, _, attribute = variant.target.partition(":")
    # The example app runs db.create_all() in create_app: two workers booting at once race on
    # CREATE TABLE (one dies, gunicorn shuts down). Create the schema once before serving.
    subprocess.run(
        [sys.executable, "-c", f"import {module} as m; {'m.' + attribute if attribute.endswith(')') else ''}"],
        cwd=variant.cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors, check=True, timeout=120,
    )
    server = subprocess.Popen(command, cwd=variant.cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{variant.name}: gunicorn did not start; see {errors.name}")
            try:
                if get(port, "/api/log/info?phase=ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield port, stats_dir, server.pid
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            server.wait(120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        errors.close()


def cpu_seconds(master: int) -> float:
    """Return the user + system CPU seconds used so far by the gunicorn workers of ``master``."""
    ticks = 0
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(master: int, limit: float = 60.0) -> None:
    """Wait until the workers of ``master`` are idle (a slow variant keeps serving its backlog after wrk stops)."""
    deadline = time.monotonic() + limit
    used = cpu_seconds(master)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(master)
        if now - used < 0.02:
            return
        used = now


def load_phase_rows(database_url: str) -> int:
    """Return how many of the three route events of the load phase are in ``unified_logs``."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT message, context FROM unified_logs")).all()
    finally:
        engine.dispose()
    count = 0
    for message, context in rows:
        context = json.loads(context) if isinstance(context, str) else (context or {})
        if message in MESSAGES and str(context.get("url", "")).endswith("phase=load"):
            count += 1
    return count


def worker_reports(stats_dir: Path) -> tuple[int, dict[str, int] | None]:
    """Return (load-phase requests served, newlog's counters or None) summed over the gunicorn workers."""
    served = 0
    totals: dict[str, int] = {}
    for path in stats_dir.glob("*.json"):
        report = json.loads(path.read_text())
        served += report["served_load"]
        for stats in report.get("newlog", {}).get("workers", []):
            for key in ("enqueued", "written", "dropped_overflow", "dropped_failed", "dropped_closed", "queued"):
                totals[key] = totals.get(key, 0) + stats[key]
    return served, totals or None


# -- databases ----------------------------------------------------------------------------------


class Databases:
    """Fresh databases per variant: SQLite files in the work dir, or databases on one PostgreSQL server."""

    def __init__(self, kind: str, workdir: Path, server_url: str | None = None) -> None:
        self.kind = kind
        self.workdir = workdir
        self.server_url = server_url
        self.created: list[str] = []

    def new(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / f'{name}.db'}"
        database = f"bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        self.created.append(database)
        return make_url(self.server_url).set(database=database).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for database in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


# -- the load runs -----------------------------------------------------------------------------


def run_database(
    variants: list[Variant], databases: Databases, workdir: Path, wrk: str, pacer: Path, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Serve every variant at once (a fresh database each), drive them in interleaved rounds; return results.

    Rounds share out the machine's noise: each variant gets ``duration / rounds`` seconds per
    round. p50/p99 are the medians of the rounds' values, max the largest. Persisted rows are
    counted after every server was stopped (SIGTERM: newlog drains its queue).
    """
    seconds = max(1, round(args.duration / args.rounds))
    urls = {variant.name: databases.new(variant.name) for variant in variants}
    runs: dict[str, list[dict[str, Any]]] = {variant.name: [] for variant in variants}
    with ExitStack() as servers:
        ports, stats_dirs, masters = {}, {}, {}
        for variant in variants:
            ports[variant.name], stats_dirs[variant.name], masters[variant.name] = servers.enter_context(
                served(variant, urls[variant.name], workdir, args)
            )
        for variant in variants:
            try:
                drive(wrk, pacer, ports[variant.name], "/api/log/info?phase=warmup", args.rate, WARMUP_SECONDS)
            except RuntimeError as exc:
                log = (workdir / f"{variant.name}.stderr.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{databases.kind} {variant.name}: {exc}\nserver stderr:\n{log}") from None
            settle(masters[variant.name])
        for round_ in range(args.rounds):
            for variant in variants:
                print(f"  {databases.kind}: round {round_ + 1}/{args.rounds} {variant.name} ({os.getloadavg()[0]:.1f} load)", flush=True)
                cpu_before = cpu_seconds(masters[variant.name])
                run = drive(wrk, pacer, ports[variant.name], LOAD_PATH, args.rate, seconds)
                settle(masters[variant.name])
                run["cpu_s"] = cpu_seconds(masters[variant.name]) - cpu_before
                runs[variant.name].append(run)
    results = {}
    for variant in variants:
        rounds = runs[variant.name]
        result: dict[str, Any] = {key: sum(run[key] for run in rounds) for key in ("requests", "connect", "read", "write", "status", "timeout")}
        result["p50_us"] = statistics.median(run["p50_us"] for run in rounds)
        result["p99_us"] = statistics.median(run["p99_us"] for run in rounds)
        result["p99_rounds_ms"] = [round(run["p99_us"] / 1000, 1) for run in rounds]
        result["max_us"] = max(run["max_us"] for run in rounds)
        result["cpu_ms"] = 1000 * sum(run["cpu_s"] for run in rounds) / max(result["requests"], 1)
        result["rate"] = result["requests"] / sum(run["duration_us"] / 1e6 for run in rounds)
        result["errors"] = sum(result[key] for key in ("connect", "read", "write", "status", "timeout"))
        result["served"], result["counters"] = worker_reports(stats_dirs[variant.name])
        result["emitted"] = 3 * result["served"]
        result["persisted"] = load_phase_rows(urls[variant.name]) if variant.name != "no-db" else 0
        results[variant.name] = result
    return results


# -- sink and worker throughput -----------------------------------------------------------------


def sample_events(count: int) -> list[dict[str, Any]]:
    """Return event snapshots like the ones the example app's route enqueues."""
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    return [
        {
            "event": MESSAGES[i % 3], "level": "info", "module": "api", "logger": "app", "timestamp": now,
            "request_id": uuid.uuid4().hex, "user_id": None, "url": "http://127.0.0.1/api/log/info?phase=load",
            "method": "GET", "ip_address": "127.0.0.1", "user_agent": "wrk", "app_name": "legacy-app",
            "app_version": "1.4.2", "environment": "production", "region": "local", "source": "log_at_level",
        }
        for i in range(count)
    ]


def sink_rows_per_second(url: str, batch: int, count: int, rounds: int = 3) -> dict[str, float]:
    """Return the default sink's rows/s with the server-parsed JSON, COPY and executemany (PostgreSQL), median of rounds."""
    engine = create_engine(url)
    rows = [build_row(event) for event in sample_events(count)]
    results: dict[str, list[float]] = {"json": [], "copy": [], "executemany": []}
    use_copy = {"json": None, "copy": True, "executemany": False}
    try:
        for _ in range(rounds):  # interleaved: noise hits both alike
            for method in results:
                table = log_table(f"bench_sink_{uuid.uuid4().hex[:8]}")
                table.create(engine)
                sink = DatabaseSink(engine, table, use_copy=use_copy[method])
                assert sink.method == method, sink.method
                started = time.perf_counter()
                for offset in range(0, len(rows), batch):
                    sink(rows[offset : offset + batch])
                results[method].append(len(rows) / (time.perf_counter() - started))
                table.drop(engine)
                table.metadata.remove(table)
    finally:
        engine.dispose()
    return {method: statistics.median(values) for method, values in results.items()}


def worker_events_per_second(url: str, count: int, batch: int, use_copy: bool | None = None) -> float:
    """Return a worker's end-to-end events/s: snapshots enqueued at once, built and written in batches."""
    app = Flask("bench_worker")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    db = SQLAlchemy(app)
    table = log_table(f"bench_worker_{uuid.uuid4().hex[:8]}")
    with app.app_context():
        table.create(db.engine)
        sink = DatabaseSink(db.engine, table, use_copy=use_copy)
    worker = LogQueueWorker(sink, queue_size=count, batch_size=batch, flush_interval=60)
    events = sample_events(count)
    started = time.perf_counter()
    for event in events:
        worker.enqueue(event)
    worker.flush(600)
    elapsed = time.perf_counter() - started
    worker.shutdown(10)
    with app.app_context():
        table.drop(db.engine)
        db.engine.dispose()
    table.metadata.remove(table)
    return count / elapsed


# -- report -------------------------------------------------------------------------------------


def report(database: str, results: dict[str, dict[str, Any]], rate: int) -> list[str]:
    """Print the table for one database; return the failed targets."""
    print(f"\n{database}: {rate} requests/s target, 3 events per request (load average now {os.getloadavg()[0]:.1f})")
    print(
        f"  {'variant':8} {'rate/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} {'emitted':>8} "
        f"{'persisted':>9} {'cpu ms/req':>10}  p99 per round, worker counters"
    )
    for name, r in results.items():
        counters = r["counters"]
        extra = (
            f"enqueued={counters['enqueued']} written={counters['written']} overflow={counters['dropped_overflow']} "
            f"failed={counters['dropped_failed']} queued={counters['queued']}"
            if counters and name == "newlog" else ""
        )
        print(
            f"  {name:8} {r['rate']:7.0f} {r['p50_us'] / 1000:8.2f} {r['p99_us'] / 1000:8.2f} {r['max_us'] / 1000:8.1f} "
            f"{r['errors']:7d} {r['emitted']:8d} {r['persisted'] if name != 'no-db' else '-':>9} {r['cpu_ms']:10.2f}  "
            f"{r['p99_rounds_ms']} {extra}"
        )
    failed = []
    newlog, floor = results["newlog"], results["no-db"]
    ratio = newlog["p99_us"] / max(floor["p99_us"], 1)
    counters = newlog["counters"] or {}
    dropped = counters.get("dropped_overflow", 0) + counters.get("dropped_failed", 0) + counters.get("queued", 0)
    checks = {
        f"newlog p99 <= 1.15x no-db ({ratio:.2f}x)": ratio <= 1.15,
        f"newlog errors == 0 ({newlog['errors']})": newlog["errors"] == 0,
        f"newlog persisted == emitted ({newlog['persisted']} / {newlog['emitted']})": newlog["persisted"] == newlog["emitted"],
        f"newlog dropped == 0 ({dropped})": dropped == 0,
        f"newlog rate >= 0.97x target ({newlog['rate']:.0f}/s)": newlog["rate"] >= 0.97 * rate,
    }
    for label, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {label}")
        if not ok:
            failed.append(f"{database}: {label}")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="requests per second (default 1000)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per variant (default 30)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("NEWLOG_TEST_POSTGRES_URL"))
    parser.add_argument("--app", choices=("compat", "demo"), default=None,
                        help="newlog variant: the example app on compat (default when compat/structlog_config.py exists) or the drills' demo app")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds sharing the duration (default 5)")
    parser.add_argument("--variants", default="no-db,legacy,newlog")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="gthread", help="gunicorn worker class (default gthread: keeps connections alive)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker (default 1)")
    parser.add_argument("--skip-sink", action="store_true", help="skip the COPY/executemany and worker throughput part")
    parser.add_argument("--newlog-setting", action="append", default=[], metavar="KEY=VALUE",
                        help="a newlog setting for the newlog and no-db variants, e.g. LOG_QUEUE_SIZE=20000 (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (servers' stderr logs, SQLite files)")
    args = parser.parse_args()
    app = args.app or ("compat" if (REPO / "compat" / "structlog_config.py").exists() else "demo")
    wrk = ensure_wrk()
    failed: list[str] = []

    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="bench_load."))
        if args.keep:
            print(f"work dir (kept): {workdir}")
        else:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        pacer = workdir / "pacer.lua"
        pacer.write_text(PACER)
        variants = prepare_apps(workdir, app)
        for setting in args.newlog_setting:
            key, _, value = setting.partition("=")
            variants["newlog"].env[key] = variants["no-db"].env.setdefault(key, value)
        kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
        server_url = args.postgres_url
        if "postgresql" in kinds and not server_url:
            bindir = postgres_bindir()
            if bindir is None:
                sys.exit("bench_load: PostgreSQL run needs --postgres-url, NEWLOG_TEST_POSTGRES_URL or the server binaries")
            cluster = PostgresCluster(bindir)
            stack.callback(cluster.destroy)
            cluster.start()
            server_url = cluster.url
        print(f"newlog variant: {'examples/legacy_app on compat' if app == 'compat' else 'tests/drills/demo_app.py'}; "
              f"gunicorn {args.workers} {args.worker_class} workers; wrk {CONNECTIONS} connections; "
              f"{WARMUP_SECONDS}s warm-up + {args.duration}s per variant; {os.cpu_count()} CPUs", flush=True)

        if not args.skip_sink:
            sqlite_url = f"sqlite:///{workdir / 'worker.db'}"
            print("\nworker throughput (enqueue -> rows written, batches of 100, one worker):")
            print(f"  sqlite                    {worker_events_per_second(sqlite_url, 30_000, 100):8.0f} events/s", flush=True)
            if "postgresql" in kinds:
                for use_copy, label in ((None, "JSON (default)"), (True, "COPY"), (False, "executemany")):
                    speed = worker_events_per_second(server_url, 30_000, 100, use_copy=use_copy)
                    print(f"  postgresql {label:14} {speed:8.0f} events/s", flush=True)
                print("\nPostgreSQL sink alone, prepared rows (server-parsed JSON vs COPY vs INSERT executemany, same rows):")
                for batch in (100, 1000):
                    speeds = sink_rows_per_second(server_url, batch, 30_000)
                    print(f"  batch {batch:5}: JSON {speeds['json']:8.0f} rows/s, COPY {speeds['copy']:8.0f} rows/s, "
                          f"executemany {speeds['executemany']:8.0f} rows/s -> JSON {speeds['json'] / speeds['executemany']:.2f}x, "
                          f"COPY {speeds['copy'] / speeds['executemany']:.2f}x executemany", flush=True)

        for kind in kinds:
            databases = Databases(kind, workdir, server_url)
            chosen = [variants[name.strip()] for name in args.variants.split(",") if name.strip()]
            try:
                results = run_database(chosen, databases, workdir, wrk, pacer, args)
            finally:
                databases.drop_all()
            if {"no-db", "newlog"} <= set(results):
                failed += report(kind, results, args.rate)

    if failed:
        print("\ntargets missed:\n  " + "\n  ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
