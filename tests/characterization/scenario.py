"""The characterization scenario of the example app: one run, one normalized JSON document.

Run it in a copy of ``examples/legacy_app`` (the current directory), once per target::

    DATABASE_URL=sqlite:////tmp/x.db python tests/characterization/scenario.py --target legacy --out doc.json

The code is the same for every target: it reaches the logging API only through the old
path ``app.utils.structlog_config`` and drives the app with the Flask test client; what
serves the old path (the legacy file, the compat stub, ``compat.install()``, or the stub
the codemods leave) is what is being characterized.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())  # the copy of the example app: its package is `app`

from compat.characterize.program import PLACES, available_actions  # noqa: E402
from compat.characterize.recorder import LogTable, Recorder, capture, flush_pipeline  # noqa: E402
from compat.characterize.runner import add_program_route, record_program  # noqa: E402

ADMIN = {"username": "alice", "role": "admin"}

# (method, path, JSON body, meta for the allowed deltas)
BEFORE_LOGIN: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("GET", "/api/health", None, {}),
    ("GET", "/api/log/debug", None, {}),
    ("GET", "/api/log/info", None, {}),
    ("GET", "/api/log/warning", None, {}),
    ("GET", "/api/log/error", None, {}),
    ("GET", "/api/log/critical", None, {}),
    ("GET", "/api/log/verbose", None, {}),
    ("POST", "/api/debug", {"enabled": True}, {}),
    ("GET", "/api/log/debug", None, {}),
    ("POST", "/api/debug", {"enabled": False}, {}),
    ("GET", "/api/orders/1", None, {}),
    ("GET", "/me", None, {}),
    ("POST", "/login", {}, {}),
    ("POST", "/login", {"username": "bob", "role": "superuser"}, {}),
    ("POST", "/login", ADMIN, {}),
]

AFTER_PROGRAM: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("GET", "/me", None, {"context_results": ["log_context"]}),
    ("GET", "/api/orders/1", None, {}),
    ("GET", "/api/orders/99", None, {}),
    ("POST", "/api/debug", {"enabled": True}, {}),
    ("GET", "/api/orders/2", None, {}),
    ("POST", "/api/debug", {"enabled": False}, {}),
    ("POST", "/api/coupons/validate", {"code": "WELCOME10"}, {}),
    ("POST", "/api/coupons/validate", {"code": "BOGUS"}, {}),
    ("POST", "/api/payments", {"amount_cents": 2500}, {"bound": {"component": "payments"}}),
    ("POST", "/api/payments", {"amount_cents": 500000}, {"bound": {"component": "payments"}}),
    ("POST", "/api/payments", {"amount_cents": 0}, {"bound": {"component": "payments"}}),
    ("POST", "/api/payments", {"amount_cents": "lots"}, {}),
    ("GET", "/api/context", None, {"context_results": [""]}),
    ("POST", "/api/context/bind", {"tenant": "acme"}, {"bound": {"tenant": "acme"}, "context_results": [""]}),
    ("POST", "/api/context/bind", [], {}),
    ("GET", "/api/context/scoped", None, {"bound": {"operation": "scoped_demo", "step": 1}, "context_results": ["inside", "after"]}),
    ("GET", "/api/context", None, {"context_results": [""]}),
    ("POST", "/api/sync", {"source": "crm"}, {}),
    ("POST", "/api/sync", {"source": "ftp"}, {}),
    ("GET", "/api/errors/validation", None, {}),
    ("GET", "/api/errors/not-found", None, {}),
    ("GET", "/api/errors/payment", None, {}),
    ("GET", "/api/errors/http-404", None, {}),
    ("GET", "/api/errors/http-403", None, {}),
    ("POST", "/api/errors/integrity", None, {}),
    ("GET", "/api/errors/timeout", None, {}),
    ("GET", "/api/errors/permission", None, {}),
    ("GET", "/api/errors/invalid", None, {}),
    ("GET", "/api/errors/unexpected", None, {}),
    ("GET", "/api/reports/daily", None, {"log_table_report": ["total", "by_level", "by_module"]}),
    ("POST", "/api/context/clear", None, {"context_results": [""]}),
    ("GET", "/api/context", None, {"context_results": [""]}),
    ("POST", "/logout", None, {}),
    ("GET", "/api/reports/daily", None, {}),
    ("POST", "/login", {"username": "carol"}, {}),
    ("GET", "/api/reports/daily", None, {}),
    ("POST", "/logout", None, {}),
    ("GET", "/no/such/page", None, {}),
]


def request_step(recorder: Recorder, client: Any, method: str, path: str, body: Any, meta: dict[str, Any]) -> None:
    """Record one request through the test client: status, JSON body, headers, rows, printed."""

    def run() -> dict[str, Any]:
        response = client.open(path, method=method, json=body)
        headers = {name: response.headers[name] for name in ("X-Request-ID", "X-View-Calls") if name in response.headers}
        return {"status": response.status_code, "result": response.get_json(silent=True), "headers": headers}

    recorder.step(f"route/{method} {path} {json.dumps(body, sort_keys=True)}", "request", run, **meta)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="label of what serves the old path (stored in the document)")
    parser.add_argument("--out", required=True, type=Path, help="where to write the JSON document")
    args = parser.parse_args()

    with capture() as created:
        import app.utils.structlog_config as api
        from app import create_app

        app = create_app({"TESTING": True})
        flush_pipeline()
    table = LogTable(app, from_start=True)
    recorder = Recorder(table, api, target=args.target, legacy_module=api.__name__, app={"import_name": app.import_name})
    recorder.step("create_app", "create_app", lambda: {"meta": {"imported": True}})
    recorder.steps[-1]["printed"] = created["printed"]
    recorder.steps[-1]["warnings"] = created["warnings"]

    add_program_route(app, api)
    client = app.test_client()
    for method, path, body, meta in BEFORE_LOGIN:
        request_step(recorder, client, method, path, body, meta)
    actions = available_actions(api)
    record_program(recorder, app, api, actions, PLACES, client)
    for method, path, body, meta in AFTER_PROGRAM:
        request_step(recorder, client, method, path, body, meta)

    document = recorder.document(actions=actions, places=list(PLACES))
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True, default=str))
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
