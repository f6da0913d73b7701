"""Insert the demo users and rooms: ``python scripts/seed_demo_data.py`` (from anywhere)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import app  # noqa: E402  (the package builds the application when imported)
from app.services.demo_data import seed  # noqa: E402
from app.utils.structlog_config import _global_context, get_task_logger  # noqa: E402

logger = get_task_logger()


def main() -> int:
    """Seed the database; return the exit code."""
    _global_context["job"] = "seed_demo_data"
    with app.app_context():
        users, rooms = seed()
        logger.info("Demo-Daten angelegt: %d Benutzer, %d Räume", users, rooms, module="task")
    print(f"{users} users, {rooms} rooms added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
