"""Driving app processes in spool mode (``spool_child``) and reading back what they stored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

REPO = Path(__file__).resolve().parents[2]


class AppProcess:
    """One ``spool_child`` app process; every call waits for its answer (a handshake, no sleeps)."""

    def __init__(self, url: str, table: str, spool_dir: Path) -> None:
        environment = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.newlog.spool_child", url, table, str(spool_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            cwd=REPO,
            env=environment,
        )
        hello = self._answer()
        assert hello.get("ready"), hello

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the app process exited (status {self.process.wait()}) instead of answering")
        return json.loads(line)

    def ask(self, command: str) -> dict[str, Any]:
        """Send one command line; return the JSON answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._answer()

    def log(self, first: int, count: int) -> int:
        """Log events ``seq=first..first+count-1``; return how many were accepted."""
        return int(self.ask(f"log {first} {count}")["accepted"])

    def flush(self, seconds: float = 30) -> bool:
        """Return the app's ``flush(seconds)`` result."""
        return bool(self.ask(f"flush {seconds}")["flushed"])

    def stats(self) -> dict[str, Any]:
        """Return the app's spool queue stats."""
        return self.ask("stats")

    def writer_pid(self, timeout: float = 30, other_than: int | None = None) -> int:
        """Return the pid of the app's writer process (waits until it has one, other than ``other_than``)."""
        deadline = time.monotonic() + timeout
        while True:
            pid = self.stats()["writer_pid"]
            if (pid is not None and pid != other_than) or time.monotonic() > deadline:
                assert pid is not None and pid != other_than, "no (new) writer process started"
                return int(pid)
            time.sleep(0.01)

    def kill(self) -> None:
        """kill -9 the app process (its writer is left to notice by itself)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._close_pipes()

    def stop(self, timeout: float = 60) -> int:
        """End the app normally (end of input: it shuts down at exit); return its exit status."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(timeout)
        self._close_pipes()
        return code

    def _close_pipes(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def kill_process(pid: int) -> None:
    """kill -9 ``pid`` and wait until it is gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_until_gone(pid)


def wait_until_gone(pid: int, timeout: float = 60) -> None:
    """Return once ``pid`` no longer runs (reaped or a zombie); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[-1].startswith("Z"):
                    return
        except (FileNotFoundError, ProcessLookupError):  # gone between the open and the read, too
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still runs after {timeout}s")


def stored_seqs(url: str, table: str) -> Counter[int]:
    """Return how often each ``seq`` is stored in ``table`` (every stored row must carry one)."""
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table(table):
            return Counter()
        with engine.connect() as connection:
            contexts = connection.execute(text(f'SELECT context FROM "{table}"')).scalars().all()
    finally:
        engine.dispose()
    seqs: Counter[int] = Counter()
    for context in contexts:
        if isinstance(context, str):
            context = json.loads(context)
        seqs[int(context["seq"])] += 1
    return seqs


def writer_processes(spool_dir: Path) -> set[int]:
    """Return the pids of the running writer processes of ``spool_dir`` (any app process's), read from ``/proc``."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"newlog.spool_writer" not in (proc / "cmdline").read_bytes():
                continue
            environ = dict(
                entry.split(b"=", 1) for entry in (proc / "environ").read_bytes().split(b"\0") if b"=" in entry
            )
        except OSError:  # gone meanwhile
            continue
        config = json.loads(environ.get(b"NEWLOG_SPOOL_WRITER", b"{}"))
        if Path(config.get("dir", "")) == spool_dir:
            found.add(int(proc.name))
    return found


def spool_files(spool_dir: Path) -> list[str]:
    """Return the spool directory's segment files."""
    return sorted(path.name for path in spool_dir.glob("*.spool"))


def wait_for_rows(url: str, table: str, count: int, timeout: float = 90) -> None:
    """Poll the table until ``count`` distinct events are stored (a recovery runs in another process)."""
    deadline = time.monotonic() + timeout
    while len(stored_seqs(url, table)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
