"""Reports over the ``unified_logs`` table.

Reaches the legacy module through a plain ``import app.utils.structlog_config``
and fully-qualified attribute access, a method-level import and a
``TYPE_CHECKING``-only import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

import app.utils.structlog_config
from app.extensions import db
from app.models import UnifiedLog

if TYPE_CHECKING:
    from app.utils.structlog_config import StructlogConfig

db_logger = app.utils.structlog_config.get_db_logger()


class ReportService:
    """Builds summaries of what the application logged."""

    def __init__(self, log_config: StructlogConfig | None = None) -> None:
        self.log_config = log_config or app.utils.structlog_config.structlog_config

    def daily_summary(self) -> dict[str, Any]:
        """Return row counts of ``unified_logs`` by level and module."""
        from app.utils.structlog_config import log_debug, should_log_debug  # method-level import

        by_level = dict(
            (level.name, count)
            for level, count in db.session.execute(
                select(UnifiedLog.level, func.count()).group_by(UnifiedLog.level)
            ).all()
        )
        by_module = dict(
            db.session.execute(select(UnifiedLog.module, func.count()).group_by(UnifiedLog.module)).all()
        )
        if should_log_debug():
            log_debug("Report query done", module="reports", levels=sorted(by_level))
        total = sum(by_level.values())
        db_logger.info("Daily report queried", module="reports", rows=total)
        app.utils.structlog_config.log_info(
            "Daily report generated", module="reports", rows=total, handler_configured=self.log_config.configured
        )
        return {"total": total, "by_level": by_level, "by_module": by_module}
