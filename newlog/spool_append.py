"""``SegmentAppender``: append spool lines to this process's segment through a shared memory map.

Why a map and not ``os.write()``: a ``write()`` releases the GIL, and a thread that logs back
to back then queues for the GIL behind the other threads at every event. Measured in the
burst regime of ``benchmarks/bench_pipeline.py`` (SQLite, 2 cores): the foreground p99 was
3.5x the floor with one ``write()`` per event and 1.3x with the write left out, all else
equal. Copying a line into a ``MAP_SHARED`` mapping of the segment file is a memory copy made
while the GIL is held: no system call in the common case. The mapped pages are the file's
page cache, so the bytes outlive a ``kill -9`` of the process exactly as written bytes do
(neither survives a machine crash without ``fsync``).

A segment is a file of ``window`` bytes: lines are appended from offset 0 and the rest reads
as NUL bytes, which no line holds (lines are JSON), so the writer process reads up to the
first NUL. The whole window's disk blocks are reserved when the segment is made
(``posix_fallocate``): a full disk fails the reservation (the caller drops and counts the
event) and never turns into a ``SIGBUS`` on a page fault. Reserving in small steps instead
was measured to cost the burst regime's foreground p99 (a reservation waits for the file
system's journal while the writer process commits): 2.8 ms against 1.7 ms. A line that does
not fit opens the owner's next segment (``seq + 1``, the reservation is paid there, once per
window) and unmaps the full one; a newer segment tells the writer process that the older one
is complete (see :mod:`newlog.spool_files`), which removes it once it is delivered.

Not thread-safe: the caller holds its lock around :meth:`append` (the copy is short and never
releases the GIL, so holding the lock costs the other threads nothing extra).
"""

from __future__ import annotations

import errno
import mmap
import os
from pathlib import Path

from newlog.spool_files import Segment

SEGMENT_WINDOW = 16 * 1024 * 1024
"""Bytes of one segment: disk space reserved per app process while it logs, and the mapping's size."""


class SegmentAppender:
    """Append lines to ``<key>.<owner>.<seq>.spool`` segments in ``directory``, starting at seq 0."""

    def __init__(
        self,
        directory: Path,
        key: str,
        owner: str,
        *,
        window: int = SEGMENT_WINDOW,
    ) -> None:
        self.directory = directory
        self.key = key
        self.owner = owner
        self.window = _pages(window)
        self.seq = -1
        self.fd = -1
        self.map: mmap.mmap | None = None
        self.size = 0
        self.pos = 0
        self._open(0, self.window)

    def _open(self, seq: int, size: int) -> None:
        """Make segment ``seq`` of ``size`` bytes (blocks reserved) and map it; if that fails the current one stays."""
        path = self.directory / Segment(self.key, self.owner, seq).name
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            reserve(fd, size)
            mapping = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)  # empty: a later attempt makes it again
            raise
        self.close()
        self.seq, self.fd, self.map, self.size = seq, fd, mapping, size
        self.pos = 0

    def append(self, line: bytes) -> None:
        """Append ``line`` whole; raise OSError (nothing of it written) when no segment has room for it."""
        mapping = self.map
        if mapping is None:
            raise OSError("the spool segment is closed")
        end = self.pos + len(line)
        if end > self.size:
            self._open(self.seq + 1, max(self.window, _pages(len(line))))
            mapping = self.map
            assert mapping is not None
            end = len(line)
        mapping[self.pos : end] = line
        self.pos = end

    def close(self) -> None:
        """Unmap and close the current segment (what was appended stays in the file for the writer).

        Idempotent; :meth:`append` raises OSError from then on (until :meth:`_open` maps the next one).
        """
        mapping, fd = self.map, self.fd
        self.map, self.fd = None, -1
        if mapping is not None:
            mapping.close()
        if fd >= 0:
            os.close(fd)


def reserve(fd: int, size: int) -> None:
    """Give the file behind ``fd`` ``size`` bytes of allocated disk blocks; raise OSError (ENOSPC) when it cannot.

    ``posix_fallocate`` where the platform has it (Linux, FreeBSD); elsewhere (macOS), or on a
    file system that refuses it, the blocks are allocated by writing zeros.
    """
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is not None:
        try:
            fallocate(fd, 0, size)
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
    chunk = bytes(min(size, 1024 * 1024))
    offset = 0
    while offset < size:
        offset += os.pwrite(fd, chunk[: size - offset], offset)


def _pages(size: int) -> int:
    """Round ``size`` up to whole pages (at least one)."""
    page = mmap.PAGESIZE
    return max(page, -(-size // page) * page)
