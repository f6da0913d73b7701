"""Booking rules: time ranges, conflicts, the per-user limit, the calendar sync.

Logs printf-style through the module-level loggers of the logging module.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

import app.utils.structlog_config as slc
from app.constants import MAX_BOOKING_HOURS, BookingStatus
from app.errors import BookingConflict, BookingLimitReached, BookingNotFound, AccessDenied, RoomNotFound, ValidationError
from app.extensions import db
from app.models import Booking, Room, User
from app.utils.time_utils import parse_iso

logger = slc.get_api_logger()
db_logger = slc.get_db_logger()


def parse_range(starts_at: str, ends_at: str) -> tuple[datetime, datetime]:
    """Return the (start, end) of a booking request; ``ValidationError`` if it is not a valid range."""
    try:
        start, end = parse_iso(starts_at), parse_iso(ends_at)
    except (TypeError, ValueError):
        raise ValidationError(f"not ISO 8601: {starts_at!r}, {ends_at!r}") from None
    if end <= start or end - start > timedelta(hours=MAX_BOOKING_HOURS):
        raise ValidationError("bad range", starts_at=starts_at, ends_at=ends_at)
    return start, end


def create_booking(user: User, room_id: int, start: datetime, end: datetime) -> Booking:
    """Book ``room_id`` for ``user``; raises ``RoomNotFound``, ``BookingLimitReached`` or ``BookingConflict``."""
    room = db.session.get(Room, room_id)
    if room is None:
        raise RoomNotFound(f"room {room_id}", room_id=room_id)

    active = db.session.scalar(
        select(func.count()).select_from(Booking).filter_by(user_id=user.id, status=BookingStatus.CONFIRMED)
    )
    if active >= current_app.config["MAX_ACTIVE_BOOKINGS"]:
        logger.warning("Buchungslimit erreicht: %s hat %d aktive Buchungen", user.username, active, module="bookings")
        raise BookingLimitReached("limit", active=active)

    clash = db.session.scalar(
        select(Booking).where(
            Booking.room_id == room_id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
    )
    if clash is not None:
        logger.info("Konflikt mit Buchung %s in Raum %s", clash.id, room.name, module="bookings")
        raise BookingConflict("overlap", room=room.name, booking_id=clash.id)

    booking = Booking(room=room, user=user, starts_at=start, ends_at=end)
    db.session.add(booking)
    db.session.commit()
    logger.info("Buchung %s für Raum %s angelegt", booking.id, room.name, module="bookings", room_id=room.id)
    return booking


def cancel_booking(user: User, booking_id: int) -> Booking:
    """Cancel a booking of ``user`` (admins may cancel any); raises ``BookingNotFound`` or ``AccessDenied``."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise BookingNotFound(f"booking {booking_id}", booking_id=booking_id)
    if booking.user_id != user.id and not user.is_admin():
        slc.log_warning(f"Stornierung von Buchung {booking_id} durch {user.username} verweigert", module="bookings", booking_id=booking_id)
        raise AccessDenied("not the owner", booking_id=booking_id)
    booking.status = BookingStatus.CANCELLED
    db.session.commit()
    db_logger.info("Buchung %s storniert von %s", booking.id, user.username, module="bookings")
    return booking
