"""Run program actions in a place: a real request, a test request context, an app context, or outside both."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, request

from compat.characterize.program import Action, action
from compat.characterize.recorder import Recorder

ROUTE = "/_characterize/<path:name>"


def add_program_route(app: Flask, api: Any) -> None:
    """Register ``POST /_characterize/<action>`` on ``app``: runs the action inside a full request.

    Call it before the app handles its first request. The response body is the action's
    observation as JSON.
    """

    def run_action(name: str) -> Response:
        observed = action(name).run(api)
        return Response(json.dumps(observed, default=str), mimetype="application/json")

    app.add_url_rule(ROUTE, "compat_characterize_action", run_action, methods=["POST"])


def run_in_place(place: str, app: Flask, api: Any, act: Action, client: Any = None) -> dict[str, Any]:
    """Run ``act`` in ``place`` and return its observation (with ``status`` for a request)."""
    if place == "outside":
        return act.run(api)
    if place == "app_context":
        with app.app_context():
            return act.run(api)
    if place == "test_request_context":
        with app.test_request_context(f"/_characterize/{act.name}", method="POST"):
            observed = act.run(api)
            seen = {
                "url": request.url,
                "method": request.method,
                "ip_address": request.remote_addr,
                "user_agent": request.headers.get("User-Agent"),
            }
        return {**observed, "meta": {**observed.get("meta", {}), "request": seen}}
    if place == "request":
        response = client.post(f"/_characterize/{act.name}")
        observed = response.get_json(silent=True)
        if not isinstance(observed, dict):
            observed = {"result": response.get_data(as_text=True)}
        return {**observed, "status": response.status_code}
    raise ValueError(f"unknown place {place!r}")


def record_program(
    recorder: Recorder, app: Flask, api: Any, names: Iterable[str], places: Iterable[str], client: Any = None
) -> None:
    """Record every action of ``names`` in every place it may run in, place by place."""
    for place in places:
        for name in names:
            act = action(name)
            if place not in act.places:
                continue
            recorder.step(f"program/{place}/{name}", place, lambda act=act, place=place: run_in_place(place, app, api, act, client))
