"""The ``flask newlog-health`` command."""

from __future__ import annotations

import json

import click

from newlog.api import health


@click.command("newlog-health")
def health_command() -> None:
    """Print the log workers' stats as JSON; exit 1 if a worker is dead or has a backlog error."""
    report = health()
    click.echo(json.dumps(report, indent=2, default=str))
    if not report["ok"]:
        raise SystemExit(1)
