"""Every server's shutdown drains: the events of every answered request are written when the server is
stopped with SIGTERM, and nothing but the server's own lines is printed at exit (no traceback, no
"Exception ignored"). Servers that handle SIGTERM (gunicorn) exit 0; on a default SIGTERM (``flask run``,
waitress, ``python app.py``) newlog drains, then the process ends as the signal would (-15). In the durable
mode (``LOG_SPOOL_DIR``) too, where the drain is the writer process's: it is gone afterwards, the spool empty."""

from __future__ import annotations

import signal
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.drills.demo_app import MESSAGES
from tests.drills.harness import Server, Stream, drop_table, get, log_rows, table_exists
from tests.newlog.spool_support import spool_files, wait_until_gone, writer_processes

pytestmark = pytest.mark.slow

APP = "tests.drills.demo_app:create_app()"
GUNICORN = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "2", "--graceful-timeout", "20"]
SERVERS = {
    "gunicorn sync": ([*GUNICORN, "-k", "sync", APP], 0),
    "gunicorn gthread": ([*GUNICORN, "-k", "gthread", "--threads", "4", APP], 0),
    "gunicorn gevent": ([*GUNICORN, "-k", "gevent", APP], 0),
    "gunicorn gevent --preload": ([*GUNICORN, "-k", "gevent", "--preload", APP], 0),
    "flask run": ([sys.executable, "-m", "flask", "--app", APP, "run", "--port", "{port}", "--no-reload"], -signal.SIGTERM),
    "waitress": (
        [sys.executable, "-m", "waitress", "--listen=127.0.0.1:{port}", "--call", "tests.drills.demo_app:create_app"],
        -signal.SIGTERM,
    ),
    "python app.py": ([sys.executable, "tests/drills/serve_plain.py", "{port}"], -signal.SIGTERM),
}
EXIT_NOISE = ("Traceback", "Exception ignored", "KeyError", "not written", "dropped")


@pytest.fixture
def table(sqlite_url: str) -> Iterator[str]:
    name = f"drill_{uuid.uuid4().hex[:10]}"
    yield name
    drop_table(sqlite_url, name)


def routed_rows(url: str, table: str) -> list[tuple[str, str]]:
    if not table_exists(url, table):
        return []
    return [(row["context"]["seq"], row["message"]) for row in log_rows(url, table) if row["message"] in MESSAGES]


@pytest.mark.parametrize("mode", ["thread", "spool"])
@pytest.mark.parametrize("server_name", list(SERVERS))
def test_sigterm_writes_the_events_of_every_answered_request_and_exits_quietly(
    server_name: str, mode: str, sqlite_url: str, table: str, tmp_path: Path
) -> None:
    command, expected_exit = SERVERS[server_name]
    env = {
        "DATABASE_URL": sqlite_url,
        "LOG_TABLE": table,
        "LOG_FLUSH_INTERVAL": "60",  # nothing is written before the signal: the drain does it all
        "LOG_BATCH_SIZE": "10000",
        "LOG_QUEUE_SIZE": "20000",
        "LOG_SHUTDOWN_TIMEOUT": "15",
        "LOG_HEALTH_DIR": str(tmp_path / "health"),
        "LOG_RENDERER": "json",
    }
    spool = tmp_path / "spool"
    if mode == "spool":
        env["LOG_SPOOL_DIR"] = str(spool)
    server = Server(command, env, tmp_path / "server.log")
    server.wait_ready()

    def request(seq: int) -> bool:
        return get(server.port, f"/api/log/info?seq={seq}")[0] == 200

    with Stream(request, rate=200, threads=4) as stream:
        stream.wait_for(150)
    if mode == "thread":
        assert routed_rows(sqlite_url, table) == []
    writers = writer_processes(spool) if mode == "spool" else set()

    exit_code = server.stop()
    output = server.output()

    assert exit_code == expected_exit, output[-3000:]
    assert Counter(routed_rows(sqlite_url, table)) == Counter(
        (str(seq), message) for seq in stream.accepted for message in MESSAGES
    ), output[-3000:]
    noise = [line for line in output.splitlines() if not line.startswith("{") and any(word in line for word in EXIT_NOISE)]
    assert noise == []
    if mode == "spool":
        assert writers, "no writer process was found for the spool"
        for pid in writers:
            wait_until_gone(pid)
        assert spool_files(spool) == []
