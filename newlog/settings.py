"""newlog settings: read from ``app.config``, else environment variables of the same name, else defaults.

newlog validates the values of the keys it owns; a wrong one raises :class:`ConfigError`
naming the key, the value and where it came from. A key it does not own never raises: an
application keeps its own ``LOG_*`` settings (``LOG_LEVEL``, ``LOG_BACKUP_COUNT`` ...) beside
newlog's. A key of ``app.config`` one or two keystrokes away from one of newlog's keys
(``LOG_BACH_SIZE``) is reported in ONE :class:`ConfigWarning` per load, naming every such key
and the setting it resembles, so a typo is never silently ignored. From the environment only
newlog's own keys are read: the environment is never scanned.
"""

from __future__ import annotations

import os
import warnings
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
    """A newlog setting has a wrong value."""


class ConfigWarning(UserWarning):
    """A key of ``app.config`` looks like a misspelt newlog setting (it is not used)."""


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
    redact_keys: frozenset[str] = field(default=frozenset(DEFAULT_WORDS), compare=False)

    @classmethod
    def load(cls, config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Return settings from ``config`` (e.g. ``app.config``), else ``environ``, else the defaults."""
        config = config if config is not None else {}
        environ = environ if environ is not None else os.environ
        values: dict[str, Any] = {}
        for key, parse in _PARSERS.items():
            if config.get(key) is not None:
                values[key] = parse(key, config[key], "app.config")
            elif (text := environ.get(key)) is not None:
                values[key] = parse(key, text, "the environment")
        settings = cls(**values)
        if settings.LOG_BATCH_SIZE > settings.LOG_QUEUE_SIZE:
            raise ConfigError(
                f"LOG_BATCH_SIZE={settings.LOG_BATCH_SIZE} is larger than LOG_QUEUE_SIZE={settings.LOG_QUEUE_SIZE}; "
                "a batch can never fill: lower LOG_BATCH_SIZE or raise LOG_QUEUE_SIZE"
            )
        _warn_about_near_misses(config)
        return settings

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
}
assert set(_PARSERS) == {f.name for f in fields(Settings) if f.name.isupper()}

KNOWN_KEYS = frozenset(_PARSERS)
FOREIGN_KEYS = frozenset({"LOG_LEVEL", "LOG_FILES", "LOG_FORMAT", "LOG_DIR", "LOG_PATH", "LOG_TO_STDOUT"})
"""Common settings of other tools that look like newlog's: never taken for a typo."""
NEAR_MISS = 2
"""A key at most this many edits (insert, delete, replace, swap two neighbours) from a newlog key is a likely typo."""


def near_misses(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(key, setting)`` for each key of ``config`` that is not newlog's but a likely typo of ``setting``.

    ``LOG_BACH_SIZE`` is one (one edit from ``LOG_BATCH_SIZE``); an application's own keys
    such as ``LOG_BACKUP_COUNT`` or ``LOG_MAX_BYTES`` are not (five edits from newlog's
    ``LOG_FILE_*``), nor are lower-case keys, which Flask's ``from_object`` never loads.
    """
    found = []
    for key in config:
        if not isinstance(key, str) or key in KNOWN_KEYS or key in FOREIGN_KEYS or not key.isupper():
            continue
        if not (key.startswith("LOG_") or "DEBUG_LOG" in key):
            continue
        distances = [
            (_edits(key, known), known) for known in sorted(KNOWN_KEYS) if abs(len(known) - len(key)) <= NEAR_MISS
        ]
        close = min((item for item in distances if item[0] <= NEAR_MISS), default=None)
        if close is not None:
            found.append((key, close[1]))
    return found


def _warn_about_near_misses(config: Mapping[str, Any]) -> None:
    misses = near_misses(config)
    if misses:
        listed = "; ".join(f"{key}={config[key]!r}: did you mean {meant!r}?" for key, meant in misses)
        warnings.warn(
            f"app.config has key(s) that look like misspelt newlog settings and are not used by newlog: {listed} "
            "(rename them; keys of your own application can stay as they are)",
            ConfigWarning,
            stacklevel=4,
        )


def _edits(a: str, b: str) -> int:
    """Return the optimal-string-alignment distance between ``a`` and ``b`` (Damerau-Levenshtein without re-edits)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]
