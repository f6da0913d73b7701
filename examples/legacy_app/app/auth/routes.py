"""Login, logout and "who am I", with flask-login.

Reaches the legacy module through relative imports, including aliased names.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..constants import USER_ROLES
from ..decorators import traced
from ..errors import ValidationFailed
from ..extensions import db, login_manager
from ..models import User
from ..services.notifications import notify_login
from ..utils.structlog_config import bind_request_context, get_auth_logger
from ..utils.structlog_config import log_warning as warn

auth_bp = Blueprint("auth", __name__)
logger = get_auth_logger()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the user stored in the session, if it still exists."""
    return db.session.get(User, int(user_id))


@auth_bp.post("/login")
def login():
    """Log in as ``username`` (created on first login, with ``role`` user or admin)."""
    data = request.get_json(silent=True) or request.form
    username = str(data.get("username") or "").strip()
    role = str(data.get("role") or "user")
    if not username:
        warn("Login attempt without a username", module="auth")
        raise ValidationFailed("username is required", field="username")
    if role not in USER_ROLES:
        warn("Login attempt with an unknown role", module="auth", role=role)
        raise ValidationFailed(f"role must be one of {', '.join(USER_ROLES)}", field="role")

    user = db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None:
        user = User(username=username, role=role)
        db.session.add(user)
        db.session.commit()
        logger.info("User created", module="auth", username=username, role=role)

    login_user(user)
    bind_request_context(g.request_id, user_id=user.id)
    logger.info("User logged in", module="auth", username=username)
    notify_login(user)
    return jsonify(user.to_dict())


@auth_bp.post("/logout")
@login_required
def logout():
    """Log the current user out."""
    from app.utils.structlog_config import log_info  # function-level import

    username = current_user.username
    logout_user()
    log_info("User logged out", module="auth", username=username)
    return jsonify(logged_out=True)


@auth_bp.get("/me")
@login_required
@traced
def me():
    """Return the current user and the global log context the legacy module holds."""
    from ..utils.structlog_config import get_context as current_log_context  # aliased, relative

    logger.info("Profile viewed", module="auth")
    return jsonify(user=current_user.to_dict(), log_context=current_log_context())
