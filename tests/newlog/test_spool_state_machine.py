"""The durable mode under any interleaving of logging, flushes, clean stops and kill -9 of the app process,
of its writer process, or of both, between any two steps: every accepted event is stored exactly once.

Real processes throughout (``spool_child`` app processes and their writer processes) on a real database.
After every step no event is stored twice and no stored event was never accepted; after ``flush()``
and at the end (a restarted app on the same spool) every accepted event is stored exactly once.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import create_engine, text

from tests.conftest import require_postgres
from tests.newlog.spool_support import (
    AppProcess,
    kill_process,
    spool_files,
    stored_seqs,
    wait_for_rows,
    wait_until_gone,
)


class SpoolCrashMachine(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="newlog-spool-"))
        self.spool = self.directory / "spool"
        self.table = f"machine_{uuid.uuid4().hex[:10]}"
        self.app: AppProcess | None = None
        self.accepted: set[int] = set()
        self.next_seq = 0

    def _app(self) -> AppProcess:
        if self.app is None:
            self.app = AppProcess(self.url, self.table, self.spool)
        return self.app

    @rule(count=st.integers(1, 400))
    def log(self, count: int) -> None:
        first, self.next_seq = self.next_seq, self.next_seq + count
        assert self._app().log(first, count) == count
        self.accepted.update(range(first, first + count))

    @precondition(lambda self: self.app is not None)
    @rule()
    def flush(self) -> None:
        assert self._app().flush()
        self.assert_exactly_once()

    @precondition(lambda self: self.app is not None)
    @rule()
    def stop_app(self) -> None:
        assert self._app().stop() == 0
        self.app = None
        self.assert_exactly_once()

    @precondition(lambda self: self.app is not None)
    @rule(with_writer=st.booleans())
    def kill_app(self, with_writer: bool) -> None:
        app = self._app()
        writer = app.writer_pid()
        if with_writer:
            kill_process(writer)
        app.kill()
        self.app = None
        if not with_writer:
            wait_until_gone(writer)  # it stores what its dead app left, then exits

    @precondition(lambda self: self.app is not None)
    @rule()
    def kill_writer(self) -> None:
        kill_process(self._app().writer_pid())

    @invariant()
    def nothing_twice_and_nothing_unaccepted(self) -> None:
        seqs = stored_seqs(self.url, self.table)
        assert all(times == 1 for times in seqs.values()), {seq: n for seq, n in seqs.items() if n > 1}
        assert set(seqs) <= self.accepted

    def assert_exactly_once(self) -> None:
        seqs = stored_seqs(self.url, self.table)
        assert set(seqs) == self.accepted and all(times == 1 for times in seqs.values())

    def teardown(self) -> None:
        try:
            app = self._app()  # a restart on the same spool delivers what dead processes left
            wait_for_rows(self.url, self.table, len(self.accepted))
            assert app.flush()
            self.assert_exactly_once()
            assert app.stop() == 0
            self.app = None
            assert spool_files(self.spool) == []
        finally:
            if self.app is not None:
                self.app.kill()
            engine = create_engine(self.url)
            with engine.begin() as connection:
                connection.execute(text(f'DROP TABLE IF EXISTS "{self.table}"'))
            engine.dispose()
            shutil.rmtree(self.directory, ignore_errors=True)


# Every step starts or kills real processes (about a second each on 2 busy cores): few, long examples.
MACHINE_SETTINGS = settings(
    max_examples=5, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
)


class SQLiteSpoolCrashMachine(SpoolCrashMachine):
    def __init__(self) -> None:
        super().__init__()
        self.url = f"sqlite:///{self.directory / 'logs.db'}"


TestSpoolCrashesOnSQLite = SQLiteSpoolCrashMachine.TestCase
TestSpoolCrashesOnSQLite.settings = MACHINE_SETTINGS
TestSpoolCrashesOnSQLite = pytest.mark.timeout(900)(TestSpoolCrashesOnSQLite)


class PostgresSpoolCrashMachine(SpoolCrashMachine):
    def __init__(self) -> None:
        super().__init__()
        self.url = require_postgres()


TestSpoolCrashesOnPostgres = PostgresSpoolCrashMachine.TestCase
TestSpoolCrashesOnPostgres.settings = settings(MACHINE_SETTINGS, max_examples=3)
TestSpoolCrashesOnPostgres = pytest.mark.timeout(900)(TestSpoolCrashesOnPostgres)
