"""Drive the app for the recorder: requests through Flask test clients, CLI commands, callables.

Each user gets a test client of its own, logged in once by the login hook (a recorded
``login`` step); anonymous steps share one client. Every request is watched
(:class:`~compat.characterize.guards.RequestWatch`): a step answered by a guard it does not
allow is a *problem* - the record exits 2 naming the guard.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from typing import Any

from flask import Flask, request

from compat.characterize.errors import KitError
from compat.characterize.guards import HANDLER, LoginHook, RequestWatch
from compat.characterize.normalize import mask_keys, mask_string
from compat.characterize.recorder import Recorder
from compat.characterize.scenario import Step

RECORDED_HEADERS = ("Content-Type", "Location", "WWW-Authenticate", "Retry-After", "Allow", "Cache-Control")
"""Response headers a request step records (with every ``X-*`` header); ``Set-Cookie`` by cookie name only."""

TEXT_KEPT = 300


class Driver:
    """Runs steps against ``app`` and records them; collects the problems (guards) that make a record fail."""

    def __init__(self, app: Flask, recorder: Recorder, watch: RequestWatch, login: LoginHook | None, user: str | None) -> None:
        self.app = app
        self.recorder = recorder
        self.watch = watch
        self.login = login
        self.user = user
        self.problems: list[str] = []
        self._clients: dict[str | None, Any] = {}

    def client(self, user: str | None, *, fresh: bool = False) -> Any:
        """Return the test client of ``user`` (None: anonymous), logging it in on first use (``fresh``: a new one)."""
        if user in self._clients and not fresh:
            return self._clients[user]
        client = self.app.test_client()
        if not fresh:
            self._clients[user] = client
        if user is not None:
            if self.login is None:
                raise KitError(
                    f"a step runs as user {user!r} but no login hook is given: pass --login flask-login (the session holds "
                    "the user id) or --login 'yourpkg.testing:login_as' (called as login_as(client, user)), or set login in [kit]"
                )
            step = self.recorder.step(f"login/{user}", "login", "request", lambda: self._log_in(client, user))
            if "raised" in step:
                self.problems.append(
                    f"{step['name']}: the login hook raised {step['raised']['type']}: {step['raised']['message']} "
                    f"(at {step.get('detail', {}).get('raised_at')}); every step as {user!r} would be anonymous"
                )
        return client

    def _log_in(self, client: Any, user: str) -> dict[str, Any]:
        assert self.login is not None
        with self.watch.watching():  # the hook may request the app's login view: not a step of its own
            self.login(client, user)
        return {}

    def resolve_user(self, step: Step) -> str | None:
        """Return the user a step runs as (``as = true`` is the kit's user)."""
        if step.user is True:
            if self.user is None:
                raise KitError(f"{step.source}: as = true needs a user: pass --user or set user in [kit]")
            return self.user
        return step.user or None

    def run(self, step: Step) -> dict[str, Any]:
        """Record ``step`` (request, cli or call) and return the recorded step."""
        if step.kind == "request":
            return self.request(step)
        if step.kind == "cli":
            return self.recorder.step(step.record_name, "cli", "app_context", _masked(step, self._cli), **step.hints)
        place = step.context if step.context != "app" else "app_context"
        return self.recorder.step(step.record_name, "call", place, _masked(step, self._call), **step.hints)

    def request(self, step: Step) -> dict[str, Any]:
        """Record a request step: status, body, selected headers, who answered; a guard not allowed is a problem."""
        client = self.client(self.resolve_user(step), fresh=step.fresh_client)
        recorded = self.recorder.step(step.record_name, "request", "request", _masked(step, lambda s: self._request(client, s)), **step.hints)
        answered = recorded.get("answered_by")
        if answered is not None and answered != HANDLER and answered != step.guard:
            detail = (recorded.get("detail") or {}).get("answer", answered)
            self.problems.append(f"{recorded['name']} ({step.source}): answered by {answered}: {detail}{_hint(answered, step)}")
        return recorded

    def _request(self, client: Any, step: Step) -> dict[str, Any]:
        options: dict[str, Any] = {"method": step.method, "headers": step.headers}
        if step.json is not None:
            options["json"] = step.json
        elif step.form is not None:
            options["data"] = step.form
        elif step.body is not None:
            options["data"] = step.body
        with self.watch.watching() as answer_of:
            response = client.open(step.path, **options)
        try:
            answer = answer_of(response)
            return {
                "status": response.status_code,
                "answered_by": answer.by,
                "headers": recorded_headers(response),
                "result": response_body(response),
                "detail": {"answer": answer.detail},
            }
        finally:
            response.close()

    def _cli(self, step: Step) -> dict[str, Any]:
        runner = self.app.test_cli_runner()
        result = runner.invoke(args=step.cli, input=step.input, catch_exceptions=True)
        observed: dict[str, Any] = {"result": {"exit_code": result.exit_code}, "printed": result.output}
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            observed["raised"] = {"type": f"{type(result.exception).__module__}.{type(result.exception).__qualname__}", "message": mask_string(str(result.exception))}
        return observed

    def _call(self, step: Step) -> dict[str, Any]:
        module_name, _, attribute = step.call.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        if step.context == "none":
            return {"result": target(*step.args, **step.kwargs)}
        if step.context == "app":
            with self.app.app_context():
                return {"result": target(*step.args, **step.kwargs)}
        with self.app.test_request_context():
            seen = {"url": request.url, "method": request.method, "ip_address": request.remote_addr, "user_agent": request.headers.get("User-Agent")}
            return {"result": target(*step.args, **step.kwargs), "meta": {"request": seen}}


def _masked(step: Step, run: Callable[[Step], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Return a step runner whose result has the step's ``mask`` keys masked."""

    def observe() -> dict[str, Any]:
        observed = run(step)
        if step.mask and "result" in observed:
            observed["result"] = mask_keys(observed["result"], step.mask)
        return observed

    return observe


def _hint(answered: str, step: Step) -> str:
    if answered == "csrf":
        return " - the kit pins WTF_CSRF_ENABLED=False, CSRF_ENABLED=False and CSRF_DISABLE=True; this protection reads another setting"
    if answered == "login":
        if step.user:
            return " - the login hook did not log the client in (with --login flask-login the user id must exist in the kit's database)"
        return " - log in for it: as = \"<user>\" with --login, or allow it with guard = \"login\""
    if answered == "routing":
        return " - no route of the app matches; fix the path or method, or allow it with guard = \"routing\""
    return f" - allow it with guard = \"{answered}\" if that is the behaviour to characterize"


def recorded_headers(response: Any) -> dict[str, Any]:
    """Return the headers a request step records (see :data:`RECORDED_HEADERS`)."""
    headers: dict[str, Any] = {}
    for name, value in response.headers.items():
        if name in RECORDED_HEADERS or name.upper().startswith("X-"):
            headers[name] = value
    cookies = sorted({value.split("=", 1)[0].strip() for value in response.headers.getlist("Set-Cookie")})
    if cookies:
        headers["Set-Cookie"] = cookies
    return headers


def response_body(response: Any) -> Any:
    """Return the body: its JSON when it is JSON, else ``{text, length, sha256}`` of the masked text."""
    if response.is_json:
        parsed = response.get_json(silent=True)
        if parsed is not None or response.get_data() in (b"null", b"null\n"):
            return parsed
    text = mask_string(response.get_data(as_text=True))
    return {
        "text": text[:TEXT_KEPT] + ("..." if len(text) > TEXT_KEPT else ""),
        "length": len(text),
        "sha256": hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:16],
    }


def program_request(client: Any, watch: RequestWatch, path: str) -> dict[str, Any]:
    """POST the kit's program route; return the observation (the action's JSON) with status and who answered."""
    with watch.watching() as answer_of:
        response = client.post(path)
    try:
        answer = answer_of(response)
        body = response.get_json(silent=True)
        observed = body if isinstance(body, dict) and "kit_action" in body else {"result": response_body(response)}
        observed.pop("kit_action", None)
        return {**observed, "status": response.status_code, "answered_by": answer.by, "detail": {**observed.get("detail", {}), "answer": answer.detail}}
    finally:
        response.close()

