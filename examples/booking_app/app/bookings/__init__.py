"""Rooms and bookings (JSON API)."""

from .routes import bookings_bp

__all__ = ["bookings_bp"]
