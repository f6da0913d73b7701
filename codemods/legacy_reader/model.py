"""What ``read_legacy_module`` returns: references into the app, rules, the payload shape, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from newlog.error_profile import PayloadShape, Text

__all__ = ["Code", "Finding", "IdentityRule", "LegacyCouplings", "OutcomeSpec", "Ref", "RuleSpec"]


@dataclass(frozen=True)
class Ref:
    """A name imported from another module: ``module`` and the dotted ``name`` in it ("" for the module itself)."""

    module: str
    name: str = ""

    def attribute(self, attr: str) -> Ref:
        """Return the reference to ``attr`` of this one."""
        return Ref(self.module, f"{self.name}.{attr}" if self.name else attr)

    def __str__(self) -> str:
        return f"{self.module}:{self.name}" if self.name else self.module


@dataclass(frozen=True)
class Finding:
    """Something the reader could not determine, and where."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Code:
    """Python source carried over from the legacy module: an expression, the imports and helper definitions it needs."""

    expression: str
    refs: tuple[tuple[str, Ref], ...] = ()
    definitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutcomeSpec:
    """A rule's answer as read: values are literals or :class:`Ref` s; ``status_code`` None is the HTTP code."""

    status_code: Any
    category: Any
    severity: Any
    message_key: str | None
    message: Text
    recoverable: bool


@dataclass(frozen=True)
class RuleSpec:
    """One classification branch as read (see ``newlog.error_profile.Rule``); ``line`` is where it starts."""

    line: int
    outcome: OutcomeSpec | None = None
    classes: tuple[Ref, ...] = ()
    codes: tuple[int, int] | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentityRule:
    """How the legacy module filled one identity field of every event (``app_name``, ``environment``...).

    ``value`` is the literal when it is one; ``code`` the expression otherwise; ``fallback``
    what it used outside an app context; ``request_only`` whether it was only set inside a request.
    """

    key: str
    line: int
    value: Any = None
    code: Code | None = None
    fallback: Code | None = None
    request_only: bool = False


@dataclass
class LegacyCouplings:
    """Everything ``read_legacy_module`` found in one legacy module (see the module docstring)."""

    path: str
    module: str
    variant: Literal["older", "newer"] | None = None
    catalogue: Ref | None = None
    catalogue_default: Text | None = None
    category_enum: Ref | None = None
    severity_enum: Ref | None = None
    base_error: Ref | None = None
    status_mapper: Ref | None = None
    log_model: Ref | None = None
    log_level: Ref | None = None
    db: Ref | None = None
    rules: tuple[RuleSpec, ...] = ()
    http_default_code: int = 500
    suggestions: tuple[tuple[Any, tuple[Any, ...]], ...] = ()
    default_suggestions: tuple[Any, ...] = ()
    payload: PayloadShape | None = None
    error_id: Code | None = None
    now: Code | None = None
    format_timestamp: Code | None = None
    display_name: str | None = None
    identity: dict[str, IdentityRule] = field(default_factory=dict)
    double_call: bool = False
    teardown_message: str | None = None
    user_context: tuple[tuple[str, str], ...] | None = None
    stdout: bool = True
    findings: list[Finding] = field(default_factory=list)

    def imports(self) -> dict[str, Ref]:
        """Return the app pieces found, by role (catalogue, enums, base error, mapper, log model, LogLevel, db)."""
        roles = {
            "catalogue": self.catalogue,
            "category_enum": self.category_enum,
            "severity_enum": self.severity_enum,
            "base_error": self.base_error,
            "status_mapper": self.status_mapper,
            "log_model": self.log_model,
            "log_level": self.log_level,
            "db": self.db,
        }
        return {role: ref for role, ref in roles.items() if ref is not None}
