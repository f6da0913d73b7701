"""Login and logout (flask-login, forms and JSON, both CSRF-protected)."""

from .routes import auth_bp

__all__ = ["auth_bp"]
