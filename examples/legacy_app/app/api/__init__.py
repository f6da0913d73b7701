"""The JSON API blueprints."""

from app.api.context_routes import context_bp
from app.api.errors_demo import errors_bp
from app.api.routes import api_bp

__all__ = ["api_bp", "context_bp", "errors_bp"]
