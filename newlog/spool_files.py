"""The spool directory's files, shared by the app process (:mod:`newlog.spool`) and the writer process.

Layout of ``LOG_SPOOL_DIR``, for one target (a database URL and a log table, hashed into ``key``):

- ``<key>.<owner>.<seq>.spool``: a segment, one serialized row per line, appended to by one
  app process (the ``owner``: host, pid and start time). Only the owner writes to it, through
  a shared memory map (:mod:`newlog.spool_append`): the file is pre-sized (its blocks
  reserved) and filled with NUL bytes, so what follows the last line reads as NUL bytes. The writer frees delivered bytes in place (hole
  punching); when a segment's window is full the owner goes on in ``seq + 1``, and a newer
  ``seq`` of the same owner marks the older one complete.
- ``<key>.<owner>.owner``: the owner's liveness lock. The owner holds an exclusive
  ``flock`` on it while it lives; when the process dies, for any reason, the kernel
  releases it, and any writer process may deliver (adopt) what is left of its segments.
- ``<key>.rejected``: rows the database refused (one JSON line each, with the error).

The directory must be local to the host (``flock`` is not reliable on network file systems).
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import socket
import time
from pathlib import Path

STALE_SECONDS = 10.0
"""A writer that has not reported for this long is stale (it reports every second)."""

RESTART_STATUS = 75
"""The writer's exit status after an ``R`` (see :mod:`newlog.spool_writer`): start it again at once, with the new config.

Here, not in the writer's module, so that the app process does not import that module (run as
``python -m newlog.spool_writer``, it would then be imported twice in the writer process).
"""

SEGMENT_SUFFIX = ".spool"
OWNER_SUFFIX = ".owner"
REJECTED_SUFFIX = ".rejected"


def target_key(url: str, table: str) -> str:
    """Return the short key of one target (database URL without password, table name)."""
    return hashlib.sha256(f"{url}\n{table}".encode()).hexdigest()[:12]


def new_owner() -> str:
    """Return a name for the calling process, unique on this host: ``<host>-<pid>-<start ns>``."""
    host = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}-{time.time_ns()}"


@dataclasses.dataclass(frozen=True, order=True)
class Segment:
    """One segment file: ``<key>.<owner>.<seq>.spool``."""

    key: str
    owner: str
    seq: int

    @property
    def name(self) -> str:
        """Return the file name (also the segment's id in the progress table)."""
        return f"{self.key}.{self.owner}.{self.seq:08d}{SEGMENT_SUFFIX}"

    @classmethod
    def parse(cls, name: str) -> Segment | None:
        """Return the segment a file name describes, or None for any other file."""
        if not name.endswith(SEGMENT_SUFFIX):
            return None
        parts = name[: -len(SEGMENT_SUFFIX)].split(".")
        if len(parts) != 3 or not parts[2].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]))


def owner_lock_path(directory: Path, key: str, owner: str) -> Path:
    """Return the path of an owner's liveness lock file."""
    return directory / f"{key}.{owner}{OWNER_SUFFIX}"


def segments(directory: Path, key: str) -> list[Segment]:
    """Return the segments of ``key`` in ``directory``, by owner and seq."""
    found = []
    for entry in os.scandir(directory):
        segment = Segment.parse(entry.name)
        if segment is not None and segment.key == key:
            found.append(segment)
    return sorted(found)


def hold_owner_lock(path: Path) -> int:
    """Create ``path`` and hold an exclusive ``flock`` on it; return the fd (closing it releases the lock)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(fd)
        raise
    return fd


def owner_alive(directory: Path, key: str, owner: str) -> bool:
    """Return True while the owner process holds its lock (False once it died or exited)."""
    try:
        fd = os.open(owner_lock_path(directory, key, owner), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def open_spool_dir(path: str | os.PathLike[str]) -> Path:
    """Create the spool directory if needed (mode 0700: rows may hold personal data); return it."""
    directory = Path(path)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory

