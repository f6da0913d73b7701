"""Scenario files: what a team writes is read back exactly, and every mistake names its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_login import login_required

from compat.characterize.errors import KitError
from compat.characterize.scenario import Scenario, Step, dump, load, starter


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "characterize.toml"
    path.write_text(text)
    return path


def test_every_kind_of_step_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[kit]
login = "flask-login"
user = "7"

[[step]]
request = "post /api/orders?dry=1"
json = {item = "Keyboard", tags = ["a"]}
headers = {X-Tenant = "acme"}
as = true
hints = {bound = {tenant = "acme"}}

[[step]]
request = "GET /me"
guard = "login"
name = "who am I, anonymous"

[[step]]
cli = ["seed-demo", "--count", "3"]
input = "y\\n"

[[step]]
call = "shop.jobs:nightly_report"
args = [1]
kwargs = {dry_run = true}
context = "request"
""",
    )

    scenario = load(path)

    assert (scenario.login, scenario.user, scenario.starter) == ("flask-login", "7", False)
    order, me, cli, call = scenario.steps
    assert (order.kind, order.method, order.path, order.json, order.headers, order.user) == (
        "request", "POST", "/api/orders?dry=1", {"item": "Keyboard", "tags": ["a"]}, {"X-Tenant": "acme"}, "7"
    )
    assert (order.record_name, order.source, order.hints) == ("request/POST /api/orders?dry=1 as 7", f"{path}:6", {"bound": {"tenant": "acme"}})
    assert (me.record_name, me.guard, me.user) == ("request/who am I, anonymous", "login", None)
    assert (cli.record_name, cli.cli, cli.input) == ("cli/seed-demo --count 3", ["seed-demo", "--count", "3"], "y\n")
    assert (call.record_name, call.args, call.kwargs, call.context) == ("call/shop.jobs:nightly_report", [1], {"dry_run": True}, "request")
    assert Scenario.from_json(scenario.as_json()) == Scenario(scenario.steps, "flask-login", "7", False, str(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[step]]\nrequest = "GET /a"\n\n[[step]]\nrequst = "GET /b"\n', ":4 step 2: unknown key 'requst'; expected one of args, as, body"),
        ('[[step]]\nrequest = "FETCH /a"\n', ":1 step 1: request = 'FETCH /a'; expected \"METHOD /path\""),
        ('[[step]]\nrequest = "GET a"\n', "expected \"METHOD /path\""),
        ('[[step]]\nrequest = "GET /a"\ncli = ["x"]\n', "give exactly one of request"),
        ('[[step]]\nname = "nothing"\n', "give exactly one of request"),
        ('[[step]]\nrequest = "GET /a"\nguard = "cors"\n', "guard = 'cors'; expected one of csrf, login, routing, guard, error"),
        ('[[step]]\nrequest = "POST /a"\njson = {}\nform = {a = "b"}\n', "give at most one of json, form, body"),
        ('[[step]]\ncli = []\n', "cli = [] should be a non-empty list of strings"),
        ('[[step]]\ncli = ["x"]\nas = "1"\n', "'as' applies to request steps only"),
        ('[[step]]\ncall = "no_colon"\n', "expected \"package.module:function\""),
        ('[[step]]\ncall = "a:b"\ncontext = "thread"\n', "context = 'thread'; expected one of app, request, none"),
        ('[[step]]\nrequest = "GET /a"\nheaders = "X-A: 1"\n', "headers = 'X-A: 1' should be a dict"),
        ('[[step]]\nrequest = "GET /a"\nmask = [1]\n', "mask = [1] should be a list of key names"),
        ('[kit]\nlogn = "flask-login"\n[[step]]\nrequest = "GET /a"\n', ":1 [kit]: unknown key 'logn'"),
        ('[kit]\nuser = "1"\n', "no [[step]] and no 'starter = true' in [kit]: the scenario would test nothing"),
        ('[[steps]]\nrequest = "GET /a"\n', "unknown top-level key(s) steps"),
        ('[[step]]\nrequest = "GET /a\n', "not valid TOML"),
    ],
)
def test_a_mistake_names_the_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(KitError) as raised:
        load(path)

    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KitError, match=r"--scenario .*nope.toml: cannot read it"):
        load(tmp_path / "nope.toml")


def starter_app() -> Flask:
    app = Flask("starter_app")

    @app.get("/")
    def index() -> str:
        return "home"

    @app.get("/private")
    @login_required
    def private() -> str:
        return "private"

    @app.get("/orders/<int:order_id>")
    def order(order_id: int) -> str:
        return str(order_id)

    @app.get("/page/", defaults={"number": 1})
    @app.get("/page/<int:number>")
    def page(number: int) -> str:
        return str(number)

    @app.post("/orders")
    def create_order() -> str:
        return "created"

    return app


def test_the_starter_gets_every_route_without_arguments_anonymous_and_logged_in() -> None:
    anonymous = starter(starter_app(), None)
    logged_in = starter(starter_app(), "1")

    assert [(s.name, s.guard, s.user, s.fresh_client) for s in anonymous] == [
        ("GET /", "login", None, True),
        ("GET /page/", "login", None, True),
        ("GET /private", "login", None, True),
    ]
    assert [(s.name, s.guard, s.user) for s in logged_in] == [
        ("GET /", "login", None),
        ("GET / as 1", None, "1"),
        ("GET /page/", "login", None),
        ("GET /page/ as 1", None, "1"),
        ("GET /private", "login", None),
        ("GET /private as 1", None, "1"),
    ]


def test_a_dumped_starter_reads_back_as_the_same_steps(tmp_path: Path) -> None:
    steps = starter(starter_app(), "ü 1")

    path = write(tmp_path, dump(steps, login="flask-login", user="ü 1", app_spec="starter_app:create_app"))
    scenario = load(path)

    assert [(s.method, s.path, s.user, s.guard) for s in scenario.steps] == [(s.method, s.path, s.user, s.guard) for s in steps]
    assert (scenario.login, scenario.user) == ("flask-login", "ü 1")
    assert all(isinstance(step, Step) for step in scenario.steps)
