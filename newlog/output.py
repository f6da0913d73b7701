"""Where rendered log lines go: the current ``sys.stdout``, and optionally a rotating JSON-lines file.

structlog's wrapped logger is a :class:`LineWriter`: every level method writes the
rendered line and flushes (a crash loses no line already logged). The file goes through
the stdlib ``RotatingFileHandler`` so rotation is the one operators know.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from typing import Any

_write_lock = threading.Lock()


class Outputs:
    """The shared destinations of every :class:`LineWriter`."""

    def __init__(self) -> None:
        self.stdout = True
        self.file_handler: logging.Handler | None = None

    def set_file(self, path: str | None, max_bytes: int = 0, backup_count: int = 0) -> None:
        """Write JSON lines to ``path`` (rotated at ``max_bytes``, keeping ``backup_count``), or stop."""
        if self.file_handler is not None:
            self.file_handler.close()
            self.file_handler = None
        if path:
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
            )
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.file_handler = handler

    def write(self, name: str, level: str, line: str, json_line: str | None = None) -> None:
        """Write ``line`` to stdout and ``json_line`` (default ``line``) to the file, if any."""
        if self.stdout:
            stream = sys.stdout
            with _write_lock:
                stream.write(line + "\n")
                stream.flush()
        handler = self.file_handler
        if handler is not None:
            record = logging.LogRecord(name, _LEVELS.get(level, logging.INFO), "", 0, json_line or line, None, None)
            handler.handle(record)


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}


class LineWriter:
    """The logger structlog wraps: one per name; each method writes one rendered line."""

    def __init__(self, name: str, outputs: Outputs) -> None:
        self.name = name
        self._outputs = outputs

    def _writer(level: str) -> Any:  # noqa: N805 - builds the methods below
        def write(self: LineWriter, line: str, newlog_json: str | None = None) -> None:
            self._outputs.write(self.name, level, line, newlog_json)

        write.__name__ = level
        return write

    msg = _writer("info")
    debug = _writer("debug")
    info = _writer("info")
    warning = _writer("warning")
    warn = _writer("warning")
    error = _writer("error")
    exception = _writer("error")
    critical = _writer("critical")
    fatal = _writer("critical")
    failure = _writer("error")
    del _writer


class LineWriterFactory:
    """structlog ``logger_factory``: ``get_logger(name)`` -> the :class:`LineWriter` for ``name``."""

    def __init__(self, outputs: Outputs) -> None:
        self.outputs = outputs
        self._writers: dict[str, LineWriter] = {}

    def __call__(self, name: Any = None, *args: Any) -> LineWriter:
        key = str(name) if name is not None else ""
        writer = self._writers.get(key)
        if writer is None:
            writer = self._writers.setdefault(key, LineWriter(key, self.outputs))
        return writer
