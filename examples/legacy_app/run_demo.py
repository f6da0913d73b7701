"""Drive the legacy app with the Flask test client and show what lands in ``unified_logs``.

Run from anywhere, e.g. the repository root::

    python examples/legacy_app/run_demo.py

The database is ``DATABASE_URL`` if set, else a SQLite file in the instance folder.
The legacy module prints double-rendered WARNING+ events on stderr: that is expected.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import UnifiedLog  # noqa: E402
from app.utils.structlog_config import structlog_config  # noqa: E402

# (method, path, JSON body)
STEPS: list[tuple[str, str, dict | None]] = [
    ("GET", "/api/health", None),
    ("GET", "/api/log/debug", None),
    ("POST", "/api/debug", {"enabled": True}),
    ("GET", "/api/log/debug", None),  # the switch is on, yet no DEBUG row is written
    ("GET", "/api/log/info", None),
    ("GET", "/api/log/warning", None),
    ("GET", "/api/log/error", None),
    ("GET", "/api/log/critical", None),
    ("GET", "/api/orders/1", None),  # 401: not logged in yet
    ("POST", "/login", {"username": "alice", "role": "admin"}),
    ("GET", "/api/orders/1", None),
    ("GET", "/api/orders/99", None),
    ("POST", "/api/coupons/validate", {"code": "WELCOME10"}),
    ("POST", "/api/coupons/validate", {"code": "BOGUS"}),  # legacy error_handler runs the view twice
    ("POST", "/api/payments", {"amount_cents": 2500}),
    ("POST", "/api/payments", {"amount_cents": 500000}),
    ("POST", "/api/context/bind", {"tenant": "acme"}),
    ("GET", "/api/context/scoped", None),
    ("POST", "/api/sync", {"source": "crm"}),
    ("GET", "/api/errors/validation", None),
    ("GET", "/api/errors/http-404", None),
    ("GET", "/api/errors/http-403", None),
    ("POST", "/api/errors/integrity", None),
    ("GET", "/api/errors/timeout", None),
    ("GET", "/api/errors/permission", None),
    ("GET", "/api/errors/invalid", None),
    ("GET", "/api/errors/unexpected", None),
    ("GET", "/api/reports/daily", None),
    ("POST", "/api/context/clear", None),
    ("POST", "/logout", None),
]


def count_rows() -> int:
    """Return the number of rows in ``unified_logs`` (needs an app context)."""
    return db.session.scalar(select(func.count()).select_from(UnifiedLog)) or 0


def main() -> int:
    """Run the demo; return the exit code (1 if no row was written)."""
    app = create_app({"TESTING": True})
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    with app.app_context():
        before = count_rows()

    client = app.test_client()
    for method, path, body in STEPS:
        response = client.open(path, method=method, json=body)
        calls = response.headers.get("X-View-Calls")
        suffix = f"  (view ran {calls}x)" if calls else ""
        print(f"{method:5} {path:28} -> {response.status_code}{suffix}")

    with app.app_context():
        after = count_rows()
        print(f"\nunified_logs rows: {after} ({after - before} written by this run)")
        sample = db.session.scalars(select(UnifiedLog).order_by(UnifiedLog.id.desc()).limit(6)).all()
        for row in reversed(sample):
            context_keys = ", ".join(sorted(row.context or {}))
            print(f"  #{row.id} {row.level.name:8} {row.module:14} {row.message[:50]!r} context: {context_keys}")
        db.engine.dispose()

    structlog_config.shutdown()
    return 0 if after > before else 1


if __name__ == "__main__":
    sys.exit(main())
