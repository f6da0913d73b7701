"""Authentication blueprint (flask-login)."""

from app.auth.routes import auth_bp

__all__ = ["auth_bp"]
