"""Where rendered log lines go: the current ``sys.stdout``, and optionally a rotating JSON-lines file.

structlog's wrapped logger is a :class:`LineWriter`: every level method writes the
rendered line and flushes (a crash loses no line already logged). The file goes through
the stdlib ``RotatingFileHandler`` so rotation is the one operators know. A destination
that fails (closed stdout, full disk) never raises into the code that logged: the
failure is counted in :attr:`Outputs.errors` and reported once on stderr.

The file is rotated by the process that writes it: give each process its own
``LOG_FILE`` (or ship stdout) when several processes log, as gunicorn workers do.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from typing import Any

from newlog.settings import ConfigError

_write_lock = threading.Lock()


def _new_write_lock_in_child() -> None:
    """A child forked while another thread held the lock would wait for it forever."""
    global _write_lock
    _write_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_write_lock_in_child)


class Outputs:
    """The shared destinations of every :class:`LineWriter`."""

    def __init__(self) -> None:
        self.stdout = True
        self.file_handler: logging.Handler | None = None
        self.errors = 0

    def set_file(self, path: str | None, max_bytes: int = 0, backup_count: int = 0) -> None:
        """Write JSON lines to ``path`` (rotated at ``max_bytes``, keeping ``backup_count``), or stop."""
        if self.file_handler is not None:
            self.file_handler.close()
            self.file_handler = None
        if path:
            try:
                handler = logging.handlers.RotatingFileHandler(
                    path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
                )
            except OSError as exc:
                raise ConfigError(
                    f"LOG_FILE={path!r} cannot be opened for writing ({exc.strerror or exc}); "
                    "create its directory, fix the permissions or the path, or unset LOG_FILE"
                ) from None
            handler.handleError = self._file_error  # type: ignore[method-assign]
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.file_handler = handler

    def write(self, name: str, level: str, line: str, json_line: str | None = None) -> None:
        """Write ``line`` to stdout and ``json_line`` (default ``line``) to the file, if any."""
        if self.stdout:
            try:
                stream = sys.stdout
                with _write_lock:
                    stream.write(line + "\n")
                    stream.flush()
            except Exception as exc:  # noqa: BLE001 - logging must never break the caller
                self._failed("stdout", exc)
        handler = self.file_handler
        if handler is not None:
            record = logging.LogRecord(name, _LEVELS.get(level, logging.INFO), "", 0, json_line or line, None, None)
            handler.handle(record)

    def _file_error(self, record: logging.LogRecord) -> None:
        self._failed("LOG_FILE", sys.exc_info()[1])

    def _failed(self, where: str, exc: BaseException | None) -> None:
        self.errors += 1
        if self.errors == 1:
            try:
                sys.__stderr__.write(
                    f"newlog: cannot write log lines to {where}: {exc!r} (further failures are only counted)\n"
                )
            except Exception:  # noqa: BLE001 - stderr is gone too
                pass


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
