"""Admin API (admins only, via ``admin_required`` and ``current_user.is_admin()``).

The log viewer filters stored rows on ``app_name``, ``environment`` and
``module``: the identity fields the logging module writes.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask_login import login_required
from sqlalchemy import func, select

from app.errors import ValidationError
from app.extensions import db
from app.models import Booking, LogLevel, UnifiedLog
from app.utils.decorators import admin_required, auth_logger, system_logger

admin_bp = Blueprint("admin", __name__)

LOGGERS = {"system": system_logger, "auth": auth_logger}


@admin_bp.get("/stats")
@login_required
@admin_required
def stats():
    """Bookings and stored log rows by level."""
    by_level = dict(db.session.execute(select(UnifiedLog.level, func.count()).group_by(UnifiedLog.level)).all())
    return jsonify(
        bookings=db.session.scalar(select(func.count()).select_from(Booking)),
        log_rows={level.name: by_level.get(level, 0) for level in LogLevel},
    )


@admin_bp.get("/logs")
@login_required
@admin_required
def logs():
    """The last stored rows, filtered by ``module``, ``app_name``, ``environment`` (query parameters)."""
    rows = db.session.scalars(select(UnifiedLog).order_by(UnifiedLog.id.desc()).limit(200)).all()
    wanted = {key: request.args[key] for key in ("app_name", "environment") if key in request.args}
    module = request.args.get("module")
    shown = [
        row.to_dict()
        for row in rows
        if (module is None or row.module == module)
        and all((row.context or {}).get(key) == value for key, value in wanted.items())
    ]
    return jsonify(shown[: int(request.args.get("limit", 50))])


@admin_bp.get("/log-level")
@login_required
@admin_required
def get_log_levels():
    """The effective level of each module logger (``getEffectiveLevel``)."""
    return jsonify({logger.name: logging.getLevelName(logger.getEffectiveLevel()) for logger in LOGGERS.values()})


@admin_bp.put("/log-level")
@login_required
@admin_required
def set_log_level():
    """Set one module logger's level: ``{"logger": "system", "level": "DEBUG"}`` (``setLevel``)."""
    data = request.get_json(silent=True) or {}
    logger = LOGGERS.get(str(data.get("logger")))
    level = str(data.get("level", "")).upper()
    if logger is None or level not in logging.getLevelNamesMapping():
        raise ValidationError("unknown logger or level", logger=data.get("logger"), level=level)
    logger.setLevel(level)
    system_logger.info("Log-Level von %s auf %s gesetzt", logger.name, level, module="admin")
    return jsonify({logger.name: logging.getLevelName(logger.getEffectiveLevel())})
