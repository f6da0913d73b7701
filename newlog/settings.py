"""newlog settings: read from ``app.config``, else environment variables of the same name, else defaults.

Only newlog's own keys are read and validated; a wrong value raises :class:`ConfigError`
naming the key, the value and where it came from. Any other key is the app's business:
it never raises; a key in ``app.config`` that looks like a misspelt newlog setting
(``LOG_BACH_SIZE``) gets one warning on the ``newlog`` logger. From the environment only
newlog's own keys are read (the environment is never scanned).
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from newlog.sanitize import DEFAULT_WORDS

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LEVEL_NUMBERS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
"""The level names newlog stores, with the stdlib ``logging`` numbers."""
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A newlog setting has a wrong value, or a key looks like a misspelt setting."""


def _positive_int(key: str, value: Any, origin: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} (from {origin}) must be a whole number > 0, not a boolean")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ConfigError(f"{key}={value!r} (from {origin}) is not a whole number") from None
    if number <= 0:
        raise ConfigError(f"{key}={value!r} (from {origin}) must be > 0")
    return number


def _positive_float(key: str, value: Any, origin: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} (from {origin}) must be a number of seconds > 0, not a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={value!r} (from {origin}) is not a number") from None
    if not number > 0 or number == float("inf"):
        raise ConfigError(f"{key}={value!r} (from {origin}) must be a finite number > 0")
    return number


def _boolean(key: str, value: Any, origin: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(
        f"{key}={value!r} (from {origin}) is not a boolean; use one of "
        f"{sorted(_TRUE)} or {sorted(_FALSE - {''})}"
    )


def _level(key: str, value: Any, origin: str) -> str:
    text = str(value).strip().upper()
    if text == "WARN":
        text = "WARNING"
    if text not in LEVELS:
        raise ConfigError(f"{key}={value!r} (from {origin}) is not a log level; use one of {', '.join(LEVELS)}")
    return text


def _level_or_off(key: str, value: Any, origin: str) -> str:
    if str(value).strip().upper() == "OFF":
        return "OFF"
    try:
        return _level(key, value, origin)
    except ConfigError:
        raise ConfigError(
            f"{key}={value!r} (from {origin}) is not a log level; use one of {', '.join(LEVELS)} or OFF"
        ) from None


def _create_table(key: str, value: Any, origin: str) -> str:
    if str(value).strip().lower() == "auto":
        return "auto"
    try:
        return "true" if _boolean(key, value, origin) else "false"
    except ConfigError:
        raise ConfigError(f"{key}={value!r} (from {origin}) must be auto, true or false") from None


def _name(key: str, value: Any, origin: str) -> str:
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{key}={value!r} (from {origin}) must not be empty")
    return text


def _optional_path(key: str, value: Any, origin: str) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _key_list(key: str, value: Any, origin: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    try:
        return tuple(str(item).strip().lower() for item in items if str(item).strip())
    except TypeError:
        raise ConfigError(f"{key}={value!r} (from {origin}) must be a list or a comma-separated string") from None


def _share(key: str, value: Any, origin: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} (from {origin}) must be a share between 0 and 0.9, not a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={value!r} (from {origin}) is not a number") from None
    if not 0 <= number <= 0.9:
        raise ConfigError(f"{key}={value!r} (from {origin}) must be a share between 0 and 0.9 (e.g. 0.1 for 10%)")
    return number


def _renderer(key: str, value: Any, origin: str) -> str:
    text = str(value).strip().lower()
    if text not in {"auto", "json", "console"}:
        raise ConfigError(f"{key}={value!r} (from {origin}) must be one of auto, json, console")
    return text


Parser = Callable[[str, Any, str], Any]


@dataclass(frozen=True)
class Settings:
    """Validated newlog settings; build with :meth:`Settings.load`."""

    LOG_QUEUE_SIZE: int = 1000
    LOG_BATCH_SIZE: int = 100
    LOG_FLUSH_INTERVAL: float = 3.0
    ENABLE_DEBUG_LOG: bool = False
    LOG_TABLE: str = "unified_logs"
    LOG_DB_LEVEL: str = "INFO"
    LOG_REDACT_KEYS: tuple[str, ...] = ()
    LOG_RENDERER: str = "auto"
    LOG_FILE: str | None = None
    LOG_FILE_MAX_BYTES: int = 10 * 1024 * 1024
    LOG_FILE_BACKUP_COUNT: int = 5
    LOG_FILE_LEVEL: str = "DEBUG"
    LOG_ERROR_FILE: str | None = None
    LOG_CONSOLE_LEVEL: str = "DEBUG"
    LOG_STDLIB: bool = True
    LOG_CREATE_TABLE: str = "auto"
    LOG_REQUEST_ID_HEADER: str = "X-Request-ID"
    LOG_SHUTDOWN_TIMEOUT: float = 5.0
    LOG_RETRY_SECONDS: float = 30.0
    LOG_OVERFLOW_WARN_INTERVAL: float = 10.0
    LOG_QUEUE_RESERVE: float = 0.1
    LOG_HEARTBEAT_INTERVAL: float = 10.0
    LOG_HEALTH_DIR: str | None = None
    LOG_DRAIN_ON_SIGTERM: bool = True
    LOG_CALLSITE: bool = False
    LOG_REQUEST_EVENT: bool = False
    LOG_SYNC_WRITES: bool = False
    LOG_SPOOL_DIR: str | None = None
    LOG_SPOOL_MAX_BYTES: int = 256 * 1024 * 1024
    LOG_SPOOL_BATCH_SIZE: int | None = None  # None: by database, see newlog.spool_app.default_batch_rows
    LOG_SPOOL_SEGMENT_BYTES: int = 16 * 1024 * 1024
    redact_keys: frozenset[str] = field(default=frozenset(DEFAULT_WORDS), compare=False)
    given: frozenset[str] = field(default=frozenset(), compare=False)  # the settings the app or environment set

    @classmethod
    def load(cls, config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Return settings from ``config`` (e.g. ``app.config``), else ``environ``, else the defaults."""
        config = config if config is not None else {}
        environ = environ if environ is not None else os.environ
        _warn_typos(config, "app.config")
        values: dict[str, Any] = {}
        for key, parse in _PARSERS.items():
            if key in config and config[key] is not None:
                values[key] = parse(key, config[key], "app.config")
            elif key in environ:
                values[key] = parse(key, environ[key], "the environment")
        settings = cls(**values, given=frozenset(values))
        if settings.LOG_BATCH_SIZE > settings.LOG_QUEUE_SIZE:
            raise ConfigError(
                f"LOG_BATCH_SIZE={settings.LOG_BATCH_SIZE} is larger than LOG_QUEUE_SIZE={settings.LOG_QUEUE_SIZE}; "
                "a batch can never fill: lower LOG_BATCH_SIZE or raise LOG_QUEUE_SIZE"
            )
        return settings

    @property
    def reserve_slots(self) -> int:
        """Return how many queue slots take only WARNING and above (``LOG_QUEUE_RESERVE`` of ``LOG_QUEUE_SIZE``)."""
        return int(self.LOG_QUEUE_SIZE * self.LOG_QUEUE_RESERVE)

    def __post_init__(self) -> None:
        object.__setattr__(self, "redact_keys", frozenset(DEFAULT_WORDS) | frozenset(self.LOG_REDACT_KEYS))


_PARSERS: dict[str, Parser] = {
    "LOG_QUEUE_SIZE": _positive_int,
    "LOG_BATCH_SIZE": _positive_int,
    "LOG_FLUSH_INTERVAL": _positive_float,
    "ENABLE_DEBUG_LOG": _boolean,
    "LOG_TABLE": _name,
    "LOG_DB_LEVEL": _level,
    "LOG_REDACT_KEYS": _key_list,
    "LOG_RENDERER": _renderer,
    "LOG_FILE": _optional_path,
    "LOG_FILE_MAX_BYTES": _positive_int,
    "LOG_FILE_BACKUP_COUNT": _positive_int,
    "LOG_FILE_LEVEL": _level,
    "LOG_ERROR_FILE": _optional_path,
    "LOG_CONSOLE_LEVEL": _level_or_off,
    "LOG_STDLIB": _boolean,
    "LOG_CREATE_TABLE": _create_table,
    "LOG_REQUEST_ID_HEADER": _name,
    "LOG_SHUTDOWN_TIMEOUT": _positive_float,
    "LOG_RETRY_SECONDS": _positive_float,
    "LOG_OVERFLOW_WARN_INTERVAL": _positive_float,
    "LOG_QUEUE_RESERVE": _share,
    "LOG_HEARTBEAT_INTERVAL": _positive_float,
    "LOG_HEALTH_DIR": _optional_path,
    "LOG_DRAIN_ON_SIGTERM": _boolean,
    "LOG_CALLSITE": _boolean,
    "LOG_REQUEST_EVENT": _boolean,
    "LOG_SYNC_WRITES": _boolean,
    "LOG_SPOOL_DIR": _optional_path,
    "LOG_SPOOL_MAX_BYTES": _positive_int,
    "LOG_SPOOL_BATCH_SIZE": _positive_int,
    "LOG_SPOOL_SEGMENT_BYTES": _positive_int,
}
assert set(_PARSERS) == {f.name for f in fields(Settings) if f.name.isupper()}

KNOWN_KEYS = frozenset(_PARSERS)
FOREIGN_KEYS = frozenset(
    {"LOG_LEVEL", "LOG_FILES", "LOG_FORMAT", "LOG_DIR", "LOG_PATH", "LOG_TO_STDOUT", "LOG_MAX_BYTES", "LOG_BACKUP_COUNT"}
)
"""Common settings of apps and other tools that look like newlog's: never taken for a typo."""

_stdlib_log = logging.getLogger("newlog")
_warned: set[str] = set()


def _warn_typos(source: Mapping[str, Any], origin: str) -> None:
    """Warn once about a key that is not a setting but is a near miss of one (``LOG_BACH_SIZE``); it is ignored."""
    for key in list(source):
        if not isinstance(key, str) or key in KNOWN_KEYS or key in FOREIGN_KEYS or key in _warned or not key.isupper():
            continue
        if not (key.startswith("LOG_") or "DEBUG_LOG" in key):
            continue
        close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.85)
        if close:
            _warned.add(key)
            _stdlib_log.warning(
                "newlog: %s in %s is not a newlog setting and is ignored by newlog; did you mean %r?",
                key,
                origin,
                close[0],
            )
