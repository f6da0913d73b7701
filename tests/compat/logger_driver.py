"""Call the same stdlib-logger methods on an example app's loggers; write what they returned, stored and printed as JSON.

Run in a subprocess from the example app's folder (its package is called ``app``)::

    python logger_driver.py <legacy|compat> <result file>

``legacy`` uses the app's own legacy module; ``compat`` serves the old path with
``compat`` (the compat step of the migration: ``compat.install`` before the app is imported).
The database is ``DATABASE_URL``; the app's own log file ``LOG_FILE`` (booking_app) or a
RotatingFileHandler this driver puts on the root logger (legacy_app, which has none).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
import warnings
from pathlib import Path
from typing import Any

MODE, RESULT = sys.argv[1], Path(sys.argv[2])
sys.path.insert(0, os.getcwd())
warnings.simplefilter("ignore", DeprecationWarning)

if MODE == "compat":
    import compat

    compat.install("app.utils.structlog_config")

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402

import app as package  # noqa: E402
from app.utils import structlog_config as slc  # noqa: E402

served_by = getattr(slc, "__name__", "?")
flask_app: Flask = package.app if isinstance(getattr(package, "app", None), Flask) else package.create_app({})
log_file = os.environ["LOG_FILE"]
root = logging.getLogger()
if not any(getattr(handler, "baseFilename", None) == os.path.abspath(log_file) for handler in root.handlers):
    handler = logging.handlers.RotatingFileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s [%(name)s] %(message)s"))
    root.addHandler(handler)
root.setLevel(logging.INFO)

GETTERS = {
    "system": slc.get_system_logger,
    "api": slc.get_api_logger,
    "auth": slc.get_auth_logger,
    "database": slc.get_db_logger,
    "sync": slc.get_sync_logger,
    "task": slc.get_task_logger,
    "named": lambda: slc.get_logger("app.services.billing"),
}

results: dict[str, Any] = {}
for key, getter in GETTERS.items():
    logger = getter()
    results[key] = {
        "name": logger.name,
        "debug_enabled": logger.isEnabledFor(logging.DEBUG),
        "info_enabled": logger.isEnabledFor(logging.INFO),
        "effective_level": logger.getEffectiveLevel(),
    }

system = slc.get_system_logger()
system.setLevel(logging.DEBUG)
results["after_setLevel_debug"] = [system.isEnabledFor(logging.DEBUG), system.getEffectiveLevel(), logging.getLogger("system").level]
system.setLevel(logging.NOTSET)
results["after_setLevel_notset"] = [system.isEnabledFor(logging.DEBUG), system.getEffectiveLevel()]
logging.getLogger("auth").setLevel(logging.WARNING)
results["auth_at_warning"] = [slc.get_auth_logger().isEnabledFor(logging.INFO), slc.get_auth_logger().getEffectiveLevel()]

if MODE == "compat":
    import newlog

    assert newlog.flush(30), newlog.health()
with flask_app.app_context():
    engine = sa.create_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:
        start = connection.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM unified_logs")).scalar_one()
    system.info("Plain info", module="driver")
    system.log(logging.INFO, "Route %s took %.1f ms", "health", 1.25, module="timing")
    system.log(logging.WARNING, "Warning through log()", module="driver")
    system.warning("%d rooms left for %s", 3, "anna", module="driver")
    system.error("Error with a mapping %(room)s", {"room": "Berlin"}, module="driver")
    try:
        {}["room"]
    except KeyError:
        system.exception("Lookup in %s failed", "bookings", module="audit")
    system.critical("Critical event", module="driver")
    bound = slc.get_api_logger().bind(order=7, customer="acme")
    bound.info("Event with a binding", module="driver")
    bound.unbind("customer").info("Event after unbind", module="driver")
    bound.new(fresh=1).info("Event of a new context", module="driver")
    slc.get_logger("app.services.billing").info("Named logger event")
    slc.get_sync_logger().error("Sync logger event")
    slc.get_auth_logger().info("Below the auth logger's stdlib level")
    system.debug("Debug stays out")

if MODE == "compat":
    assert newlog.flush(30), newlog.health()
with engine.connect() as connection:
    rows = connection.execute(
        sa.text("SELECT level, module, message, traceback, context FROM unified_logs WHERE id > :start ORDER BY id"),
        {"start": start},
    ).all()
engine.dispose()


def _context(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else (value or {})


stored = [
    {
        "level": getattr(level, "name", level),
        "module": module,
        "message": message,
        "traceback": (traceback or "").strip().splitlines()[-1:],
        "context": {key: value for key, value in _context(context).items() if key in ("order", "customer", "fresh", "positional_args")},
    }
    for level, module, message, traceback, context in rows
]
for handler in root.handlers:
    handler.flush()
lines = Path(log_file).read_text(encoding="utf-8").splitlines()
MARKERS = (
    "Plain info", "Route ", "Warning through log()", "rooms left for", "Error with a mapping", "Lookup in", "Critical event",
    "Event with a binding", "Event after unbind", "Event of a new context", "Named logger event", "Sync logger event",
    "Below the auth logger", "Debug stays out",
)
file_counts = {marker: [line.split()[2] for line in lines if marker in line] for marker in MARKERS}
RESULT.write_text(
    json.dumps({"served_by": served_by, "results": results, "rows": stored, "file": file_counts}, indent=1), encoding="utf-8"
)
