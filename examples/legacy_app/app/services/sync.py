"""A (fake) synchronisation job with an external CRM.

Written the way old parts of the code base were: a star import of the legacy
module, a module-level ``get_sync_logger()`` and ``get_logger(__name__)``.
"""

from __future__ import annotations

from typing import Any

from app.utils.structlog_config import *  # noqa: F403

sync_logger = get_sync_logger()  # noqa: F405


def run_sync(source: str) -> dict[str, Any]:
    """Pretend to pull records from ``source``; return a summary."""
    log = get_logger(__name__)  # noqa: F405
    sync_logger.info("Sync started", module="sync", source=source)
    records = [{"id": i, "source": source} for i in range(3)]
    log.info("Fetched records", source=source, count=len(records))
    if source not in {"crm", "erp"}:
        log_warning("Unknown sync source, nothing imported", module="sync", source=source)  # noqa: F405
        return {"source": source, "imported": 0}
    log_info("Sync finished", module="sync", source=source, imported=len(records))  # noqa: F405
    return {"source": source, "imported": len(records)}
