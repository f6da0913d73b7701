"""An application's error profile: how its legacy module answered errors, as data.

A copy of the legacy module in a real application classifies errors with the app's own
pieces (its message catalogue, error enums, base exception and status mapper) and shapes
the JSON payload the way its variant does. An :class:`ErrorProfile` carries all of that,
so that ``newlog.error_adapter`` answers clients byte-identically after the switch
(``newlog.error_adapter.use_error_profile``). ``codemods.legacy_reader`` reads a profile
out of a legacy module's source and renders it as a small Python module.

A profile is an ordered list of :class:`Rule` s (the legacy ``_classify_error`` branches,
the last one unconditional), the :class:`PayloadShape` of ``enhanced_error_handler``,
the suggestions by category and the few callables that make ids and timestamps.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from werkzeug.exceptions import HTTPException

__all__ = ["ErrorProfile", "Outcome", "PayloadShape", "Resolved", "Rule", "Text", "value_of"]

TextKind = Literal["literal", "catalogue", "description", "description_or_name", "error"]


def value_of(member: Any) -> Any:
    """Return what the payload shows for a category or severity: an enum member's ``.value``, else the value itself."""
    return member.value if isinstance(member, enum.Enum) else member


@dataclass(frozen=True)
class Text:
    """Where a client-facing message comes from.

    ``Text.literal("...")`` a fixed text, ``Text.catalogue("KEY")`` the catalogue's text for
    a key, ``Text.DESCRIPTION`` an HTTP exception's ``description``,
    ``Text.DESCRIPTION_OR_NAME`` its ``description or name``, ``Text.ERROR`` ``str(error)``.
    """

    kind: TextKind
    value: str = ""

    DESCRIPTION: ClassVar[Text]
    DESCRIPTION_OR_NAME: ClassVar[Text]
    ERROR: ClassVar[Text]

    def __post_init__(self) -> None:
        if self.kind not in ("literal", "catalogue", "description", "description_or_name", "error"):
            raise ValueError(
                f"Text.kind {self.kind!r} is not one of literal, catalogue, description, description_or_name, error"
            )
        if self.kind == "catalogue" and not self.value:
            raise ValueError("Text.catalogue() needs the message key")

    @classmethod
    def literal(cls, text: str) -> Text:
        """Return a fixed text."""
        return cls("literal", text)

    @classmethod
    def catalogue(cls, key: str) -> Text:
        """Return the catalogue's text for ``key``."""
        return cls("catalogue", key)

    def render(self, error: BaseException, profile: ErrorProfile) -> Any:
        """Return the text for ``error`` (what the legacy module put in the payload, None included)."""
        if self.kind == "literal":
            return self.value
        if self.kind == "catalogue":
            return profile.message(self.value)
        if self.kind == "description":
            return getattr(error, "description", None)
        if self.kind == "description_or_name":
            return getattr(error, "description", None) or getattr(error, "name", None)
        return str(error)


Text.DESCRIPTION = Text("description")
Text.DESCRIPTION_OR_NAME = Text("description_or_name")
Text.ERROR = Text("error")


@dataclass(frozen=True)
class Outcome:
    """What a rule answers: status, classification, message key and text, recoverable.

    ``status_code`` None means the HTTP exception's own code. ``message_key`` may contain
    ``{code}`` (e.g. ``"errors.http.{code}"``). ``category`` / ``severity`` are the app's
    enum members (or the plain values of a variant without enums).
    """

    status_code: int | None
    category: Any
    severity: Any
    message_key: str | None
    message: Text
    recoverable: bool


@dataclass(frozen=True)
class Rule:
    """One branch of the legacy classification; every condition given must hold.

    ``classes``: the error is an instance of one of them; ``codes``: ``(low, high)`` bounds
    (inclusive) of an HTTP exception's code; ``words``: one of them is in
    ``str(error).lower()``. No condition: the rule always applies. ``outcome`` None: the
    answer is read from the error's own attributes (``status_code``, ``category``,
    ``severity``, ``message_key``, ``message``, ``recoverable``), as for the app's base error.
    """

    outcome: Outcome | None = None
    classes: tuple[type[BaseException], ...] = ()
    codes: tuple[int, int] | None = None
    words: tuple[str, ...] = ()

    def matches(self, error: BaseException, code: int | None) -> bool:
        """Return whether this rule applies to ``error`` (``code``: its HTTP code, None for other errors)."""
        if self.classes and not isinstance(error, self.classes):
            return False
        if self.codes is not None and (code is None or not self.codes[0] <= code <= self.codes[1]):
            return False
        if self.words:
            text = str(error).lower()
            if not any(word in text for word in self.words):
                return False
        return True


TOP_LEVEL_KEYS = frozenset(
    {
        "error",
        "error_id",
        "category",
        "severity",
        "message_code",
        "message",
        "timestamp",
        "recoverable",
        "suggestions",
        "context",
    }
)
CONTEXT_KEYS = frozenset({"request_id", "user_id", "url", "method", "meta"})
META_KEYS = frozenset({"status_code", "error_type", "details", "ip_address", "user_agent"})


@dataclass(frozen=True)
class PayloadShape:
    """The keys of ``enhanced_error_handler``'s payload, in order.

    ``context`` lists the keys of the ``context`` block (``url`` / ``method`` appear only
    when known), ``meta`` those of ``context.meta``. ``extra`` is appended when the caller
    passes one: ``"truthy"`` only if it is non-empty (the legacy ``if extra:``), ``"given"``
    whenever it is not None.
    """

    keys: tuple[str, ...]
    context: tuple[str, ...] = ()
    meta: tuple[str, ...] = ()
    extra: Literal["truthy", "given"] = "truthy"

    def __post_init__(self) -> None:
        for name, keys, allowed in (
            ("keys", self.keys, TOP_LEVEL_KEYS),
            ("context", self.context, CONTEXT_KEYS),
            ("meta", self.meta, META_KEYS),
        ):
            unknown = [key for key in keys if key not in allowed]
            if unknown:
                raise ValueError(f"PayloadShape.{name} has unknown key(s) {unknown}: use {sorted(allowed)}")
        if self.context and "context" not in self.keys:
            raise ValueError("PayloadShape.context is given but 'context' is not in PayloadShape.keys")
        if self.meta and "meta" not in self.context:
            raise ValueError("PayloadShape.meta is given but 'meta' is not in PayloadShape.context")
        if self.extra not in ("truthy", "given"):
            raise ValueError(f"PayloadShape.extra must be 'truthy' or 'given', not {self.extra!r}")


@dataclass(frozen=True)
class Resolved:
    """A rule's outcome applied to one error: the values the payload and the status use."""

    status_code: int
    category: Any
    severity: Any
    message_key: str | None
    message: Any
    recoverable: bool


def _legacy_error_id() -> str:
    return str(uuid.uuid4())


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _isoformat(timestamp: datetime) -> str:
    return timestamp.isoformat()


@dataclass(frozen=True)
class ErrorProfile:
    """How one application's legacy module answered errors; see the module docstring.

    ``catalogue`` is the app's message catalogue (a class of constants or a mapping) and
    ``catalogue_default`` the text of a key it lacks. ``status`` is what ``error_handler``
    answered with (the app's exception -> status mapper), None for the rule's status.
    ``new_error_id``, ``now`` and ``format_timestamp`` make ``error_id`` and ``timestamp``
    in the legacy formats. ``http_default_code`` stands in for an HTTP exception without a code.

    Two things the legacy module logged rather than answered, kept here because the same
    reader finds them: ``teardown_message`` is the message of the event logged for an
    exception that escapes a request or app context (the legacy ``log_app_teardown``), and
    ``user_context`` the ``(key, attribute of current_user)`` pairs its log handler stored
    for a logged-in user (None: newlog's own set, see ``newlog.processors.add_user_context``).
    ``stdout`` False says the legacy module printed nothing itself (structlog's stdlib
    ``LoggerFactory``: every event went to stdlib logging only); ``newlog.init_app`` then keeps
    stdout quiet unless ``LOG_CONSOLE_LEVEL`` is set (see ``newlog.output.Outputs.legacy_stdlib``).
    """

    rules: tuple[Rule, ...]
    payload: PayloadShape
    suggestions: Mapping[Any, Sequence[str]] = field(default_factory=dict)
    default_suggestions: tuple[str, ...] = ()
    catalogue: Any = None
    catalogue_default: Text | None = None
    status: Callable[[BaseException], int] | None = None
    new_error_id: Callable[[], str] = _legacy_error_id
    now: Callable[[], datetime] = _utc_now
    format_timestamp: Callable[[datetime], str] = _isoformat
    http_default_code: int = 500
    variant: Literal["older", "newer"] | None = None
    source: str = ""
    teardown_message: str = "Application error"
    user_context: tuple[tuple[str, str], ...] | None = None
    stdout: bool = True

    def __post_init__(self) -> None:
        if (
            not self.rules
            or self.rules[-1].outcome is None
            or (self.rules[-1].classes or self.rules[-1].codes or self.rules[-1].words)
        ):
            raise ValueError(
                f"ErrorProfile{self._where()}: the last rule must be unconditional with an outcome "
                "(the legacy classification's final 'return'), so that every error gets an answer"
            )
        uses_catalogue = any(
            rule.outcome is not None and rule.outcome.message.kind == "catalogue" for rule in self.rules
        )
        if uses_catalogue and self.catalogue is None:
            raise ValueError(
                f"ErrorProfile{self._where()}: a rule takes its message from the catalogue, but no catalogue is given"
            )
        object.__setattr__(
            self, "_suggestions", {value_of(key): tuple(texts) for key, texts in self.suggestions.items()}
        )

    def _where(self) -> str:
        return f" ({self.source})" if self.source else ""

    def message(self, key: str) -> Any:
        """Return the catalogue's text for ``key``, else the ``catalogue_default`` text."""
        catalogue = self.catalogue
        missing = object()
        text = catalogue.get(key, missing) if isinstance(catalogue, Mapping) else getattr(catalogue, key, missing)
        if text is not missing:
            return text
        if self.catalogue_default is None:
            raise KeyError(
                f"ErrorProfile{self._where()}: the catalogue has no message {key!r} and no catalogue_default is set"
            )
        if self.catalogue_default.kind == "catalogue" and self.catalogue_default.value == key:
            raise KeyError(f"ErrorProfile{self._where()}: the catalogue lacks its own default message {key!r}")
        return self.catalogue_default.render(Exception(key), self)

    def suggestions_for(self, category: Any) -> list[str]:
        """Return the suggestions for ``category`` (an enum member or its value), else the default ones."""
        suggestions: dict[Any, tuple[str, ...]] = self._suggestions  # type: ignore[attr-defined]
        return list(suggestions.get(value_of(category), self.default_suggestions))

    def resolve(self, error: BaseException) -> Resolved:
        """Return the answer of the first rule that applies to ``error``."""
        code: int | None = None
        if isinstance(error, HTTPException):
            code = error.code or self.http_default_code
        for rule in self.rules:
            if rule.matches(error, code):
                break
        outcome = rule.outcome
        if outcome is None:
            return Resolved(
                status_code=error.status_code,  # type: ignore[attr-defined]
                category=error.category,  # type: ignore[attr-defined]
                severity=error.severity,  # type: ignore[attr-defined]
                message_key=getattr(error, "message_key", None),
                message=error.message,  # type: ignore[attr-defined]
                recoverable=error.recoverable,  # type: ignore[attr-defined]
            )
        status = code if outcome.status_code is None else outcome.status_code
        if status is None:
            raise ValueError(
                f"ErrorProfile{self._where()}: a rule whose status is the HTTP code matched "
                f"{type(error).__name__}, which has no code"
            )
        key = (
            outcome.message_key.format(code=code)
            if outcome.message_key is not None and code is not None
            else outcome.message_key
        )
        return Resolved(
            status, outcome.category, outcome.severity, key, outcome.message.render(error, self), outcome.recoverable
        )

    def status_for(self, error: BaseException) -> int:
        """Return the status ``error_handler`` answered ``error`` with."""
        return self.status(error) if self.status is not None else self.resolve(error).status_code

    def messages(self) -> dict[str, str]:
        """Return the catalogue as ``{key: text}`` plus the fixed texts of the rules (keyed by their message key)."""
        texts: dict[str, str] = {}
        catalogue = self.catalogue
        if isinstance(catalogue, Mapping):
            texts.update({str(key): text for key, text in catalogue.items() if isinstance(text, str)})
        elif catalogue is not None:
            texts.update(
                {key: text for key, text in vars(catalogue).items() if key.isupper() and isinstance(text, str)}
            )
        for rule in self.rules:
            if rule.outcome is not None and rule.outcome.message.kind == "literal" and rule.outcome.message_key:
                texts.setdefault(rule.outcome.message_key, rule.outcome.message.value)
        return texts

    def suggestion_table(self) -> dict[Any, tuple[str, ...]]:
        """Return the suggestions keyed by category value."""
        return dict(self._suggestions)  # type: ignore[attr-defined]
