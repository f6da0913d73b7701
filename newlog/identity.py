"""Identity fields of every event: ``app_name``, ``app_version``, ``environment``, ``host``.

An app's log viewer and its dashboards filter on these, so after the switch they keep the
values the legacy module gave them. By default newlog follows the legacy module's rules
(see ``legacy-api.md``):

- ``app_name``: ``APP_NAME`` of the app's config, else the Flask app name;
- ``app_version``: ``APP_VERSION`` of the app's config, else ``"unknown"``;
- ``environment``: ``ENVIRONMENT`` of the app's config (on every event: newlog's own
  setting), else, inside a request, the ``FLASK_ENV`` environment variable, else
  ``"development"`` while the app runs in debug mode and ``"production"`` otherwise (Flask 3
  dropped ``FLASK_ENV``: the legacy rule alone said "production" in development);
- ``host`` (inside a request): the machine's host name.

A copy of the legacy module with rules of its own (a hard-coded display name, ``APP_ENV``,
a pod name, a version read per event...) keeps them: ``codemods.legacy_reader`` writes them
into the app's profile module as ``IDENTITY`` (key -> a value or a function of no
arguments, called for every event) and ``REQUEST_ONLY`` (keys the legacy module set only
inside a request), and ``set_identity(IDENTITY, request_only=REQUEST_ONLY)`` applies them.
A different value is an opt-in: pass it to :func:`set_identity` (or set ``APP_NAME`` /
``APP_VERSION`` / ``ENVIRONMENT``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

IDENTITY_KEYS = ("app_name", "app_version", "environment", "host")


@dataclass(frozen=True)
class Identity:
    """Identity rules: ``values`` are added to every event as they are, ``computed`` are called per event.

    ``computed`` holds ``(key, function, request_only)``: a request-only key is added only
    inside a request. Build one with :meth:`of`; combine with :meth:`over`.
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    computed: tuple[tuple[str, Callable[[], Any], bool], ...] = ()

    @classmethod
    def of(cls, rules: Mapping[str, Any], request_only: Iterable[str] = ()) -> Identity:
        """Return the identity of ``rules`` (key -> a value, or a function of no arguments called per event)."""
        request_only = frozenset(request_only)
        unknown = request_only - set(rules)
        if unknown:
            raise ValueError(f"request_only names key(s) without a rule: {', '.join(sorted(unknown))}")
        values = {key: rule for key, rule in rules.items() if not callable(rule) and key not in request_only}
        computed = tuple(
            (key, rule if callable(rule) else _constant(rule), key in request_only)
            for key, rule in rules.items()
            if key not in values
        )
        return cls(MappingProxyType(values), computed)

    def over(self, base: Identity) -> Identity:
        """Return these rules with ``base``'s rules for the keys these do not define."""
        mine = set(self.values) | {key for key, _, _ in self.computed}
        values = {**{key: value for key, value in base.values.items() if key not in mine}, **self.values}
        computed = tuple(rule for rule in base.computed if rule[0] not in mine) + self.computed
        return Identity(MappingProxyType(values), computed)


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def default_identity(app: Flask) -> Identity:
    """Return the legacy module's identity rules for ``app`` (see the module docstring)."""
    config = app.config
    rules: dict[str, Any] = {
        "app_name": config.get("APP_NAME", app.name),
        "app_version": config.get("APP_VERSION", "unknown"),
        "host": socket.gethostname(),
    }
    request_only = ["host"]
    if config.get("ENVIRONMENT"):
        rules["environment"] = config["ENVIRONMENT"]
    else:
        rules["environment"] = _legacy_environment(app, os.environ.get("FLASK_ENV"))
        request_only.append("environment")
    return Identity.of(rules, request_only)


def _legacy_environment(app: Flask, flask_env: str | None) -> Callable[[], str]:
    def environment() -> str:
        return flask_env or ("development" if app.debug else "production")

    return environment
