"""Fixtures of the characterization suite: the session's recorded documents."""

from __future__ import annotations

import pytest

from tests.characterization.harness import Records


@pytest.fixture(scope="session")
def records(tmp_path_factory: pytest.TempPathFactory) -> Records:
    """The documents recorded in this session (the legacy one is recorded once per database kind)."""
    return Records(tmp_path_factory.mktemp("characterization"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    """The database kind of a run: a SQLite file, then a PostgreSQL database of its own."""
    if request.param == "postgresql":
        from tests.conftest import require_postgres

        require_postgres()
    return request.param
