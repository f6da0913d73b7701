"""Run program actions in a place: a real request, a test request context, an app context, or outside both."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request

from compat.characterize.driver import program_request
from compat.characterize.errors import KitError
from compat.characterize.guards import RequestWatch, exempt
from compat.characterize.normalize import mask
from compat.characterize.program import Action, action

ROUTE = "/_characterize/<path:name>"
ENDPOINT = "compat_characterize_action"


def add_program_route(app: Flask, api: Any) -> None:
    """Register ``POST /_characterize/<action>`` on ``app``: it runs the action inside a full request.

    Call it before the app handles its first request. The response body is the action's
    observation as JSON (marked ``kit_action``); an action that raises is answered by the
    app's own error handling, which is what the step then records.
    """

    def run_action(name: str) -> Response:
        observed = mask(action(name).run(api))
        return Response(json.dumps({"kit_action": name, **observed}), mimetype="application/json")

    try:
        app.add_url_rule(ROUTE, ENDPOINT, run_action, methods=["POST"])
    except AssertionError as exc:  # Flask refuses new routes once the app has handled a request
        raise KitError(f"cannot add the kit's program route to the app: {exc}; load the app without serving requests first") from None
    exempt(app, run_action)


def run_in_place(place: str, app: Flask, api: Any, act: Action, client: Any, watch: RequestWatch) -> dict[str, Any]:
    """Run ``act`` in ``place`` and return its observation (with status and who answered, for a request)."""
    if place == "outside":
        return act.run(api)
    if place == "app_context":
        with app.app_context():
            return act.run(api)
    if place == "test_request_context":
        with app.test_request_context(f"/_characterize/{act.name}", method="POST"):
            seen = {
                "url": request.url,
                "method": request.method,
                "ip_address": request.remote_addr,
                "user_agent": request.headers.get("User-Agent"),
            }
            observed = act.run(api)
        return {**observed, "meta": {**observed.get("meta", {}), "request": seen}}
    if place == "request":
        return program_request(client, watch, f"/_characterize/{act.name}")
    raise ValueError(f"unknown place {place!r}")
