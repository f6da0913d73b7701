"""Login form, JSON login, logout, "who am I" and the CSRF token for API clients.

Reaches the logging module through a relative import and an aliased name.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template_string, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ..errors import LoginFailed
from ..extensions import db, login_manager
from ..messages import SuccessMessages
from ..models import User
from ..utils.structlog_config import get_auth_logger as auth_logger_factory
from ..utils.structlog_config import user_id_var

auth_bp = Blueprint("auth", __name__)
logger = auth_logger_factory()

LOGIN_FORM = """<!doctype html>
<title>Anmelden - Raumbuchung</title>
<form method="post" action="{{ url_for('auth.login') }}">
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <input type="hidden" name="next" value="{{ next }}">
  <label>Benutzername <input name="username"></label>
  <label>Passwort <input name="password" type="password"></label>
  <button>Anmelden</button>
</form>
"""


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the user stored in the session, if it still exists."""
    return db.session.get(User, int(user_id))


@auth_bp.get("/login")
def login_form():
    """The login page (HTML form with the CSRF token)."""
    return render_template_string(LOGIN_FORM, next=request.args.get("next", ""))


@auth_bp.post("/login")
def login():
    """Log in from the form (redirects) or from JSON (answers the user); wrong credentials are 401."""
    data = request.get_json(silent=True) if request.is_json else request.form
    username = str((data or {}).get("username") or "").strip()
    password = str((data or {}).get("password") or "")
    user = db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()
    if user is None or not user.check_password(password):
        logger.warning("Fehlgeschlagene Anmeldung für %r", username, module="auth")
        raise LoginFailed("bad credentials", username=username)

    login_user(user)
    user_id_var.set(user.id)
    logger.info("%s hat sich angemeldet", user.display_name(), module="auth", admin=user.is_admin())
    if request.is_json:
        return jsonify(message=SuccessMessages.LOGGED_IN, user=user.to_dict())
    return redirect(data.get("next") or url_for("bookings.my_bookings"))


@auth_bp.post("/logout")
@login_required
def logout():
    """Log the current user out."""
    from app.utils.structlog_config import log_info  # function-level import

    username = current_user.username
    logout_user()
    log_info("Abmeldung von %s" % username, module="auth")
    return jsonify(message=SuccessMessages.LOGGED_OUT)


@auth_bp.get("/api/me")
@login_required
def me():
    """The logged-in user."""
    return jsonify(current_user.to_dict())


@auth_bp.get("/api/csrf-token")
def csrf_token():
    """A CSRF token for API clients (send it back in the ``X-CSRFToken`` header)."""
    return jsonify(csrf_token=generate_csrf())


@auth_bp.get("/konto")
@login_required
def account():
    """The account page (HTML); anonymous visitors are redirected to the login form."""
    return render_template_string("<!doctype html><title>Konto</title><p>Angemeldet als {{ name }}</p>", name=current_user.display_name())
