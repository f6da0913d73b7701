"""The team's scenario: the app's own requests, CLI commands and callables, recorded before and replayed after.

A scenario is a TOML file::

    [kit]
    login = "flask-login"         # or "yourpkg.testing:login_as", called as login_as(client, user)
    user = "1"                    # who `as = true` steps and the starter's logged-in steps are
    starter = true                # also run the starter steps generated from the URL map

    [[step]]
    request = "POST /api/orders"  # METHOD /path?query
    json = {item = "Keyboard"}    # or form = {...}, or body = "raw text"
    headers = {X-Tenant = "acme"}
    as = "1"                      # log in as this user first (true: [kit] user)
    guard = "login"               # this step may be answered by this guard (csrf, login, routing, guard, error)
    name = "order a keyboard"     # optional; default "POST /api/orders"

    [[step]]
    cli = ["seed-demo", "--count", "3"]   # a flask CLI command of the app (input = "y\\n" for prompts)

    [[step]]
    call = "yourpkg.jobs:nightly_report"  # called in an app context (context = "request" | "none")
    args = [7]
    kwargs = {dry_run = true}

Each request step must reach its view function unless ``guard`` allows the guard that
answered it. ``mask = ["id"]`` replaces the values of those keys in the step's result by
``<masked>`` (the key stays: its presence is still compared) - for values that differ
between any two runs, such as the ids of log rows a response lists. ``hints`` (a table)
passes what some allowed deltas need to know about a step (``context_results``, ``bound``,
``log_table_report``: see ``compat.characterize.deltas``).
Without a scenario file, the kit runs the *starter*: one GET per route of the URL map that
needs no argument, anonymous (login guards allowed) and, given a login hook and a user,
logged in (it must reach the view).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from flask import Flask

from compat.characterize.errors import KitError
from compat.characterize.guards import GUARDS

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CONTEXTS = ("app", "request", "none")
KIT_KEYS = {"login": str, "user": str, "starter": bool}
STEP_KEYS = {
    "name": str,
    "request": str,
    "json": object,
    "form": dict,
    "body": str,
    "headers": dict,
    "as": (str, bool),
    "guard": str,
    "hints": dict,
    "mask": list,
    "cli": list,
    "input": str,
    "call": str,
    "args": list,
    "kwargs": dict,
    "context": str,
}
KINDS = ("request", "cli", "call")


@dataclass(frozen=True)
class Step:
    """One scenario step; ``kind`` is request, cli or call; ``source`` is where it was written (path:line)."""

    kind: str
    name: str
    source: str
    method: str = "GET"
    path: str = "/"
    json: Any = None
    form: dict[str, Any] | None = None
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    user: str | bool | None = None
    guard: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    mask: list[str] = field(default_factory=list)
    cli: list[str] = field(default_factory=list)
    input: str | None = None
    call: str = ""
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    context: str = "app"
    fresh_client: bool = False

    @property
    def record_name(self) -> str:
        """The step's name in a record: ``request/GET /path``, ``cli/...``, ``call/...``."""
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Scenario:
    """The steps to run, and the kit settings the file gave (``login``, ``user``, ``starter``)."""

    steps: tuple[Step, ...] = ()
    login: str | None = None
    user: str | None = None
    starter: bool = False
    source: str = "starter"

    def as_json(self) -> dict[str, Any]:
        """Return the scenario as stored in a record (replayed by ``compare``)."""
        return {
            "source": self.source,
            "login": self.login,
            "user": self.user,
            "starter": self.starter,
            "steps": [asdict(step) for step in self.steps],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        """Return the scenario stored in a record by :meth:`as_json`."""
        known = {f.name for f in fields(Step)}
        steps = tuple(Step(**{k: v for k, v in step.items() if k in known}) for step in data.get("steps", []))
        return cls(steps, data.get("login"), data.get("user"), bool(data.get("starter")), data.get("source", "record"))


def load(path: Path) -> Scenario:
    """Read and check a scenario file; :class:`KitError` names the file, line and key of any mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KitError(f"--scenario {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KitError(f"{path}: not valid TOML: {exc}") from None
    lines = [number for number, line in enumerate(text.splitlines(), 1) if re.match(r"^\s*\[\[\s*step\s*\]\]", line)]
    unknown = sorted(set(data) - {"kit", "step"})
    if unknown:
        raise KitError(f"{path}: unknown top-level key(s) {', '.join(unknown)}: a scenario has a [kit] table and [[step]] tables")
    kit = data.get("kit", {})
    kit_line = _line_of(text, r"^\s*\[\s*kit\s*\]")
    _check_keys(kit, KIT_KEYS, f"{path}:{kit_line} [kit]")
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list) or not all(isinstance(raw, dict) for raw in raw_steps):
        raise KitError(f"{path}: 'step' must be an array of tables ([[step]])")
    user = kit.get("user")
    steps = tuple(
        _step({**raw, "as": user} if raw.get("as") is True and user else raw, f"{path}:{lines[index] if index < len(lines) else '?'}", index + 1)
        for index, raw in enumerate(raw_steps)
    )
    if not steps and not kit.get("starter"):
        raise KitError(f"{path}: no [[step]] and no 'starter = true' in [kit]: the scenario would test nothing")
    return Scenario(steps, kit.get("login"), kit.get("user"), bool(kit.get("starter")), str(path))


def _line_of(text: str, pattern: str) -> int | str:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(pattern, line):
            return number
    return "?"


def _check_keys(table: dict[str, Any], allowed: dict[str, Any], where: str) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise KitError(f"{where}: unknown key {key!r}; expected one of {', '.join(sorted(allowed))}")
        expected = allowed[key]
        if expected is not object and not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            raise KitError(f"{where}: {key} = {value!r} should be a {names}")


def _step(raw: dict[str, Any], where: str, number: int) -> Step:
    label = f"{where} step {number}"
    _check_keys(raw, STEP_KEYS, label)
    kinds = [kind for kind in KINDS if kind in raw]
    if len(kinds) != 1:
        raise KitError(f"{label}: give exactly one of request = \"METHOD /path\", cli = [...], call = \"module:function\" (found {kinds or 'none'})")
    kind = kinds[0]
    user = raw.get("as")
    if user is False:
        user = None
    guard = raw.get("guard")
    if guard is not None and guard not in GUARDS:
        raise KitError(f"{label}: guard = {guard!r}; expected one of {', '.join(GUARDS)}")
    if not all(isinstance(key, str) for key in raw.get("mask", [])):
        raise KitError(f"{label}: mask = {raw['mask']!r} should be a list of key names, e.g. [\"id\", \"created\"]")
    common: dict[str, Any] = {"source": where, "hints": raw.get("hints", {}), "mask": list(raw.get("mask", []))}
    if kind == "request":
        match = re.match(r"^\s*([A-Za-z]+)\s+(/\S*)\s*$", raw["request"])
        if not match or match.group(1).upper() not in METHODS:
            raise KitError(f"{label}: request = {raw['request']!r}; expected \"METHOD /path\" with METHOD one of {', '.join(METHODS)}")
        bodies = [key for key in ("json", "form", "body") if key in raw]
        if len(bodies) > 1:
            raise KitError(f"{label}: give at most one of json, form, body (found {', '.join(bodies)})")
        method, path = match.group(1).upper(), match.group(2)
        for key in ("cli", "input", "call", "args", "kwargs", "context"):
            if key in raw:
                raise KitError(f"{label}: {key!r} does not apply to a request step")
        user_text = True if user is True else (str(user) if user is not None else None)
        default_name = f"{method} {path}" + (f" as {'<kit user>' if user_text is True else user_text}" if user_text else "")
        return Step(
            "request",
            raw.get("name", default_name),
            method=method,
            path=path,
            json=raw.get("json"),
            form=raw.get("form"),
            body=raw.get("body"),
            headers={str(k): str(v) for k, v in raw.get("headers", {}).items()},
            user=user_text,
            guard=guard,
            **common,
        )
    for key in ("json", "form", "body", "headers", "as", "guard"):
        if key in raw:
            raise KitError(f"{label}: {key!r} applies to request steps only")
    if kind == "cli":
        if not raw["cli"] or not all(isinstance(arg, str) for arg in raw["cli"]):
            raise KitError(f"{label}: cli = {raw['cli']!r} should be a non-empty list of strings, e.g. [\"seed\", \"--count\", \"3\"]")
        for key in ("call", "args", "kwargs", "context"):
            if key in raw:
                raise KitError(f"{label}: {key!r} does not apply to a cli step")
        return Step("cli", raw.get("name", " ".join(raw["cli"])), cli=list(raw["cli"]), input=raw.get("input"), **common)
    if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$", raw["call"]):
        raise KitError(f"{label}: call = {raw['call']!r}; expected \"package.module:function\"")
    context = raw.get("context", "app")
    if context not in CONTEXTS:
        raise KitError(f"{label}: context = {context!r}; expected one of {', '.join(CONTEXTS)}")
    if "input" in raw:
        raise KitError(f"{label}: 'input' applies to cli steps only")
    return Step(
        "call", raw.get("name", raw["call"]), call=raw["call"], args=raw.get("args", []), kwargs=raw.get("kwargs", {}), context=context, **common
    )


def starter(app: Flask, user: str | None, *, skip_endpoints: frozenset[str] = frozenset()) -> tuple[Step, ...]:
    """Return the starter steps: a GET of every route that needs no argument, anonymous and (given ``user``) logged in.

    Anonymous steps may be answered by a login guard (a protected page); logged-in ones must reach their view.
    Each step gets a fresh client (logged in anew): a GET that logs out does not spoil the next one.
    """
    steps = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if "GET" not in (rule.methods or ()) or rule.endpoint in skip_endpoints or rule.endpoint == "static":
            continue
        if set(rule.arguments) - set(rule.defaults or {}):
            continue
        source = f"starter: {rule.endpoint}"
        steps.append(Step("request", f"GET {rule.rule}", source, path=rule.rule, guard="login", fresh_client=True))
        if user is not None:
            steps.append(Step("request", f"GET {rule.rule} as {user}", source, path=rule.rule, user=user, fresh_client=True))
    return tuple(steps)


def dump(steps: tuple[Step, ...], *, login: str | None, user: str | None, app_spec: str) -> str:
    """Return a scenario file (TOML) holding ``steps``: the starter a team edits and extends."""
    out = [
        f"# Characterization scenario for {app_spec}, generated from its URL map by",
        "# 'python -m compat.characterize scenario'. Edit it: add the requests, CLI commands and callables",
        "# that exercise your logging (POST bodies, error paths...). See compat/characterize/scenario.py.",
        "",
        "[kit]",
    ]
    if login:
        out.append(f"login = {toml_string(login)}")
    if user:
        out.append(f"user = {toml_string(user)}")
    out.append("starter = false  # true: also run the URL-map steps at every record")
    for step in steps:
        out += ["", "[[step]]", f"request = {toml_string(f'{step.method} {step.path}')}"]
        if step.user:
            out.append(f"as = {toml_string(step.user)}")
        if step.guard:
            out.append(f"guard = {toml_string(step.guard)}  # anonymous: a protected page may answer with its login guard")
    return "\n".join(out) + "\n"


def toml_string(text: str) -> str:
    """Return ``text`` as a TOML basic string."""
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) == 0x7F else c for c in escaped)
    return f'"{escaped}"'
