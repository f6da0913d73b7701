"""Admin pages: statistics, the log viewer and the logger levels."""

from .routes import admin_bp

__all__ = ["admin_bp"]
