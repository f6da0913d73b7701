"""The application's stdlib logging: a rotating log file on the root logger.

structlog (configured by ``app.utils.structlog_config`` with
``structlog.stdlib.LoggerFactory``) hands every rendered event to a stdlib
logger of the same name, which propagates to the root logger and so to this file.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler

from flask import Flask

from app.utils.structlog_config import _global_context

FILE_FORMAT = "%(asctime)s %(levelname)-8s [%(name)s] %(message)s"


def configure_logging(app: Flask) -> RotatingFileHandler:
    """Attach (once per file) a ``RotatingFileHandler`` for ``LOG_FILE`` to the root logger; return it."""
    log_file = os.path.abspath(app.config["LOG_FILE"])
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    root = logging.getLogger()
    root.setLevel(app.config["LOG_LEVEL"])

    for handler in root.handlers:
        if isinstance(handler, RotatingFileHandler) and handler.baseFilename == log_file:
            break
    else:
        handler = RotatingFileHandler(
            log_file,
            maxBytes=app.config["LOG_MAX_BYTES"],
            backupCount=app.config["LOG_BACKUP_COUNT"],
            encoding="utf-8",
        )
        handler.setFormatter(logging.Formatter(FILE_FORMAT))
        root.addHandler(handler)

    # Every event of the process carries the build it comes from (set once at start-up).
    _global_context["build"] = app.config["BUILD_ID"]
    return handler
