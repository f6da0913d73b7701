"""Heartbeats: each running worker publishes its counters in a small JSON file another process can read.

One file per process and app (``<host>-<pid>-<app>.json``) in the app's health directory
(``LOG_HEALTH_DIR``, default ``<tempdir>/newlog-health-<uid>/<app key>``), rewritten
atomically every ``LOG_HEARTBEAT_INTERVAL`` seconds by the worker thread and removed at a
clean shutdown. ``flask newlog-health`` reads them (:func:`read_heartbeats`) and judges
them (:func:`assess`): a process that is gone without removing its file is *dead*, a file
not refreshed for three intervals is *stale* (the worker is stuck or gone), drops since the
previous heartbeat are *dropping*. Files are local to the host: run the command on the
host (or in the container) of the app, as the app's user, or point ``LOG_HEALTH_DIR`` at a
shared directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

HOST = socket.gethostname()
STALE_AFTER = 3
"""A heartbeat older than this many intervals is stale."""
NOT_DELIVERING_AFTER = 30.0
"""A spool writer whose every try has failed this long (seconds) is not delivering: nothing is
dropped (the rows wait in the spool), so without this the heartbeat would look healthy."""
FORGET_DEAD_AFTER = 24 * 3600
"""Files of dead processes older than this (seconds) are removed when read."""


def default_directory(app_key: str) -> Path:
    """Return ``<tempdir>/newlog-health-<uid>/<hash of app_key>``: the same for the app's servers and its CLI."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(app_key.encode("utf-8", "backslashreplace")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"newlog-health-{uid}" / digest


class HeartbeatFile:
    """Publishes one process's worker stats to ``directory`` (the worker thread calls it)."""

    def __init__(
        self, directory: str | os.PathLike[str], app_name: str, interval: float, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = Path(directory)
        self.app_name = app_name
        self.interval = interval
        self.wall_clock = wall_clock
        self.started_at = wall_clock()
        self._previous_drops: int | None = None
        self._failed = False

    @property
    def path(self) -> Path:
        """Return this process's heartbeat file (the pid is read at call time: a forked child has its own)."""
        safe_name = "".join(char if char.isalnum() or char in "._-" else "_" for char in self.app_name)[:60]
        return self.directory / f"{HOST}-{os.getpid()}-{safe_name}.json"

    def publish(self, stats: Mapping[str, Any]) -> None:
        """Write ``stats`` with pid, host, app, time and the drops since the previous heartbeat; never raises."""
        drops = int(stats.get("dropped_overflow", 0)) + int(stats.get("dropped_failed", 0))
        recent = 0 if self._previous_drops is None else max(0, drops - self._previous_drops)
        self._previous_drops = drops
        record = {
            **stats,
            "pid": os.getpid(),
            "host": HOST,
            "app": self.app_name,
            "started_at": self.started_at,
            "updated_at": self.wall_clock(),
            "interval": self.interval,
            "dropped_since_last_heartbeat": recent,
        }
        path = self.path
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(record, default=str), encoding="utf-8")
            os.replace(temporary, path)
            self._failed = False
        except OSError as exc:
            if not self._failed:  # once per run of failures: the directory may be read-only
                self._failed = True
                logging.getLogger("newlog").warning(
                    "newlog: cannot write the heartbeat file %s (%s); set LOG_HEALTH_DIR to a writable directory",
                    path,
                    exc.strerror or exc,
                )

    def remove(self) -> None:
        """Remove this process's heartbeat file (at a clean shutdown)."""
        try:
            self.path.unlink()
        except OSError:
            pass


def read_heartbeats(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Return the heartbeats in ``directory`` (unreadable or half-written files are skipped)."""
    found = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            record["file"] = str(path)
            found.append(record)
    return found


def pid_alive(pid: int) -> bool:
    """Return True when a process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def assess(heartbeat: Mapping[str, Any], now: float | None = None) -> list[str]:
    """Return what is wrong with one worker's heartbeat (empty: healthy).

    ``dead``: its process is gone (same host) and did not shut down cleanly; ``stale``: not
    refreshed for ``STALE_AFTER`` intervals; ``dropping``: events were dropped since its
    previous heartbeat; ``not alive``: the worker thread was not running when it wrote;
    ``not delivering``: a spool writer has failed every try for ``NOT_DELIVERING_AFTER``.
    """
    now = time.time() if now is None else now
    problems = []
    pid = heartbeat.get("pid")
    if heartbeat.get("host") == HOST and isinstance(pid, int) and not pid_alive(pid):
        return [f"dead: process {pid} is gone without a clean shutdown (its queued events are lost)"]
    age = now - float(heartbeat.get("updated_at") or 0)
    interval = float(heartbeat.get("interval") or 10)
    if age > STALE_AFTER * interval:
        problems.append(f"stale: last heartbeat {age:.0f}s ago (every {interval:g}s expected): the worker is stuck or gone")
    if not heartbeat.get("alive", True) and not heartbeat.get("closed"):
        problems.append("not alive: the worker thread was not running")
    failing = heartbeat.get("writer_failing_seconds")
    if isinstance(failing, (int, float)) and failing >= NOT_DELIVERING_AFTER:
        problems.append(
            f"not delivering: every try of the spool writer has failed for {failing:.0f}s "
            f"({heartbeat.get('last_error')}); {heartbeat.get('spool_bytes_pending')} bytes wait in the spool"
        )
    recent = int(heartbeat.get("dropped_since_last_heartbeat") or 0)
    if recent:
        problems.append(f"dropping: {recent} event(s) dropped in the last {interval:g}s")
    return problems


def forget_dead(heartbeat: Mapping[str, Any], now: float | None = None) -> bool:
    """Remove the file of a dead process older than ``FORGET_DEAD_AFTER``; return True if removed."""
    now = time.time() if now is None else now
    pid = heartbeat.get("pid")
    old = now - float(heartbeat.get("updated_at") or 0) > FORGET_DEAD_AFTER
    if heartbeat.get("host") == HOST and isinstance(pid, int) and old and not pid_alive(pid):
        try:
            Path(str(heartbeat["file"])).unlink()
        except (OSError, KeyError):
            return False
        return True
    return False
