"""What the drills (and ``benchmarks/bench_load.py``) need around the app: a throw-away PostgreSQL
cluster, a gunicorn server, a steady request stream, and reading the log table back."""

from __future__ import annotations

import glob
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` (0-1) percentile of ``values`` (nearest rank), 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# -- PostgreSQL ---------------------------------------------------------------------------------


def postgres_bindir() -> str | None:
    """Return the PostgreSQL server's bin directory (``NEWLOG_TEST_PGBIN``, else the newest Debian one)."""
    configured = os.environ.get("NEWLOG_TEST_PGBIN")
    if configured and os.path.exists(os.path.join(configured, "pg_ctl")):
        return configured
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(path.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


class PostgresCluster:
    """A throw-away PostgreSQL cluster in a temp dir on 127.0.0.1 and a random port, owned by its creator.

    Run as root it runs the server as the ``postgres`` user. ``stop()``/``start()`` make an
    outage; ``destroy()`` stops the server (by its pid) and removes the directory.
    """

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.base = tempfile.mkdtemp(prefix="newlog-drill-pg.")
        self.data = os.path.join(self.base, "data")
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.base, "postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        command = [os.path.join(self.bindir, tool), *args]
        if self._as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(_quote(part) for part in command)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.base, "server.log"), "-w", "-t", "30", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: sessions are cut; ``immediate``: like a crash)."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def pid(self) -> int | None:
        """Return the postmaster's pid, or None when it is not running."""
        try:
            return int(Path(self.data, "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def destroy(self) -> None:
        """Stop the server by its pid (if running) and remove the cluster's directory."""
        pid = self.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 20
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
        shutil.rmtree(self.base, ignore_errors=True)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"


# -- gunicorn -----------------------------------------------------------------------------------


class Server:
    """A server process serving on 127.0.0.1:``port`` (output in ``log_path``); ``stop()`` sends SIGTERM.

    ``command`` may use ``{port}``.
    """

    def __init__(self, command: Sequence[str], env: Mapping[str, str], log_path: Path, *, cwd: Path = REPO) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [part.format(port=self.port) for part in command], cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO), **env}, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, path: str = "/api/stats", timeout: float = 30.0) -> None:
        """Wait until ``path`` answers 200; raise with the server's output if it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if get(self.port, path)[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.process.args[:4]} did not come up on port {self.port}:\n{self.output()[-3000:]}")

    def stop(self, timeout: float = 40.0) -> int:
        """Send SIGTERM to the master and wait for it to exit (SIGKILL after ``timeout``); return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)
        finally:
            self._log.close()

    def output(self) -> str:
        """Return what the server printed so far."""
        return self.log_path.read_text(errors="replace")


class Gunicorn(Server):
    """A gunicorn master serving ``app`` with ``workers`` workers."""

    def __init__(
        self,
        app: str,
        env: Mapping[str, str],
        log_path: Path,
        *,
        workers: int = 2,
        args: Sequence[str] = (),
        cwd: Path = REPO,
    ) -> None:
        command = [
            sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", str(workers),
            "--graceful-timeout", "20", "--log-level", "warning", *args, app,
        ]
        super().__init__(command, env, log_path, cwd=cwd)


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """Return (status, body) of ``GET path`` on 127.0.0.1:port (a new connection per request)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# -- a steady request stream --------------------------------------------------------------------


class Stream:
    """Call ``request(seq)`` at ``rate`` per second from ``threads`` threads until ``stop()``.

    Records (start time, duration, ok) per call; a call that raises counts as not ok.
    """

    def __init__(self, request: Callable[[int], bool], rate: float, threads: int = 4) -> None:
        self.request = request
        self.interval = threads / rate
        self.records: list[tuple[float, float, bool]] = []
        self.accepted: list[int] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seq = iter(range(10**9))
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Stream:
        for thread in self._threads:
            thread.start()
            time.sleep(self.interval / len(self._threads))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop sending and wait for the calls in flight."""
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                seq = next(self._seq)
            started = time.monotonic()
            try:
                ok = bool(self.request(seq))
            except Exception:  # noqa: BLE001 - a failed request is a record, not a crash
                ok = False
            duration = time.monotonic() - started
            with self._lock:
                self.records.append((started, duration, ok))
                if ok:
                    self.accepted.append(seq)
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def wait_for(self, accepted: int, timeout: float = 60.0) -> None:
        """Return once ``accepted`` calls in all succeeded; fail the test after ``timeout`` seconds (a stall)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.accepted) >= accepted:
                    return
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.accepted)} of {accepted} calls succeeded within {timeout}s: the calls stalled")

    def durations(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        """Return the durations (s) of the calls started in [since, until)."""
        with self._lock:
            return [duration for started, duration, _ in self.records if since <= started < until]

    def failures(self) -> int:
        """Return how many calls failed."""
        with self._lock:
            return sum(1 for *_, ok in self.records if not ok)


# -- reading rows back --------------------------------------------------------------------------


def log_rows(url: str, table: str) -> list[dict[str, Any]]:
    """Return every row of ``table`` at ``url`` (``context`` decoded), in id order (see ``tests.support.table_rows``)."""
    from tests.support import table_rows

    return table_rows(url, table)


def table_exists(url: str, table: str) -> bool:
    """Return True when ``table`` exists at ``url`` (newlog creates its own table at the first write)."""
    engine = create_engine(url)
    try:
        return inspect(engine).has_table(table)
    finally:
        engine.dispose()


def drop_table(url: str, table: str) -> None:
    """Drop ``table`` at ``url`` if it exists."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
    finally:
        engine.dispose()
