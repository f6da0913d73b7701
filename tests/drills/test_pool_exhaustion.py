"""The log writer has a connection of its own: with every connection of the app's pool held (requests
piling up on a slow query, say), logging still persists and a request that logs never waits for a
connection. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from flask import Flask
from sqlalchemy.exc import TimeoutError as PoolTimeout

import newlog
from tests.conftest import MakeApp
from tests.support import stored_rows


@contextmanager
def every_app_connection_held(app: Flask) -> Iterator[None]:
    """Check out every connection the app's pool has (and prove there is none left)."""
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        engine = db.engine
    with ExitStack() as held:
        for _ in range(engine.pool.size()):
            held.enter_context(engine.connect())
        with pytest.raises(PoolTimeout):
            engine.connect()
        yield


def test_logging_persists_and_requests_never_wait_while_the_apps_pool_is_exhausted(
    make_app: MakeApp, database_url: str
) -> None:
    app = make_app(database=database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 2, "max_overflow": 0, "pool_timeout": 0.5})

    @app.get("/checkout")
    def checkout() -> str:
        newlog.log_info("order placed", order_id=7)
        return "ok"

    client = app.test_client()
    with every_app_connection_held(app):
        responses = [client.get("/checkout").status_code for _ in range(20)]
        rows = stored_rows(app)  # written and read on connections that are not the app's

    assert responses == [200] * 20
    assert [row["message"] for row in rows] == ["order placed"] * 20
