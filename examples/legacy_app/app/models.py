"""Database models: the ``unified_logs`` table the legacy logger writes to, and users."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, DateTime, Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class LogLevel(enum.Enum):
    """Levels stored in ``unified_logs.level`` (the enum *names* are stored)."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class UnifiedLog(db.Model):
    """One log event, as written by ``SQLAlchemyLogHandler``."""

    __tablename__ = "unified_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timestamp: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=lambda: datetime.now(timezone.utc), index=True
    )
    level: Mapped[LogLevel] = mapped_column(Enum(LogLevel), nullable=False, default=LogLevel.INFO, index=True)
    module: Mapped[str] = mapped_column(String(100), nullable=False, default="unknown", index=True)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    @classmethod
    def create_log_entry(cls, **entry: Any) -> UnifiedLog:
        """Return a new, unsaved row built from a ``_build_log_entry`` dict."""
        return cls(
            timestamp=entry.get("timestamp") or datetime.now(timezone.utc),
            level=entry.get("level") or LogLevel.INFO,
            module=(entry.get("module") or "unknown")[:100],
            message=entry.get("message") if entry.get("message") is not None else "",
            traceback=entry.get("traceback"),
            context=entry.get("context"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the row as a JSON-ready dict."""
        return {
            "id": self.id,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "level": self.level.name if self.level else None,
            "module": self.module,
            "message": self.message,
            "traceback": self.traceback,
            "context": self.context,
        }

    def __repr__(self) -> str:
        return f"<UnifiedLog {self.id} {self.level.name if self.level else '?'} {self.module}: {self.message!r}>"


class User(UserMixin, db.Model):
    """An application user, loaded by flask-login."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="user")

    def is_admin(self) -> bool:
        """True for users with the ``admin`` role (a method: callers write ``user.is_admin()``)."""
        return self.role == "admin"

    def to_dict(self) -> dict[str, Any]:
        """Return the public fields of the user."""
        return {"id": self.id, "username": self.username, "role": self.role, "is_admin": self.is_admin()}
