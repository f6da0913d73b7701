"""Helpers for the pipeline tests: stored rows with their context decoded, and the JSON lines printed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

import newlog
from tests.support import read_rows


def stored_rows(app: Flask) -> list[dict[str, Any]]:
    """Return the app's log rows; ``context`` as a dict and ``timestamp`` aware, on every database."""
    rows = read_rows(app)
    for row in rows:
        if isinstance(row["context"], str):  # SQLite returns the JSON column as text to a raw SELECT
            row["context"] = json.loads(row["context"])
        stamp = row["timestamp"]
        if isinstance(stamp, str):
            stamp = dt.datetime.fromisoformat(stamp)
        if stamp.tzinfo is None:  # SQLite keeps no offset; newlog stores UTC
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        row["timestamp"] = stamp
    return rows


def flushed_rows(app: Flask, timeout: float = 10) -> list[dict[str, Any]]:
    """Return :func:`stored_rows` once everything logged so far is written (asserts the flush succeeded)."""
    assert newlog.flush(timeout)
    return stored_rows(app)


def printed_events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Return the JSON lines newlog printed since the last read of ``capsys``."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def wired_app(make_app: Callable[..., tuple[Flask, Any]], **config: Any) -> Flask:
    """``make_app`` with any config, including the keys it sets itself (e.g. LOG_FLUSH_INTERVAL); wired to newlog."""
    app, _ = make_app(init=False)
    app.config.update(config)
    newlog.init_app(app)
    return app
