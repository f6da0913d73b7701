"""A small Flask app wired with ``newlog.init_app``: what the drills serve with gunicorn and
``benchmarks/bench_load.py`` loads.

``GET /api/log/info`` logs three events, like the legacy example app's route of the same
name: the message, "Level demo done" and, from ``after_request``, "Request completed".
Each event carries ``pid`` and the request's ``seq`` query argument, so a drill can tell
which process and which request wrote a row. ``GET /api/stats`` returns ``newlog.health()``.

Configuration comes from the environment: ``DATABASE_URL`` (``postgresql://`` URLs use
psycopg 3; default a SQLite file ``demo_app.db`` in the working directory) and newlog's own
``LOG_*`` settings, e.g. ``LOG_DB_LEVEL=CRITICAL`` to keep the events out of the database.
Serve it with ``gunicorn 'tests.drills.demo_app:create_app()'`` from the repository root.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_sqlalchemy import SQLAlchemy

import newlog

MESSAGES = ("Demo info message", "Level demo done", "Request completed")


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    """Return ``DATABASE_URL`` with a psycopg 3 driver for PostgreSQL, else a local SQLite file."""
    url = environ.get("DATABASE_URL") or "sqlite:///" + os.path.abspath("demo_app.db")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Return the app, wired to newlog (its worker started)."""
    app = Flask("newlog_demo")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url(), APP_VERSION="1.4.2")
    app.config.update(config or {})
    SQLAlchemy(app)
    newlog.init_app(app)
    api = newlog.get_api_logger()
    http = newlog.get_logger("http")

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.get("/api/log/info")
    def log_info() -> Response:
        seq = request.args.get("seq")
        newlog.log_info("Demo info message", module="api", source="log_at_level", pid=os.getpid(), seq=seq)
        api.info("Level demo done", requested_level="info", pid=os.getpid(), seq=seq)
        return jsonify(level="info", logged=True, pid=os.getpid(), seq=seq)

    @app.get("/api/stats")
    def stats() -> Response:
        return jsonify(newlog.health())

    @app.after_request
    def request_completed(response: Response) -> Response:
        if request.path == "/api/log/info":
            http.info(
                "Request completed",
                module="http",
                path=request.path,
                status_code=response.status_code,
                duration_ms=round((time.perf_counter() - g.started) * 1000, 2),
                pid=os.getpid(),
                seq=request.args.get("seq"),
            )
        return response

    return app
