"""THE allowed deltas: every intended difference between the legacy module and newlog, each beside its reason.

A delta is a function ``(pair) -> count`` registered with ``@delta(name, reason)``: it
reconciles one kind of difference of a :class:`~compat.characterize.compare.StepPair`
only where its precise condition holds, and returns how often it did. Nothing here
ignores a whole field, and no delta may make a key that a legacy row held (with a value)
disappear from the comparison: :func:`compat.characterize.compare.compare` reports such
a key as a difference whatever the deltas do.

The registry lives in the topic modules (``rows``, ``printed``, ``context``,
``exceptions``, ``errors``, ``api``); :data:`ORDER` below is the order deltas apply in:
row-set deltas first (rows one side wrote and the other did not), then printed output,
then per-row and per-payload field deltas. The characterization suite and the kit both
compare through :data:`DELTAS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compat.characterize.compare import StepPair

Apply = Callable[[StepPair], int]


@dataclass(frozen=True)
class Delta:
    """One allowed difference: ``apply(pair)`` reconciles it where its predicate holds and returns the count.

    ``client_visible`` marks a delta that changes what an HTTP client receives (an error
    payload, a status): reports list those in a group of their own.
    """

    name: str
    reason: str
    apply: Apply
    client_visible: bool = False


_REGISTERED: dict[str, Delta] = {}


def delta(name: str, reason: str, *, client_visible: bool = False) -> Callable[[Apply], Apply]:
    """Register the decorated predicate as the allowed delta ``name`` (its ``reason`` says why it is intended)."""

    def register(apply: Apply) -> Apply:
        if name in _REGISTERED:
            raise ValueError(f"delta {name!r} is registered twice ({_REGISTERED[name].apply.__module__} and {apply.__module__})")
        _REGISTERED[name] = Delta(name, " ".join(reason.split()), apply, client_visible)
        return apply

    return register


ORDER: tuple[str, ...] = (
    # rows written by one side only, or later
    "asynchronous-write",
    "error-handler-runs-once",
    "error-monitor-logs-once",
    # printed output
    "printed-every-event",
    "debug-switch-works",
    "legacy-write-error-lines",
    "stored-outside-app-context",
    "plain-enum-value-stored",
    "log-viewer-lists-what-is-stored",
    "stdlib-exception-traceback",
    "log-table-report",
    # context
    "contextvar-scope",
    "request-ids-in-log-context",
    "call-keyword-wins",
    "request-fields-from-request",
    "null-values-omitted",
    "request-id-filled",
    "user-id-source",
    "request-context-outside-request",
    "username-from-user-context",
    "startup-context-is-static",
    "static-context-everywhere",
    "positional-args-formatted",
    # exceptions
    "traceback-of-exception-argument",
    "traceback-of-handled-exception",
    # error payloads and error rows
    "error-row-message",
    "http-recoverable",
    "message-code-added",
    "payload-context-meta",
    "error-id-hex",
    "builtin-network-errors",
    "category-unknown-is-system",
    "error-catalogue",
    "error-context-extra-none",
    # the API's own objects
    "str-enum-constants",
    "with-log-context-keeps-name",
    "deprecation-warnings",
)
"""The order deltas apply in: a delta sees the pair as the deltas before it left it."""

from compat.characterize.deltas import api, context, errors, exceptions, printed, rows  # noqa: E402,F401 - they register

if set(ORDER) != set(_REGISTERED) or len(ORDER) != len(set(ORDER)):
    raise RuntimeError(
        "compat.characterize.deltas.ORDER and the registered deltas differ: "
        f"not ordered {sorted(set(_REGISTERED) - set(ORDER))}, not registered {sorted(set(ORDER) - set(_REGISTERED))}"
    )

DELTAS: tuple[Delta, ...] = tuple(_REGISTERED[name] for name in ORDER)
"""Every allowed delta, in :data:`ORDER`."""


def by_name() -> dict[str, Delta]:
    """Return the deltas keyed by name."""
    return {item.name: item for item in DELTAS}


__all__ = ["DELTAS", "ORDER", "Delta", "by_name", "delta"]
