"""Flask CLI commands: ``flask --app app seed-demo``, ``flask --app app log-stats``."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import UnifiedLog
from app.utils.structlog_config import get_task_logger

task_logger = get_task_logger()


def register_cli(app: Flask) -> None:
    """Attach the application's CLI commands to ``app``."""

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Insert the demo users and rooms."""
        from app.services.demo_data import seed

        users, rooms = seed()
        task_logger.info("Demo-Daten: %d Benutzer, %d Räume angelegt", users, rooms, module="task")
        click.echo(f"{users} users, {rooms} rooms added")

    @app.cli.command("log-stats")
    def log_stats() -> None:
        """Print how many rows ``unified_logs`` holds."""
        count = db.session.scalar(select(func.count()).select_from(UnifiedLog))
        task_logger.info("log-stats: %s Zeilen", count, module="task")
        click.echo(f"unified_logs rows: {count}")
