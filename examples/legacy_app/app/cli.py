"""Flask CLI commands (``flask --app wsgi log-stats``)."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import UnifiedLog
from app.utils.structlog_config import get_task_logger, structlog_config

task_logger = get_task_logger()


def register_cli(app: Flask) -> None:
    """Attach the application's CLI commands to ``app``."""

    @app.cli.command("log-stats")
    def log_stats() -> None:
        """Print how many rows ``unified_logs`` holds."""
        structlog_config.configure(app)  # a CLI process may not have run configure_structlog
        count = db.session.scalar(select(func.count()).select_from(UnifiedLog))
        task_logger.info("log-stats command run", module="task", rows=count)
        click.echo(f"unified_logs rows: {count}")
