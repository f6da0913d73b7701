"""The ``flask newlog-health`` and ``flask newlog-table`` commands."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Table
from sqlalchemy.schema import CreateIndex, CreateTable

from newlog.api import health
from newlog.models import log_table
from newlog.settings import Settings
from newlog.sinks import resolve_table


@click.command("newlog-health")
def health_command() -> None:
    """Print the log workers' stats as JSON; exit 1 if a worker is dead or has a backlog error."""
    report = health()
    click.echo(json.dumps(report, indent=2, default=str))
    if not report["ok"]:
        raise SystemExit(1)


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
    table = log_table_of(db, Settings.load(current_app.config).LOG_TABLE)
    if output == "sql":
        click.echo(create_sql(table, db.engine.dialect))
    elif output == "alembic":
        click.echo(alembic_code(table))
    else:
        existed = db.inspect(db.engine).has_table(table.name, schema=table.schema)
        table.create(db.engine, checkfirst=True)
        click.echo(f"log table {table.name!r} " + ("already exists" if existed else "created"))


def log_table_of(db: object, name: str) -> Table:
    """Return the app's own log table called ``name`` (its model), else newlog's."""
    metadata = getattr(db, "metadata")
    return resolve_table(db, metadata.tables[name] if name in metadata.tables else log_table(name))


def create_sql(table: Table, dialect: object) -> str:
    """Return the statements that create ``table`` and its indexes, compiled for ``dialect``."""
    statements = [CreateTable(table), *(CreateIndex(index) for index in sorted(table.indexes, key=lambda i: str(i.name)))]
    return "\n".join(f"{str(statement.compile(dialect=dialect)).strip()};" for statement in statements)


def alembic_code(table: Table) -> str:
    """Return Alembic operations creating ``table`` and its indexes (for a migration's ``upgrade()``)."""
    try:
        from alembic.autogenerate import render_python_code
        from alembic.operations import ops
    except ImportError:
        raise click.ClickException("--alembic needs Alembic: pip install alembic (Flask-Migrate brings it)") from None
    operations = [
        ops.CreateTableOp.from_table(table),
        *(ops.CreateIndexOp.from_index(index) for index in sorted(table.indexes, key=lambda i: str(i.name))),
    ]
    return render_python_code(ops.UpgradeOps(ops=operations))
