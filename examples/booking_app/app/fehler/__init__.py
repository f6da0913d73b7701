"""Routes that fail on purpose ("Fehler"), one per kind of error the error handling classifies."""

from .routes import ERRORS, fehler_bp

__all__ = ["ERRORS", "fehler_bp"]
