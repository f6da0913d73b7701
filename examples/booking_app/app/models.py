"""Database models: users, rooms, bookings and the ``unified_logs`` table the logging module writes to."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.constants import BookingStatus
from app.extensions import db
from app.utils.time_utils import to_iso, utc_now


class LogLevel(enum.Enum):
    """Levels stored in ``unified_logs.level`` (the member *names* are stored)."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50


class UnifiedLog(db.Model):
    """One log event, written by ``SQLAlchemyLogHandler`` of ``app.utils.structlog_config``.

    ``created_at`` is when the row was inserted (filled in by Python, not by the
    database); ``timestamp`` is when the event happened.
    """

    __tablename__ = "unified_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utc_now, index=True)
    level: Mapped[LogLevel] = mapped_column(Enum(LogLevel, name="log_level"), nullable=False, index=True)
    module: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    traceback: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utc_now)

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a JSON-ready dict (what the admin log viewer shows)."""
        return {
            "id": self.id,
            "timestamp": to_iso(self.timestamp),
            "level": self.level.name,
            "module": self.module,
            "message": self.message,
            "traceback": self.traceback,
            "context": self.context,
            "created_at": to_iso(self.created_at),
        }


class User(UserMixin, db.Model):
    """A user of the booking portal, loaded by flask-login."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="mitarbeiter")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)

    bookings: Mapped[list[Booking]] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        """Store a hash of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True if ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def is_admin(self) -> bool:
        """True for users with the ``admin`` role (a method, not a property)."""
        return self.role == "admin"

    def display_name(self) -> str:
        """The name shown in the portal: the full name, else the user name."""
        return self.full_name or self.username

    def to_dict(self) -> dict[str, Any]:
        """Return the public fields of the user."""
        return {"id": self.id, "username": self.username, "name": self.display_name(), "admin": self.is_admin()}


class Room(db.Model):
    """A meeting room that can be booked."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=4)

    def to_dict(self) -> dict[str, Any]:
        """Return the room as a JSON-ready dict."""
        return {"id": self.id, "name": self.name, "capacity": self.capacity}


class Booking(db.Model):
    """A room booked by a user for a time range."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[BookingStatus] = mapped_column(Enum(BookingStatus, name="booking_status"), default=BookingStatus.CONFIRMED)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utc_now)

    room: Mapped[Room] = relationship()
    user: Mapped[User] = relationship(back_populates="bookings")

    def to_dict(self) -> dict[str, Any]:
        """Return the booking as a JSON-ready dict."""
        return {
            "id": self.id,
            "room": self.room.name,
            "starts_at": to_iso(self.starts_at),
            "ends_at": to_iso(self.ends_at),
            "status": self.status.value,
        }
