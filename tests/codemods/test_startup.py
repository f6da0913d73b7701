"""Rule ``global-context`` across files: writes that run at start-up become process-wide static context.

A ``_global_context`` write in the app factory (or in what it calls, resolved over the scanned
files) reached every later event of every thread: it must become ``set_static_context``. Writes
in request code stay per-request ContextVar bindings, reported for review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.apply import main

PER_REQUEST = "_global_context write inside a function is now a ContextVar binding"


def migrate(root: Path, tree: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, str], str]:
    for name, source in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    (root / "app" / "__init__.py").touch()
    main([str(root), "--jobs", "1"])
    after = {name: (root / name).read_text(encoding="utf-8") for name in tree}
    return after, capsys.readouterr().err


def test_a_write_in_create_app_becomes_static_context(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    after, err = migrate(
        tmp_path,
        {
            "app/factory.py": "from flask import Flask\n"
            "from app.utils.structlog_config import _global_context\n\n\n"
            "def create_app():\n"
            "    app = Flask(__name__)\n"
            '    _global_context["region"] = app.config["REGION"]\n'
            "    return app\n"
        },
        capsys,
    )
    assert after["app/factory.py"] == (
        "from flask import Flask\n"
        "from newlog import set_static_context\n\n\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        '    set_static_context(region=app.config["REGION"])\n'
        "    return app\n"
    )
    assert PER_REQUEST not in err


def test_any_function_building_the_flask_app_is_a_factory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    after, _ = migrate(
        tmp_path,
        {
            "app/wsgi.py": "import flask\n"
            "from app.utils import structlog_config as slc\n\n\n"
            "def build(name):\n"
            "    app = flask.Flask(name)\n"
            "    slc._global_context.update({'service': name, 'tier': 'web'})\n"
            "    slc.bind_context(build='2024.1')\n"
            "    return app\n"
        },
        capsys,
    )
    assert after["app/wsgi.py"] == (
        "import flask\n"
        "from newlog import set_static_context\n\n\n"
        "def build(name):\n"
        "    app = flask.Flask(name)\n"
        "    set_static_context(service=name, tier='web')\n"
        "    set_static_context(build='2024.1')\n"
        "    return app\n"
    )


def test_a_helper_the_factory_calls_in_another_module_writes_static_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    after, err = migrate(
        tmp_path,
        {
            "app/__init__.py": "from flask import Flask\n\n"
            "from .setup import configure\n\n\n"
            "def create_app():\n"
            "    app = Flask(__name__)\n"
            "    configure(app)\n"
            "    return app\n",
            "app/setup.py": "from app import tagging\n\n\ndef configure(app):\n    tagging.tag_process(app.config)\n",
            "app/tagging.py": "from app.utils.structlog_config import _global_context\n\n\n"
            "def tag_process(config):\n"
            "    _global_context['region'] = config['REGION']\n",
        },
        capsys,
    )
    assert after["app/tagging.py"] == (
        "from newlog import set_static_context\n\n\n"
        "def tag_process(config):\n"
        "    set_static_context(region=config['REGION'])\n"
    )
    assert PER_REQUEST not in err


def test_request_code_defined_in_the_factory_stays_per_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    after, err = migrate(
        tmp_path,
        {
            "app/factory.py": "from flask import Flask, g\n"
            "from app.utils.structlog_config import _global_context\n\n\n"
            "def tag_request():\n"
            "    _global_context['user'] = g.user\n\n\n"
            "def create_app():\n"
            "    app = Flask(__name__)\n\n"
            "    @app.before_request\n"
            "    def before():\n"
            "        _global_context['path'] = g.path\n"
            "        tag_request()\n\n"
            "    return app\n"
        },
        capsys,
    )
    assert after["app/factory.py"] == (
        "from flask import Flask, g\n"
        "from structlog.contextvars import bind_contextvars\n\n\n"
        "def tag_request():\n"
        "    bind_contextvars(user=g.user)\n\n\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n\n"
        "    @app.before_request\n"
        "    def before():\n"
        "        bind_contextvars(path=g.path)\n"
        "        tag_request()\n\n"
        "    return app\n"
    )
    assert err.count(PER_REQUEST) == 2


def test_a_helper_also_called_from_request_code_stays_per_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    after, err = migrate(
        tmp_path,
        {
            "app/factory.py": "from flask import Flask\n\n"
            "from app.ctx import tag\n\n\n"
            "def create_app():\n"
            "    app = Flask(__name__)\n"
            "    tag('start')\n"
            "    return app\n",
            "app/views.py": "from app.ctx import tag\n\n\ndef view():\n    tag('view')\n",
            "app/ctx.py": "from app.utils.structlog_config import _global_context\n\n\n"
            "def tag(value):\n"
            "    _global_context['phase'] = value\n",
        },
        capsys,
    )
    assert after["app/ctx.py"] == (
        "from structlog.contextvars import bind_contextvars\n\n\ndef tag(value):\n    bind_contextvars(phase=value)\n"
    )
    assert f"app/ctx.py:5: {PER_REQUEST}" in err


def test_a_module_level_call_is_start_up_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    after, _ = migrate(
        tmp_path,
        {
            "app/boot.py": "from app.utils.structlog_config import _global_context\n\n\n"
            "def stamp():\n"
            "    _global_context.update(release='r1')\n\n\n"
            "stamp()\n"
        },
        capsys,
    )
    assert after["app/boot.py"] == (
        "from newlog import set_static_context\n\n\ndef stamp():\n    set_static_context(release='r1')\n\n\nstamp()\n"
    )
