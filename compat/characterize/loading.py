"""Load the app the way ``flask --app`` does, with config values pinned from the app's creation on.

``--app`` accepts what ``flask --app`` accepts (``flask.cli.ScriptInfo``): ``pkg``,
``pkg:app``, ``pkg:create_app`` (called), ``pkg:create_app('testing')``, ``path/to/file.py``.

Pinned settings (``--config KEY=VALUE``, ``--database URL``, and the kit's own CSRF switch)
are in ``app.config`` from the moment the Flask object is created, and writes to them by the
app (its factory, ``from_object``, ``from_prefixed_env``...) are ignored: they hold whether
the app is built by a factory or at import time, and whether it reads ``DATABASE_URL`` or
not. ``--database`` also sets ``DATABASE_URL`` for apps that read it; after loading, the kit
checks that the app's database really is that one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import traceback
from collections.abc import Iterator, Mapping
from typing import Any

import flask
import sqlalchemy as sa
from flask import Flask
from flask.cli import NoAppException, ScriptInfo

from compat.characterize.errors import KitError

DATABASE_KEY = "SQLALCHEMY_DATABASE_URI"


def parse_setting(text: str) -> tuple[str, Any]:
    """Return ``(KEY, value)`` of a ``--config`` option: ``KEY=text`` (a string) or ``KEY:=json`` (any JSON value)."""
    typed = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):=(.*)$", text, re.DOTALL)
    if typed:
        try:
            return typed.group(1), json.loads(typed.group(2))
        except ValueError as exc:
            raise KitError(f"--config {text!r}: the value after ':=' is not JSON ({exc}); use KEY=text for a string") from None
    plain = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", text, re.DOTALL)
    if not plain:
        raise KitError(f"--config {text!r}: expected KEY=VALUE (a string) or KEY:=JSON (e.g. --config 'FEATURE_X:=true')")
    return plain.group(1), plain.group(2)


def _pinned_config_class(base: type[flask.Config], pins: Mapping[str, Any], ignored: dict[str, Any]) -> type[flask.Config]:
    class PinnedConfig(base):  # type: ignore[misc, valid-type]
        """``app.config`` with the kit's pinned keys: the app's writes to them are recorded and ignored."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            dict.update(self, pins)

        def __setitem__(self, key: str, value: Any) -> None:
            if key in pins:
                if value != pins[key]:
                    ignored[key] = value
                return
            super().__setitem__(key, value)

        def update(self, *args: Any, **kwargs: Any) -> None:
            for key, value in dict(*args, **kwargs).items():
                self[key] = value

        def setdefault(self, key: str, default: Any = None) -> Any:
            if key in pins:
                return dict.__getitem__(self, key)
            return super().setdefault(key, default)

    PinnedConfig.__qualname__ = PinnedConfig.__name__ = f"Pinned{base.__name__}"
    return PinnedConfig


@contextlib.contextmanager
def _pinned(pins: Mapping[str, Any], ignored: dict[str, Any]) -> Iterator[None]:
    had_own = "config_class" in Flask.__dict__
    saved = Flask.__dict__.get("config_class")
    Flask.config_class = _pinned_config_class(Flask.config_class, pins, ignored)  # type: ignore[misc]
    try:
        yield
    finally:
        if had_own:
            Flask.config_class = saved  # type: ignore[misc]
        else:
            del Flask.config_class


def load_app(spec: str, pins: Mapping[str, Any] | None = None, database: str | None = None) -> tuple[Flask, dict[str, Any]]:
    """Return the app of ``spec`` and the values it tried to write over pinned settings.

    Raises :class:`KitError` with one line saying what failed (the app's own exceptions
    included, with the file and line they came from).
    """
    pins = dict(pins or {})
    if database:
        pins[DATABASE_KEY] = database
        os.environ["DATABASE_URL"] = database
    ignored: dict[str, Any] = {}
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        with _pinned(pins, ignored):
            app = ScriptInfo(app_import_path=spec, set_debug_flag=False).load_app()
    except NoAppException as exc:
        raise KitError(f"--app {spec!r}: {_condensed(str(exc))}") from None
    except KitError:
        raise
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the app's code: say what it raised and where
        raise KitError(f"--app {spec!r}: loading the app failed: {one_line(exc)}") from None
    if not isinstance(app, Flask):
        raise KitError(f"--app {spec!r} gave a {type(app).__name__}, not a Flask app")
    unpinned = {key: value for key, value in pins.items() if app.config.get(key) != value}
    if unpinned:
        # an app class with a config_class of its own: set the values now, the factory ran without them
        app.config.update(unpinned)
    if database:
        _check_database(app, database, spec)
    return app, ignored


def _check_database(app: Flask, database: str, spec: str) -> None:
    db = app.extensions.get("sqlalchemy")
    if db is None:
        return
    with app.app_context():
        actual = db.engine.url
    wanted = sa.engine.make_url(database)
    if _same_database(actual, wanted):
        return
    raise KitError(
        f"--database {wanted.render_as_string(hide_password=True)}: the app {spec!r} uses "
        f"{actual.render_as_string(hide_password=True)} instead (its flask-sqlalchemy engine does not come from "
        f"app.config[{DATABASE_KEY!r}]); point the app's own setting at a throw-away database with --config KEY=VALUE"
    )


def _same_database(left: sa.engine.URL, right: sa.engine.URL) -> bool:
    def key(url: sa.engine.URL) -> tuple[Any, ...]:
        database = url.database
        if url.get_backend_name() == "sqlite" and database and database != ":memory:":
            database = os.path.realpath(database)
        return url.get_backend_name(), url.host, url.port, url.username, database

    return key(left) == key(right)


def one_line(exc: BaseException) -> str:
    """Return ``Type: message (file:line)`` of an exception, the line being the last one in the app's code.

    Frames of the import machinery and of the kit itself are not the app's: when only those
    are left, no location is given.
    """
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    kit = os.path.dirname(os.path.abspath(__file__))
    own = [
        frame
        for frame in frames
        if not frame.filename.startswith("<frozen") and os.sep + "importlib" + os.sep not in frame.filename and not frame.filename.startswith(kit)
    ]
    where = f" ({own[-1].filename}:{own[-1].lineno})" if own else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _condensed(message: str) -> str:
    """Return flask's NoAppException text without its embedded traceback (last frame and error kept)."""
    if "Traceback (most recent call last)" not in message:
        return " ".join(message.split())
    head = message.split("Traceback (most recent call last)")[0].strip().rstrip(":")
    frames = re.findall(r'File "([^"]+)", line (\d+)', message)
    error = [line for line in message.strip().splitlines() if line and not line.startswith(" ")][-1]
    where = f" ({frames[-1][0]}:{frames[-1][1]})" if frames else ""
    return f"{' '.join(head.split())}: {error.strip()}{where}"
