"""Drive a legacy module's error handling and newlog's side by side; print the differences as JSON.

Run in a subprocess (the host app's package is called ``app``)::

    python error_identity_driver.py <app root> <legacy file> <legacy module name> <result file> [--no-profile]

The host app's package is imported from ``<app root>`` (its database is ``DATABASE_URL``).
The legacy file is read by ``codemods.legacy_reader``; the rendered profile module is
executed and set as newlog's process-wide error profile. Then, for every error class
(the app's own base error and all its subclasses, every werkzeug HTTP error, real
IntegrityError / other SQLAlchemy errors, the message-word heuristics and generic errors)
and every way of calling (outside an app, in an app, in a request, an explicit
ErrorContext, with and without ``extra``), the legacy module and newlog are called with
the same error and their results compared: payloads as JSON text (same keys, same order,
same values), ``error_handler`` responses as bytes with their status, ErrorContext and
ErrorMetadata attributes, and the app's own error handlers through its test client.
``error_id`` and ``timestamp`` are compared by format. Writes ``{"compared": n,
"differences": [...], "findings": [...], "cases": [...]}`` to the result file (stdout is
where newlog prints its log lines). ``--no-profile`` leaves newlog on its own catalogue:
the control run, which must find differences.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import json
import re
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

APP_ROOT, LEGACY_FILE, LEGACY_MODULE, RESULT = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
WITH_PROFILE = "--no-profile" not in sys.argv[5:]
sys.path.insert(0, str(APP_ROOT))

import flask  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from werkzeug import exceptions as http  # noqa: E402

import newlog.context  # noqa: E402
from codemods.legacy_reader import read_legacy_module, render_profile_module  # noqa: E402
from newlog import error_adapter  # noqa: E402

differences: list[str] = []
compared = 0
cases: list[str] = []
routes: dict[str, Any] = {}
double_call: dict[str, Any] = {}


# -- the host app, the legacy module, the profile -------------------------------------------------

app_package = importlib.import_module("app")
flask_app: flask.Flask = (
    app_package.app
    if isinstance(getattr(app_package, "app", None), flask.Flask)
    else app_package.create_app({"TESTING": True})
)
flask_app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
host_legacy = sys.modules[LEGACY_MODULE]  # the legacy module the host app imports
if Path(host_legacy.__file__).resolve() == LEGACY_FILE.resolve():
    legacy = host_legacy
else:  # a variant file: loaded beside the host's own, on the host app's pieces, sharing its context variables
    spec = importlib.util.spec_from_file_location("legacy_under_test", LEGACY_FILE)
    legacy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(legacy)
    legacy.request_id_var, legacy.user_id_var = host_legacy.request_id_var, host_legacy.user_id_var

SERVED = (
    "enhanced_error_handler",
    "ErrorContext",
    "error_handler",
    "request_id_var",
    "user_id_var",
    "bind_request_context",
    "clear_request_context",
)
"""The legacy names an app's error handling uses; compat serves them from newlog."""


def app_modules() -> list[types.ModuleType]:
    return [
        module
        for name, module in list(sys.modules.items())
        if (name == "app" or name.startswith("app.")) and module is not host_legacy
    ]


def serve(names: dict[str, Any], originals: dict[str, Any]) -> int:
    """Point every app module's name that is ``originals[name]`` at ``names[name]``; return how many were replaced."""
    replaced = 0
    for module in app_modules():
        for attribute, new in names.items():
            if originals.get(attribute) is not None and getattr(module, attribute, None) is originals[attribute]:
                setattr(module, attribute, new)
                replaced += 1
    return replaced


def rewrap(views_of: Callable[..., Any], decorator: Callable[..., Any]) -> None:
    """Views decorated with ``views_of`` (an ``error_handler``) are decorated with ``decorator`` instead."""
    for endpoint, view in list(flask_app.view_functions.items()):
        wrapped = getattr(view, "__wrapped__", None)
        if wrapped is not None and view.__code__ is views_of(wrapped).__code__:
            flask_app.view_functions[endpoint] = decorator(wrapped)


LEGACY_NAMES = {name: getattr(legacy, name, getattr(host_legacy, name, None)) for name in SERVED}
if legacy is not host_legacy:
    serve(LEGACY_NAMES, {name: getattr(host_legacy, name, None) for name in SERVED})
    rewrap(host_legacy.error_handler, legacy.error_handler)

couplings = read_legacy_module(LEGACY_FILE, LEGACY_MODULE, root=APP_ROOT)
profile_module = types.ModuleType("legacy_error_profile")
exec(compile(render_profile_module(couplings), "legacy_error_profile.py", "exec"), profile_module.__dict__)
if WITH_PROFILE:
    error_adapter.use_error_profile(profile_module.PROFILE)
base_error = (
    getattr(importlib.import_module(couplings.base_error.module), couplings.base_error.name)
    if couplings.base_error
    else None
)


# -- comparing ----------------------------------------------------------------------------------


def _shape_of(text: str, key: str) -> str:
    if key == "timestamp":
        # isoformat() leaves the fraction out when the microseconds happen to be 0 (about one call in a
        # million, on either side): that is the same format, so it gets the same shape.
        text = re.sub(r"(\d\d:\d\d:\d\d)(?![.\d])", r"\1.000000", text)
        return re.sub(r"\d", "9", text)
    flags = ("U" if text == text.upper() else "") + ("L" if text == text.lower() else "")
    return re.sub(r"[0-9a-fA-F]", "x", text) + "|" + flags


_VOLATILE = re.compile(r'"(error_id|timestamp)": ?"([^"]*)"')


def normalized(text: str) -> str:
    """``text`` (JSON) with error ids and timestamps replaced by their format."""
    return _VOLATILE.sub(lambda m: f'"{m[1]}":"{_shape_of(m[2], m[1])}"', text)


def payload_text(payload: Any) -> str:
    return normalized(json.dumps(payload, ensure_ascii=False, default=repr))


def same(what: str, legacy_value: Any, newlog_value: Any) -> None:
    global compared
    compared += 1
    if legacy_value != newlog_value:
        differences.append(f"{what}:\n    legacy: {str(legacy_value)[:700]}\n    newlog: {str(newlog_value)[:700]}")


def attempt(what: str, call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:  # noqa: BLE001 - a raised exception is an outcome to compare
        return "raised", f"{type(exc).__name__}: {exc}"


# -- the errors ---------------------------------------------------------------------------------


def _subclasses(cls: type) -> Iterator[type]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


class Duck(Exception):
    """Not the app's base error, but it has the attributes newlog's own classification reads."""

    status_code = 418
    category = "business"
    severity = "low"
    message = "duck-typed"
    recoverable = True


def _database_errors() -> dict[str, BaseException]:
    found: dict[str, BaseException] = {}
    table = f"identity_{uuid.uuid4().hex[:8]}"
    with flask_app.app_context():
        engine = flask_app.extensions["sqlalchemy"].engine
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE TABLE {table} (name VARCHAR(20) UNIQUE)"))
            connection.execute(sa.text(f"INSERT INTO {table} VALUES ('twice')"))
        try:
            for statement, kind in (
                (f"INSERT INTO {table} VALUES ('twice')", "integrity"),
                ("SELECT * FROM no_such_table_here", "database"),
            ):
                try:
                    with engine.begin() as connection:
                        connection.execute(sa.text(statement))
                except sa.exc.SQLAlchemyError as exc:
                    found[kind] = exc
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP TABLE {table}"))
    assert set(found) == {"integrity", "database"}, found
    assert isinstance(found["integrity"], sa.exc.IntegrityError), found
    return found


def error_factories() -> dict[str, Callable[[], BaseException]]:
    factories: dict[str, Callable[[], BaseException]] = {}
    if base_error is not None:
        for cls in _subclasses(base_error):
            factories[f"app:{cls.__name__}"] = cls
    for code, cls in sorted(http.default_exceptions.items()):
        factories[f"http:{code}:{cls.__name__}"] = cls
    factories["http:None:HTTPException"] = http.HTTPException
    factories["http:400:custom-description"] = lambda: http.BadRequest("Eigene Beschreibung")
    factories["http:308:RequestRedirect"] = lambda: __import__(
        "werkzeug.routing", fromlist=["RequestRedirect"]
    ).RequestRedirect("http://localhost/next")
    try:
        from flask_wtf.csrf import CSRFError

        factories["http:400:CSRFError"] = lambda: CSRFError("The CSRF token is missing.")
    except ImportError:
        pass
    database = _database_errors()
    factories["sqlalchemy:IntegrityError"] = lambda: database["integrity"]
    factories["sqlalchemy:OperationalError"] = lambda: database["database"]
    factories["sqlalchemy:SQLAlchemyError"] = lambda: sa.exc.SQLAlchemyError("pool exhausted")
    factories["sqlalchemy:NoResultFound"] = lambda: sa.exc.NoResultFound("no row")
    for text in ("Upstream timeout after 30s", "connection reset by peer", "TIMEOUT"):
        factories[f"words:network:{text}"] = lambda text=text: RuntimeError(text)
    factories["words:network:ConnectionError"] = lambda: ConnectionError("connection refused")
    factories["words:none:TimeoutError-timed-out"] = lambda: TimeoutError("timed out")
    for text in ("permission denied: /exports", "Forbidden: locked", "access DENIED"):
        factories[f"words:authorization:{text}"] = lambda text=text: PermissionError(text)
    for text in ("invalid room 'A-??'", "Validation failed", "INVALID"):
        factories[f"words:validation:{text}"] = lambda text=text: ValueError(text)
    factories["generic:ZeroDivisionError"] = lambda: ZeroDivisionError("division by zero")
    factories["generic:KeyError"] = lambda: KeyError("room_id")
    factories["generic:empty"] = Exception
    factories["generic:duck-typed-attributes"] = Duck
    return factories


# -- the comparisons ----------------------------------------------------------------------------


@contextmanager
def request_context(request_id: str | None = "req-identity", user_id: int | None = 7) -> Iterator[flask.Request]:
    with flask_app.test_request_context(
        "/api/things/7?x=1",
        method="POST",
        headers={"User-Agent": "identity-agent"},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    ):
        tokens = [
            (var, var.set(value))
            for var, value in (
                (legacy.request_id_var, request_id),
                (legacy.user_id_var, user_id),
                (newlog.context.request_id_var, request_id),
                (newlog.context.user_id_var, user_id),
            )
        ]
        try:
            yield flask.request._get_current_object()
        finally:
            for var, token in reversed(tokens):
                var.reset(token)


def compare_payloads(name: str, make: Callable[[], BaseException]) -> None:
    error = make()
    places: list[tuple[str, Callable[[], Any]]] = [
        ("outside an app", lambda: nullcontext()),
        ("in an app", flask_app.app_context),
        ("in a request", request_context),
        ("in a request without ids", lambda: request_context(None, None)),
    ]
    for place, enter in places:
        for extra in (None, {"order_id": 42}, {}):
            with enter():
                legacy_payload = attempt(
                    "legacy",
                    lambda: legacy.enhanced_error_handler(error, **({} if extra is None else {"extra": extra})),
                )
                newlog_payload = attempt("newlog", lambda: error_adapter.enhanced_error_handler(error, extra=extra))
            same(
                f"{name} / enhanced_error_handler {place} extra={extra}", _texts(legacy_payload), _texts(newlog_payload)
            )
    with request_context() as request:
        legacy_payload = attempt(
            "legacy", lambda: legacy.enhanced_error_handler(error, legacy.ErrorContext(error, request))
        )
        newlog_payload = attempt(
            "newlog", lambda: error_adapter.enhanced_error_handler(error, error_adapter.ErrorContext(error, request))
        )
    same(
        f"{name} / enhanced_error_handler with an explicit ErrorContext", _texts(legacy_payload), _texts(newlog_payload)
    )


def _texts(result: tuple[str, Any]) -> tuple[str, str]:
    kind, value = result
    return kind, payload_text(value) if kind == "ok" else str(value)


class nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        return None


def compare_error_handler(name: str, make: Callable[[], BaseException]) -> None:
    def view() -> str:
        raise make()

    for place in ("in a request",):
        with request_context():
            legacy_result = attempt("legacy", legacy.error_handler(view))
            newlog_result = attempt("newlog", error_adapter.error_handler(view))
        same(f"{name} / error_handler {place}", _response(legacy_result), _response(newlog_result))


def _response(result: tuple[str, Any]) -> tuple[str, Any]:
    kind, value = result
    if kind != "ok":
        return kind, value
    body, status = value
    return kind, (normalized(body.get_data(as_text=True)), status)


def compare_context_and_metadata(name: str, make: Callable[[], BaseException]) -> None:
    error = make()
    with request_context() as request:
        legacy_context, newlog_context = legacy.ErrorContext(error, request), error_adapter.ErrorContext(error, request)
        for attribute in vars(legacy_context):
            legacy_value = getattr(legacy_context, attribute)
            newlog_value = getattr(newlog_context, attribute, "<missing>")
            if attribute in ("error_id",):
                legacy_value, newlog_value = _shape_of(legacy_value, attribute), _shape_of(str(newlog_value), attribute)
            elif attribute == "timestamp":
                legacy_value = (type(legacy_value).__name__, legacy_value.tzinfo is not None)
                newlog_value = (type(newlog_value).__name__, getattr(newlog_value, "tzinfo", None) is not None)
            same(f"{name} / ErrorContext.{attribute}", legacy_value, newlog_value)
        same(
            f"{name} / ErrorContext.to_dict()",
            payload_text(legacy_context.to_dict()),
            payload_text(newlog_context.to_dict()),
        )
    with flask_app.app_context():
        legacy_metadata = legacy._classify_error(error)
        newlog_metadata = error_adapter.classify(error)
    if isinstance(legacy_metadata, dict):  # the older variant's plain dict
        legacy_fields = {key: _plain(value) for key, value in legacy_metadata.items()}
        newlog_fields = {key: _plain(getattr(newlog_metadata, key, "<missing>")) for key in legacy_metadata}
    else:
        legacy_fields, newlog_fields = legacy_metadata.to_dict(), newlog_metadata.to_dict()
    same(f"{name} / classification (ErrorMetadata)", legacy_fields, newlog_fields)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def compare_app_handlers() -> None:
    """The host app's own error handlers and routes, first on the legacy module, then on newlog."""
    paths: list[tuple[str, str]] = []
    for rule in sorted(flask_app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not (rule.rule.startswith("/api/errors/") or rule.rule.startswith("/api/fehler/")):
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        if "<kind>" in rule.rule:
            kinds = importlib.import_module("app.fehler").ERRORS
            paths += [(method, rule.rule.replace("<kind>", kind)) for kind in sorted(kinds)]
        else:
            paths.append((method, rule.rule))
    if len(paths) < 8:
        raise SystemExit(f"the host app has too few error routes to drive: {paths}")
    paths.append(("GET", "/api/no-such-route"))
    newlog_names = {
        "enhanced_error_handler": error_adapter.enhanced_error_handler,
        "ErrorContext": error_adapter.ErrorContext,
        "error_handler": error_adapter.error_handler,
        "request_id_var": newlog.context.request_id_var,
        "user_id_var": newlog.context.user_id_var,
        "bind_request_context": newlog.context.bind_request_context,
        "clear_request_context": newlog.context.clear_request_context,
    }
    legacy_answers = _drive(paths)
    routes.update({f"{method} {path}": answer for (method, path), answer in legacy_answers.items()})
    # the app on newlog: every name it took from the legacy module is served by newlog, as compat does
    if serve(newlog_names, LEGACY_NAMES) < 2:
        raise SystemExit(
            "the host app's error handlers do not use the legacy module's enhanced_error_handler / ErrorContext"
        )
    rewrap(legacy.error_handler, error_adapter.error_handler)
    newlog_answers = _drive(paths)
    for method, path in paths:
        same(f"app route {method} {path}", legacy_answers[(method, path)], newlog_answers[(method, path)])


def _drive(paths: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    client = flask_app.test_client()
    answers = {}
    for method, path in paths:
        response = client.open(
            path, method=method, headers={"X-Request-ID": "route-identity", "User-Agent": "identity-agent"}
        )
        answers[(method, path)] = (response.status_code, normalized(response.get_data(as_text=True)))
    return answers


def compare_identity() -> None:
    """The identity fields the rendered module computes equal those the legacy module put in every event."""

    class Logger:
        name = "identity"

    for place, enter, in_request in (
        ("outside an app", nullcontext, False),
        ("in an app", flask_app.app_context, False),
        ("in a request", request_context, True),
    ):
        with enter():
            event = legacy.structlog_config._add_global_context(Logger(), "info", {})
            rendered = {
                key: rule() if callable(rule) else rule
                for key, rule in profile_module.IDENTITY.items()
                if in_request or key not in profile_module.REQUEST_ONLY
            }
        same(
            f"identity fields {place}",
            {key: event[key] for key in ("app_name", "app_version", "environment", "host") if key in event},
            rendered,
        )


def record_double_call() -> None:
    """The one intended change: a view failing once with a LOW error, then succeeding (the older variant retried it)."""
    calls = {"n": 0}

    def flaky() -> tuple[str, int]:
        calls["n"] += 1
        if calls["n"] % 2:
            raise ValueError("invalid input, please retry")
        return "second run", 200

    for side, decorator in (("legacy", legacy.error_handler), ("newlog", error_adapter.error_handler)):
        calls["n"] = 0
        with request_context():
            kind, value = attempt(side, decorator(flaky))
        double_call[side] = {"calls": calls["n"], "status": value[1] if kind == "ok" else value}


def main() -> None:
    factories = error_factories()
    for name, make in factories.items():
        cases.append(name)
        compare_payloads(name, make)
        compare_error_handler(name, make)
        compare_context_and_metadata(name, make)
    compare_identity()
    record_double_call()
    compare_app_handlers()
    result = {
        "compared": compared,
        "differences": differences,
        "findings": [str(f) for f in couplings.findings],
        "cases": cases,
        "routes": routes,
        "double_call": double_call,
    }
    RESULT.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


main()
