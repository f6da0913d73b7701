"""Where events are printed: the console, newlog's own rotating JSON-lines files, and stdlib logging.

The destinations of one app (:class:`Outputs`), each with its own level:

- the console: the current ``sys.stdout``, rendered as ``LOG_RENDERER`` says, events at or
  above ``LOG_CONSOLE_LEVEL`` (``OFF``: none);
- ``LOG_FILE``: JSON lines of the events at or above ``LOG_FILE_LEVEL``;
- ``LOG_ERROR_FILE``: JSON lines of the ERROR and CRITICAL events only;
- stdlib logging (``LOG_STDLIB``, on by default): the JSON line is handed to the stdlib
  logger of the event's logger name (``logging.getLogger("api")``) when that logger or an
  ancestor has handlers, as the legacy module's ``structlog.stdlib.LoggerFactory`` did. The
  app's own handlers (a ``RotatingFileHandler`` on the root logger, say) get every event once,
  with their own levels and format. A logger without handlers is skipped, so stdlib's
  last-resort handler never prints a second copy of a line.

Both files rotate through the stdlib ``RotatingFileHandler`` (``LOG_FILE_MAX_BYTES``,
``LOG_FILE_BACKUP_COUNT``); apps of one process that name the same file share one handler.
newlog never opens a file that a stdlib handler of the application already writes (the
app's ``LOG_FILE`` is also newlog's setting of that name): such a file keeps its one handler
and receives newlog's events through stdlib logging. A handler the app attaches after
``init_app`` is noticed when the root logger's handlers change; newlog then closes its own.
A file whose directory does not exist yet when ``init_app`` runs (the app's own logging set-up
creates it later) is opened at its first line, or left to the app's handler by then.

A destination that fails (closed stdout, full disk) never raises into the code that
logged: the failure is counted in :attr:`Outputs.errors` and reported once on stderr.

Files are rotated by the process that writes them: give each process its own file (or
ship stdout) when several processes log, as gunicorn workers do.
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
from typing import TYPE_CHECKING, Any, TextIO

import structlog

from newlog.sanitize import Sanitizer, describe
from newlog.settings import LEVEL_NUMBERS, ConfigError

if TYPE_CHECKING:
    from newlog.settings import Settings

_write_lock = threading.Lock()
_stdlib_log = logging.getLogger("newlog")


def _new_locks_in_child() -> None:
    """A child forked while another thread held a lock would wait for it forever."""
    global _write_lock, _files_lock
    _write_lock = threading.Lock()
    _files_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_locks_in_child)

_files_lock = threading.Lock()
_files: dict[str, tuple[logging.Handler, int]] = {}


def _open_file(setting: str, path: str, max_bytes: int, backup_count: int) -> logging.Handler:
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
                    f"{setting}={path!r} cannot be opened for writing ({exc.strerror or exc}); "
                    f"create its directory, fix the permissions or the path, or unset {setting}"
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


def app_file_handler(path: str) -> logging.Handler | None:
    """Return a stdlib handler of the process that writes ``path`` and that newlog did not open, else None."""
    target = os.path.realpath(path)
    with _files_lock:
        own = {id(handler) for handler, _ in _files.values()}
    loggers = [logging.root, *[each for each in list(logging.Logger.manager.loggerDict.values()) if isinstance(each, logging.Logger)]]
    for logger in loggers:
        for handler in list(logger.handlers):
            written = getattr(handler, "baseFilename", None)
            if id(handler) not in own and isinstance(written, str) and os.path.realpath(written) == target:
                return handler
    return None


class _File:
    """One of newlog's own files: its setting, path, level and (unless the app writes the file) its handler.

    A file whose directory does not exist yet is ``pending``: the app's own logging set-up
    may create it (and its handler) after ``init_app``; it is opened at its first line.
    """

    def __init__(self, setting: str, path: str, level: int, max_bytes: int, backup_count: int) -> None:
        self.setting = setting
        self.path = path
        self.level = level
        self.rotation = (max_bytes, backup_count)
        self.handler: logging.Handler | None = None
        self.app_handler = app_file_handler(path)
        self.pending = self.app_handler is None and not os.path.isdir(os.path.dirname(os.path.abspath(path)))
        if self.app_handler is None and not self.pending:
            self.handler = _open_file(setting, path, max_bytes, backup_count)

    def open_pending(self) -> None:
        """Open a pending file now (unless the app's own handler writes it by now); raise ConfigError if it cannot be."""
        self.pending = False
        self.app_handler = app_file_handler(self.path)
        if self.app_handler is None:
            self.handler = _open_file(self.setting, self.path, *self.rotation)


class Outputs:
    """One app's destinations: the console (``mode``, ``console_level``), newlog's files, stdlib logging (``forward``)."""

    def __init__(self, mode: str = "auto", *, console_level: str = "DEBUG", forward: bool = True) -> None:
        self.mode = mode
        self.console_level: int | None = None if console_level == "OFF" else LEVEL_NUMBERS[console_level]
        self.forward = forward
        self.legacy_stdlib = False
        """True: like the legacy chain, stdout gets nothing and stdlib logging every event, also a logger
        without handlers (stdlib's last-resort handler prints WARNING and above on stderr, as before)."""
        self.stream: TextIO | None = None
        self.files: list[_File] = []
        self.errors = 0
        self._root_handlers = len(logging.root.handlers)

    @classmethod
    def from_settings(cls, settings: Settings) -> Outputs:
        """Return the outputs ``settings`` describe, without opening any file (see :meth:`open_files`)."""
        return cls(settings.LOG_RENDERER, console_level=settings.LOG_CONSOLE_LEVEL, forward=settings.LOG_STDLIB)

    def open_files(self, settings: Settings) -> None:
        """Open ``LOG_FILE`` and ``LOG_ERROR_FILE`` unless the app's own logging writes them; raise ConfigError if one cannot be opened."""
        self.close()
        wanted = [
            ("LOG_FILE", settings.LOG_FILE, LEVEL_NUMBERS[settings.LOG_FILE_LEVEL]),
            ("LOG_ERROR_FILE", settings.LOG_ERROR_FILE, logging.ERROR),
        ]
        paths = [os.path.realpath(path) for _, path, _ in wanted if path]
        if len(paths) != len(set(paths)):
            raise ConfigError(
                f"LOG_ERROR_FILE={settings.LOG_ERROR_FILE!r} is the same file as LOG_FILE={settings.LOG_FILE!r}; "
                "the errors file holds ERROR and CRITICAL events only: give it a path of its own"
            )
        self._root_handlers = len(logging.root.handlers)
        try:
            for setting, path, level in wanted:
                if path:
                    self.files.append(
                        _File(setting, path, level, settings.LOG_FILE_MAX_BYTES, settings.LOG_FILE_BACKUP_COUNT)
                    )
        except BaseException:
            self.close()
            raise
        for file in self.files:
            if file.handler is not None:
                file.handler.handleError = self._file_error(file.setting)  # type: ignore[method-assign]
            elif not self.forward and not file.pending:
                _stdlib_log.warning(
                    "newlog: %s=%r is written by the application's own logging handler (%r), so newlog does not "
                    "open it, and LOG_STDLIB is off: newlog's events will not reach that file; turn LOG_STDLIB on "
                    "or give %s a path of its own",
                    file.setting,
                    file.path,
                    file.app_handler,
                    file.setting,
                )

    @property
    def file_handler(self) -> logging.Handler | None:
        """Return newlog's own handler of ``LOG_FILE`` (None when unset or written by the app's own handler)."""
        for file in self.files:
            if file.setting == "LOG_FILE":
                return file.handler
        return None

    def use_legacy_stdlib(self) -> None:
        """Print nothing on stdout and hand every event to stdlib logging, as the legacy module's chain did."""
        self.console_level = None
        self.legacy_stdlib = True

    def close(self) -> None:
        """Stop writing to newlog's files (each is closed when no other app uses it)."""
        for file in self.files:
            if file.handler is not None:
                _close_file(file.handler)
        self.files = []

    def wants_json(self, level: int) -> bool:
        """Return True when an event at ``level`` goes to one of newlog's files."""
        return any((file.handler is not None or file.pending) and level >= file.level for file in self.files)

    def write(self, name: str, level: int, line: str, json_line: str | None = None) -> None:
        """Write ``line`` to the console and ``json_line`` (default ``line``) to the files, each at its level."""
        if self.console_level is not None and level >= self.console_level:
            try:
                stream = self.stream if self.stream is not None else sys.stdout
                with _write_lock:
                    stream.write(line + "\n")
                    stream.flush()
            except Exception as exc:  # noqa: BLE001 - logging must never break the caller
                self._failed("stdout", exc)
        if not self.files:
            return
        if len(logging.root.handlers) != self._root_handlers:
            self._give_files_to_the_app()
        for file in self.files:
            if file.pending and level >= file.level:
                self._open_pending(file)
            handler = file.handler
            if handler is not None and level >= file.level:
                record = logging.LogRecord(name, level, "", 0, json_line or line, None, None)
                try:
                    handler.handle(record)
                except Exception as exc:  # noqa: BLE001 - a filter of the handler raised
                    self._failed(file.setting, exc)

    def _open_pending(self, file: _File) -> None:
        try:
            file.open_pending()
        except ConfigError as exc:
            self.errors += 1
            _note(f"newlog: {exc} (its lines are not written; the other destinations still get every event)")
            return
        if file.handler is not None:
            file.handler.handleError = self._file_error(file.setting)  # type: ignore[method-assign]

    def _give_files_to_the_app(self) -> None:
        """The root logger's handlers changed: stop writing a file that the app's own handler now writes."""
        self._root_handlers = len(logging.root.handlers)
        for file in self.files:
            if file.handler is None:
                continue
            taken = app_file_handler(file.path)
            if taken is not None:
                own, file.handler, file.app_handler = file.handler, None, taken
                _close_file(own)
                _note(
                    f"newlog: {file.setting}={file.path!r} is now also written by the application's handler {taken!r}; "
                    "newlog closed its own handler of that file (one handler per file): its events reach the file "
                    "through stdlib logging" + ("" if self.forward else ", but LOG_STDLIB is off")
                )

    def _file_error(self, setting: str) -> Callable[[logging.LogRecord], None]:
        def failed(record: logging.LogRecord) -> None:
            self._failed(setting, sys.exc_info()[1])

        return failed

    def _failed(self, where: str, exc: BaseException | None) -> None:
        self.errors += 1
        if self.errors == 1:
            _note(f"newlog: cannot write log lines to {where}: {exc!r} (further failures are only counted)")


def _note(text: str) -> None:
    try:
        sys.__stderr__.write(text + "\n")
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
    """The logger structlog wraps, one per name: it writes each rendered line to the current app's outputs.

    It also hands the JSON line to the stdlib logger of the same name (``stdlib``) when
    that logger has handlers and ``LOG_STDLIB`` is on. Every other attribute is the stdlib
    logger's (``isEnabledFor``, ``getEffectiveLevel``, ``setLevel``, ``handlers`` ...), so
    :class:`structlog.stdlib.BoundLogger` wraps it as it wraps a ``logging.Logger``.
    """

    def __init__(self, name: str, outputs_for: OutputsFor) -> None:
        self.name = name
        self.stdlib = logging.getLogger(name)
        self._outputs_for = outputs_for

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "stdlib":  # not set yet (a copy being built): no endless lookup
            raise AttributeError(attribute)
        return getattr(self.stdlib, attribute)

    def forwards(self, outputs: Outputs) -> bool:
        """Return True when lines go to the stdlib logger too (``LOG_STDLIB`` on and a handler to reach, or legacy mode)."""
        return outputs.forward and (outputs.legacy_stdlib or self.stdlib.hasHandlers())

    def _write(self, method: str, line: str, newlog_json: str | None) -> None:
        outputs = self._outputs_for()
        outputs.write(self.name, _LEVELS[method], line, newlog_json)
        if self.forwards(outputs):
            try:
                getattr(self.stdlib, method)(newlog_json or line)
            except Exception as exc:  # noqa: BLE001 - e.g. a filter of the app raised
                outputs._failed("stdlib logging", exc)

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

    def exception(self, line: str, newlog_json: str | None = None) -> None:
        """Write an ERROR line; the stdlib logger gets it through ``exception`` (with the exception being handled)."""
        self._write("exception", line, newlog_json)

    def critical(self, line: str, newlog_json: str | None = None) -> None:
        """Write a CRITICAL line."""
        self._write("critical", line, newlog_json)

    msg = info
    warn = warning
    failure = error
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
    """The last processor: console lines on a TTY, JSON lines otherwise (files and stdlib logging always get JSON); never raises."""

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
        if renderer is not self._json and self._json_wanted(outputs, logger, method_name):
            json_line = self._render(self._json, logger, method_name, event_dict)  # first: the console pops keys
            return (self._render(renderer, logger, method_name, event_dict),), {"newlog_json": json_line}
        return self._render(renderer, logger, method_name, event_dict)

    @staticmethod
    def _json_wanted(outputs: Outputs, logger: Any, method_name: str) -> bool:
        forwards = getattr(logger, "forwards", None)
        return outputs.wants_json(_LEVELS.get(method_name, logging.INFO)) or (forwards is not None and forwards(outputs))

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
