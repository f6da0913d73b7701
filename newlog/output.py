"""Where events are printed: the renderer, the current ``sys.stdout`` and an optional rotating JSON-lines file.

structlog's wrapped logger is a :class:`LineWriter`: every level method writes the
rendered line and flushes (a crash loses no line already logged). The file goes through
the stdlib ``RotatingFileHandler`` so rotation is the one operators know; apps of one
process that name the same ``LOG_FILE`` share one handler. A destination that fails
(closed stdout, full disk) never raises into the code that logged: the failure is counted
in :attr:`Outputs.errors` and reported once on stderr.

The file is rotated by the process that writes it: give each process its own
``LOG_FILE`` (or ship stdout) when several processes log, as gunicorn workers do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

import structlog

from newlog.sanitize import Sanitizer, describe
from newlog.settings import ConfigError

_write_lock = threading.Lock()


def _new_locks_in_child() -> None:
    """A child forked while another thread held a lock would wait for it forever."""
    global _write_lock, _files_lock
    _write_lock = threading.Lock()
    _files_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_locks_in_child)

_files_lock = threading.Lock()
_files: dict[str, tuple[logging.Handler, int]] = {}


def _open_file(path: str, max_bytes: int, backup_count: int) -> logging.Handler:
    """Return the shared rotating handler of ``path`` (opened on first use)."""
    key = os.path.abspath(path)
    with _files_lock:
        handler, users = _files.get(key, (None, 0))
        if handler is None:
            try:
                handler = logging.handlers.RotatingFileHandler(
                    path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
                )
            except OSError as exc:
                raise ConfigError(
                    f"LOG_FILE={path!r} cannot be opened for writing ({exc.strerror or exc}); "
                    "create its directory, fix the permissions or the path, or unset LOG_FILE"
                ) from None
            handler.setFormatter(logging.Formatter("%(message)s"))
        _files[key] = (handler, users + 1)
        return handler


def _close_file(handler: logging.Handler) -> None:
    with _files_lock:
        for key, (known, users) in list(_files.items()):
            if known is handler:
                if users <= 1:
                    del _files[key]
                    handler.close()
                else:
                    _files[key] = (known, users - 1)
                return


class Outputs:
    """One app's destinations: how lines are rendered (``mode``), stdout, and the optional file."""

    def __init__(self, mode: str = "auto") -> None:
        self.mode = mode
        self.stdout = True
        self.stream: TextIO | None = None
        self.file_handler: logging.Handler | None = None
        self.errors = 0

    def set_file(self, path: str | None, max_bytes: int = 0, backup_count: int = 0) -> None:
        """Write JSON lines to ``path`` (rotated at ``max_bytes``, keeping ``backup_count``), or stop."""
        self.close()
        if path:
            self.file_handler = _open_file(path, max_bytes, backup_count)
            self.file_handler.handleError = self._file_error  # type: ignore[method-assign]

    def close(self) -> None:
        """Stop writing to the file (closed when no other app uses it)."""
        if self.file_handler is not None:
            _close_file(self.file_handler)
            self.file_handler = None

    def write(self, name: str, level: str, line: str, json_line: str | None = None) -> None:
        """Write ``line`` to stdout (or ``stream``) and ``json_line`` (default ``line``) to the file, if any."""
        if self.stdout:
            try:
                stream = self.stream if self.stream is not None else sys.stdout
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

OutputsFor = Callable[[], Outputs]


class LineWriter:
    """The logger structlog wraps: one per name; each method writes one rendered line to the current app's outputs."""

    def __init__(self, name: str, outputs_for: OutputsFor) -> None:
        self.name = name
        self._outputs_for = outputs_for

    def _write(self, level: str, line: str, newlog_json: str | None) -> None:
        self._outputs_for().write(self.name, level, line, newlog_json)

    def debug(self, line: str, newlog_json: str | None = None) -> None:
        """Write a DEBUG line."""
        self._write("debug", line, newlog_json)

    def info(self, line: str, newlog_json: str | None = None) -> None:
        """Write an INFO line."""
        self._write("info", line, newlog_json)

    def warning(self, line: str, newlog_json: str | None = None) -> None:
        """Write a WARNING line."""
        self._write("warning", line, newlog_json)

    def error(self, line: str, newlog_json: str | None = None) -> None:
        """Write an ERROR line."""
        self._write("error", line, newlog_json)

    def critical(self, line: str, newlog_json: str | None = None) -> None:
        """Write a CRITICAL line."""
        self._write("critical", line, newlog_json)

    msg = info
    warn = warning
    exception = failure = error
    fatal = critical


class LineWriterFactory:
    """structlog ``logger_factory``: ``get_logger(name)`` -> the :class:`LineWriter` for ``name``."""

    def __init__(self, outputs_for: OutputsFor) -> None:
        self.outputs_for = outputs_for
        self._writers: dict[str, LineWriter] = {}

    def __call__(self, name: Any = None, *args: Any) -> LineWriter:
        key = str(name) if name is not None else ""
        writer = self._writers.get(key)
        if writer is None:
            writer = self._writers.setdefault(key, LineWriter(key, self.outputs_for))
        return writer


class Renderer:
    """The last processor: console lines on a TTY, JSON lines otherwise (the file always gets JSON); never raises."""

    def __init__(self, outputs_for: OutputsFor) -> None:
        self.outputs_for = outputs_for
        self._json = structlog.processors.JSONRenderer(default=describe, allow_nan=False)
        self._console: Any = None

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> Any:
        outputs = self.outputs_for()
        stamp = event_dict.get("timestamp")
        if isinstance(stamp, dt.datetime):
            event_dict["timestamp"] = iso_utc(stamp)
        renderer = self._pick(outputs.mode)
        if outputs.file_handler is not None and renderer is not self._json:
            json_line = self._render(self._json, logger, method_name, event_dict)  # first: the console pops keys
            return (self._render(renderer, logger, method_name, event_dict),), {"newlog_json": json_line}
        return self._render(renderer, logger, method_name, event_dict)

    @staticmethod
    def _render(renderer: Any, logger: Any, method_name: str, event_dict: dict[str, Any]) -> str:
        try:
            return renderer(logger, method_name, event_dict)
        except Exception:  # noqa: BLE001 - e.g. an app processor after ours added a hostile value
            try:
                return json.dumps(Sanitizer().clean(event_dict), allow_nan=False)
            except Exception:  # noqa: BLE001 - nothing left to try
                return '{"event": "newlog: unrenderable event"}'

    def _pick(self, mode: str) -> Any:
        if mode == "json" or (mode == "auto" and not _isatty()):
            return self._json
        if self._console is None:
            self._console = structlog.dev.ConsoleRenderer(colors=_isatty())
        return self._console


def iso_utc(stamp: dt.datetime) -> str:
    """Return ``stamp`` as ISO 8601 in UTC with a ``Z`` suffix (how timestamps are printed)."""
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return stamp.isoformat() + "Z"


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
