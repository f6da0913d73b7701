"""Drill fixtures: an own throw-away PostgreSQL cluster per test session (stopping it hurts nobody)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import IN_CI
from tests.drills.harness import PostgresCluster, postgres_bindir


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this session only, started; fails under CI=true, skips elsewhere, without a server."""
    bindir = postgres_bindir()
    if bindir is None:
        reason = (
            "the PostgreSQL outage drills need the PostgreSQL server binaries "
            "(apt-get install postgresql, or NEWLOG_TEST_PGBIN=/usr/lib/postgresql/15/bin)"
        )
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
