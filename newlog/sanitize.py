"""The one walker: turn any value into JSON-safe data, redacting sensitive keys while converting.

Storage, printing and ``audit_log`` all use it, so a value looks the same everywhere. It
never raises and never reads a value it redacts: objects whose ``str`` raises become a
marker, bytes are decoded with backslash escapes, NUL characters (refused by PostgreSQL)
are escaped, huge integers, long strings, deep or wide structures, cycles and shared
references that would blow up are cut with a visible marker.

A key is sensitive when one of the sensitive words matches it (see :class:`Words`); its
value becomes ``[REDACTED]`` at any depth: in dicts and every other mapping, werkzeug
``Headers`` / ``EnvironHeaders`` / ``MultiDict``, the result of ``to_dict()`` and of
dataclasses. In URLs (any string containing ``://``, and paths with a query), the password
of ``user:password@`` and the values of sensitive query parameters are redacted too.

Not scrubbed: the text of exception messages and tracebacks (beyond URLs in them), the
event message itself, and whatever an object's ``str()`` returns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import Headers, MultiDict

REDACTED = "[REDACTED]"
TRUNCATED = "...[truncated {} chars]"

DEFAULT_WORDS = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "token",
    "secret",
    "authorization",
    "cookie",
    "set-cookie",
    "session",
    "sessionid",
    "sessid",
    "csrf",
    "xsrf",
    "credential",
    "api_key",
    "apikey",
    "x-api-key",
    "private_key",
)
"""Built-in sensitive key words; ``LOG_REDACT_KEYS`` adds more."""

SUFFIX_WORDS = ("password", "passwd", "pwd", "token", "secret", "sessionid", "sessid", "apikey", "cookie")
"""Words that also match at the end of a one-word key (``accesstoken``, ``csrfmiddlewaretoken``, ``jsessionid``)."""

DESCRIPTIVE_WORDS = frozenset(
    {
        "length", "len", "count", "size", "min", "max", "limit", "used", "usage", "remaining", "total",
        "at", "on", "in", "changed", "updated", "created", "expires", "expiry", "expired", "ttl", "age", "last",
        "set", "present", "required", "enabled", "valid", "invalid", "missing", "provided", "rotated",
        "type", "kind", "name", "field", "policy", "strength", "version", "algorithm", "scheme",
    }
)
"""Words that, after a sensitive word, describe the secret instead of holding it (``password_length``)."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much of a value the walker keeps.

    ``max_string`` characters per string, ``max_depth`` levels of nesting, ``max_items``
    per container, ``max_nodes`` values per walk (bounds shared references), ``budget``
    characters in total (None: no budget); ``bytes_as_length`` shows bytes as ``<n bytes>``.
    """

    max_string: int = 64 * 1024
    max_depth: int = 16
    max_items: int = 1000
    max_nodes: int = 20_000
    budget: int | None = None
    bytes_as_length: bool = False


STORAGE = Limits()
"""The limits of stored and printed events."""

_PLAIN = frozenset({bool, float, type(None)})
_INT64 = 2**63


class CleanEvent(dict):  # type: ignore[type-arg]
    """An event dict the walker already made JSON-safe and redacted (``build_row`` trusts it)."""

    __slots__ = ()


class Words:
    """The sensitive key words; ``matches(key)`` tells whether a key names a secret.

    Matching is by word, not by substring: a key is split into words (``_``, ``-``, ``.``,
    spaces, camelCase and digits separate them, case is ignored, a plural ``s`` is dropped).
    It matches when a sensitive word (itself one or more words: ``api_key``) occurs in it,
    unless only descriptive words (:data:`DESCRIPTIVE_WORDS`) follow its last occurrence; a
    one-word key also matches when it ends with one of :data:`SUFFIX_WORDS` (``accesstoken``,
    ``csrfmiddlewaretoken``). So ``password``, ``user_password``, ``password_hash``,
    ``csrf_token``, ``apiKey`` and ``X-Auth-Token`` match; ``password_length``,
    ``token_count``, ``password_changed_at``, ``tokenizer`` and ``passwordless`` do not.
    Verdicts are cached per key.
    """

    def __init__(self, words: Iterable[str] = DEFAULT_WORDS) -> None:
        self.words: tuple[str, ...] = tuple(sorted({str(word).strip().lower() for word in words if str(word).strip()}))
        self._phrases = tuple({split_words(word) for word in self.words if split_words(word)})
        self._verdicts: dict[str, bool] = {}

    def matches(self, key: str) -> bool:
        """Return True when ``key`` names a value that must not be stored or printed."""
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._match(key)
            if len(self._verdicts) < 10_000:
                self._verdicts[key] = verdict
        return verdict

    def _match(self, key: str) -> bool:
        tokens = split_words(key)
        for phrase in self._phrases:
            size = len(phrase)
            for end in range(len(tokens), size - 1, -1):
                if tokens[end - size : end] == phrase:
                    tail = tokens[end:]
                    if not tail or not all(token in _DESCRIPTIVE for token in tail):
                        return True
                    break
        if len(tokens) == 1:
            return tokens[0].endswith(SUFFIX_WORDS)
        return False


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def split_words(key: str) -> tuple[str, ...]:
    """Return the lower-case words of a key (``"X-Api-Key"`` -> ``("x", "api", "key")``); a plural ``s`` is dropped."""
    words = []
    for word in _WORD.findall(key):
        word = word.lower()
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return tuple(words)


_DESCRIPTIVE = frozenset(word for words in map(split_words, DESCRIPTIVE_WORDS) for word in words)


class Sanitizer:
    """Make values JSON-safe and redacted with one set of :class:`Words` and :class:`Limits`."""

    def __init__(self, words: Iterable[str] | Words = DEFAULT_WORDS, limits: Limits = STORAGE) -> None:
        self.words = words if isinstance(words, Words) else Words(words)
        self.limits = limits

    def is_sensitive(self, key: object) -> bool:
        """Return True when ``key`` (any type; bytes are decoded) names a secret."""
        return self.words.matches(key if type(key) is str else safe_key(key))

    def clean(self, value: Any) -> Any:
        """Return a JSON-safe, redacted copy of ``value`` (never raises, never shares mutable state)."""
        if type(value) is str:
            return self.text(value)
        if type(value) in _PLAIN and not _odd_float(value):
            return value
        return _Walk(self).value(value, 0)

    def clean_within(self, value: Any, budget: int) -> tuple[Any, int]:
        """Return ``(clean value, characters used)``, spending at most about ``budget`` characters."""
        walk = _Walk(self, budget)
        cleaned = walk.value(value, 0)
        return cleaned, budget - (walk.left if walk.left is not None else budget)

    def clean_event(self, event: Mapping[str, Any]) -> CleanEvent:
        """Return the :class:`CleanEvent` of an event dict; a datetime ``timestamp`` stays a datetime."""
        out = CleanEvent()
        matches = self.words.matches
        for key, value in _items(event):
            text_key = key if type(key) is str and key.isascii() and "\x00" not in key else safe_key(key)
            if matches(text_key):
                out[text_key] = REDACTED
            elif type(value) is str:
                out[text_key] = self.text(value)
            elif type(value) in _PLAIN and not _odd_float(value):
                out[text_key] = value
            elif key == "timestamp" and isinstance(value, dt.datetime):
                out[text_key] = value
            else:
                out[text_key] = _Walk(self).value(value, 0)
        return out

    def text(self, value: str, limit: int | None = None) -> str:
        """Return ``value`` safe to store (NUL escaped, cut to ``limit``) with URL secrets redacted."""
        limit = self.limits.max_string if limit is None else limit
        cut = len(value) - limit
        if cut > 0:
            value = value[:limit]
        if "://" in value or (value[:1] == "/" and "?" in value):
            value = self.mask_urls(value)
        value = _escape(value)
        return value + TRUNCATED.format(cut) if cut > 0 else value

    def mask_urls(self, text: str) -> str:
        """Return ``text`` with the password and sensitive query values of every URL in it redacted."""
        if "://" not in text:
            return self.mask_url(text)
        return _URL.sub(lambda match: self.mask_url(match.group(0)), text)

    def mask_url(self, url: str) -> str:
        """Return ``url`` with its ``user:password@`` password and sensitive query parameter values redacted."""
        try:
            return self._mask_url(url)
        except Exception:  # noqa: BLE001 - a URL we cannot take apart is masked as a whole
            return REDACTED

    def _mask_url(self, url: str) -> str:
        rest, hash_mark, fragment = url.partition("#")
        base, question, query = rest.partition("?")
        base = _USERINFO.sub(lambda match: f"{match.group(1)}{match.group(2)}:{REDACTED}@", base)
        if question and query:
            query = "&".join(self._mask_parameter(part) for part in query.split("&"))
        return f"{base}{question}{query}{hash_mark}{fragment}"

    def _mask_parameter(self, part: str) -> str:
        name, equals, _ = part.partition("=")
        if equals and self.words.matches(_unquote(name)):
            return f"{name}={REDACTED}"
        return part


_default = Sanitizer()
_current: Callable[[], Sanitizer] = lambda: _default  # noqa: E731 - replaced by newlog.state


def use_current_sanitizer(provider: Callable[[], Sanitizer]) -> None:
    """Make :func:`mask_url` use ``provider()`` (``newlog.state`` passes the current app's sanitizer)."""
    global _current
    _current = provider


def mask_url(url: str | None) -> str | None:
    """Return ``url`` with its password and sensitive query values redacted (the current app's words)."""
    if url is None:
        return None
    try:
        return _current().mask_urls(url)
    except Exception:  # noqa: BLE001 - never raise into the error path
        return _default.mask_urls(url)


def _odd_float(value: Any) -> bool:
    return type(value) is float and (value != value or value in (_INF, -_INF))


_INF = float("inf")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s\"'<>`]+")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^:/@?#]*):[^@/?#]*@")


def _unquote(name: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(name)


def _items(value: Any) -> Iterable[tuple[Any, Any]]:
    """Return the (key, value) pairs of a mapping; werkzeug multi-value structures give every value."""
    if isinstance(value, MultiDict):
        return [(key, values[0] if len(values) == 1 else values) for key, values in value.lists()]
    if isinstance(value, Headers):
        grouped: dict[str, list[Any]] = {}
        for key, item in value.items():
            grouped.setdefault(key, []).append(item)
        return [(key, values[0] if len(values) == 1 else values) for key, values in grouped.items()]
    return value.items()


class _Walk:
    """One walk over one value: depth, cycles, the node count and the character budget."""

    __slots__ = ("sanitizer", "limits", "words", "nodes", "left", "path")

    def __init__(self, sanitizer: Sanitizer, budget: int | None = None) -> None:
        self.sanitizer = sanitizer
        self.limits = sanitizer.limits
        self.words = sanitizer.words
        self.nodes = self.limits.max_nodes
        self.left = budget if budget is not None else self.limits.budget
        self.path: set[int] = set()

    def spend(self, characters: int) -> None:
        if self.left is not None:
            self.left -= characters

    def value(self, value: Any, depth: int) -> Any:
        self.nodes -= 1
        if self.nodes < 0:
            return self.marker("<truncated: too many values>")
        kind = type(value)
        if kind is str:
            return self.text(value)
        if kind is int:
            return self.integer(value)
        if kind in _PLAIN:
            self.spend(8)
            return str(value) if _odd_float(value) else value
        if isinstance(value, str):
            return self.text(str.__str__(value))
        if isinstance(value, enum.Enum):
            return self.value(_enum_value(value), depth)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return self.integer(int(value))
        if isinstance(value, float):
            return self.value(float(value), depth)
        if isinstance(value, (dt.datetime, dt.date, dt.time)):
            return self.text(value.isoformat())
        if isinstance(value, (bytes, bytearray, memoryview)):
            if self.limits.bytes_as_length:
                return self.text(f"<{len(value)} bytes>")
            return self.text(bytes(value).decode("utf-8", "backslashreplace"))
        if isinstance(value, (uuid.UUID, Decimal)):
            return self.text(str(value))
        if depth >= self.limits.max_depth:
            return self.marker(f"<{kind.__name__} nested deeper than {self.limits.max_depth}>")
        if isinstance(value, (Mapping, Headers)):
            return self.guarded(value, depth, self.mapping)
        if isinstance(value, (list, tuple, set, frozenset)):
            return self.guarded(value, depth, self.sequence)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.guarded(value, depth, self.dataclass)
        to_dict = getattr(kind, "to_dict", None)
        if callable(to_dict):
            try:
                converted = value.to_dict()
            except Exception:  # noqa: BLE001 - a broken to_dict must not lose the event
                pass
            else:
                return self.value(converted, depth + 1)
        return self.text(describe(value))

    def guarded(self, value: Any, depth: int, convert: Callable[[Any, int], Any]) -> Any:
        """Convert a container, unless it is already being converted further up (a cycle)."""
        ident = id(value)
        if ident in self.path:
            return self.marker(f"<cycle: {type(value).__name__} contains itself>")
        self.path.add(ident)
        try:
            return convert(value, depth)
        finally:
            self.path.discard(ident)

    def text(self, value: str) -> str:
        limit = self.limits.max_string if self.left is None else max(0, min(self.limits.max_string, self.left))
        cleaned = self.sanitizer.text(value, limit)
        self.spend(len(cleaned) + 2)
        return cleaned

    def marker(self, text: str) -> str:
        self.spend(len(text) + 2)
        return text

    def integer(self, value: int) -> int | str:
        self.spend(8)
        if -_INT64 <= value < 2 * _INT64:
            return value
        try:
            return safe_text(str(value), self.limits.max_string)
        except ValueError:  # more digits than the interpreter prints (sys.set_int_max_str_digits)
            return f"<int too large to print: {value.bit_length()} bits>"

    def mapping(self, value: Any, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        matches = self.words.matches
        try:
            items = _items(value)
            total = len(items) if isinstance(items, list) else len(value)
            for index, (key, item) in enumerate(items):
                if index >= self.limits.max_items or (self.left is not None and self.left <= 0):
                    out["..."] = f"[{total - index} more items]"
                    break
                text_key = safe_key(key)
                self.spend(len(text_key) + 4)
                out[text_key] = REDACTED if matches(text_key) else self.value(item, depth + 1)
        except Exception as exc:  # noqa: BLE001 - a mapping whose iteration raises
            out["<error>"] = f"<unreadable mapping: {type(exc).__name__}>"
        return out

    def sequence(self, value: Any, depth: int) -> list[Any]:
        out: list[Any] = []
        try:
            for index, item in enumerate(value):
                if index >= self.limits.max_items or (self.left is not None and self.left <= 0):
                    out.append(f"[{len(value) - index} more items]")
                    break
                self.spend(2)
                out.append(self.value(item, depth + 1))
        except Exception as exc:  # noqa: BLE001 - a sequence whose iteration raises
            out.append(f"<unreadable {type(value).__name__}: {type(exc).__name__}>")
        if isinstance(value, (set, frozenset)):
            try:
                out.sort(key=_sort_key)
            except Exception:  # noqa: BLE001 - keep the iteration order
                pass
        return out

    def dataclass(self, value: Any, depth: int) -> dict[str, Any]:
        fields = {field.name: getattr(value, field.name, None) for field in dataclasses.fields(value)}
        return self.mapping(fields, depth)


def _sort_key(item: Any) -> tuple[str, str]:
    return (type(item).__name__, repr(item))


def _enum_value(member: enum.Enum) -> Any:
    try:
        return member.value
    except Exception:  # noqa: BLE001 - an enum with a broken value property
        return member.name


def safe_text(value: str, limit: int = STORAGE.max_string) -> str:
    """Return ``value`` without NUL characters or lone surrogates, cut to ``limit`` characters with a marker."""
    cut = len(value) - limit
    if cut > 0:
        return _escape(value[:limit]) + TRUNCATED.format(cut)
    return _escape(value)


def _escape(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if not value.isascii() and _has_surrogates(value):
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def safe_key(key: object) -> str:
    """Return ``key`` as a JSON object key every database accepts (bytes decoded; NUL and surrogates escaped)."""
    if type(key) is str:
        return key if key.isascii() and "\x00" not in key else safe_text(key, 1000)
    if isinstance(key, (bytes, bytearray)):
        return safe_text(bytes(key).decode("utf-8", "backslashreplace"), 1000)
    return safe_text(describe(key), 1000)


def describe(value: object) -> str:
    """Return ``str(value)`` made safe to store, or a marker naming the type if ``str`` raises."""
    try:
        return safe_text(str(value))
    except Exception as exc:  # noqa: BLE001 - hostile __str__/__repr__
        return f"<unprintable {type(value).__name__}: {type(exc).__name__}>"
