"""Request steps reach their views through the app's guards, or the record says which guard answered them.

Each test records a scenario against the guarded app (``guarded_app.py``) in this process and
reads, per step, who answered (``answered_by``) and the problems that make ``record`` exit 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compat.characterize.runner import RunSettings, record
from compat.characterize.scenario import load

SCENARIO = """
[kit]
login = "flask-login"
user = "1"

[[step]]
request = "GET /open"

[[step]]
request = "POST /submit"
json = {item = "keyboard"}

[[step]]
request = "POST /things"

[[step]]
request = "GET /things"

[[step]]
request = "GET /private"
guard = "login"
name = "private, anonymous, allowed"

[[step]]
request = "GET /private"

[[step]]
request = "GET /private"
as = true

[[step]]
request = "GET /private"
as = "2"

[[step]]
request = "GET /admin"

[[step]]
request = "GET /admin"
headers = {X-Role = "admin"}

[[step]]
request = "GET /internal/stats"

[[step]]
request = "GET /crash-before"

[[step]]
request = "GET /forbidden-by-view"

[[step]]
request = "GET /boom"

[[step]]
request = "GET /nowhere"

[[step]]
request = "POST /open"
"""


def record_scenario(spec: str, tmp_path: Path, text: str = SCENARIO, **settings: object):
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return record(RunSettings(app=spec, scenario=load(path), program=False, **settings))  # type: ignore[arg-type]


def answers(run) -> dict[str, tuple[int, str]]:
    return {step["name"]: (step["status"], step["answered_by"]) for step in run.document["steps"] if step["kind"] == "request"}


def test_each_request_step_records_who_answered_it(guarded_app: str, tmp_path: Path) -> None:
    run = record_scenario(guarded_app, tmp_path)

    assert answers(run) == {
        "request/GET /open": (200, "handler"),
        "request/POST /submit": (201, "handler"),
        "request/POST /things": (201, "handler"),
        "request/GET /things": (200, "handler"),
        "request/private, anonymous, allowed": (302, "login"),
        "request/GET /private": (302, "login"),
        "request/GET /private as 1": (200, "handler"),
        "request/GET /private as 2": (302, "login"),
        "request/GET /admin": (403, "guard"),
        "request/GET /admin #2": (200, "handler"),
        "request/GET /internal/stats": (403, "guard"),
        "request/GET /crash-before": (500, "error"),
        "request/GET /forbidden-by-view": (403, "handler"),
        "request/GET /boom": (500, "handler"),
        "request/GET /nowhere": (404, "routing"),
        "request/POST /open": (405, "routing"),
    }


def test_a_step_answered_by_a_guard_it_does_not_allow_is_a_problem_naming_the_guard(guarded_app: str, tmp_path: Path) -> None:
    run = record_scenario(guarded_app, tmp_path)

    problems = {problem.split(" (", 1)[0]: problem for problem in run.problems}
    assert sorted(problems) == [
        "request/GET /admin",
        "request/GET /crash-before",
        "request/GET /internal/stats",
        "request/GET /nowhere",
        "request/GET /private",
        "request/GET /private as 2",
        "request/POST /open",
    ]
    assert "answered by login: 302 login_required (flask-login: the user is not logged in)" in problems["request/GET /private"]
    assert "the user id must exist in the kit's database" in problems["request/GET /private as 2"]
    assert "a before_request hook or a decorator of admin answered before its view function ran" in problems["request/GET /admin"]
    assert "(Forbidden)" in problems["request/GET /internal/stats"]
    assert "RuntimeError: hook crashed was raised before the view function of crash_before ran" in problems["request/GET /crash-before"]
    assert "scenario.toml:" in problems["request/GET /admin"], "a problem names the scenario line"
    assert run.document["problems"] == run.problems


def test_csrf_protection_is_off_for_the_kits_client_and_said_so(guarded_app: str, tmp_path: Path) -> None:
    run = record_scenario(guarded_app, tmp_path, '[[step]]\nrequest = "POST /submit"\njson = {item = "keyboard"}\n')

    assert answers(run) == {"request/POST /submit": (201, "handler")}
    assert run.document["guards"]["csrf_off"] == ["Flask-WTF CSRFProtect (app.extensions['csrf']): WTF_CSRF_ENABLED=False"]
    assert run.problems == []


def test_a_csrf_check_the_kit_cannot_switch_off_fails_the_record(guarded_app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARDED_APP_STRICT_CSRF", "1")

    run = record_scenario(guarded_app, tmp_path, '[[step]]\nrequest = "POST /submit"\njson = {item = "keyboard"}\n')

    assert answers(run) == {"request/POST /submit": (400, "csrf")}
    assert len(run.problems) == 1
    assert "answered by csrf: 400 CSRF protection (CSRFError: The X-Token header is missing.)" in run.problems[0]


def test_a_request_step_records_status_body_and_selected_headers(guarded_app: str, tmp_path: Path) -> None:
    run = record_scenario(guarded_app, tmp_path, '[[step]]\nrequest = "GET /private"\nguard = "login"\n\n[[step]]\nrequest = "GET /login"\n')

    redirect, page = [step for step in run.document["steps"] if step["kind"] == "request"]
    assert redirect["headers"]["Location"] == "/login?next=%2Fprivate"
    assert redirect["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert page["result"] == {"text": "<form>log in</form>", "length": 19, "sha256": page["result"]["sha256"]}
    assert "Set-Cookie" not in page["headers"]


def test_the_login_hook_runs_once_per_user_as_a_step_of_its_own(guarded_app: str, tmp_path: Path) -> None:
    text = '[kit]\nlogin = "flask-login"\n\n[[step]]\nrequest = "GET /private"\nas = "1"\n\n[[step]]\nrequest = "GET /things"\nas = "1"\n'

    run = record_scenario(guarded_app, tmp_path, text)

    assert [step["name"] for step in run.document["steps"]] == ["startup", "login/1", "request/GET /private as 1", "request/GET /things as 1"]
    assert run.problems == []


def test_masked_keys_keep_their_presence_but_not_their_value(guarded_app: str, tmp_path: Path) -> None:
    run = record_scenario(guarded_app, tmp_path, '[[step]]\nrequest = "GET /open"\nmask = ["page", "absent"]\n')

    assert [step["result"] for step in run.document["steps"] if step["kind"] == "request"] == [{"page": "<masked>"}]
