"""Delete stored log rows older than N days (by ``created_at``): ``python scripts/purge_logs.py --days 30``."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import app.utils.structlog_config as slc  # noqa: E402
from app import app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import UnifiedLog  # noqa: E402
from app.utils.time_utils import utc_now  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Delete old rows; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    cutoff = utc_now() - timedelta(days=args.days)
    with app.app_context():
        deleted = db.session.query(UnifiedLog).filter(UnifiedLog.created_at < cutoff).delete()
        db.session.commit()
        slc.get_task_logger().info("%d Log-Zeilen älter als %d Tage gelöscht", deleted, args.days, module="task")
    print(f"{deleted} rows deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
