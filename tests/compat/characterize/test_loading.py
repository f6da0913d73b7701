"""Loading the app: what ``flask --app`` accepts, settings pinned from the app's creation on, the database checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compat.characterize.errors import KitError
from compat.characterize.loading import load_app, parse_setting

IMPORT_TIME_APP = '''
import os
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Settings:
    FEATURE_FLAG = "from-the-app"
    SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(os.getcwd(), "app-own.db")


app = Flask(__name__)
app.config.from_object(Settings)
app.config.update(WTF_CSRF_ENABLED=True)
db.init_app(app)
SEEN_AT_CREATION = {key: app.config.get(key) for key in ("FEATURE_FLAG", "WTF_CSRF_ENABLED")}
'''

OWN_CONFIG_CLASS_APP = '''
from flask import Config, Flask
from flask_sqlalchemy import SQLAlchemy


class AppConfig(Config):
    pass


class App(Flask):
    config_class = AppConfig


def create_app(name="own"):
    app = App(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + name + ".db"
    SQLAlchemy(app)
    return app
'''


def test_pinned_settings_win_over_what_an_import_time_app_writes(write_app: Callable[[str], str], tmp_path: Path) -> None:
    name = write_app(IMPORT_TIME_APP)
    database = f"sqlite:///{tmp_path / 'kit.db'}"

    app, ignored = load_app(f"{name}:app", {"FEATURE_FLAG": "from-the-kit", "WTF_CSRF_ENABLED": False}, database)

    assert app.config["FEATURE_FLAG"] == "from-the-kit"
    assert app.config["WTF_CSRF_ENABLED"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database
    assert ignored == {
        "FEATURE_FLAG": "from-the-app",
        "WTF_CSRF_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app-own.db'}",
    }
    with app.app_context():
        assert str(app.extensions["sqlalchemy"].engine.url) == database


def test_the_app_is_found_as_flask_app_finds_it(write_app: Callable[[str], str]) -> None:
    name = write_app(OWN_CONFIG_CLASS_APP)

    app, _ = load_app(f"{name}:create_app('other')")

    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///other.db"


def test_a_database_the_app_does_not_take_from_its_config_is_refused(write_app: Callable[[str], str], tmp_path: Path) -> None:
    name = write_app(OWN_CONFIG_CLASS_APP)

    with pytest.raises(KitError) as raised:
        load_app(f"{name}:create_app", database=f"sqlite:///{tmp_path / 'kit.db'}")

    message = str(raised.value)
    assert message.startswith(f"--database sqlite:///{tmp_path / 'kit.db'}: the app '{name}:create_app' uses sqlite:///{tmp_path / 'instance' / 'own.db'} instead")
    assert "--config KEY=VALUE" in message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("no_such_module_xyz:create_app", "--app 'no_such_module_xyz:create_app': Could not import 'no_such_module_xyz'."),
        ("{name}:make_it", "--app '{name}:make_it': Failed to find attribute 'make_it' in '{name}'."),
        ("{name}:broken", "--app '{name}:broken': loading the app failed: ZeroDivisionError: division by zero ({path}:"),
        ("{name}:broken_import", "--app '{name}:broken_import': loading the app failed: ModuleNotFoundError: No module named 'missing_dependency_xyz'"),
    ],
)
def test_an_app_that_does_not_load_is_one_clear_line(write_app: Callable[[str], str], tmp_path: Path, spec: str, expected: str) -> None:
    name = write_app("def broken():\n    return 1 / 0\n\n\ndef broken_import():\n    import missing_dependency_xyz\n")

    with pytest.raises(KitError) as raised:
        load_app(spec.format(name=name))

    assert str(raised.value).startswith(expected.format(name=name, path=tmp_path / f"{name}.py"))
    assert "\n" not in str(raised.value)


def test_settings_are_strings_or_json() -> None:
    assert parse_setting("APP_VERSION=1.0") == ("APP_VERSION", "1.0")
    assert parse_setting("FEATURE:=true") == ("FEATURE", True)
    assert parse_setting("LIMITS:={\"a\": [1, 2]}") == ("LIMITS", {"a": [1, 2]})
    assert parse_setting("EMPTY=") == ("EMPTY", "")
    with pytest.raises(KitError, match="expected KEY=VALUE"):
        parse_setting("no-equals-sign")
    with pytest.raises(KitError, match="the value after ':=' is not JSON"):
        parse_setting("FEATURE:=yes please")
