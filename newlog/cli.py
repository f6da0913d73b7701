"""newlog's flask commands: ``newlog-health`` and ``newlog-table``.

``flask newlog-health`` probes the log database for real and judges the running workers'
heartbeats. It prints one JSON document on stdout (newlog's own log lines go to stderr
meanwhile) and exits 0 when all is well, 1 when degraded (a worker is dead, stale or
dropping events, or no worker has published a heartbeat), 2 when the database cannot take
log rows (cannot connect, table missing, insert fails).

``flask newlog-table`` creates the log table now, or prints it for the app's migrations
(``--sql``: the DDL of its database; ``--alembic``: Alembic operations).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from newlog import state
from newlog.heartbeat import assess, forget_dead, read_heartbeats
from newlog.models import alembic_code, create_sql, log_table
from newlog.settings import Settings
from newlog.sinks import bind_key_of, bound_engine, known_table

OK, DEGRADED, FAILING = 0, 1, 2


@click.command("newlog-health")
@with_appcontext
def health_command() -> None:
    """Probe the log database and read the workers' heartbeats; print JSON; exit 0 ok, 1 degraded, 2 failing."""
    app_state = current_app.extensions["newlog"]
    with _lines_to_stderr():
        report = health_report(app_state)
    click.echo(json.dumps(report, indent=2, default=str))
    click.get_current_context().exit({"ok": OK, "degraded": DEGRADED, "failing": FAILING}[report["status"]])


def health_report(app_state: state.AppLogState, now: float | None = None) -> dict[str, Any]:
    """Return the health report of an app: its database probe and every other process's worker heartbeat."""
    now = time.time() if now is None else now
    worker = app_state.worker
    sink = getattr(worker, "sink", None)
    probe = getattr(getattr(sink, "sink", sink), "probe", None)
    database: dict[str, Any] = probe() if probe is not None else {"ok": None, "skipped": "the app writes to a custom sink"}
    if probe is not None:
        database["url"] = getattr(sink, "url", "")
    workers = []
    for heartbeat in read_heartbeats(app_state.health_dir) if app_state.health_dir else []:
        if heartbeat.get("pid") == os.getpid() or forget_dead(heartbeat, now):
            continue
        workers.append({**heartbeat, "problems": assess(heartbeat, now)})
    notes = []
    if not workers:
        notes.append(f"no running worker has published a heartbeat in {app_state.health_dir} (is the app running here?)")
    if database.get("ok") is False:
        status = "failing"
    elif notes or any(worker["problems"] for worker in workers):
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "database": database, "workers": workers, "notes": notes, "directory": str(app_state.health_dir)}


@contextmanager
def _lines_to_stderr() -> Iterator[None]:
    """Print every app's log lines to stderr inside the block (stdout carries the JSON only)."""
    states = state.all_states()
    saved = [app_state.outputs.stream for app_state in states]
    for app_state in states:
        app_state.outputs.stream = sys.stderr
    try:
        yield
    finally:
        for app_state, stream in zip(states, saved):
            app_state.outputs.stream = stream


@click.command("newlog-table")
@click.option("--sql", "output", flag_value="sql", help="Print the CREATE TABLE / CREATE INDEX statements for the app's database.")
@click.option("--alembic", "output", flag_value="alembic", help="Print the op.create_table code for an Alembic migration.")
@with_appcontext
def table_command(output: str | None) -> None:
    """Create the log table (LOG_TABLE) now, or print how to create it in a migration.

    The app's own model of that name is used when it has one, else newlog's table.
    """
    db = current_app.extensions.get("sqlalchemy")
    if db is None:
        raise click.ClickException("the app has no flask-sqlalchemy extension (call db.init_app(app) in the app factory)")
    name = Settings.load(current_app.config).LOG_TABLE
    own = known_table(db, name)
    table = own if own is not None else log_table(name)
    engine = bound_engine(db, bind_key_of(own))
    if output == "sql":
        click.echo(create_sql(table, engine.dialect))
    elif output == "alembic":
        try:
            click.echo(alembic_code(table))
        except ImportError:
            raise click.ClickException("--alembic needs Alembic: pip install alembic (Flask-Migrate brings it)") from None
    else:
        existed = db.inspect(engine).has_table(table.name, schema=table.schema)
        table.create(engine, checkfirst=True)
        click.echo(f"log table {table.name!r} " + ("already exists" if existed else "created"))
